import test from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../core/rng.js';
import { portableBackend, setBackend } from '../../kernels/index.js';
import { applyUpdates, scaleByLearningRate } from '../transform.js';
import { chain } from '../combine.js';
import { onlineImportance, SynapseStateError } from './importance.js';
import { mesu, mesuSample, type MesuOptions, type MesuState } from './mesu.js';
import { metaplastic } from './metaplastic.js';
import { trainAB, trainMesu, type TwoTaskResult } from './two-task-regression.js';
import { viscosity } from './viscosity.js';

setBackend(portableBackend);

/**
 * Runs MESU the way its doc comment prescribes (sample θ = μ + σε, gradient at θ, update with μ) on
 * L(ω) = ½ Σ h_j (ω_j − t_j)², one tensor; h_j = 0 leaves parameter j untouched. Returns the means, the state
 * and, per step, the update divided by the gradient for parameter 0.
 */
function runQuadratic(opts: MesuOptions, h: number[], steps: number, seed = 1, target = 0.5) {
  const opt = mesu(opts);
  const rng = new Rng(seed);
  const mu = [new Float32Array(h.length)];
  let state = opt.init(mu);
  const ratio: number[] = [];
  const sigma0: number[] = [];
  for (let k = 0; k < steps; k++) {
    const { theta, state: s1 } = mesuSample(mu, state, rng);
    const g = new Float32Array(h.map((hj, j) => hj * (theta[0]![j]! - target)));
    sigma0.push(s1.sigma[0]![0]!);
    const g0 = g[0]!;
    const [u, s2] = opt.update([g], s1, mu);
    state = s2;
    if (g0 !== 0) ratio.push(u[0]![0]! / g0);
    applyUpdates(mu, u);
  }
  return { mu, state, ratio, sigma0 };
}

const mean = (xs: ArrayLike<number>): number => Array.from(xs).reduce((a, b) => a + b, 0) / xs.length;

test('one update applies Δμ = −σ²g + σ²(μp − μ)/(Nσp²) and Δσ = −σ²(g·ε)/2 + σ(σp² − σ²)/(2Nσp²)', () => {
  const sp = 0.5, N = 20, muP = 0.1;
  const opt = mesu({ sigmaPrior: sp, memoryWindow: N, muPrior: muP });
  const mu = [new Float32Array([0.3, -1, 2, 0])];
  const s0 = opt.init(mu);
  s0.sigma[0]!.set([0.5, 0.2, 0.05, 0.4]);
  const { theta, eps, state } = mesuSample(mu, s0, new Rng(3));
  const sig = Array.from(state.sigma[0]!), e = Array.from(eps[0]!);
  e.forEach((ej, j) => assert.equal(theta[0]![j], Math.fround(mu[0]![j]! + sig[j]! * ej), `θ[${j}] = μ + σε`));
  const g = [0.7, -2, 3, 0];
  const [u, next] = opt.update([new Float32Array(g)], state, mu);
  g.forEach((gj, j) => {
    const s = sig[j]!, m = mu[0]![j]!;
    const dMu = -s * s * gj + (s * s * (muP - m)) / (N * sp * sp);
    const dSigma = -0.5 * s * s * gj * e[j]! + (s * (sp * sp - s * s)) / (2 * N * sp * sp);
    assert.ok(Math.abs(u[0]![j]! - dMu) < 1e-6, `Δμ[${j}]: ${u[0]![j]} vs ${dMu}`);
    assert.ok(Math.abs(next.sigma[0]![j]! - (s + dSigma)) < 1e-6, `σ[${j}]: ${next.sigma[0]![j]} vs ${s + dSigma}`);
  });
  assert.equal(next.sampled, 0);
  assert.equal(next.step, 1);
  // The sample is consumed: a second update without a new sample is an error, as is one before any sample.
  assert.throws(() => opt.update([new Float32Array(g)], next, mu), SynapseStateError);
  assert.throws(() => opt.update([new Float32Array(g)], opt.init(mu), mu), SynapseStateError);
});

