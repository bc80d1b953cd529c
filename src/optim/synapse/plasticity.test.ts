import test from 'node:test';
import assert from 'node:assert/strict';
import { portableBackend, setBackend } from '../../kernels/index.js';
import { applyUpdates, scaleByLearningRate } from '../transform.js';
import { withImportance } from './compose.js';
import { onlineImportance, type SynapseView } from './importance.js';
import { metaplastic } from './metaplastic.js';
import { viscosity } from './viscosity.js';

setBackend(portableBackend);

test('viscosity scales each update by exactly 1/(1 + c·Ω), and leaves Ω ≤ 0 alone', () => {
  const omega = [0, 0.5, 2, 40, -0.3, -5];
  const u0 = [1, -2, 0.25, 3, 1.5, -1];
  const view: SynapseView = { importance: [new Float32Array(omega)], anchor: [new Float32Array(6)] };
  const c = 1.7;
  const t = viscosity({ c });
  const u = [new Float32Array(u0)];
  const [out] = t.update(u, t.init(u), [new Float32Array(6)], view);
  const o32 = new Float32Array(omega);
  u0.forEach((x, j) => {
    const want = o32[j]! > 0 ? Math.fround(Math.fround(x) / (1 + c * o32[j]!)) : Math.fround(x);
    assert.equal(out[0]![j], want, `entry ${j}`);
  });
  // Ω = 40, c = 1.7: the step is 69× smaller.
  assert.ok(Math.abs(out[0]![3]! - 3 / 69) < 1e-6);
});

test('metaplastic attenuates only steps away from the anchor, by 1 − tanh²(m·Ω·|θ − θ*|)', () => {
  const m = 0.8;
  // Entries: [θ, θ*, Ω, u]
  const cases: [number, number, number, number][] = [
    [1.5, 1, 2, 0.1], //   away (d > 0, u > 0): attenuated
    [0.5, 1, 2, -0.1], //  away (d < 0, u < 0): attenuated
    [1.5, 1, 2, -0.1], //  towards the anchor: unchanged
    [0.5, 1, 2, 0.3], //   towards (overshooting the anchor): unchanged
    [1, 1, 2, 0.1], //     at the anchor: factor 1
    [1.5, 1, 0, 0.1], //   Ω = 0: unchanged
    [0.5, 1, 0, -0.1], //  Ω = 0, away: unchanged
    [1.5, 1, -1, 0.1], //  Ω < 0 (SI noise): unchanged
    [3, -2, 4, 0.2], //    far away, high Ω: essentially frozen in that direction
  ];
  const f32 = (k: number) => new Float32Array(cases.map((c) => c[k]!));
  const view: SynapseView = { importance: [f32(2)], anchor: [f32(1)] };
  const t = metaplastic({ m });
  const [out] = t.update([f32(3)], t.init([f32(0)]), [f32(0)], view);
  const th = f32(0), an = f32(1), om = f32(2), u = f32(3);
  cases.forEach((_, j) => {
    const d = th[j]! - an[j]!;
    const away = u[j]! * d > 0 && om[j]! > 0;
    const want = away ? Math.fround(u[j]! * (1 - Math.tanh(m * om[j]! * Math.abs(d)) ** 2)) : u[j]!;
    assert.equal(out[0]![j], want, `case ${j}`);
  });
  assert.ok(out[0]![0]! < 0.1 && out[0]![0]! > 0.01, 'a moderate attenuation');
  assert.ok(out[0]![1]! > -0.1 && out[0]![1]! < -0.01);
  assert.equal(out[0]![2], Math.fround(-0.1));
  assert.equal(out[0]![5], Math.fround(0.1));
  assert.ok(Math.abs(out[0]![8]!) < 1e-12, 'm·Ω·|d| = 16: the outward step vanishes');
});

test('withImportance hands this step’s Ω and θ* to the transformations after the source', () => {
  // One parameter, gradient 1 every step, SGD(lr 0.1), consolidating after every step: Ω grows step by step and
  // the viscous step is exactly −lr/(1 + c·Ω) with Ω as consolidated in the same call.
  const c = 2;
  const imp = onlineImportance({ xi: 0.1, consolidateEvery: 1 });
  const opt = withImportance(imp, viscosity({ c }), scaleByLearningRate(0.1));
  const p = [new Float32Array([0])];
  let s = opt.init(p);
  for (let k = 0; k < 4; k++) {
    const [u, next] = opt.update([new Float32Array([1])], s, p);
    s = next;
    const om = opt.view(s).importance[0]![0]!;
    assert.equal(s.source.consolidations, k === 0 ? 0 : k);
    if (k > 0) assert.ok(om > 0);
    assert.ok(Math.abs(u[0]![0]! - -0.1 / (1 + c * om)) < 1e-7, `step ${k}`);
    applyUpdates(p, u);
  }
  // consolidate() through the combinator is pure and only touches the source's state.
  const before = opt.view(s).importance[0]![0]!;
  const s2 = opt.consolidate(s, p);
  assert.equal(opt.view(s).importance[0]![0], before);
  assert.ok(opt.view(s2).importance[0]![0]! > before);
  assert.equal(s2.inner, s.inner);
});
