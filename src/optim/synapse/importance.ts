import { getBackend } from '../../kernels/index.js';
import { isStateRecord, type Extra, type GradientTransformation, type State, type SynapseView } from '../base.js';

/**
 * A link that maintains per-parameter importance: it exposes Ω and θ* (`synapses`) to the links after it in a
 * chain, and `consolidate` (pure: it returns a new state) folds what it integrated into Ω.
 *
 * @example
 * const src: ImportanceSource<ImportanceState> = onlineImportance({ xi: 0.1 });
 */
export interface ImportanceSource<S extends State = State> extends GradientTransformation<S> {
  consolidate(state: S, params: readonly Float32Array[]): S;
  exposes(state: S): Extra & { readonly synapses: SynapseView };
}

export interface OnlineImportanceOptions {
  /** Damping ξ in Ω += ω / ((θ − θ*)² + ξ) (SI's ε; van de Ven uses 0.1). */
  xi: number;
  /** Consolidate automatically after this many integrated steps (default: only when `consolidate` is called). */
  consolidateEvery?: number;
  /** A change is significant when |Δθ| > changeRtol·|θ_before| + changeAtol (default 1e-3). */
  changeRtol?: number;
  /** See `changeRtol` (default 1e-6). */
  changeAtol?: number;
}

/** The state of {@link onlineImportance}; every array has one entry per parameter tensor. */
export interface ImportanceState {
  readonly [key: string]: State;
  /** Update calls so far. */
  step: number;
  /** 1 when `prevParams`/`prevGrads` hold a step whose applied change is not yet in ω, else 0. */
  pending: number;
  /** Steps integrated into ω since the last consolidation. */
  integrated: number;
  /** Consolidations so far. */
  consolidations: number;
  /** ω: the running path integral −Σ g ⊙ Δθ since the last consolidation. */
  pathIntegral: Float32Array[];
  /** Ω: consolidated importance (not clipped: SI's ω can be negative; readers clip at 0). */
  importance: Float32Array[];
  /** θ*: the parameters at the last consolidation (initially the initial parameters). */
  anchor: Float32Array[];
  /** θ at the previous update call. */
  prevParams: Float32Array[];
  /** The gradient seen at the previous update call. */
  prevGrads: Float32Array[];
  /** Index (1-based) of the last update that changed the parameter significantly; 0 if none yet. */
  lastChange: Float32Array[];
}

/**
 * Synaptic Intelligence's importance (Zenke, Poole & Ganguli 2017), kept online as synapse state, with no task
 * boundary. Updates pass through unchanged; the transformation only tracks state, O(parameters) per step:
 * - the change actually applied since the last call, Δθ = θ_now − θ_prev, is credited to the gradient seen at
 *   that call: ω += −g_prev ⊙ Δθ (so no later transformation has to report its update, and changes made outside
 *   the optimiser between calls are credited to the last gradient too);
 * - consolidation, at `consolidate(state, params)` or after every `consolidateEvery` integrated steps:
 *   Ω += ω / ((θ − θ*)² + ξ), θ* ← θ, ω ← 0 (the pending step is integrated first);
 * - `lastChange[j]` is the index of the last update with |Δθ_j| > changeRtol·|θ_before,j| + changeAtol (the
 *   numpy `isclose` rule, so tiny drifts of large weights and float noise near zero do not count). Stored in
 *   float32: exact up to 2²⁴ ≈ 16.7 M updates.
 * Parameters must keep their sizes; a learner that grows the network re-initialises or extends the state.
 *
 * @example
 * const imp = onlineImportance({ xi: 0.1, consolidateEvery: 100 }); // a chain's `importance` link
 * let s = imp.init(params);
 * [grads, s] = imp.update(grads, s, params);  // grads unchanged
 * s = imp.consolidate(s, params);            // e.g. at sleep
 * const omega = importanceOf(s);
 */
