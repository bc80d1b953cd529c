import test from 'node:test';
import assert from 'node:assert/strict';
import { portableBackend, setBackend } from '../../kernels/index.js';
import type { SynapseView } from '../base.js';
import { chain } from '../combine.js';
import { applyUpdates, scaleByLearningRate } from '../transform.js';
import { onlineImportance } from './importance.js';
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
  const [out] = t.update(u, t.init(u), [new Float32Array(6)], { synapses: view });
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
  const [out] = t.update([f32(3)], t.init([f32(0)]), [f32(0)], { synapses: view });
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

test('a chain hands the importance link\'s Ω and θ* of this step to the links after it', () => {
  // One parameter, gradient 1 every step, SGD(lr 0.1), consolidating after every step: Ω grows step by step and
  // the viscous step is exactly −lr/(1 + c·Ω) with Ω as consolidated in the same call.
  const c = 2;
  const imp = onlineImportance({ xi: 0.1, consolidateEvery: 1 });
  const opt = chain({ importance: imp, viscosity: viscosity({ c }), lr: scaleByLearningRate(0.1) });
  const p = [new Float32Array([0])];
  let s = opt.init(p);
  const omega = (state: typeof s): number => opt.exposes(state).synapses!.importance[0]![0]!;
  for (let k = 0; k < 4; k++) {
    const [u, next] = opt.update([new Float32Array([1])], s, p);
    s = next;
    const om = omega(s);
    assert.equal(s.importance.consolidations, k === 0 ? 0 : k);
    if (k > 0) assert.ok(om > 0);
    assert.ok(Math.abs(u[0]![0]! - -0.1 / (1 + c * om)) < 1e-7, `step ${k}`);
    applyUpdates(p, u);
  }
  // consolidate() through the chain is pure and only touches the importance link's state.
  const before = omega(s);
  const s2 = opt.consolidate(s, p);
  assert.equal(omega(s), before);
  assert.ok(omega(s2) > before);
  assert.equal(s2.viscosity, s.viscosity);
  assert.equal(s2.lr, s.lr);
});

test('an importance-aware link with no importance before it in its chain says so', () => {
  const p = [new Float32Array(1)];
  for (const [name, link] of [['viscosity', viscosity({ c: 1 })], ['metaplastic', metaplastic({ m: 1 })]] as const) {
    const opt = chain({ lr: scaleByLearningRate(0.1), [name]: link });
    assert.throws(() => opt.update([new Float32Array(1)], opt.init(p), p), new RegExp(`${name} reads Ω and θ\\*: put onlineImportance before it`));
  }
});
