import {
  isStateRecord, OptimizerStateError, type Extra, type GradientTransformation, type State, type SynapseView,
} from './base.js';

/** A chain's links, by name, in the order they run (the record's key order). */
export type Links = { readonly [name: string]: GradientTransformation };

/** The state a transformation keeps. */
export type StateOf<T> = T extends GradientTransformation<infer S extends State> ? S : never;

/** A chain's state: each link's state under the link's name. */
export type ChainState<L extends Links = Links> = { readonly [K in keyof L]: StateOf<L[K]> };

/**
 * Transformations applied in order (optax's `named_chain`), with each link's state kept under its name, so
 * that code reads `state.adam.m`, never the second entry of a list. Besides `update`, a chain
 * - hands each link the caller's `extra` merged with what earlier links `exposes` (so `viscosity` sees the Ω
 *   that `onlineImportance` just updated), and exposes the same to whoever holds the chain;
 * - `consolidate`s every link that consolidates (pure: a new state; the others' states are shared).
 * A chain is itself a transformation, so chains nest.
 */
export interface Chain<L extends Links = Links> extends GradientTransformation<ChainState<L>> {
  readonly links: L;
  consolidate(state: ChainState<L>, params: readonly Float32Array[]): ChainState<L>;
  exposes(state: ChainState<L>): Extra;
}

/**
 * Chain transformations by name; they run in the record's key order. Order matters: per-parameter scalings
 * (`viscosity`, `metaplastic`) go after `scaleByAdam`, whose normalisation would cancel a scaling applied
 * before it; `metaplastic` after the learning rate (it needs the displacement's sign); a gradient projection
 * (`project`) before the step it protects.
 *
 * @example
 * const opt = chain({
 *   importance: onlineImportance({ xi: 0.1 }), adam: scaleByAdam(), viscosity: viscosity({ c: 1 }),
 *   lr: scaleByLearningRate(1e-3),
 * });
 * let state = opt.init(params);
 * [grads, state] = opt.update(grads, state, params);
 * applyUpdates(params, grads);
 * state = opt.consolidate(state, params); // e.g. at sleep
 * const omega = state.importance.importance;
 */
export function chain<L extends Links>(links: L): Chain<L> {
  const entries = Object.entries(links);
  for (const [name] of entries) {
    // Integer-like keys are enumerated first, in numeric order, whatever order they were written in.
    if (/^(0|[1-9]\d*)$/.test(name)) throw new RangeError(`chain: link name "${name}" must not be a number (it would reorder the links)`);
  }
  const stateOf = (state: ChainState<L>, name: string): State => {
    const s = (state as { readonly [name: string]: State | undefined })[name];
    if (s === undefined) {
      throw new OptimizerStateError(`optimiser state has no "${name}" entry (its links: ${entries.map(([n]) => n).join(', ')})`);
    }
    return s;
  };
  const checked = (state: ChainState<L>): ChainState<L> => {
    if (!isStateRecord(state)) throw new OptimizerStateError('optimiser state must be a record of its links\' states');
    return state;
  };
  const exposes = (state: ChainState<L>, extra: Extra): Extra => {
    let ex = extra;
    for (const [name, t] of entries) if (t.exposes !== undefined) ex = { ...ex, ...t.exposes(stateOf(state, name)) };
    return ex;
  };
  return {
    links,
    init: (params) => Object.fromEntries(entries.map(([name, t]) => [name, t.init(params)])) as ChainState<L>,
    update(updates, state, params, extra = {}) {
      checked(state);
      const next: { [name: string]: State } = {};
      let u = updates;
      let ex = extra;
      for (const [name, t] of entries) {
        const [u2, s2] = t.update(u, stateOf(state, name), params, ex);
        u = u2;
        next[name] = s2;
        if (t.exposes !== undefined) ex = { ...ex, ...t.exposes(s2) };
      }
      return [u, next as ChainState<L>];
    },
    consolidate(state, params) {
      checked(state);
      const next: { [name: string]: State } = {};
      for (const [name, t] of entries) {
        const s = stateOf(state, name);
        next[name] = t.consolidate !== undefined ? t.consolidate(s, params) : s;
      }
      return next as ChainState<L>;
    },
    exposes: (state) => exposes(checked(state), {}),
  };
}

/**
 * `t` applied to the parameter tensors where `mask[i]` is true only (optax's `masked`); the other updates pass
 * unchanged. `t`'s state covers the masked tensors only, and `extra.synapses` is narrowed to them. A masked
 * link exposes nothing to the links after it (its view would not cover every parameter).
 *
 * @example
 * const opt = chain({ decay: masked(scale(0.99), [true, false]), lr: scaleByLearningRate(0.1) }); // weights, not biases
 */
export function masked<S extends State>(t: GradientTransformation<S>, mask: readonly boolean[]): GradientTransformation<S> {
  const pick = <T>(xs: readonly T[]): T[] => {
    if (xs.length !== mask.length) throw new RangeError(`masked: a mask of ${mask.length} for ${xs.length} parameter tensors`);
    return xs.filter((_, i) => mask[i]);
  };
  const narrow = (extra: Extra): Extra => {
    if (extra.synapses === undefined) return extra;
    const synapses: SynapseView = { importance: pick(extra.synapses.importance), anchor: pick(extra.synapses.anchor) };
    return { ...extra, synapses };
  };
  const out: GradientTransformation<S> = {
    init: (params) => t.init(pick(params)),
    update(updates, state, params, extra = {}) {
      const [inner, next] = t.update(pick(updates), state, pick(params), narrow(extra));
      const all = updates.slice();
      let j = 0;
      for (let i = 0; i < all.length; i++) if (mask[i]) all[i] = inner[j++]!;
      return [all, next];
    },
  };
  const { consolidate } = t;
  if (consolidate !== undefined) out.consolidate = (state, params) => consolidate.call(t, state, pick(params));
  return out;
}