export function onlineImportance(opts: OnlineImportanceOptions): ImportanceSource<ImportanceState> {
  const { xi } = opts;
  const every = opts.consolidateEvery ?? 0;
  const rtol = opts.changeRtol ?? 1e-3;
  const atol = opts.changeAtol ?? 1e-6;
  assertFinite(xi, 'onlineImportance xi', (v) => v > 0, '> 0');
  assertFinite(rtol, 'onlineImportance changeRtol', (v) => v >= 0, '≥ 0');
  assertFinite(atol, 'onlineImportance changeAtol', (v) => v >= 0, '≥ 0');
  if (opts.consolidateEvery !== undefined && !(Number.isInteger(every) && every > 0)) {
    throw new RangeError(`onlineImportance consolidateEvery must be a positive whole number, got ${every}`);
  }

  /** Integrate the pending step (if any) and record θ, g as the new "previous" values, in place. */
  const advance = (s: Mutable<ImportanceState>, params: readonly Float32Array[], grads: readonly Float32Array[] | null): void => {
    const pending = s.pending === 1;
    const b = getBackend();
    const h = { step: s.step, rtol, atol, pending };
    // One fused pass per tensor (the backend's kernel): this runs over every parameter at every step.
    for (let i = 0; i < params.length; i++) {
      b.pathIntegralAdvance(
        params[i]!, s.prevParams[i]!, s.prevGrads[i]!, s.pathIntegral[i]!, s.lastChange[i]!, grads?.[i] ?? null, h,
      );
    }
    if (pending) s.integrated += 1;
    s.pending = grads === null ? 0 : 1;
  };

  const consolidateInPlace = (s: Mutable<ImportanceState>, params: readonly Float32Array[]): void => {
    for (let i = 0; i < params.length; i++) {
      const th = params[i]!, a = s.anchor[i]!, w = s.pathIntegral[i]!, om = s.importance[i]!;
      for (let j = 0; j < th.length; j++) {
        const d = th[j]! - a[j]!;
        om[j] = om[j]! + w[j]! / (d * d + xi);
        a[j] = th[j]!;
        w[j] = 0;
      }
    }
    s.integrated = 0;
    s.consolidations += 1;
  };

  return {
    init: (params) => ({
      step: 0,
      pending: 0,
      integrated: 0,
      consolidations: 0,
      pathIntegral: params.map((p) => new Float32Array(p.length)),
      importance: params.map((p) => new Float32Array(p.length)),
      anchor: params.map((p) => Float32Array.from(p)),
      prevParams: params.map((p) => Float32Array.from(p)),
      prevGrads: params.map((p) => new Float32Array(p.length)),
      lastChange: params.map((p) => new Float32Array(p.length)),
    }),
    update(updates, state, params) {
      // In place, like the other transformations: the returned state is the one to keep.
      const s: Mutable<ImportanceState> = { ...state };
      advance(s, params, updates);
      if (every > 0 && s.integrated >= every) consolidateInPlace(s, params);
      s.step += 1;
      return [updates, s];
    },
    consolidate(state, params) {
      const s = copyImportanceState(state);
      advance(s, params, null);
      consolidateInPlace(s, params);
      return s;
    },
    exposes: (state) => ({ synapses: { importance: state.importance, anchor: state.anchor } }),
  };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function copyImportanceState(s: ImportanceState): Mutable<ImportanceState> {
  const copy = (xs: readonly Float32Array[]): Float32Array[] => xs.map((x) => Float32Array.from(x));
  return {
    step: s.step,
    pending: s.pending,
    integrated: s.integrated,
    consolidations: s.consolidations,
    pathIntegral: copy(s.pathIntegral),
    importance: copy(s.importance),
    anchor: copy(s.anchor),
    prevParams: copy(s.prevParams),
    prevGrads: copy(s.prevGrads),
    lastChange: copy(s.lastChange),
  };
}

/** Error for synapse state that does not have the shape a synapse helper expects (e.g. a mismatched checkpoint). */
export class SynapseStateError extends Error {
  readonly code = 'E_SYNAPSE_STATE';
  override readonly name = 'SynapseStateError';
}

const NUMBER_KEYS = ['step', 'pending', 'integrated', 'consolidations'] as const;
const ARRAY_KEYS = ['pathIntegral', 'importance', 'anchor', 'prevParams', 'prevGrads', 'lastChange'] as const;

/**
 * The {@link ImportanceState} inside `state`: the state itself, or the `importance` link's state of a chain
 * (e.g. as read back from a checkpoint). Throws a {@link SynapseStateError} naming the missing field otherwise.
 *
 * @example
 * const s = importanceStateOf(loadCheckpoint(file).state);
 */
export function importanceStateOf(state: State): ImportanceState {
  const rec = isStateRecord(state) && isStateRecord(state['importance']) ? state['importance'] : state;
  if (!isStateRecord(rec)) throw new SynapseStateError('importance state must be a record of numbers and Float32Array lists');
  for (const k of NUMBER_KEYS) {
    if (typeof rec[k] !== 'number') throw new SynapseStateError(`importance state: "${k}" must be a number`);
  }
  for (const k of ARRAY_KEYS) {
    const v = rec[k];
    if (!Array.isArray(v) || !v.every((a) => a instanceof Float32Array)) {
      throw new SynapseStateError(`importance state: "${k}" must be a list of Float32Arrays`);
    }
  }
  return rec as ImportanceState;
}

/**
 * Ω, the consolidated importance, from an importance state (or a chain's).
 *
 * @example
 * const omega = importanceOf(state); // omega[i][j] for parameter tensor i, entry j
 */
export function importanceOf(state: State): readonly Float32Array[] {
  return importanceStateOf(state).importance;
}

/**
 * θ*, the consolidation anchor, from an importance state (or a chain's).
 *
 * @example
 * const anchor = anchorOf(state);
 */
export function anchorOf(state: State): readonly Float32Array[] {
  return importanceStateOf(state).anchor;
}

/**
 * Per parameter, the index of its last significant change (0: none yet), from an importance state
 * (or a chain's); `importanceStateOf(state).step − lastChange` is the time since.
 *
 * @example
 * const idle = lastChangeOf(state)[0]!.map((t) => step - t);
 */
export function lastChangeOf(state: State): readonly Float32Array[] {
  return importanceStateOf(state).lastChange;
}

function assertFinite(v: number, what: string, ok: (v: number) => boolean, rule: string): void {
  if (!(Number.isFinite(v) && ok(v))) throw new RangeError(`${what} must be a finite number ${rule}, got ${v}`);
}