test('σ shrinks on parameters the loss depends on and stays at σ_prior on untouched ones', () => {
  const sp = 0.5;
  // Parameters 0–2 are constrained by the loss (curvatures 1, 1, 4); 3–5 never receive a gradient.
  const { state } = runQuadratic({ sigmaPrior: sp, memoryWindow: 1000 }, [1, 1, 4, 0, 0, 0], 400);
  const s = state.sigma[0]!;
  for (const j of [0, 1, 2]) assert.ok(s[j]! < 0.3 * sp, `σ[${j}] = ${s[j]} has shrunk`);
  assert.ok(s[2]! < s[0]! && s[2]! < s[1]!, `more curvature, smaller σ: ${Array.from(s)}`);
  for (const j of [3, 4, 5]) assert.equal(s[j], Math.fround(sp), `σ[${j}] untouched`);
});

test('the learning rate of μ is σ²: it falls as σ falls', () => {
  const { ratio, sigma0 } = runQuadratic({ sigmaPrior: 0.5, memoryWindow: 1000, muPrior: null }, [1], 300);
  // Each update is exactly −σ²·g with the σ before the step …
  ratio.forEach((r, k) => assert.ok(Math.abs(r + sigma0[k]! ** 2) < 1e-6, `step ${k}: ${r} vs −${sigma0[k]! ** 2}`));
  // … and σ falls, so the rate does: from σp² = 0.25 to well under a tenth of it.
  assert.ok(-ratio[0]! > 0.24 && -ratio.at(-1)! < 0.02, `rate ${-ratio[0]!} → ${-ratio.at(-1)!}`);
  assert.ok(mean(ratio.slice(-50).map((r) => -r)) < 0.2 * mean(ratio.slice(0, 50).map((r) => -r)));
});

test('the memory window N bounds σ² at about 1/(N·h + 1/σp²), and σ relaxes back to σp once the loss stops', () => {
  const sp = 0.5, h = 1, P = 400; // 400 independent parameters with the same curvature, to average the noise
  const floor = (N: number): number => 1 / (N * h + 1 / (sp * sp));
  const settled: Record<number, number> = {};
  for (const N of [10, 100]) {
    const { state } = runQuadratic({ sigmaPrior: sp, memoryWindow: N }, new Array<number>(P).fill(h), 20 * N, 5, 0);
    const v = mean(state.sigma[0]!.map((s) => s * s));
    settled[N] = v;
    assert.ok(Math.abs(v / floor(N) - 1) < 0.1, `N = ${N}: mean σ² ${v} vs 1/(Nh + 1/σp²) = ${floor(N)}`);
  }
  assert.ok(settled[10]! > 5 * settled[100]!, 'a shorter window keeps σ larger');

  // Forgetting: train, then give no more gradient; σ returns towards σp within about N steps, faster for smaller N.
  const relaxed = (N: number, idle: number): number => {
    const opt = mesu({ sigmaPrior: sp, memoryWindow: N });
    const { mu, state } = runQuadratic({ sigmaPrior: sp, memoryWindow: N }, [4], 300);
    let s = state;
    const rng = new Rng(9);
    for (let k = 0; k < idle; k++) {
      const { state: s1 } = mesuSample(mu, s, rng);
      [, s] = opt.update([new Float32Array(1)], s1, mu);
    }
    return s.sigma[0]![0]!;
  };
  const before = relaxed(50, 0);
  assert.ok(before < 0.25 * sp, `trained σ ${before}`);
  const fast = relaxed(50, 400), slow = relaxed(1e5, 400);
  assert.ok(fast > 0.9 * sp && fast <= sp + 1e-6, `N = 50: σ back to ${fast} (σp ${sp})`);
  assert.ok(slow < 1.05 * relaxed(1e5, 0), `N = 1e5 remembers: σ ${slow}`);
});

