import { getBackend, type SynapseAdamHyper } from '../../kernels/index.js';
import { isStateRecord, type Extra, type GradientTransformation, type State } from '../base.js';
import { chain, type Chain, type ChainState } from '../combine.js';
import { scaleByAdam, scaleByLearningRate, type AdamOptions, type AdamState } from '../transform.js';
import {
  importanceStateOf, onlineImportance, SynapseStateError, type ImportanceSource, type ImportanceState,
} from './importance.js';
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

/** The links of {@link synapseAdam}'s chain: `importance`, `adam`, `viscosity` (when c > 0), `lr`. */
export interface SynapseAdamLinks {
  readonly [name: string]: GradientTransformation;
  importance: ImportanceSource<ImportanceState>;
  adam: GradientTransformation<AdamState>;
}

/** {@link synapseAdam}'s state: each link's state by its name (`state.importance.importance` is Ω). */
export type SynapseAdamState = ChainState<SynapseAdamLinks>;

/** An optimiser that can also apply its own step to the parameters in place, in one pass. */
export interface SynapseStepper {
  /**
   * One optimiser step, in place: the parameters are updated and each `grads[i]` is overwritten with the update
   * applied to `params[i]`. Returns the new state (keep it); the arrays of the old one are reused.
   */
  step(params: readonly Float32Array[], grads: readonly Float32Array[], state: ChainState): ChainState;
}

/**
 * {@link synapseAdam}'s optimiser: its chain's methods, plus the fused {@link SynapseStepper.step}. They take
 * any chain state (e.g. one read back from a checkpoint) and check it by link name.
 */
export interface SynapseAdamOptimizer extends Chain<SynapseAdamLinks>, SynapseStepper {
  update(updates: Float32Array[], state: ChainState, params: readonly Float32Array[], extra?: Extra): [Float32Array[], SynapseAdamState];
  consolidate(state: ChainState, params: readonly Float32Array[]): SynapseAdamState;
  exposes(state: ChainState): Extra;
  step(params: readonly Float32Array[], grads: readonly Float32Array[], state: ChainState): SynapseAdamState;
}

/** @deprecated Every optimiser with synapse state is a {@link Chain}: use `Chain`. */
export type SynapseOptimizer = Chain;
/** @deprecated Use {@link ChainState}. */
export type SynapseChainState = ChainState;

/**
 * The sleep optimiser, `chain({ importance: onlineImportance({ xi }), adam: scaleByAdam(…), viscosity:
 * viscosity({ c }), lr: scaleByLearningRate(lr) })` (viscosity only when c > 0), with a fused step: a tested
 * fast path for that one chain. `init`, `update`, `consolidate` and `exposes` are the chain's own, so states
 * are interchangeable between the two. `step(params, grads, state)` does what `update` followed by
 * `applyUpdates` does, bit for bit (parameters, state, and the updates left in `grads`), with one backend
 * kernel per tensor that streams each array once instead of five times; it reads the chain's state by link
 * name (`state.importance`, `state.adam`).
 *
 * Only importance without automatic consolidation is offered (`consolidateEvery` is not an option): the fused
 * kernel has no consolidation step. Call `consolidate` explicitly, e.g. at the end of a sleep.
 *
 * @example
 * const opt = synapseAdam({ xi: 0.1, c: 1, lr: 1e-3 });
 * let state = opt.init(params);
 * state = opt.step(params, grads, state);   // = [grads, state] = opt.update(grads, state, params); applyUpdates(params, grads)
 * state = opt.consolidate(state, params);
 * const omega = state.importance.importance;
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
  // The chain validates the other options (ξ, rtol, atol) and defines every method but step.
  const composed = chain<SynapseAdamLinks>({
    importance: onlineImportance({ xi, changeRtol: rtol, changeAtol: atol }),
    adam: scaleByAdam({ beta1, beta2, eps }),
    ...(c > 0 ? { viscosity: viscosity({ c }) } : {}),
    lr: scaleByLearningRate(lr),
  });
  const names = Object.keys(composed.links);

  return {
    ...composed,
    step(params, grads, state) {
      const { importance: src, adam } = synapseAdamStateOf(state, names, params.length);
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
      // like theirs; the stateless links keep their states.
      const importance: ImportanceState = {
        ...src,
        integrated: pending ? src.integrated + 1 : src.integrated,
        pending: 1,
        step: src.step + 1,
      };
      return { ...state, importance, adam: { step: h.adam.step, m: adam.m, v: adam.v } };
    },
  };
}

/** synapseAdam's state, checked by link name enough that the kernel gets the arrays it expects. */
function synapseAdamStateOf(state: ChainState, names: readonly string[], tensors: number): SynapseAdamState {
  const keys = isStateRecord(state) ? Object.keys(state) : [];
  if (keys.length !== names.length || !names.every((n) => keys.includes(n))) {
    throw new SynapseStateError(`synapseAdam: the state must hold its links' states (${names.join(', ')}), got (${keys.join(', ')})`);
  }
  const importance = importanceStateOf(state['importance']!);
  const adam = state['adam'];
  const moments = (k: string): boolean => isStateRecord(adam) && Array.isArray(adam[k]) && (adam[k] as readonly State[]).length === tensors;
  if (!isStateRecord(adam) || typeof adam['step'] !== 'number' || !moments('m') || !moments('v') ||
    importance.prevParams.length !== tensors) {
    throw new SynapseStateError(`synapseAdam: state.adam must be Adam's { step, m, v } and both states cover ${tensors} tensors`);
  }
  return { ...state, importance, adam: adam as AdamState };
}
