import test from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../core/index.js';
import { getBackend, loadNativeBackend, portableBackend, setBackend, type Backend } from '../../kernels/index.js';
import { chain, type Chain, type ChainState } from '../combine.js';
import { applyUpdates, scaleByAdam, scaleByLearningRate } from '../transform.js';
import { synapseAdam } from './fused.js';
import { importanceStateOf, onlineImportance, SynapseStateError } from './importance.js';
import { viscosity } from './viscosity.js';

// The fused step against the chain it replaces, on every backend this machine has (the native one with 1 and 2
// threads). assert/strict's deepEqual compares Float32Arrays byte for byte: -0 and +0 differ, as do NaN payloads.

// Tensor sizes: tiny, a bias, one not a multiple of 16 (the vector width), and one > 40 000 elements (split over
// threads by the native kernels, fused or not).
const SIZES = [3, 400, 1001, 40_003];
const LR = 1e-3;
const XI = 0.1;

interface Setting { name: string; backend: Backend; threads: number }

function settings(): Setting[] {
  const out: Setting[] = [{ name: 'portable', backend: portableBackend, threads: 1 }];
  const native = loadNativeBackend();
  if (native !== null) {
    for (const threads of [1, 2]) out.push({ name: `native, ${threads} thread(s)`, backend: native, threads });
  }
  return out;
}

/** Runs `body` on `s`'s backend and thread count, restoring the previous ones after. */
function onBackend(s: Setting, body: () => void): void {
  const before = getBackend();
  const threads = s.backend.getThreads();
  setBackend(s.backend);
  s.backend.setThreads(s.threads);
  try {
    body();
  } finally {
    s.backend.setThreads(threads);
    setBackend(before);
  }
}

/** The chain synapseAdam stands for, built here independently of it. */
function composedChain(c: number): Chain {
  return chain({
    importance: onlineImportance({ xi: XI }), adam: scaleByAdam(), ...(c > 0 ? { viscosity: viscosity({ c }) } : {}),
    lr: scaleByLearningRate(LR),
  });
}

/** Parameters in ±3 (so a step of ~lr is significant for some and not for others), a few exact zeros. */
function randomParams(rng: Rng): Float32Array[] {
  return SIZES.map((n) => Float32Array.from({ length: n }, (_, j) => (j % 17 === 5 ? 0 : (rng.uniform() - 0.5) * 6)));
}

/**
 * Gradients of a varying scale, with exact zeros on a fixed set of entries (inputs that never fire: Adam's
 * direction is then 0, and -lr·0 + 0·0 must give +0 as the chain's axpby does).
 */
function randomGrads(rng: Rng, scale: number): Float32Array[] {
  return SIZES.map((n) => Float32Array.from({ length: n }, (_, j) => (j % 13 === 0 ? 0 : (rng.uniform() - 0.5) * scale)));
}

const clone = (xs: readonly Float32Array[]): Float32Array[] => xs.map((x) => Float32Array.from(x));

/**
 * Six steps of the fused optimiser and of the composed chain on copies of the same parameters and gradients,
 * with a consolidation after the third (so that Ω ≠ 0 and viscosity acts) and a jolt to the parameters made
 * outside the optimiser before the fifth (large changes, marked in lastChange and credited to the last gradient).
 * Parameters, updates and states must agree bit for bit after every step and after a final consolidation.
 */
