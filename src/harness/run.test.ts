import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getBackend, loadNativeBackend, portableBackend, setBackend } from '../kernels/index.js';
import { resolveConfig, type PartialRunConfig } from './resolve-config.js';
import { runExperiment } from './run.js';

/** A small but real slice of the default protocol, so the suite stays fast. */
const small = (over: Partial<PartialRunConfig> = {}) => resolveConfig({
  protocol: 'split-mnist', iters: 200, batch: 64, hidden: [64], evalEvery: 100, curveSamples: 100, ...over,
});

test('naive class-IL on Split MNIST forgets: last context learnt, earlier ones lost', () => {
  const r = runExperiment(small({ method: 'naive', scenario: 'class' }));
  assert.equal(r.accuracyMatrix.length, 5);
  for (const row of r.accuracyMatrix) {
    assert.equal(row.length, 5);
    for (const a of row) assert.ok(a >= 0 && a <= 1);
  }
  // Each context is learnt when trained on…
  for (let t = 0; t < 5; t++) assert.ok(r.accuracyMatrix[t]![t]! > 0.9, `R[${t}][${t}] = ${r.accuracyMatrix[t]![t]}`);
  // …and class-IL fine-tuning forgets it (the classic ≈20% result).
  assert.ok(r.acc < 0.35, `ACC ${r.acc}`);
  assert.ok(r.bwt < -0.5, `BWT ${r.bwt}`);
  assert.ok(r.forgetting > 0.5);
  assert.deepEqual(r.storedRawSamples, { max: 0, atEnd: 0 });
  // Online curve: iteration 0, every evalEvery, and the end; one accuracy per context.
  assert.equal(r.onlineCurve[0]!.iteration, 0);
  assert.equal(r.onlineCurve.at(-1)!.iteration, 1000);
  assert.equal(r.onlineCurve.length, 1 + 1000 / 100);
  assert.ok(r.trainSamplesPerSecond > 0 && r.peakRssMB > 0 && r.params === 784 * 64 + 64 + 64 * 10 + 10);
});

test('task-IL masks heads: naive fine-tuning keeps far more than in class-IL', () => {
  const task = runExperiment(small({ method: 'naive', scenario: 'task' }));
  assert.ok(task.acc > 0.8, `task-IL ACC ${task.acc}`);
});

test('joint trains on everything so far and reports the raw data it holds', () => {
  const r = runExperiment(small({ method: 'joint', scenario: 'class', iters: 60 }));
  assert.ok(r.acc > 0.6, `joint ACC ${r.acc}`);
  assert.ok(r.storedRawSamples.max > 50_000, `stored ${r.storedRawSamples.max}`);
});

test('same seed, same backend: identical results', () => {
  const a = runExperiment(small({ iters: 10 }));
  const b = runExperiment(small({ iters: 10 }));
  assert.deepEqual(a.accuracyMatrix, b.accuracyMatrix);
  assert.deepEqual(a.onlineCurve.map((p) => p.loss), b.onlineCurve.map((p) => p.loss));
});

const native = loadNativeBackend();
test('portable and native backends reach the same test accuracy (±0.5 point) on a short run',
  { skip: native === null ? 'native addon not built' : false }, () => {
    const prev = getBackend();
    const cfg = small({ iters: 25, hidden: [32], curveSamples: 10, evalEvery: 1000 });
    try {
      setBackend(portableBackend);
      const p = runExperiment(cfg);
      setBackend(native!);
      const n = runExperiment(cfg);
      assert.ok(Math.abs(p.acc - n.acc) <= 0.005, `portable ${p.acc} vs native ${n.acc}`);
      for (let t = 0; t < 5; t++) {
        assert.ok(Math.abs(p.accuracyMatrix[t]![t]! - n.accuracyMatrix[t]![t]!) <= 0.005);
      }
    } finally {
      setBackend(prev);
    }
  });

