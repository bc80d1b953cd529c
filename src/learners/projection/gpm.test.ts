import test from 'node:test';
import assert from 'node:assert/strict';
import { noGrad, Rng, Tensor } from '../../core/index.js';
import { resolveConfig, runExperiment } from '../../harness/index.js';
import { getBackend } from '../../kernels/index.js';
import type { Batch } from '../../protocols/types.js';
import { ClassifierLearner } from '../classifier.js';
import type { LearnerSetup } from '../learner.js';
import { createLearner } from '../registry.js';
import { GpmLearner } from './gpm.js';
import { MethodOptionError } from '../method-options.js';
import { parseGpmOptions, resolveGpmOptions } from './options.js';

getBackend().setThreads(1);

const IN = 12;
const setup = (over: Partial<LearnerSetup> = {}): LearnerSetup => ({
  inputSize: IN, numOutputs: 3, activeOutputs: () => null, hidden: [6, 5], activation: 'relu', optimizer: 'sgd',
  // Split MNIST: raw inputs (on permuted MNIST GPM standardises them, which moves these synthetic subspaces).
  lr: 0.1, momentum: 0, seed: 1, protocol: 'split-mnist', scenario: 'domain', stream: 'boundaries',
  itersPerContext: 10, batchSize: 4, bias: false, numContexts: 2, ...over,
});

/** Batches whose inputs lie in a `rank`-dimensional subspace of the input space (a context's own "patterns"). */
function contextBatches(rng: Rng, rank: number, count: number, size = 4): Batch[] {
  const dirs = Array.from({ length: rank }, () => Float32Array.from({ length: IN }, () => rng.normal()));
  return Array.from({ length: count }, () => {
    const x = new Float32Array(size * IN);
    const y = new Int32Array(size);
    for (let r = 0; r < size; r++) {
      for (const d of dirs) {
        const c = rng.normal();
        for (let i = 0; i < IN; i++) x[r * IN + i] += c * d[i]!;
      }
      y[r] = rng.int(3);
    }
    return { x, y, size, contexts: null };
  });
}

/** v·[W; b] for every basis vector v of every layer of `net` (using `gpm`'s bases): the protected outputs. */
function protectedOutputs(gpm: GpmLearner, learner: ClassifierLearner): number[] {
  const out: number[] = [];
  const { weights, biases, bias } = learner.net;
  weights.forEach((w, l) => {
    const b = gpm.basis(l);
    const [fanIn, fanOut] = w.shape as [number, number];
    for (let j = 0; j < b.k; j++) {
      for (let o = 0; o < fanOut; o++) {
        let s = 0;
        for (let i = 0; i < fanIn; i++) s += b.data[i * b.k + j]! * w.data[i * fanOut + o]!;
        if (bias) s += b.data[fanIn * b.k + j]! * biases[l]!.data[o]!;
        out.push(s);
      }
    }
  });
  return out;
}

const maxDiff = (a: number[], b: number[]): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

for (const bias of [false, true]) {
  test(`after consolidation, SGD steps do not change any layer's output on the stored directions (bias ${bias})`, () => {
    const rng = new Rng(21);
    const s = setup({ bias });
    const gpm = new GpmLearner(s, { samples: 8 });
    const naive = new ClassifierLearner('naive', { storesRawSamples: false, cumulativeStream: false }, s);
    for (const batch of contextBatches(rng, 3, 10)) {
      gpm.observe(batch);
      naive.observe(batch);
    }
    gpm.onBoundary(0);
    assert.equal(gpm.consolidationCount(), 1);
    const sizes = gpm.basisSizes();
    // First layer: inputs span 3 dimensions (+ the constant of the bias); nothing more may be kept.
    assert.ok(sizes[0]! >= 1 && sizes[0]! <= 3 + (bias ? 1 : 0), `layer-1 basis ${sizes}`);
    assert.ok(sizes.every((k) => k > 0), `bases ${sizes}`);
    // The same parameters in a plain learner, to show that the steps below would change these outputs.
    naive.setState({ ...gpm.getState(), method: 'naive', extra: {} });
    const before = protectedOutputs(gpm, gpm);
    for (const batch of contextBatches(rng, IN, 5)) {
      gpm.observe(batch);
      naive.observe(batch);
    }
    const moved = maxDiff(before, protectedOutputs(gpm, gpm));
    const unprotected = maxDiff(before, protectedOutputs(gpm, naive));
    assert.ok(unprotected > 1e-2, `the test's steps barely move an unprotected net (${unprotected})`);
    assert.ok(moved < 1e-5, `protected outputs moved by ${moved}`);
  });
}

