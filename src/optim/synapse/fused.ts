import { getBackend, type SynapseAdamHyper } from '../../kernels/index.js';
import {
  isStateRecord, scaleByAdam, scaleByLearningRate, type AdamOptions, type AdamState, type State,
} from '../transform.js';
import { withImportance, type SynapseChainState, type SynapseOptimizer, type SynapseTransformation } from './compose.js';
import { onlineImportance, SynapseStateError, type ImportanceState } from './importance.js';
import { viscosity } from './viscosity.js';

export interface SynapseAdamOptions extends AdamOptions {
  /** onlineImportance's damping ξ. */
  xi: number;
  /** viscosity's c; 0 leaves viscosity out of the chain. */
  c: number;
  lr: number;
  /** onlineImportance's changeRtol (default 1e-3). */
  changeRtol?: number;
  /** onlineImportance's changeAtol (default 1e-6). */
  changeAtol?: number;
}

/** An optimiser that can also apply its own step to the parameters in place, in one pass. */
export interface SynapseStepper<S extends State = State> {
  /**
   * One optimiser step, in place: the parameters are updated and each `grads[i]` is overwritten with the update
   * applied to `params[i]`. Returns the new state (keep it); the arrays of the old one are reused.
   */
  step(params: readonly Float32Array[], grads: readonly Float32Array[], state: SynapseChainState<S>): SynapseChainState<S>;
}

/** {@link synapseAdam}'s optimiser: the composed chain's methods, plus the fused {@link SynapseStepper.step}. */
export interface SynapseAdamOptimizer extends SynapseOptimizer<ImportanceState>, SynapseStepper<ImportanceState> {}

/**
 * The sleep optimiser, `withImportance(onlineImportance({ xi }), scaleByAdam(…), viscosity({ c }),
 * scaleByLearningRate(lr))` (viscosity only when c > 0), with a fused step. `init`, `update`, `consolidate` and
 * `view` are that chain's own, so states are interchangeable between the two. `step(params, grads, state)` does
 * what `update` followed by `applyUpdates` does, bit for bit (parameters, state, and the updates left in
 * `grads`), with one backend kernel per tensor that streams each array once instead of five times.
 *
 * Only importance without automatic consolidation is offered (`consolidateEvery` is not an option): the fused
 * kernel has no consolidation step. Call `consolidate` explicitly, e.g. at the end of a sleep.
 *
 * @example
 * const opt = synapseAdam({ xi: 0.1, c: 1, lr: 1e-3 });
 * let state = opt.init(params);
 * state = opt.step(params, grads, state);   // = [grads, state] = opt.update(grads, state, params); applyUpdates(params, grads)
 * state = opt.consolidate(state, params);
 */
export function synapseAdam(opts: SynapseAdamOptions): SynapseAdamOptimizer {
  if ('consolidateEvery' in opts) {
    throw new RangeError('synapseAdam: consolidateEvery is not supported (the fused step never consolidates)');
  }
  const { xi, c, lr } = opts;
  const beta1 = opts.beta1 ?? 0.9;
  const beta2 = opts.beta2 ?? 0.999;
  const eps = opts.eps ?? 1e-8;
  const rtol = opts.changeRtol ?? 1e-3;
  const atol = opts.changeAtol ?? 1e-6;
  // c ≤ 0 would silently mean "no viscosity" in the chain below; a negative or NaN c is a mistake.
  if (!(Number.isFinite(c) && c >= 0)) throw new RangeError(`synapseAdam c must be a finite number ≥ 0, got ${c}`);
  // The composed chain validates the other options (ξ, rtol, atol) and defines every method but step.
  const ts: SynapseTransformation[] = [scaleByAdam({ beta1, beta2, eps })];
  if (c > 0) ts.push(viscosity({ c }));
  ts.push(scaleByLearningRate(lr));
  const composed = withImportance(onlineImportance({ xi, changeRtol: rtol, changeAtol: atol }), ...ts);
  const adamIndex = 0;

  return {
    init: composed.init,
    update: composed.update,
    consolidate: composed.consolidate,
    view: composed.view,
    step(params, grads, state) {
      const src = state.source;
      const adam = adamStateOf(state, ts.length);
      const pending = src.pending === 1;
      const h: SynapseAdamHyper = {
        path: { step: src.step, rtol, atol, pending },
        adam: { beta1, beta2, eps, step: adam.step + 1 },
        c,
        lr,
      };
      const b = getBackend();
      for (let i = 0; i < params.length; i++) {
        b.synapseAdamStep(
          params[i]!, src.prevParams[i]!, src.prevGrads[i]!, src.pathIntegral[i]!, src.lastChange[i]!, grads[i]!,
          adam.m[i]!, adam.v[i]!, c > 0 ? src.importance[i]! : null, h, grads[i]!,
        );
      }
      // The bookkeeping of onlineImportance's update (no consolidateEvery) and scaleByAdam's, as new objects
      // like theirs; the stateless transformations keep their states.
      const source: ImportanceState = {
        ...src,
        integrated: pending ? src.integrated + 1 : src.integrated,
        pending: 1,
        step: src.step + 1,
      };
      const inner = state.inner.slice();
      inner[adamIndex] = { step: h.adam.step, m: adam.m, v: adam.v } satisfies AdamState;
      return { source, inner };
    },
  };
}

/** The Adam state in a synapseAdam chain state, checked enough that the kernel gets the arrays it expects. */
function adamStateOf(state: SynapseChainState<ImportanceState>, transformations: number): AdamState {
  const adam = state.inner[0];
  if (state.inner.length !== transformations || !isStateRecord(adam) || typeof adam['step'] !== 'number' ||
    !Array.isArray(adam['m']) || !Array.isArray(adam['v'])) {
    throw new SynapseStateError(
      `synapseAdam: state.inner must hold the chain's ${transformations} states, Adam's { step, m, v } first`,
    );
  }
  return adam as AdamState;
}
