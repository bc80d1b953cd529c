import test from 'node:test';
import assert from 'node:assert/strict';
import { add, mul, Rng, scale, sub, sum, Tensor } from '../../core/index.js';
import { getBackend } from '../../kernels/index.js';
import type { Batch } from '../../protocols/types.js';
import type { LearnerSetup } from '../learner.js';
import { SiLearner, type SiOptions } from './si.js';

// Tiny networks: one thread avoids handing each small kernel to a second thread (costly on a shared machine).
getBackend().setThreads(1);

const setup = (over: Partial<LearnerSetup> = {}): LearnerSetup => ({
  inputSize: 3, numOutputs: 2, activeOutputs: () => null, hidden: [4], activation: 'tanh', optimizer: 'sgd',
  lr: 1e-3, momentum: 0, seed: 1, protocol: 'split-mnist', scenario: 'task', stream: 'boundaries',
  itersPerContext: 50, numContexts: 2, batchSize: 2, ...over,
});
const batch: Batch = { x: new Float32Array(6), y: new Int32Array(2), size: 2, contexts: null };

/** SI on a quadratic toy loss ½ Σ a (θ − t)² of the network's own parameters (the batch is ignored). */
class QuadraticSi extends SiLearner {
  readonly a: Float32Array[];
  readonly t: Float32Array[];
  constructor(s: LearnerSetup, opts: SiOptions = {}) {
    super(s, opts);
    const rng = new Rng(11);
    this.a = this.net.parameters().map((p) => new Float32Array(p.size).map(() => 0.5 + 1.5 * rng.uniform()));
    this.t = this.net.parameters().map((p) => new Float32Array(p.size).map(() => rng.uniform() * 2 - 1));
  }

  protected override loss(): Tensor {
    const terms = this.net.parameters().map((p, i) => {
      const d = sub(p, Tensor.from(this.t[i]!, p.shape));
      return sum(mul(mul(d, d), Tensor.from(this.a[i]!, p.shape)));
    });
    return scale(terms.reduce((x, y) => add(x, y)), 0.5);
  }

  taskLoss(): number {
    let s = 0;
    this.net.parameters().forEach((p, i) => p.data.forEach((v, j) => (s += 0.5 * this.a[i]![j]! * (v - this.t[i]![j]!) ** 2)));
    return s;
  }

  totalOmega(): number {
    let s = 0;
    for (const w of this.pathIntegral()) for (const v of w) s += v;
    return s;
  }
}

for (const optimizer of ['sgd', 'adam'] as const) {
  test(`SI's path integral Σω equals the decrease of the loss it was trained on (${optimizer}, small steps)`, () => {
    const si = new QuadraticSi(setup({ optimizer, lr: optimizer === 'sgd' ? 2e-3 : 1e-3 }), { c: 0.5 });
    const l0 = si.taskLoss();
    for (let k = 0; k < 40; k++) si.observe(batch);
    const drop = l0 - si.taskLoss();
    assert.ok(drop > 0.01, `the loss should fall (${drop})`);
    assert.ok(Math.abs(si.totalOmega() - drop) < 0.01 * drop, `Σω ${si.totalOmega()} vs loss drop ${drop}`);

    // Consolidation: Ω = ω/(Δθ² + ξ), θ* = θ, ω = 0.
    const omega = si.pathIntegral().map((w) => w.slice());
    const theta0 = new QuadraticSi(setup({ optimizer })).net.parameters().map((p) => p.data.slice());
    si.onBoundary(0);
    assert.equal(si.consolidationCount(), 1);
    assert.equal(si.totalOmega(), 0);
    const st = si.getState().extra as { penalty: { importance: Float32Array[]; anchor: Float32Array[] } };
    si.net.parameters().forEach((p, i) => {
      for (let j = 0; j < p.size; j++) {
        const d = p.data[j]! - theta0[i]![j]!;
        const want = omega[i]![j]! / (d * d + 0.1);
        assert.ok(Math.abs(st.penalty.importance[i]![j]! - want) <= 1e-6 * Math.max(1, Math.abs(want)));
        assert.equal(st.penalty.anchor[i]![j], p.data[j]);
      }
    });

    // Second period: ω integrates the gradient the optimiser saw, which includes the SI penalty's, so Σω is
    // the decrease of the total loss (task loss + penalty), as in van de Ven's code.
    si.t.forEach((t) => t.forEach((v, j) => (t[j] = -v)));
    const total0 = si.taskLoss() + si.penaltyValue();
    assert.equal(si.penaltyValue(), 0, 'the penalty starts at zero at its own anchor');
    for (let k = 0; k < 40; k++) si.observe(batch);
    const totalDrop = total0 - (si.taskLoss() + si.penaltyValue());
    assert.ok(si.penaltyValue() > 0);
    assert.ok(Math.abs(si.totalOmega() - totalDrop) < 0.01 * totalDrop, `Σω ${si.totalOmega()} vs total drop ${totalDrop}`);
  });
}

test('task-free SI consolidates every 100 iterations by default, or as configured', () => {
  const si = new QuadraticSi(setup({ stream: 'task-free' }));
  assert.equal(si.consolidateEvery, 100);
  for (let k = 0; k < 250; k++) si.observe(batch);
  assert.equal(si.consolidationCount(), 2);
  const si2 = new QuadraticSi(setup({ stream: 'task-free' }), { consolidateEvery: 30 });
  for (let k = 0; k < 100; k++) si2.observe(batch);
  assert.equal(si2.consolidationCount(), 3);
  // Boundaries streams consolidate only at boundaries.
  const si3 = new QuadraticSi(setup());
  for (let k = 0; k < 120; k++) si3.observe(batch);
  assert.equal(si3.consolidationCount(), 0);
});
