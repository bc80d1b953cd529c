import test from 'node:test';
import assert from 'node:assert/strict';
import { portableBackend, setBackend } from '../../kernels/index.js';
import { scaleByLearningRate } from '../transform.js';
import { chain } from '../combine.js';
import { onlineImportance } from './importance.js';
import { metaplastic } from './metaplastic.js';
import { trainAB } from './two-task-regression.js';
import { viscosity } from './viscosity.js';

setBackend(portableBackend);

// The two-task regression (12 weights; A on dims 0–7, then B on dims 4–7 and 8–11 ≈ 4–7, no task boundary
// signal; importance consolidates every 50 steps): see two-task-regression.ts.

const lr = 0.1;
const importance = () => onlineImportance({ xi: 0.1, consolidateEvery: 50 });

test('importance + viscosity forgets task A far less than plain SGD, and still learns task B', (t) => {
  const plain = trainAB(chain({ importance: importance(), lr: scaleByLearningRate(lr) }));
  const viscous = trainAB(chain({ importance: importance(), viscosity: viscosity({ c: 100 }), lr: scaleByLearningRate(lr) }));
  // Both learn A; plain SGD then forgets it.
  // (Consolidating every 50 steps slows the end of A's own training a little under viscosity.)
  assert.ok(plain.aAfterA < 1e-3 && viscous.aAfterA < 5e-3, `A learnt: ${plain.aAfterA}, ${viscous.aAfterA}`);
  assert.ok(plain.aAfterB > 0.3, `plain SGD forgets A (loss ${plain.aAfterB})`);
  // With viscosity: A's loss stays small (fails without the mechanism: plain SGD is above 0.3) …
  assert.ok(viscous.aAfterB < 0.1 * plain.aAfterB && viscous.aAfterB < 0.05, `viscous A ${viscous.aAfterB} vs ${plain.aAfterB}`);
  // … and B is learnt nearly as well (its unimportant dims 8–11 carry the fit).
  assert.ok(viscous.bAfterB < 0.1, `viscous B ${viscous.bAfterB} (plain ${plain.bAfterB})`);
  t.diagnostic(`viscosity ${JSON.stringify({ plain, viscous })}`);
});

test('importance + metaplastic attenuation also protects task A and learns task B', (t) => {
  const plain = trainAB(chain({ importance: importance(), lr: scaleByLearningRate(lr) }));
  const meta = trainAB(chain({ importance: importance(), lr: scaleByLearningRate(lr), metaplastic: metaplastic({ m: 100 }) }));
  assert.ok(meta.aAfterA < 1e-3, `A learnt: ${meta.aAfterA}`);
  // Weaker than viscosity here: each consolidation moves θ* to the current θ, so the leash restarts every 50 steps.
  assert.ok(meta.aAfterB < 0.1 * plain.aAfterB && meta.aAfterB < 0.15, `metaplastic A ${meta.aAfterB} vs ${plain.aAfterB}`);
  assert.ok(meta.bAfterB < 0.1, `metaplastic B ${meta.bAfterB} (plain ${plain.bAfterB})`);
  t.diagnostic(`metaplastic ${JSON.stringify({ plain, meta })}`);
});