test('representation: the last ⌈samples / batch⌉ batches of a context; later contexts only add directions', () => {
  const rng = new Rng(5);
  const gpm = new GpmLearner(setup(), { samples: 8 });
  assert.equal(gpm.windowIterations(), 2);
  // Early batches span other directions than the last two: only the last two may shape the basis.
  const early = contextBatches(rng, IN, 8);
  const late = contextBatches(rng, 1, 2);
  for (const b of [...early, ...late]) gpm.observe(b);
  gpm.onBoundary(0);
  assert.equal(gpm.basisSizes()[0], 1);
  const first = gpm.basis(0).data.slice();
  for (const b of contextBatches(rng, 2, 10)) gpm.observe(b);
  gpm.onBoundary(1);
  const k = gpm.basisSizes()[0]!;
  assert.ok(k >= 2 && k <= 3, `layer-1 basis ${k}`);
  for (let i = 0; i < IN; i++) assert.equal(gpm.basis(0).data[i * k], first[i]);
});

test('task-free streams consolidate every consolidateEvery iterations and ignore boundaries', () => {
  const rng = new Rng(8);
  const gpm = new GpmLearner(setup({ stream: 'task-free' }), { samples: 4, consolidateEvery: 5 });
  const batches = contextBatches(rng, 2, 12);
  batches.slice(0, 4).forEach((b) => gpm.observe(b));
  assert.equal(gpm.consolidationCount(), 0);
  gpm.onBoundary(0);
  assert.equal(gpm.consolidationCount(), 0);
  gpm.observe(batches[4]!);
  assert.equal(gpm.consolidationCount(), 1);
  assert.ok(gpm.basisSizes()[0]! > 0);
  batches.slice(5).forEach((b) => gpm.observe(b));
  assert.equal(gpm.consolidationCount(), 2);
});

test('thresholds: 0.95 for the first layer, 0.99 for the others, with an optional increment per consolidation', () => {
  const gpm = new GpmLearner(setup());
  assert.deepEqual(gpm.thresholds, [0.95, 0.99, 0.99]);
  assert.equal(gpm.samples, 300);
  assert.equal(gpm.thresholdIncrement, 0);
  assert.throws(() => new GpmLearner(setup(), { thresholds: [0.9, 0.9] }), RangeError);
  assert.throws(() => new GpmLearner(setup(), { thresholds: [0.9, 1.2, 0.9] }), RangeError);
  assert.throws(() => new GpmLearner(setup(), { samples: 0 }), RangeError);
  assert.equal(new GpmLearner(setup()).consolidateEvery, null, 'boundaries streams consolidate at boundaries');
  assert.equal(new GpmLearner(setup({ stream: 'task-free' })).consolidateEvery, 2000, 'the fixed task-free interval, not iters per context');
  // With a large increment the second consolidation uses threshold 1: every direction with energy is kept.
  const rng = new Rng(3);
  const inc = new GpmLearner(setup(), { samples: 8, thresholds: [0.5, 0.5, 0.5], thresholdIncrement: 0.5 });
  for (const b of contextBatches(rng, 4, 10)) inc.observe(b);
  inc.onBoundary(0);
  const k1 = inc.basisSizes()[0]!;
  for (const b of contextBatches(rng, 4, 10)) inc.observe(b);
  inc.onBoundary(1);
  assert.ok(k1 < 4 && inc.basisSizes()[0] === k1 + 4, `bases ${k1} then ${inc.basisSizes()[0]}`);
});