test('the state is serialisable: a structuredClone round-trip gives identical subsequent updates', () => {
  const opt = mesu({ sigmaPrior: 0.4, memoryWindow: 30 });
  const h = [1, 2, 0, 0.5];
  const mu = [new Float32Array([0.2, -0.1, 0.3, 1]), new Float32Array([0.5, -0.5])];
  let state = opt.init(mu);
  const rng = new Rng(11);
  const step = (m: Float32Array[], s: MesuState, r: Rng): [Float32Array[], MesuState] => {
    const { theta, state: s1 } = mesuSample(m, s, r);
    const g = [new Float32Array(h.map((hj, j) => hj * theta[0]![j]!)), Float32Array.from(theta[1]!)];
    const [u, s2] = opt.update(g, s1, m);
    applyUpdates(m, u);
    return [u, s2];
  };
  for (let k = 0; k < 20; k++) [, state] = step(mu, state, rng);
  // Clone mid-step too (a pending sample), through a JSON-free deep copy as a checkpoint would hold it.
  const { state: pending } = mesuSample(mu, state, rng);
  const copy = structuredClone(pending) as MesuState;
  assert.deepEqual(copy, pending);
  const muA = mu.map((m) => Float32Array.from(m)), muB = mu.map((m) => Float32Array.from(m));
  const g = (m: Float32Array[], s: MesuState) =>
    [new Float32Array(h.map((hj, j) => hj * (m[0]![j]! + s.sigma[0]![j]! * s.eps[0]![j]!))), new Float32Array(2)];
  let [uA, sA] = opt.update(g(muA, pending), pending, muA);
  let [uB, sB] = opt.update(g(muB, copy), copy, muB);
  assert.deepEqual(uA, uB);
  applyUpdates(muA, uA);
  applyUpdates(muB, uB);
  const rA = new Rng(21), rB = new Rng(21);
  for (let k = 0; k < 10; k++) {
    [uA, sA] = step(muA, sA, rA);
    [uB, sB] = step(muB, sB, rB);
    assert.deepEqual(uA, uB, `update ${k}`);
  }
  assert.deepEqual(sA, sB);
  assert.deepEqual(muA, muB);
  assert.notEqual(sA.sigma[0], sB.sigma[0], 'the copy owns its arrays');
});

// Two-task regression: the same setup as forgetting.test.ts (two-task-regression.ts: 12 weights; task A on dims
// 0–7; task B on dims 4–7 and 8–11 ≈ 4–7, with target weights that disagree with A on 4–7; 150 full-batch
// steps of A, then 300 of B).

const meanResult = (rs: TwoTaskResult[]): TwoTaskResult => ({
  aAfterA: mean(rs.map((r) => r.aAfterA)), aAfterB: mean(rs.map((r) => r.aAfterB)), bAfterB: mean(rs.map((r) => r.bAfterB)),
});

test('MESU forgets task A far less than plain SGD on the two-task regression, without a task boundary', (t) => {
  const importance = () => onlineImportance({ xi: 0.1, consolidateEvery: 50 });
  const plain = trainAB(chain({ importance: importance(), lr: scaleByLearningRate(0.1) }));
  const viscous = trainAB(chain({ importance: importance(), viscosity: viscosity({ c: 100 }), lr: scaleByLearningRate(0.1) }));
  const meta = trainAB(chain({ importance: importance(), lr: scaleByLearningRate(0.1), metaplastic: metaplastic({ m: 100 }) }));
  // The paper's rule (no extra rates). σp² = 0.64 is the initial learning rate; the window N = 1000 steps is
  // longer than the whole run. Averaged over 5 weight-noise seeds (single runs vary by a few times).
  const seeds = [1, 2, 3, 4, 5];
  const runs = seeds.map((s) => trainMesu({ sigmaPrior: 0.8, memoryWindow: 1000 }, s));
  const m = meanResult(runs);
  assert.ok(plain.aAfterB > 0.3, `plain SGD forgets A (loss ${plain.aAfterB})`);
  assert.ok(m.aAfterA < 0.05, `MESU learns A: ${m.aAfterA}`);
  assert.ok(m.aAfterB < 0.1 * plain.aAfterB && m.aAfterB < 0.1, `MESU A ${m.aAfterB} vs SGD ${plain.aAfterB}`);
  assert.ok(m.bAfterB < 0.1, `MESU learns B: ${m.bAfterB}`);
  // A window shorter than task B lets A's σ relax and A be overwritten: forgetting is the window's doing.
  const short = meanResult(seeds.map((s) => trainMesu({ sigmaPrior: 0.8, memoryWindow: 100 }, s)));
  assert.ok(short.aAfterB > 3 * m.aAfterB, `N = 100 forgets more: ${short.aAfterB} vs ${m.aAfterB}`);
  t.diagnostic(`sgd ${JSON.stringify(plain)}`);
  t.diagnostic(`viscosity ${JSON.stringify(viscous)}`);
  t.diagnostic(`metaplastic ${JSON.stringify(meta)}`);
  t.diagnostic(`mesu N=1000 mean ${JSON.stringify(m)} runs ${JSON.stringify(runs)}`);
  t.diagnostic(`mesu N=100 mean ${JSON.stringify(short)}`);
});
