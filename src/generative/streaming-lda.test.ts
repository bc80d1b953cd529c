import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../core/index.js';
import { StreamingLda } from './streaming-lda.js';

/** Two-dimensional Gaussian classes with a shared, correlated covariance, around the given centres. */
function draw(rng: Rng, centres: number[][], n: number): { x: Float32Array; y: Int32Array } {
  const x = new Float32Array(n * 2);
  const y = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const c = rng.int(centres.length);
    const a = rng.normal();
    const b = rng.normal();
    x[2 * r] = centres[c]![0]! + a;
    x[2 * r + 1] = centres[c]![1]! + 0.8 * a + 0.3 * b;
    y[r] = c;
  }
  return { x, y };
}

function argmax(z: Float32Array, n: number, K: number): number[] {
  return Array.from({ length: n }, (_, r) => {
    let best = 0;
    for (let k = 1; k < K; k++) if (z[r * K + k]! > z[r * K + best]!) best = k;
    return best;
  });
}

test('streaming LDA: separates classes that differ along the low-variance direction, never-seen classes get -Infinity', () => {
  const rng = new Rng(3);
  // The centres differ along (1, -1.25)-ish, across the correlated direction: a nearest-mean rule in plain
  // Euclidean distance confuses them far more often than LDA, which whitens by the shared covariance.
  const centres = [[0, 0], [0.6, -0.3]];
  const lda = new StreamingLda(2, 3);
  for (let b = 0; b < 40; b++) {
    const { x, y } = draw(rng, centres, 64);
    lda.observe(x, y, 64);
  }
  const test = draw(rng, centres, 2000);
  const z = lda.logits(test.x, 2000);
  const pred = argmax(z, 2000, 3);
  const acc = pred.filter((p, i) => p === test.y[i]).length / 2000;
  let euclid = 0;
  for (let r = 0; r < 2000; r++) {
    const d = centres.map((c) => (test.x[2 * r]! - c[0]!) ** 2 + (test.x[2 * r + 1]! - c[1]!) ** 2);
    if ((d[0]! < d[1]! ? 0 : 1) === test.y[r]) euclid++;
  }
  assert.ok(acc > 0.85, `LDA accuracy ${acc}`);
  assert.ok(acc > euclid / 2000 + 0.1, `LDA ${acc} against nearest mean ${euclid / 2000}`);
  for (let r = 0; r < 2000; r++) assert.equal(z[r * 3 + 2], -Infinity);
  assert.deepEqual(lda.seen(), [0, 1]);
});

test('streaming LDA: the means do not depend on the order of the stream, and nothing seen is overwritten by later classes', () => {
  const rng = new Rng(5);
  const a = draw(rng, [[0, 0]], 4096);
  const b = draw(rng, [[3, 1]], 4096).y.fill(1);
  const bx = draw(rng, [[3, 1]], 4096).x;
  const first = new StreamingLda(2, 2);
  first.observe(a.x, a.y, 4096);
  first.observe(bx, b, 4096);
  const second = new StreamingLda(2, 2);
  second.observe(bx, b, 4096);
  second.observe(a.x, a.y, 4096);
  // Each learns its own eighth of the rows, so the two agree to within the sampling error (about 0.08 here).
  const m1 = first.getState().means;
  const m2 = second.getState().means;
  for (let i = 0; i < m1.length; i++) assert.ok(Math.abs(m1[i]! - m2[i]!) < 0.3, `mean ${i}: ${m1[i]} against ${m2[i]}`);
  assert.ok(Math.abs(m1[2]! - 3) < 0.2 && Math.abs(m1[0]!) < 0.2, `means ${Array.from(m1)}`);
  // Class 0 is still recognised after a long stream of class 1 only.
  for (let k = 0; k < 20; k++) first.observe(draw(rng, [[3, 1]], 64).x, new Int32Array(64).fill(1), 64);
  const probe = draw(rng, [[0, 0]], 500);
  const acc = argmax(first.logits(probe.x, 500), 500, 2).filter((p) => p === 0).length / 500;
  assert.ok(acc > 0.9, `old class accuracy ${acc}`);
});

test('streaming LDA: a restored state predicts exactly as the original and continues identically', () => {
  const rng = new Rng(9);
  const lda = new StreamingLda(2, 2);
  for (let k = 0; k < 10; k++) {
    const { x, y } = draw(rng, [[0, 0], [1, 1]], 32);
    lda.observe(x, y, 32);
  }
  const probe = draw(rng, [[0, 0], [1, 1]], 100);
  lda.logits(probe.x, 100);
  const copy = new StreamingLda(2, 2);
  copy.setState(lda.getState());
  assert.deepEqual(copy.logits(probe.x, 100), lda.logits(probe.x, 100));
  const more = draw(rng, [[0, 0], [1, 1]], 32);
  lda.observe(more.x, more.y, 32);
  copy.observe(more.x, more.y, 32);
  assert.deepEqual(copy.logits(probe.x, 100), lda.logits(probe.x, 100));
  assert.throws(() => new StreamingLda(3, 2).setState(lda.getState()), /do not fit/);
});

