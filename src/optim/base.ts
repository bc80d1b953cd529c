/**
 * The optimiser's vocabulary (optax's `base.py`): state, the inputs a link may read besides gradients, and the
 * gradient transformation every link of a chain is.
 *
 * @example
 * const clip: GradientTransformation<EmptyState> = stateless((updates) => updates.map((u) => u.map((x) => Math.max(-1, Math.min(1, x)))));
 */

/** Serialisable optimiser / synapse state: numbers and float32 arrays in nested records and lists. */
export type State = number | Float32Array | readonly State[] | { readonly [key: string]: State };

/** The state of a link that keeps none. */
export type EmptyState = Record<string, never>;

/** True for the record form of {@link State} (not a number, array or list), e.g. state read from a checkpoint. */
export function isStateRecord(s: State | undefined): s is { readonly [key: string]: State } {
  return typeof s === 'object' && !(s instanceof Float32Array) && !Array.isArray(s);
}

/**
 * Per parameter, the consolidated importance Ω and the consolidation anchor θ* (same shapes as the parameters):
 * what importance-aware links (viscosity, metaplastic) read.
 *
 * @example
 * const v: SynapseView = { importance: [new Float32Array([0, 2])], anchor: [new Float32Array([0.5, -1])] };
 */
export interface SynapseView {
  readonly importance: readonly Float32Array[];
  readonly anchor: readonly Float32Array[];
}

/**
 * Inputs a link reads besides updates, state and parameters (optax's `extra_args`): given by the caller of
 * `update`, or handed on by an earlier link of the chain (`exposes`), e.g. `onlineImportance`'s Ω and θ*.
 *
 * @example
 * const extra: Extra = { synapses: { importance: omega, anchor: thetaStar } };
 */
export interface Extra {
  readonly synapses?: SynapseView;
}

/**
 * A gradient transformation (optax's): pure functions `init(params) → state` and
 * `update(updates, state, params, extra) → [updates, state]`; applying the updates is a separate step. For
 * speed on the CPU, updates are computed in the incoming buffers and state arrays are updated in place; the
 * returned state is the one to keep. Two optional methods let a link take part in a chain beyond `update`:
 * `consolidate` (a pure state change at a consolidation, e.g. online importance's Ω += ω/((θ − θ*)² + ξ)) and
 * `exposes` (inputs it hands to the links after it, from its state after its update).
 *
 * @example
 * const halve: GradientTransformation<EmptyState> = stateless((updates) => { for (const u of updates) u.forEach((x, j) => (u[j] = x / 2)); return updates; });
 */
export interface GradientTransformation<S extends State = State> {
  init(params: readonly Float32Array[]): S;
  update(updates: Float32Array[], state: S, params: readonly Float32Array[], extra?: Extra): [Float32Array[], S];
  consolidate?(state: S, params: readonly Float32Array[]): S;
  exposes?(state: S): Extra;
}

/**
 * A link without state (optax's `stateless`): `f(updates, params, extra)` returns the new updates.
 *
 * @example
 * const negate = stateless((updates) => { for (const u of updates) u.forEach((x, j) => (u[j] = -x)); return updates; });
 */
export function stateless(
  f: (updates: Float32Array[], params: readonly Float32Array[], extra: Extra) => Float32Array[],
): GradientTransformation<EmptyState> {
  return {
    init: () => ({}),
    update: (updates, state, params, extra = {}) => [f(updates, params, extra), state],
  };
}

/** Error for optimiser state that does not have the shape its chain expects (e.g. a mismatched checkpoint). */
export class OptimizerStateError extends Error {
  readonly code = 'E_OPTIMIZER_STATE';
  override readonly name = 'OptimizerStateError';
}

/**
 * The synapse view an importance-aware link reads, or a clear error naming the link when no earlier link of
 * its chain (such as `onlineImportance`) handed one on.
 *
 * @example
 * const { importance } = synapsesOf(extra, 'viscosity');
 */
export function synapsesOf(extra: Extra, link: string): SynapseView {
  if (extra.synapses === undefined) {
    throw new TypeError(`${link} reads Ω and θ*: put onlineImportance before it in the chain`);
  }
  return extra.synapses;
}