test('gpm options (--set): parsed and validated, one per layer or one for all; errors name the option', () => {
  assert.deepEqual(parseGpmOptions({}, 3), {});
  assert.deepEqual(parseGpmOptions({ thresholds: '0.97, 0.99,0.995' }, 3), { thresholds: [0.97, 0.99, 0.995] });
  // `--set thresholds=0.98` arrives as a number: every layer's.
  assert.deepEqual(parseGpmOptions({ thresholds: 0.98 }, 3), { thresholds: [0.98, 0.98, 0.98] });
  assert.deepEqual(
    parseGpmOptions({ thresholdIncrement: 0.003, samples: 100, consolidateEvery: 50 }, 3),
    { thresholdIncrement: 0.003, samples: 100, consolidateEvery: 50 },
  );
  const fails = (input: Record<string, unknown>, message: RegExp): void => {
    assert.throws(() => parseGpmOptions(input, 3), (e: unknown) => {
      assert.ok(e instanceof MethodOptionError);
      assert.equal(e.code, 'E_OPTION');
      assert.match(e.message, message);
      assert.ok(!e.message.includes('\n'), `not one line: ${e.message}`);
      return true;
    });
  };
  fails({ thresholds: '0.97,1.2,0.99' }, /^gpm option thresholds: each threshold must lie in \(0, 1\], got "0\.97,1\.2,0\.99"$/);
  fails({ thresholds: 0 }, /^gpm option thresholds: each threshold must lie in \(0, 1\]/);
  fails({ thresholds: '0.97,,0.99' }, /^gpm option thresholds: /);
  fails({ thresholds: 'high' }, /^gpm option thresholds: /);
  fails({ thresholds: '0.97,0.99' }, /^gpm option thresholds: 2 values for 3 linear layers/);
  fails({ thresholdIncrement: -0.1 }, /^gpm option thresholdIncrement: /);
  fails({ samples: 2.5 }, /^gpm option samples: /);
  fails({ consolidateEvery: 0 }, /^gpm option consolidateEvery: /);
  fails({ threshold1: 0.97 }, /^gpm has no option "threshold1"; its options: thresholds, thresholdIncrement, samples, consolidateEvery, standardise$/);
});

test('--set options reach the learner through the registry; a higher threshold keeps at least as many directions', () => {
  const asGpm = (l: unknown): GpmLearner => {
    assert.ok(l instanceof GpmLearner);
    return l;
  };
  const defaults = asGpm(createLearner('gpm', setup()));
  assert.deepEqual(defaults.thresholds, [0.95, 0.99, 0.99]);
  assert.equal(defaults.thresholdIncrement, 0);
  assert.equal(defaults.samples, 300);
  const set = asGpm(createLearner('gpm', setup({
    stream: 'task-free', methodOptions: { thresholds: '0.97,0.98,0.99', thresholdIncrement: 0.01, samples: 8, consolidateEvery: 7 },
  })));
  assert.deepEqual(set.thresholds, [0.97, 0.98, 0.99]);
  assert.equal(set.thresholdIncrement, 0.01);
  assert.equal(set.samples, 8);
  assert.equal(set.consolidateEvery, 7);
  assert.throws(() => createLearner('gpm', setup({ methodOptions: { nonsense: 1 } })), /gpm has no option "nonsense"/);
  // What a result records: every option, defaults included; fed back, it gives the same learner.
  const recorded = set.resolvedOptions();
  assert.deepEqual(recorded, { thresholds: [0.97, 0.98, 0.99], thresholdIncrement: 0.01, samples: 8, consolidateEvery: 7, standardise: false });
  const ctx = { protocol: 'split-mnist', scenario: 'domain', stream: 'task-free', hidden: [6, 5] } as const;
  assert.deepEqual(resolveGpmOptions({ thresholds: '0.97,0.98,0.99', thresholdIncrement: 0.01, samples: 8, consolidateEvery: 7 }, ctx), recorded);
  assert.deepEqual(asGpm(createLearner('gpm', setup({ stream: 'task-free', methodOptions: { ...recorded } }))).resolvedOptions(), recorded);
  // consolidateEvery means nothing with boundaries: refused there, and not recorded.
  assert.throws(() => resolveGpmOptions({ consolidateEvery: 7 }, { ...ctx, stream: 'boundaries' }), /consolidateEvery: applies to task-free streams only/);
  assert.ok(!('consolidateEvery' in defaults.resolvedOptions()));
  // Same seed, same data: only the thresholds differ, so the bases differ only in how many directions they keep.
  const sizes = (thresholds: string): number[] => {
    const rng = new Rng(17);
    const gpm = asGpm(createLearner('gpm', setup({ methodOptions: { thresholds, samples: 40 } })));
    for (const b of contextBatches(rng, 6, 10)) gpm.observe(b);
    gpm.onBoundary(0);
    return gpm.basisSizes();
  };
  const low = sizes('0.5,0.5,0.5');
  const high = sizes('0.999,0.999,0.999');
  assert.ok(high.every((k, l) => k >= low[l]!), `bases ${low} vs ${high}`);
  assert.ok(high[0]! > low[0]!, `first layer: ${low[0]} vs ${high[0]}`);
});