test('streaming LDA: asking for logits never changes what the memory learns', () => {
  const centres = [[0, 0], [1, 1], [2, 0]];
  const run = (ask: boolean): { lda: StreamingLda; probe: Float32Array } => {
    const rng = new Rng(21);
    const lda = new StreamingLda(2, 3, { count: 40, seed: 2 });
    const probe = draw(rng, centres, 50).x;
    // 2 000 batches of 64: every row-hash alignment of the 128-row buffer occurs, and the temperature is learnt.
    for (let k = 0; k < 2000; k++) {
      const { x, y } = draw(rng, centres, 64);
      lda.observe(x, y, 64);
      if (ask && k % 7 === 0) lda.logits(probe, 50);
    }
    return { lda, probe };
  };
  const asked = run(true);
  const quiet = run(false);
  assert.deepEqual(asked.lda.getState(), quiet.lda.getState());
  assert.deepEqual(asked.lda.logits(asked.probe, 50), quiet.lda.logits(quiet.probe, 50));
  assert.notEqual(quiet.lda.temperature, 1);
});

/** A disc (class 0) inside a ring (class 1) that overlaps it: no linear rule on the raw inputs tells them apart. */
function rings(rng: Rng, n: number): { x: Float32Array; y: Int32Array } {
  const x = new Float32Array(n * 2);
  const y = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const c = rng.int(2);
    const radius = c === 0 ? 0.9 * Math.sqrt(rng.uniform()) : 0.7 + 0.5 * rng.uniform();
    const angle = 2 * Math.PI * rng.uniform();
    x[2 * r] = radius * Math.cos(angle);
    x[2 * r + 1] = radius * Math.sin(angle);
    y[r] = c;
  }
  return { x, y };
}

test('streaming LDA on random features separates what raw-input LDA cannot', () => {
  const rng = new Rng(11);
  const raw = new StreamingLda(2, 2);
  const features = new StreamingLda(2, 2, { count: 200, seed: 4 });
  assert.equal(features.dim, 200);
  for (let b = 0; b < 200; b++) {
    const { x, y } = rings(rng, 64);
    raw.observe(x, y, 64);
    features.observe(x, y, 64);
  }
  const probe = rings(rng, 2000);
  const accuracy = (lda: StreamingLda): number =>
    argmax(lda.logits(probe.x, 2000), 2000, 2).filter((p, i) => p === probe.y[i]).length / 2000;
  assert.ok(accuracy(raw) < 0.6, `raw-input LDA ${accuracy(raw)}`);
  assert.ok(accuracy(features) > 0.75, `random-feature LDA ${accuracy(features)}`);
});

test('streaming LDA: the prequential temperature tempers an overconfident posterior', () => {
  // A quarter of the labels are flipped: the Gaussians still sit apart, so the raw posterior is far too sure.
  const rng = new Rng(12);
  const noisy = (n: number): { x: Float32Array; y: Int32Array } => {
    const d = draw(rng, [[0, 0], [2, -1]], n);
    for (let r = 0; r < n; r++) if (rng.uniform() < 0.25) d.y[r] = 1 - d.y[r]!;
    return d;
  };
  const lda = new StreamingLda(2, 2);
  assert.equal(lda.temperature, 1);
  for (let b = 0; b < 400; b++) {
    const { x, y } = noisy(64);
    lda.observe(x, y, 64);
  }
  const probe = noisy(4000);
  const z = lda.logits(probe.x, 4000);
  const nll = (tau: number): number => {
    let s = 0;
    for (let r = 0; r < 4000; r++) {
      const a = z[2 * r]! / tau;
      const b = z[2 * r + 1]! / tau;
      const m = Math.max(a, b);
      s += m + Math.log(Math.exp(a - m) + Math.exp(b - m)) - (probe.y[r] === 0 ? a : b);
    }
    return s / 4000;
  };
  const best = [0.5, 0.8, 1, 1.25, 1.5, 2, 3].reduce((b, t) => (nll(t) < nll(b) ? t : b), 1);
  assert.ok(best > 1, `the held-out NLL is lowest at τ=${best}`);
  assert.ok(lda.temperature > 1.05, `τ ${lda.temperature}`);
  assert.ok(nll(lda.temperature) < nll(1), `held-out NLL at τ=${lda.temperature}: ${nll(lda.temperature)} against ${nll(1)} at τ=1`);
});
