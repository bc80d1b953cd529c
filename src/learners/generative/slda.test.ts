import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../core/index.js';
import type { LearnerSetup } from '../learner.js';
import { SldaLearner } from './slda.js';

const setup: LearnerSetup = {
  inputSize: 12, numOutputs: 4, activeOutputs: (c) => [2 * c, 2 * c + 1], hidden: [16], activation: 'relu',
  optimizer: 'adam', lr: 1e-2, momentum: 0, seed: 3, protocol: 'split-mnist', scenario: 'class', stream: 'task-free',
  itersPerContext: 30, numContexts: 2, batchSize: 8,
};

/** Class c is a bright block of three pixels at 3c, on noise. */
function batch(ctx: number, rng: Rng): { x: Float32Array; y: Int32Array; size: number; contexts: null } {
  const x = new Float32Array(8 * 12).map(() => 0.3 * rng.uniform());
  const y = new Int32Array(8).map((_, i) => 2 * ctx + (i % 2));
  for (let i = 0; i < 8; i++) for (let j = 0; j < 3; j++) x[i * 12 + 3 * y[i]! + j] += 0.6;
  return { x, y, size: 8, contexts: null };
}

test('slda: learns class by class without forgetting, stores nothing, and restores exactly', () => {
  const rng = new Rng(1);
  const l = new SldaLearner(setup);
  for (const c of [0, 1]) for (let k = 0; k < 30; k++) l.observe(batch(c, rng));
  for (const c of [0, 1]) {
    const b = batch(c, new Rng(10 + c));
    const p = l.predict(b.x, 8, null);
    assert.deepEqual(Array.from(p), Array.from(b.y), `context ${c}`);
  }
  assert.equal(l.storedRawSamples(), 0);
  const copy = new SldaLearner(setup);
  copy.setState(structuredClone(l.getState()));
  const probe = batch(1, new Rng(20));
  assert.deepEqual(copy.predict(probe.x, 8, null), l.predict(probe.x, 8, null));
  assert.throws(() => copy.setState({ ...l.getState(), extra: {} }), /LDA statistic/);
});
