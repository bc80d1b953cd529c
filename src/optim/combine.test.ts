import test from 'node:test';
import assert from 'node:assert/strict';
import { portableBackend, setBackend } from '../kernels/index.js';
import { OptimizerStateError, stateless, type Extra, type GradientTransformation, type State, type SynapseView } from './base.js';
import { chain, masked } from './combine.js';
import { adam, scale, scaleByAdam, scaleByLearningRate, traceMomentum } from './transform.js';

setBackend(portableBackend);

const params = (): Float32Array[] => [new Float32Array(2), new Float32Array(1)];

/** A link with a step counter that records the `extra` it was given. */
function counter(seen: Extra[]): GradientTransformation<{ calls: number; consolidated: number }> {
  return {
    init: () => ({ calls: 0, consolidated: 0 }),
    update: (u, s, _p, extra = {}) => {
      seen.push(extra);
      return [u, { calls: s.calls + 1, consolidated: s.consolidated }];
    },
    consolidate: (s) => ({ calls: s.calls, consolidated: s.consolidated + 1 }),
  };
}

/** A link that exposes a fixed synapse view to the links after it. */
function exposing(view: SynapseView): GradientTransformation<{ n: number }> {
  return { init: () => ({ n: 0 }), update: (u, s) => [u, { n: s.n + 1 }], exposes: () => ({ synapses: view }) };
}

test('chain runs its links in the order written and keeps each state under the link\'s name', () => {
  const t = chain({ double: scale(2), quarter: scale(-0.25) });
  const s0 = t.init([new Float32Array(2)]);
  assert.deepEqual(Object.keys(s0), ['double', 'quarter']);
  const [u] = t.update([new Float32Array([1, -4])], s0, [new Float32Array(2)]);
  assert.deepEqual([...u[0]!], [-0.5, 2]);
  // Order matters: momentum then the learning rate is not the learning rate then momentum's first step only.
  const p = [new Float32Array(1)];
  const m = chain({ momentum: traceMomentum(0.9), lr: scaleByLearningRate(0.5) });
  let s = m.init(p);
  [, s] = m.update([new Float32Array([2])], s, p);
  [, s] = m.update([new Float32Array([1])], s, p);
  assert.equal(s.momentum.step, 2);
  assert.ok(Math.abs(s.momentum.trace[0]![0]! - 2.8) < 1e-6, 'the trace holds the raw gradients');
});

test('links read what earlier links expose, merged over the caller\'s extra; the chain exposes the same', () => {
  const view: SynapseView = { importance: [new Float32Array(2), new Float32Array(1)], anchor: params() };
  const seen: Extra[] = [];
  const caller: Extra = { synapses: { importance: params(), anchor: params() } };
  const t = chain({ before: counter(seen), source: exposing(view), after: counter(seen) });
  const s = t.init(params());
  t.update(params(), s, params(), caller);
  assert.equal(seen[0]!.synapses, caller.synapses, 'the first link sees the caller\'s extra');
  assert.equal(seen[1]!.synapses, view, 'the link after the source sees its view');
  assert.equal(t.exposes(s).synapses, view);
  // Nested chains expose their links' inputs to the outer chain too.
  const outer = chain({ inner: chain({ source: exposing(view) }), after: counter(seen) });
  outer.update(params(), outer.init(params()), params());
  assert.equal(seen[2]!.synapses, view);
});

test('consolidate reaches every link that consolidates, purely, and nested chains too', () => {
  const seen: Extra[] = [];
  const t = chain({ a: counter(seen), lr: scaleByLearningRate(0.1), nested: chain({ b: counter(seen) }) });
  const p = params();
  const [, s] = t.update(params(), t.init(p), p);
  const c = t.consolidate(s, p);
  assert.deepEqual(c.a, { calls: 1, consolidated: 1 });
  assert.deepEqual(c.nested.b, { calls: 1, consolidated: 1 });
  assert.equal(c.lr, s.lr, 'a link that does not consolidate keeps its state');
  assert.deepEqual(s.a, { calls: 1, consolidated: 0 }, 'the input state is unchanged');
});

test('a state without one of the chain\'s links, or a numeric link name, is refused with a clear error', () => {
  // As a learner holds it: any state, e.g. one read from a checkpoint.
  const t: GradientTransformation = adam(1e-3);
  const p = params();
  const old: State = [scaleByAdam().init(p), {}]; // the positional state of earlier versions
  assert.throws(() => t.update(params(), old, p), (e: unknown) =>
    e instanceof OptimizerStateError && e.code === 'E_OPTIMIZER_STATE' && /must be a record/.test(e.message));
  assert.throws(() => t.update(params(), { adam: scaleByAdam().init(p) }, p), /no "lr" entry \(its links: adam, lr\)/);
  assert.throws(() => t.update(params(), { lr: {} }, p), /no "adam" entry/);
  assert.throws(() => chain({ first: scale(1), 0: scale(2) }), /link name "0" must not be a number/);
});

test('stateless links keep an empty state and see the extra they are given', () => {
  let got: Extra | null = null;
  const t = stateless((u, _p, extra) => {
    got = extra;
    return u.map((x) => x.map((v) => v + 1));
  });
  const s = t.init(params());
  assert.deepEqual(s, {});
  const extra: Extra = { synapses: { importance: [], anchor: [] } };
  const [u, s2] = t.update([new Float32Array([1, 2])], s, [new Float32Array(2)], extra);
  assert.deepEqual([...u[0]!], [2, 3]);
  assert.equal(s2, s);
  assert.equal(got, extra);
});

test('masked applies a link to the chosen tensors only, with its state and extra narrowed to them', () => {
  const p = [new Float32Array(2), new Float32Array(3), new Float32Array(1)];
  const mask = [true, false, true];
  const t = masked(scaleByAdam(), mask);
  const s = t.init(p);
  assert.deepEqual(s.m.map((m) => m.length), [2, 1], 'moments for the masked tensors only');
  const grads = [new Float32Array([1, -1]), new Float32Array([5, 6, 7]), new Float32Array([2])];
  const [u, s2] = t.update(grads, s, p);
  assert.deepEqual([...u[1]!], [5, 6, 7], 'the unmasked update passes unchanged');
  assert.ok(Math.abs(u[0]![0]! - 1) < 1e-6 && Math.abs(u[2]![0]! - 1) < 1e-6, 'Adam\'s first direction is sign(g)');
  assert.equal(s2.step, 1);
  const narrowed: Extra[] = [];
  const view: SynapseView = { importance: p, anchor: p };
  masked(counter(narrowed), mask).update(grads, { calls: 0, consolidated: 0 }, p, { synapses: view });
  assert.deepEqual(narrowed[0]!.synapses!.importance, [p[0], p[2]]);
  const mc = masked(counter([]), mask);
  assert.deepEqual(mc.consolidate!({ calls: 2, consolidated: 0 }, p), { calls: 2, consolidated: 1 });
  assert.throws(() => t.init([new Float32Array(1)]), /a mask of 3 for 1 parameter tensors/);
});