test('on permuted MNIST inputs are standardised like the reference (MNIST mean and sd), elsewhere not', () => {
  const x = Float32Array.from({ length: 2 * IN }, (_, i) => (i % 7) / 7);
  const raw = new GpmLearner(setup());
  const std = new GpmLearner(setup({ protocol: 'permuted-mnist' }));
  std.setState(structuredClone(raw.getState()));
  const z = x.map((v) => (v - 0.1307) / 0.3081);
  assert.deepEqual(std.predict(x, 2, null), raw.predict(z, 2, null));
  assert.notDeepEqual(
    noGrad(() => std.net.forward(Tensor.from(x, [2, IN]))).data,
    noGrad(() => std.net.forward(Tensor.from(z, [2, IN]))).data,
  );
});

test('checkpoint state holds the bases and window: a restored learner continues identically', () => {
  const rng = new Rng(13);
  const batches = contextBatches(rng, 3, 25);
  const a = new GpmLearner(setup({ bias: true }), { samples: 8 });
  batches.slice(0, 10).forEach((b) => a.observe(b));
  a.onBoundary(0);
  batches.slice(10, 19).forEach((b) => a.observe(b)); // inside the next window
  const b = new GpmLearner(setup({ bias: true }), { samples: 8 });
  b.setState(a.getState());
  assert.deepEqual(b.basisSizes(), a.basisSizes());
  for (const l of [0, 1, 2]) assert.deepEqual(b.basis(l).data, a.basis(l).data);
  for (const learner of [a, b]) {
    batches.slice(19, 20).forEach((x) => learner.observe(x));
    learner.onBoundary(1);
    batches.slice(20).forEach((x) => learner.observe(x));
  }
  assert.deepEqual(b.basisSizes(), a.basisSizes());
  assert.deepEqual(b.getState().params, a.getState().params);
  const bad = a.getState();
  assert.throws(() => b.setState({ ...bad, extra: { ...(bad.extra as object), bases: [] } }), /bases/);
});

test('gpm on permuted MNIST through the harness: preset network without biases, learns, little forgetting', () => {
  const cfg = resolveConfig({ protocol: 'permuted-mnist', method: 'gpm', contexts: 2, iters: 1500, evalEvery: 1500, curveSamples: 100 });
  assert.equal(cfg.bias, false);
  assert.deepEqual(cfg.hidden, [100, 100]);
  const r = runExperiment(cfg);
  assert.equal(r.params, 784 * 100 + 100 * 100 + 100 * 10);
  assert.deepEqual(r.storedRawSamples, { max: 0, atEnd: 0 });
  const m = r.accuracyMatrix;
  // (Plain SGD at lr 0.01 on batches of 10 is slow to start: naive fine-tuning reaches ≈ 0.85 here too.)
  assert.ok(m[0]![0]! > 0.8 && m[1]![1]! > 0.8, `accuracies ${JSON.stringify(m)}`);
  assert.ok(m[1]![0]! > m[0]![0]! - 0.05, `forgot context 1: ${JSON.stringify(m)}`);
});
