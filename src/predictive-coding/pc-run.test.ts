import test from 'node:test';
import assert from 'node:assert/strict';
import { resolveConfig, runExperiment } from '../harness/index.js';
import { getBackend } from '../kernels/index.js';

// Short i.i.d. MNIST runs (the library's default data): predictive coding learns the parity network as
// backprop does, through the same learner, and the result says which engine ran.
const base = { protocol: 'iid', method: 'naive', iters: 200, evalEvery: 100, curveSamples: 200, valPerContext: 500, threads: getBackend().getThreads() } as const;

test('iid MNIST, 200 batches: predictive coding reaches backprop’s accuracy within 3 points, and iPC learns too', () => {
  const bp = runExperiment(resolveConfig({ ...base, engine: 'bp' }));
  const pc = runExperiment(resolveConfig({ ...base, engine: 'pc' }));
  const ipc = runExperiment(resolveConfig({ ...base, engine: 'pc', pcSteps: 8, pcIncremental: true }));
  assert.equal(bp.engine, 'bp');
  assert.equal(pc.engine, 'pc');
  assert.deepEqual([pc.config.pcSteps, ipc.config.pcSteps, ipc.config.pcIncremental], [5, 8, true]);
  assert.ok(bp.acc > 0.88, `bp ${bp.acc}`);
  assert.ok(pc.acc > bp.acc - 0.03, `pc ${pc.acc} against bp ${bp.acc}`);
  assert.ok(ipc.acc > 0.85, `ipc ${ipc.acc}`);
  // Its own updates, not backprop's (the accuracies may agree to the image at this length).
  assert.notDeepEqual(pc.onlineCurve.map((p) => p.loss), bp.onlineCurve.map((p) => p.loss));
});

test('task-IL heads under predictive coding: a split-MNIST task-IL run masks the output to each context’s head', () => {
  const r = runExperiment(resolveConfig({ protocol: 'split-mnist', scenario: 'task', method: 'naive', engine: 'pc', iters: 60, evalEvery: 60, curveSamples: 100, hidden: [32] }));
  // Two-way heads: chance is 50 %, a working mask and local rule are far above it on the last context.
  assert.ok(r.accuracyMatrix.at(-1)!.at(-1)! > 0.9, `last context ${r.accuracyMatrix.at(-1)!.at(-1)}`);
});
