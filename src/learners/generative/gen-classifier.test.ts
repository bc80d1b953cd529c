import test from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../core/index.js';
import { getBackend } from '../../kernels/index.js';
import type { Batch } from '../../protocols/types.js';
import type { LearnerSetup } from '../learner.js';
import { GenClassifierLearner, genClassifierDefaults, type GenClassifierOptions } from './gen-classifier.js';
import { genClassifierMethod } from './index.js';

// Tiny networks: one thread avoids handing each small kernel to a second thread (costly on a shared machine).
getBackend().setThreads(1);

const D = 16;

function setup(over: Partial<LearnerSetup> = {}): LearnerSetup {
  // Fields other engineers may add to LearnerSetup come in through a spread (no excess-property check).
  const extra = { numContexts: 2 };
  return {
    inputSize: D, numOutputs: 10, activeOutputs: () => null, hidden: [400, 400], activation: 'relu',
    optimizer: 'adam', lr: 1e-3, momentum: 0, seed: 1, protocol: 'split-mnist', scenario: 'class',
    stream: 'boundaries', itersPerContext: 100, batchSize: 20, ...extra, ...over,
  };
}

const small: GenClassifierOptions = { hidden: [8], zDim: 2, samples: 8 };

/**
 * Binary images of `classes`: class k lights pixels of its own band of D / bands (probability 0.9) and leaves
 * the rest dark (0.1).
 */
function makeBatch(rng: Rng, n: number, classes: readonly number[], bands: number, bandOf: (c: number) => number): Batch {
  const x = new Float32Array(n * D);
  const y = new Int32Array(n);
  const width = D / bands;
  for (let r = 0; r < n; r++) {
    const c = classes[rng.int(classes.length)]!;
    y[r] = c;
    const band = bandOf(c);
    for (let i = 0; i < D; i++) {
      const on = Math.floor(i / width) === band ? 0.9 : 0.1;
      x[r * D + i] = rng.uniform() < on ? 1 : 0;
    }
  }
  return { x, y, size: n, contexts: null };
}

function accuracy(pred: Int32Array, y: Int32Array): number {
  let ok = 0;
  pred.forEach((p, i) => (ok += p === y[i] ? 1 : 0));
  return ok / y.length;
}

test('defaults follow the authors: 85-unit layers (2 for Split MNIST), z 5 / 20, S = 50, Adam 1e-3', () => {
  assert.deepEqual(genClassifierDefaults('split-mnist'), { hidden: [85, 85], zDim: 5, samples: 50, lr: 1e-3, observation: 'gaussian' });
  assert.deepEqual(genClassifierDefaults('permuted-mnist'), { hidden: [85], zDim: 20, samples: 50, lr: 1e-3, observation: 'gaussian' });
  const l = genClassifierMethod.create(setup());
  assert.equal(l.method, 'gen-classifier');
  assert.equal(l.storedRawSamples(), 0);
  assert.equal(l.traits.storesRawSamples, false);
});

test('one VAE per class learns a two-class task from mixed batches (no boundaries needed)', () => {
  const rng = new Rng(2);
  const l = new GenClassifierLearner(setup(), small);
  assert.equal(l.parameterCount(), 0);
  // Labels 3 and 7: any labels work; models appear as classes are seen.
  const bandOf = (c: number): number => (c === 3 ? 0 : 1);
  for (let i = 0; i < 150; i++) {
    const loss = l.observe(makeBatch(rng, 20, [3, 7], 2, bandOf));
    assert.ok(Number.isFinite(loss));
  }
  assert.deepEqual(l.classes(), [3, 7]);
  assert.ok(l.parameterCount() > 0);
  const test = makeBatch(rng, 300, [3, 7], 2, bandOf);
  const acc = accuracy(l.predict(test.x, test.size, null), test.y);
  assert.ok(acc > 0.97, `accuracy ${acc}`);
});

test('task-IL: each row is classified among its context\'s classes only', () => {
  const rng = new Rng(3);
  const heads = [[0, 1], [2, 3]];
  const l = new GenClassifierLearner(setup({ scenario: 'task', activeOutputs: (c) => heads[c]! }), small);
  // Classes 0 and 2 look alike, as do 1 and 3: only the context tells them apart.
  const bandOf = (c: number): number => c % 2;
  for (let i = 0; i < 60; i++) l.observe(makeBatch(rng, 20, [0, 1, 2, 3], 2, bandOf));
  const test = makeBatch(rng, 200, [0, 1, 2, 3], 2, bandOf);
  const contexts = new Int32Array(test.size).map((_, i) => (test.y[i]! < 2 ? 0 : 1));
  const pred = l.predict(test.x, test.size, contexts);
  pred.forEach((p, i) => assert.ok(heads[contexts[i]!]!.includes(p)));
  assert.ok(accuracy(pred, test.y) > 0.95);
  // Before any class is seen, the context's first output.
  const fresh = new GenClassifierLearner(setup({ scenario: 'task', activeOutputs: (c) => heads[c]! }), small);
  assert.deepEqual([...fresh.predict(test.x.subarray(0, 2 * D), 2, new Int32Array([1, 0]))], [2, 0]);
});

test('getState / setState: identical predictions, and identical training afterwards; the cache changes nothing', () => {
  const rng = new Rng(4);
  const bandOf = (c: number): number => c;
  const classes = [0, 1, 2, 3];
  const a = new GenClassifierLearner(setup(), small);
  for (let i = 0; i < 40; i++) a.observe(makeBatch(rng, 16, classes, 4, bandOf));
  const test = makeBatch(rng, 100, classes, 4, bandOf);
  const before = a.predict(test.x, test.size, null);
  // Deterministic prediction (a fixed table of importance draws), cached or not.
  assert.deepEqual(a.predict(test.x, test.size, null), before);
  const uncached = new GenClassifierLearner(setup(), { ...small, cache: false });
  uncached.setState(a.getState());
  assert.deepEqual(uncached.predict(test.x, test.size, null), before);

  const b = new GenClassifierLearner(setup(), small);
  b.setState(a.getState());
  assert.deepEqual(b.classes(), a.classes());
  assert.equal(b.parameterCount(), a.parameterCount());
  assert.deepEqual(b.predict(test.x, test.size, null), before);
  // Optimiser moments and RNG come back too: the same batches give the same parameters.
  for (let i = 0; i < 5; i++) {
    const batch = makeBatch(rng, 16, classes, 4, bandOf);
    assert.equal(a.observe(batch), b.observe(batch));
  }
  const pa = a.getState().params;
  const pb = b.getState().params;
  for (const k of Object.keys(pa)) assert.deepEqual(pb[k], pa[k], k);
  assert.deepEqual(b.predict(test.x, test.size, null), a.predict(test.x, test.size, null));
  assert.throws(() => b.setState({ ...a.getState(), extra: {} }), /classes/);
});