test('a saved learner reloads into the same predictions; another architecture is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-run-'));
  const file = join(dir, 'naive.engram');
  const first = runExperiment(small({ iters: 10 }), { saveTo: file });
  // Loading and training for 0 extra iterations is impossible (iters ≥ 1), so compare the initial row:
  // a loaded learner's "initial" accuracy equals the saved learner's final accuracy.
  const again = runExperiment(small({ iters: 1 }), { loadFrom: file });
  assert.deepEqual(again.initialAccuracy, first.accuracyMatrix[4]);
  assert.throws(() => runExperiment(small({ iters: 1, hidden: [32] }), { loadFrom: file }), /hidden=\[64\], but this run has hidden=\[32\]/);
});

test('an interrupted run resumed from its checkpoint gives exactly the uninterrupted results', () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-resume-'));
  const file = join(dir, 'run.ckpt');
  const cfg = small({ iters: 30, evalEvery: 10, stream: 'task-free', scenario: 'task' });
  const whole = runExperiment(cfg);
  // Crash after iteration 55: the last checkpoint is the one at 40.
  assert.throws(() => runExperiment(cfg, {
    checkpoint: { file, every: 20, resume: true },
    onIteration: (i) => {
      if (i === 55) throw new Error('simulated crash');
    },
  }), /simulated crash/);
  const seen: number[] = [];
  const resumed = runExperiment(cfg, { checkpoint: { file, every: 20, resume: true }, onIteration: (i) => seen.push(i) });
  assert.equal(seen[0], 41, 'training continues after the checkpoint, not from the start');
  assert.deepEqual(resumed.accuracyMatrix, whole.accuracyMatrix);
  assert.deepEqual(resumed.initialAccuracy, whole.initialAccuracy);
  assert.deepEqual(resumed.onlineCurve, whole.onlineCurve);
  assert.deepEqual(resumed.paramsCurve, whole.paramsCurve);
  // A checkpoint of another configuration is refused.
  assert.throws(() => runExperiment({ ...cfg, lr: 0.5 }, { checkpoint: { file, every: 20, resume: true } }), /saved with lr=0.001, but this run has lr=0.5/);
});

test('experience replay keeps old classes in class-IL and reports its buffer truthfully', () => {
  const naive = runExperiment(small({ method: 'naive', iters: 100 }));
  const er = runExperiment(small({ method: 'er', iters: 100 }));
  assert.ok(er.acc > naive.acc + 0.3, `er ${er.acc} vs naive ${naive.acc}`);
  // 100 per class, 10 classes; held for good.
  assert.deepEqual(er.storedRawSamples, { max: 1000, atEnd: 1000 });
  const tf = runExperiment(small({ method: 'er', iters: 100, stream: 'task-free' }));
  assert.ok(tf.acc > naive.acc + 0.3, `task-free er ${tf.acc}`);
  // A-GEM only projects gradients: in class-IL it helps far less than replaying (van de Ven et al.: ≈ naive).
  const agem = runExperiment(small({ method: 'agem', iters: 100 }));
  assert.ok(agem.acc < er.acc, `agem ${agem.acc} vs er ${er.acc}`);
  assert.deepEqual(agem.storedRawSamples, { max: 1000, atEnd: 1000 });
  const agemTask = runExperiment(small({ method: 'agem', scenario: 'task', iters: 100 }));
  const naiveTask = runExperiment(small({ method: 'naive', scenario: 'task', iters: 100 }));
  assert.ok(agemTask.forgetting < naiveTask.forgetting, `agem task-IL forgetting ${agemTask.forgetting} vs ${naiveTask.forgetting}`);
});

test('LwF distils the old model: domain-IL forgetting falls far below fine-tuning, nothing is stored', () => {
  const naive = runExperiment(small({ method: 'naive', scenario: 'domain', iters: 100 }));
  const lwf = runExperiment(small({ method: 'lwf', scenario: 'domain', iters: 100 }));
  assert.ok(lwf.forgetting < naive.forgetting / 2, `lwf forgetting ${lwf.forgetting} vs naive ${naive.forgetting}`);
  assert.ok(lwf.acc > naive.acc + 0.05, `lwf ${lwf.acc} vs naive ${naive.acc}`);
  assert.deepEqual(lwf.storedRawSamples, { max: 0, atEnd: 0 });
  // Task-IL: distilling every earlier head keeps them (each head on its own softmax).
  const task = runExperiment(small({ method: 'lwf', scenario: 'task', iters: 100 }));
  assert.ok(task.acc > 0.95, `lwf task-IL ${task.acc}`);
});
