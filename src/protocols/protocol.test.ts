/**
 * Protocol tests on a small synthetic MNIST-layout data set (600 training, 100 test images), whose pixels 0–1
 * encode the image index so that batch rows can be traced back to images.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMnist, padMnist } from '../data/mnist.js';
import { syntheticImageIndex, writeSyntheticMnist } from '../data/synthetic.js';
import { defaultConfig, ProtocolConfigError } from './config.js';
import { createProtocol } from './protocol.js';
import type { Protocol, ProtocolConfig, Scenario, StreamStep } from './types.js';

const dir = mkdtempSync(join(tmpdir(), 'engram-protocol-'));
writeSyntheticMnist(dir, { trainPerClass: 60, testPerClass: 10 });
const data = loadMnist(dir);
test.after(() => rmSync(dir, { recursive: true, force: true }));

function split(over: Partial<ProtocolConfig> = {}): Protocol {
  return createProtocol({
    ...defaultConfig('split-mnist'), dataDir: dir, itersPerContext: 20, batchSize: 16, valPerContext: 10, ...over,
  });
}

function permuted(over: Partial<ProtocolConfig> = {}): Protocol {
  return createProtocol({
    ...defaultConfig('permuted-mnist'), dataDir: dir, numContexts: 4, itersPerContext: 20, batchSize: 16,
    valPerContext: 20, ...over,
  });
}

function steps(p: Protocol): StreamStep[] {
  return [...p.stream()];
}

test('split: 5 contexts of 2 classes from the class order', () => {
  assert.deepEqual(split().contexts.map((c) => c.classes), [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]);
  const order = [3, 7, 0, 9, 1, 2, 4, 5, 6, 8];
  const p = split({ classOrder: order });
  assert.deepEqual(p.contexts.map((c) => c.classes), [[3, 7], [0, 9], [1, 2], [4, 5], [6, 8]]);
  assert.deepEqual(p.contexts.flatMap((c) => c.classes).sort(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  // Class-IL target = position in the class order (van de Ven's relabelling y -> p[y], with classOrder = p⁻¹).
  order.forEach((cls, pos) => assert.equal(p.targetOf(Math.floor(pos / 2), cls), pos));
});

test('split: train / val / test indices are disjoint, complete and in the right classes', () => {
  const p = split({ seed: 3 });
  for (const c of p.contexts) {
    assert.equal(c.valIndices.length, 10);
    const train = new Set(c.trainIndices);
    for (const i of c.valIndices) assert.ok(!train.has(i), 'validation never in training');
    assert.equal(train.size + c.valIndices.length, 120, 'train + val = every image of the two classes');
    for (const i of [...c.trainIndices, ...c.valIndices]) assert.ok(c.classes.includes(data.train.labels[i]!));
    // Stratified: 5 per class.
    assert.equal([...c.valIndices].filter((i) => data.train.labels[i] === c.classes[0]).length, 5);
    assert.equal(c.testIndices.length, 20);
    for (const i of c.testIndices) assert.ok(c.classes.includes(data.test.labels[i]!));
  }
  assert.deepEqual(split({ seed: 3 }).contexts[2]!.valIndices, p.contexts[2]!.valIndices);
  assert.notDeepEqual(split({ seed: 4 }).contexts[2]!.valIndices, p.contexts[2]!.valIndices);
});

test('permuted / rotated: one shared validation set, all 10 classes, all test images', () => {
  for (const p of [permuted(), createProtocol({ ...defaultConfig('rotated-mnist'), dataDir: dir, numContexts: 3, valPerContext: 20 })]) {
    const val0 = p.contexts[0]!.valIndices;
    for (const c of p.contexts) {
      assert.deepEqual(c.classes, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      assert.deepEqual(c.valIndices, val0);
      assert.equal(c.trainIndices.length, 580);
      const train = new Set(c.trainIndices);
      for (const i of c.valIndices) assert.ok(!train.has(i));
      assert.equal(c.testIndices.length, 100);
    }
  }
});

test('scenario targets are in range, and task-IL targets inside the context head', () => {
  const scenarios: Scenario[] = ['class', 'domain', 'task'];
  for (const make of [split, permuted]) {
    for (const scenario of scenarios) {
      const p = make({ scenario });
      for (const c of p.contexts) {
        const b = p.makeBatch('test', c.index, c.testIndices);
        const heads = p.activeOutputs(c.index);
        assert.equal(heads === null, scenario !== 'task');
        for (const y of b.y) {
          assert.ok(y >= 0 && y < p.numOutputs, `${scenario}: ${y} of ${p.numOutputs}`);
          if (heads !== null) assert.ok(heads.includes(y));
        }
        assert.equal(b.contexts === null, scenario !== 'task');
      }
    }
  }
  assert.equal(split({ scenario: 'domain' }).numOutputs, 2);
  assert.equal(permuted({ scenario: 'class' }).numOutputs, 40);
  assert.equal(permuted({ scenario: 'domain' }).targetOf(3, 7), 7);
  assert.equal(permuted({ scenario: 'class' }).targetOf(3, 7), 37);
});

test('makeBatch: rows are the requested images, labels mapped to targets', () => {
  const p = split({ scenario: 'domain' });
  const c = p.contexts[3]!;
  const idx = c.trainIndices.subarray(0, 5);
  const b = p.makeBatch('train', 3, idx);
  assert.equal(b.size, 5);
  assert.equal(b.x.length, 5 * p.inputSize);
  idx.forEach((i, r) => {
    assert.equal(syntheticImageIndex(b.x, r * p.inputSize), i);
    assert.equal(b.y[r], c.classes.indexOf(data.train.labels[i]!));
  });
  assert.throws(() => p.makeBatch('test', 0, new Int32Array([100])), RangeError);
  assert.throws(() => p.makeBatch('test', 0, new Int32Array([5])), /class 5 is not in context 0/);
});

test('permuted: permutations are permutations, fixed by the seed; context 0 unpermuted only for seed 0', () => {
  const perms = (p: Protocol): (Int32Array | null)[] =>
    p.contexts.map((c) => (c.transform.kind === 'permute' ? c.transform.perm : null));
  const a = perms(permuted({ seed: 1 }));
  for (const perm of a) {
    assert.ok(perm !== null);
    assert.deepEqual([...perm].sort((x, y) => x - y), Array.from({ length: 784 }, (_, i) => i));
  }
  assert.deepEqual(perms(permuted({ seed: 1 })), a);
  assert.notDeepEqual(perms(permuted({ seed: 2 }))[1], a[1]);
  assert.notDeepEqual(a[0], a[1]);
  const zero = permuted({ seed: 0 });
  assert.equal(zero.contexts[0]!.transform.kind, 'none');
  assert.equal(zero.contexts[1]!.transform.kind, 'permute');
  assert.equal(permuted({ seed: 0, identityFirstContext: false }).contexts[0]!.transform.kind, 'permute');
  assert.equal(permuted({ seed: 1, identityFirstContext: true }).contexts[0]!.transform.kind, 'none');
  // A context's permutation does not depend on how many contexts follow it.
  assert.deepEqual(perms(permuted({ seed: 1, numContexts: 2 }))[1], a[1]);
  // The batch is the permuted image.
  const p = permuted({ seed: 1 });
  const b = p.makeBatch('test', 2, new Int32Array([7]));
  const perm = a[2]!;
  for (let j = 0; j < 784; j++) assert.equal(b.x[j], Math.fround(data.test.images[7 * 784 + perm[j]!]! / 255));
});

test('rotated: evenly spaced angles from 0°', () => {
  const p = createProtocol({ ...defaultConfig('rotated-mnist'), dataDir: dir, numContexts: 4, valPerContext: 0 });
  assert.deepEqual(p.contexts.map((c) => (c.transform.kind === 'rotate' ? c.transform.degrees : NaN)), [0, 45, 90, 135]);
  const x0 = p.makeBatch('test', 0, new Int32Array([3])).x;
  x0.forEach((v, j) => assert.equal(v, Math.fround(data.test.images[3 * 784 + j]! / 255)));
});

test('boundaries stream: contexts in order, endsContext on each last iteration, loader epochs', () => {
  const p = split({ scenario: 'class', seed: 9 });
  const all = steps(p);
  assert.equal(all.length, p.totalIterations);
  assert.equal(p.totalIterations, 100);
  all.forEach((s, i) => {
    const t = Math.floor(i / 20);
    assert.equal(s.iteration, i);
    assert.equal(s.phase, t);
    assert.equal(s.endsContext, i % 20 === 19 ? t : null);
    assert.equal(s.batch.size, 16);
    assert.deepEqual([...s.batch.contexts!], new Array<number>(16).fill(t));
    const train = new Set(p.contexts[t]!.trainIndices);
    for (let b = 0; b < 16; b++) {
      const img = syntheticImageIndex(s.batch.x, b * 784);
      assert.ok(train.has(img), 'only training images of the current context');
      assert.equal(s.batch.y[b], p.targetOf(t, data.train.labels[img]!));
    }
  });
  // 110 training images, batches of 16: an epoch is 6 batches (96 distinct images, 14 dropped).
  const epoch = all.slice(0, 6).flatMap((s) => Array.from({ length: 16 }, (_, b) => syntheticImageIndex(s.batch.x, b * 784)));
  assert.equal(new Set(epoch).size, 96);
});

test('streams are deterministic for a seed and restartable', () => {
  for (const stream of ['boundaries', 'task-free'] as const) {
    const p = split({ stream, seed: 5, itersPerContext: 10 });
    const a = steps(p);
    const b = steps(p);
    const c = steps(split({ stream, seed: 5, itersPerContext: 10 }));
    const d = steps(split({ stream, seed: 6, itersPerContext: 10 }));
    assert.deepEqual(a.map((s) => s.batch.x), b.map((s) => s.batch.x));
    assert.deepEqual(a.map((s) => s.batch.y), c.map((s) => s.batch.y));
    assert.notDeepEqual(a.map((s) => s.batch.x), d.map((s) => s.batch.x));
  }
});

test('task-free stream: no endsContext, context ids hidden except in task-IL, phase by nominal period', () => {
  const cls = steps(split({ stream: 'task-free', scenario: 'class', itersPerContext: 20, fuzziness: 5 }));
  assert.equal(cls.length, 100);
  for (const s of cls) {
    assert.equal(s.endsContext, null);
    assert.equal(s.batch.contexts, null);
  }
  assert.deepEqual(cls.map((s) => s.phase), Array.from({ length: 100 }, (_, i) => (i < 10 ? 0 : Math.min(4, 1 + Math.floor((i - 10) / 20)))));
  for (const s of steps(split({ stream: 'task-free', scenario: 'domain', itersPerContext: 10 }))) assert.equal(s.batch.contexts, null);
  const task = steps(split({ stream: 'task-free', scenario: 'task', itersPerContext: 20, fuzziness: 5 }));
  for (const s of task) {
    assert.notEqual(s.batch.contexts, null);
    s.batch.y.forEach((y, b) => assert.equal(Math.floor(y / 2), s.batch.contexts![b]));
  }
});

test('task-free stream: the share of each context follows the fuzzy schedule', () => {
  // 5 contexts × 200 iterations, fuzziness 50: context k ≥ 1 owns [100 + 200(k-1), 100 + 200k).
  const p = split({ stream: 'task-free', scenario: 'class', itersPerContext: 200, fuzziness: 50, batchSize: 64, seed: 2 });
  const all = steps(p);
  const share = (from: number, to: number, k: number): number => {
    let hit = 0;
    let n = 0;
    for (const s of all.slice(from, to)) for (const y of s.batch.y) { n++; if (Math.floor(y / 2) === k) hit++; }
    return hit / n;
  };
  assert.equal(share(0, 50, 0), 1, 'start: context 0 only');
  assert.equal(share(150, 250, 1), 1, 'middle of context 1: only context 1');
  assert.equal(share(750, 850, 4), 1, 'middle of the last context');
  assert.equal(share(950, 1000, 0), 1, 'final half period: context 0 again');
  assert.ok(Math.abs(share(95, 105, 1) - 0.5) < 0.06, `mid-transition 0→1: ${share(95, 105, 1)}`);
  assert.ok(Math.abs(share(495, 505, 3) - 0.5) < 0.06, `mid-transition 2→3: ${share(495, 505, 3)}`);
  assert.ok(Math.abs(share(895, 905, 0) - 0.5) < 0.06, `mid-transition 4→0: ${share(895, 905, 0)}`);
  // Ramp start: about 0.5/100 .. 9.5/100 of context 1 over [50, 60): mean 5%.
  assert.ok(share(50, 60, 1) < 0.1);
  assert.equal(share(50, 150, 2), 0, 'no third context during a transition');
  // Samples are training images of the drawn context, never validation images.
  const val = new Set(p.contexts.flatMap((c) => [...c.valIndices]));
  for (const s of all.slice(90, 110)) for (let b = 0; b < 64; b++) assert.ok(!val.has(syntheticImageIndex(s.batch.x, b * 784)));
});

test('cumulative stream: samples from the union of contexts 0..phase', () => {
  const p = split({ cumulative: true, itersPerContext: 30, batchSize: 32, seed: 1 });
  const all = steps(p);
  for (const s of all) {
    for (const t of s.batch.contexts!) assert.ok(t <= s.phase);
    s.batch.y.forEach((y, b) => assert.equal(Math.floor(y / 2), s.batch.contexts![b]));
  }
  const last = all.slice(120).flatMap((s) => [...s.batch.contexts!]);
  for (let t = 0; t < 5; t++) {
    const share = last.filter((c) => c === t).length / last.length;
    assert.ok(Math.abs(share - 0.2) < 0.06, `context ${t}: ${share}`);
  }
  assert.equal(all[29]!.endsContext, 0);
  const tf = steps(split({ cumulative: true, stream: 'task-free', itersPerContext: 30, batchSize: 32 }));
  for (const s of tf) {
    assert.equal(s.batch.contexts, null);
    for (const y of s.batch.y) assert.ok(Math.floor(y / 2) <= s.phase);
  }
});

test('permuted with padding 2 (van de Ven\'s MNIST32): 32×32 zero-padded images, permutations of 1024 pixels', () => {
  const p = permuted({ seed: 1, padding: 2 });
  assert.equal(p.config.padding, 2);
  assert.equal(p.inputSize, 1024);
  const t2 = p.contexts[2]!.transform;
  assert.ok(t2.kind === 'permute');
  const perm: Int32Array = t2.perm;
  assert.deepEqual([...perm].sort((x, y) => x - y), Array.from({ length: 1024 }, (_, i) => i));
  const b = p.makeBatch('test', 2, new Int32Array([7]));
  assert.equal(b.x.length, 1024);
  let zeros = 0;
  for (let j = 0; j < 1024; j++) {
    const src: number = perm[j]!;
    const r = Math.floor(src / 32) - 2;
    const c = (src % 32) - 2;
    const inside: boolean = r >= 0 && r < 28 && c >= 0 && c < 28;
    const want: number = inside ? Math.fround(data.test.images[7 * 784 + r * 28 + c]! / 255) : 0;
    assert.equal(b.x[j], want);
    if (!inside) zeros++;
  }
  assert.equal(zeros, 1024 - 784);
  // The default stays 28×28, and padding 0 is the unpadded protocol.
  assert.equal(permuted({ seed: 1 }).inputSize, 784);
  assert.equal(permuted({ seed: 1, padding: 0 }).inputSize, 784);
  assert.equal(padMnist(data, 0), data);
  assert.equal(padMnist(data, 2), padMnist(data, 2));
});

test('configuration errors are reported before any work', () => {
  const bad = (over: Partial<ProtocolConfig>, re: RegExp): void => {
    assert.throws(() => split(over), (e: unknown) => e instanceof ProtocolConfigError && e.code === 'E_CONFIG' && re.test(e.message));
  };
  bad({ classOrder: [0, 1, 2] }, /classOrder must be a permutation/);
  bad({ fuzziness: 11 }, /fuzziness must be an integer in 0\.\.10/);
  bad({ numContexts: 11 }, /at most 10 contexts/);
  bad({ batchSize: 0 }, /batchSize/);
  bad({ valPerContext: 110 }, /holding out --val-per-context 110 leaves 10, fewer than --batch 16/);
  bad({ seed: 1.5 }, /seed/);
  bad({ padding: -1 }, /padding must be an integer/);
  bad({ padding: 1.5 }, /padding must be an integer/);
  assert.throws(() => permuted({ classOrder: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] }), /only applies to split-mnist/);
});

test('a stream resumed at iteration k yields exactly the batches of the full stream from k on', () => {
  for (const make of [
    () => split({ seed: 4 }),
    () => split({ seed: 4, stream: 'task-free', scenario: 'class' }),
    () => permuted({ seed: 2, stream: 'task-free' }),
    () => split({ seed: 5, cumulative: true }),
  ]) {
    const full = steps(make());
    for (const k of [1, 19, 20, 33]) {
      const tail = [...make().stream(k)];
      assert.equal(tail.length, full.length - k);
      tail.forEach((s, i) => {
        const f = full[k + i]!;
        assert.equal(s.iteration, f.iteration);
        assert.equal(s.phase, f.phase);
        assert.equal(s.endsContext, f.endsContext);
        assert.deepEqual(s.batch.y, f.batch.y);
        assert.deepEqual(s.batch.x, f.batch.x);
        assert.deepEqual(s.batch.contexts, f.batch.contexts);
      });
    }
  }
});