function compareRuns(c: number, label: string): void {
  const rng = new Rng(c > 0 ? 11 : 12);
  const fused = synapseAdam({ xi: XI, c, lr: LR });
  const composed = composedChain(c);
  const pFused = randomParams(rng);
  const pComposed = clone(pFused);
  let sFused = fused.init(pFused);
  let sComposed = composed.init(pComposed);
  assert.deepEqual(sFused, sComposed, `${label}: init`);
  for (let k = 1; k <= 6; k++) {
    if (k === 4) {
      sFused = fused.consolidate(sFused, pFused);
      sComposed = composed.consolidate(sComposed, pComposed);
      assert.deepEqual(sFused, sComposed, `${label}: consolidation after step 3`);
    }
    if (k === 5) {
      for (const [i, p] of pFused.entries()) {
        for (let j = 0; j < p.length; j += 3) p[j] = p[j]! + (rng.uniform() - 0.5) * 0.2;
        pComposed[i]!.set(p);
      }
    }
    const gFused = randomGrads(rng, k % 2 === 0 ? 10 : 0.01);
    const gComposed = clone(gFused);
    sFused = fused.step(pFused, gFused, sFused);
    const [updates, next] = composed.update(gComposed, sComposed, pComposed);
    applyUpdates(pComposed, updates);
    sComposed = next;
    assert.deepEqual(pFused, pComposed, `${label}: params after step ${k}`);
    assert.deepEqual(gFused, updates, `${label}: applied updates of step ${k}`);
    assert.deepEqual(sFused, sComposed, `${label}: state after step ${k}`);
  }
  const src = sFused.importance;
  assert.equal(sFused.adam.step, 6, `${label}: Adam's steps, read by name`);
  assert.equal(src.integrated, 2, `${label}: steps integrated since the consolidation`);
  // The jolt came after update 4: the change integrated at the next call is update 4's.
  assert.ok(src.lastChange.some((lc) => lc.some((t) => t === 4)), `${label}: the jolt is marked`);
  assert.ok(src.lastChange.some((lc) => lc.some((t) => t === 0)), `${label}: some parameters never changed much`);
  assert.ok(src.importance.some((om) => om.some((o) => o > 0)), `${label}: Ω > 0 somewhere, so viscosity acts`);
  assert.deepEqual(fused.consolidate(sFused, pFused), composed.consolidate(sComposed, pComposed), `${label}: final consolidation`);
}

for (const s of settings()) {
  test(`synapseAdam.step equals update + applyUpdates bit for bit, with and without viscosity (${s.name})`, () => {
    onBackend(s, () => {
      compareRuns(0, `${s.name}, c 0`);
      compareRuns(0.7, `${s.name}, c 0.7`);
    });
  });
}

test('synapseAdam: states are interchangeable with the composed chain, and its methods are the chain\'s', () => {
  onBackend(settings().at(-1)!, () => {
    const rng = new Rng(5);
    const fused = synapseAdam({ xi: XI, c: 2, lr: LR });
    const composed = composedChain(2);
    const params = randomParams(rng);
    // Two composed steps, then one fused step from the composed chain's state (as from a checkpoint).
    let state: ChainState = composed.init(params);
    for (let k = 0; k < 2; k++) {
      const [u, next] = composed.update(randomGrads(rng, 1), state, params);
      applyUpdates(params, u);
      state = next;
    }
    state = composed.consolidate(state, params);
    const grads = randomGrads(rng, 1);
    const pComposed = clone(params);
    const [u, want] = composed.update(clone(grads), structuredClone(state), pComposed);
    applyUpdates(pComposed, u);
    const got = fused.step(params, grads, structuredClone(state));
    assert.deepEqual(params, pComposed);
    assert.deepEqual(got, want);
    // update and exposes are the chain's.
    const [u2, viaUpdate] = fused.update(clone(grads), structuredClone(state), params);
    const [u3, viaChain] = composed.update(clone(grads), structuredClone(state), params);
    assert.deepEqual(u2, u3);
    assert.deepEqual(viaUpdate, viaChain);
    assert.deepEqual(fused.exposes(state), composed.exposes(state));
    assert.equal(fused.exposes(state).synapses?.importance, importanceStateOf(state).importance);
  });
});

test('synapseAdam rejects what the fused step cannot do, and states of another shape', () => {
  assert.throws(() => synapseAdam({ xi: XI, c: -1, lr: LR }), RangeError);
  assert.throws(() => synapseAdam({ xi: XI, c: Number.NaN, lr: LR }), RangeError);
  assert.throws(() => synapseAdam({ xi: 0, c: 1, lr: LR }), RangeError);
  const withEvery = { xi: XI, c: 1, lr: LR, consolidateEvery: 10 };
  assert.throws(() => synapseAdam(withEvery), /consolidateEvery/);
  const params = [new Float32Array(4)];
  const opt = synapseAdam({ xi: XI, c: 1, lr: LR });
  const step = (s: ChainState) => () => opt.step(params, [new Float32Array(4)], s);
  // Another chain's state: the same links but no viscosity.
  const other = chain({ importance: onlineImportance({ xi: XI }), adam: scaleByAdam(), lr: scaleByLearningRate(LR) });
  assert.throws(step(other.init(params)), (e: unknown) => e instanceof SynapseStateError && /importance, adam, viscosity, lr/.test(e.message));
  // The right names, but Adam's state under another link's name.
  const good = opt.init(params);
  assert.throws(step({ ...good, adam: good.lr, lr: good.adam }), SynapseStateError);
  // Moments for another number of tensors.
  assert.throws(step({ ...good, adam: { ...good.adam, m: [] } }), SynapseStateError);
  assert.doesNotThrow(step(good));
});
