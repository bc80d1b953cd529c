import test from 'node:test';
import assert from 'node:assert/strict';
import { backward, Rng, Tensor } from '../../core/index.js';
import { getBackend } from '../../kernels/index.js';
import { resolveConfig, runExperiment } from '../../harness/index.js';
import type { Batch } from '../../protocols/types.js';
import type { Learner, LearnerSetup } from '../learner.js';
import { BiRLearner } from './bi-r.js';
import { DgrLearner } from './dgr.js';
import { replayLoss } from '../distillation/replay-loss.js';
import { hardTargets, softTargets } from '../heads/index.js';

getBackend().setThreads(1);

test('soft targets are a distribution over the kept outputs and zero elsewhere; hard targets are its argmax', () => {
  const z = new Float32Array([1, 5, 2, 0.5, -1, 3, 3, 9]);
  const keep = [0, 2, 3];
  const p = softTargets(z, keep, 2, 4, 2);
  for (let r = 0; r < 2; r++) {
    assert.equal(p[r * 4 + 1], 0);
    const s = keep.reduce((a, c) => a + p[r * 4 + c]!, 0);
    assert.ok(Math.abs(s - 1) < 1e-6);
  }
  // Row 0: outputs 0, 2, 3 have logits 1, 2, 0.5: softmax at T=2 ∝ e^0.5, e^1, e^0.25.
  const e = [Math.exp(0.5), Math.exp(1), Math.exp(0.25)];
  const tot = e[0]! + e[1]! + e[2]!;
  assert.ok(Math.abs(p[2]! - e[1]! / tot) < 1e-6);
  assert.deepEqual([...hardTargets(z, keep, 2, 4)], [2, 3]);
});

test('distillation has zero gradient where the student already matches the teacher on the head', () => {
  const teacher = new Float32Array([0.3, -1, 2, 0.7, 1.5, 0.2]);
  const student = Tensor.param(teacher.slice(), [2, 3]);
  const loss = replayLoss(student, teacher, [{ teacher: [0, 1, 2], student: [0, 1, 2] }], true, 2);
  backward(loss);
  for (const g of student.grad!) assert.ok(Math.abs(g) < 1e-6, `grad ${g}`);
  // …and a non-zero one where it does not.
  const other = Tensor.param(new Float32Array(6), [2, 3]);
  backward(replayLoss(other, teacher, [{ teacher: [0, 1, 2], student: [0, 1, 2] }], true, 2));
  assert.ok(other.grad!.some((g) => Math.abs(g) > 1e-3));
});

/** Synthetic class-IL problem: 2 contexts × 2 classes of 12-pixel images, each class a distinct bright block. */
const setup = (over: Partial<LearnerSetup> = {}): LearnerSetup => ({
  inputSize: 12, numOutputs: 4, activeOutputs: () => null, hidden: [16], activation: 'relu',
  optimizer: 'adam', lr: 1e-2, momentum: 0, seed: 3, protocol: 'split-mnist', scenario: 'class', stream: 'boundaries',
  itersPerContext: 30, numContexts: 2, batchSize: 8, ...over,
});

function batch(k: number, rng: Rng): Batch {
  const ctx = Math.floor(k / 30);
  const x = new Float32Array(8 * 12).map(() => 0.1 * rng.uniform());
  const y = new Int32Array(8).map((_, i) => 2 * ctx + (i % 2));
  for (let i = 0; i < 8; i++) for (let j = 0; j < 3; j++) x[i * 12 + 3 * y[i]! + j] = 0.9;
  return { x, y, size: 8, contexts: null };
}

function drive(l: Learner, from: number, to: number, rng: Rng): number[] {
  const losses: number[] = [];
  for (let k = from; k < to; k++) {
    losses.push(l.observe(batch(k, rng)));
    if (k % 30 === 29) l.onBoundary?.(Math.floor(k / 30));
  }
  return losses;
}

for (const [name, make] of [
  ['dgr-distill', (s: LearnerSetup) => new DgrLearner(s, { distill: true, zDim: 4 })],
  ['bi-r', (s: LearnerSetup) => new BiRLearner(s, { zDim: 4 })],
] as const) {
  test(`${name}: state round trip resumes the identical run (parameters, teacher, RNG), and stores no raw data`, () => {
    const a = make(setup());
    drive(a, 0, 40, new Rng(8));
    const b = make(setup({ seed: 99 }));
    // A deep copy, as a checkpoint file gives (the optimiser updates its moment buffers in place).
    b.setState(structuredClone(a.getState()));
    const rngA = new Rng(11);
    const rngB = new Rng(11);
    assert.deepEqual(drive(a, 40, 50, rngA), drive(b, 40, 50, rngB));
    const probe = batch(55, new Rng(2));
    assert.deepEqual(a.predict(probe.x, 8, null), b.predict(probe.x, 8, null));
    assert.equal(a.storedRawSamples(), 0);
  });
}

test('on a short Split MNIST slice, dgr-distill and bi-r keep far more of the earlier classes than fine-tuning', () => {
  const small = (method: string) => runExperiment(resolveConfig({
    protocol: 'split-mnist', scenario: 'class', method, iters: 150, batch: 64, hidden: [100], evalEvery: 1000,
    curveSamples: 50, threads: 1,
  }));
  const naive = small('naive');
  for (const method of ['dgr-distill', 'bi-r']) {
    const r = small(method);
    assert.ok(r.acc > naive.acc + 0.2, `${method} ACC ${r.acc} vs naive ${naive.acc}`);
    assert.deepEqual(r.storedRawSamples, { max: 0, atEnd: 0 });
  }
});
