import type { GradientTransformation, State } from '../transform.js';
import type { ImportanceSource, SynapseView } from './importance.js';

/**
 * A transformation that reads synapse state: like a `GradientTransformation`, but `update` also receives the
 * importance source's current view (Ω, θ*). Every `GradientTransformation` is one (it ignores the view), so
 * `withImportance` takes both; a synapse transformation outside `withImportance` does not compile.
 *
 * @example
 * const unit: SynapseTransformation = { init: () => ({}), update: (u, s) => [u, s] };
 */
export interface SynapseTransformation<S extends State = State> {
  init(params: readonly Float32Array[]): S;
  update(updates: Float32Array[], state: S, params: readonly Float32Array[], synapses: SynapseView): [Float32Array[], S];
}

/** The state of {@link withImportance}: the source's state and one state per transformation, in order. */
export interface SynapseChainState<S extends State = State> {
  readonly [key: string]: State;
  source: S;
  inner: readonly State[];
}

/** An optimiser with synapse state: a gradient transformation plus the source's consolidation and view. */
export interface SynapseOptimizer<S extends State = State> extends GradientTransformation<SynapseChainState<S>> {
  /** Consolidate the source's importance (pure: returns a new state; the inner states are shared). */
  consolidate(state: SynapseChainState<S>, params: readonly Float32Array[]): SynapseChainState<S>;
  /** The source's current Ω and θ*. */
  view(state: SynapseChainState<S>): SynapseView;
}

/**
 * Chain transformations that read importance: the source runs first on the incoming gradients (it passes them
 * through and updates Ω, θ*), then each transformation in order, all given the source's view of this step.
 * The state is explicit — `{ source, inner: [...] }` — and nothing is shared behind the caller's back.
 *
 * Order matters: put per-parameter scalings (`viscosity`, `metaplastic`) after `scaleByAdam`, whose
 * normalisation would cancel a scaling applied before it, and `metaplastic` after `scaleByLearningRate`
 * (it needs the displacement's sign).
 *
 * @example
 * const opt = withImportance(onlineImportance({ xi: 0.1, consolidateEvery: 100 }),
 *   scaleByAdam(), viscosity({ c: 1 }), scaleByLearningRate(1e-3), metaplastic({ m: 1 }));
 * let state = opt.init(params);
 * [grads, state] = opt.update(grads, state, params);
 * applyUpdates(params, grads);
 * state = opt.consolidate(state, params); // e.g. at sleep
 */
export function withImportance<S extends State>(
  source: ImportanceSource<S>,
  ...ts: SynapseTransformation[]
): SynapseOptimizer<S> {
  return {
    init: (params) => ({ source: source.init(params), inner: ts.map((t) => t.init(params)) }),
    update(updates, state, params) {
      const [u0, src] = source.update(updates, state.source, params);
      const view = source.view(src);
      const inner: State[] = [];
      let u = u0;
      for (let i = 0; i < ts.length; i++) {
        const [u2, s2] = ts[i]!.update(u, state.inner[i]!, params, view);
        u = u2;
        inner.push(s2);
      }
      return [u, { source: src, inner }];
    },
    consolidate: (state, params) => ({ source: source.consolidate(state.source, params), inner: state.inner }),
    view: (state) => source.view(state.source),
  };
}
