import type { Tensor } from '../core/tensor.js';
import { getBackend } from '../kernels/index.js';

/**
 * Optimisers as composable gradient transformations (optax's design): `init` builds explicit state from the
 * parameters, `update` turns gradients into updates. Applying updates to parameters is a separate step
 * (`applyUpdates`). For speed on the CPU, updates are computed in the gradient buffers and state arrays are
 * updated in place; the returned state is the one to keep.
 *
 * @example
 * const opt = chain(scaleByAdam(), scaleByLearningRate(1e-3));
 * let state = opt.init(params);
 * [grads, state] = opt.update(grads, state, params);
 * applyUpdates(params, grads);
 */

/** Serialisable optimiser / synapse state: numbers and float32 arrays in nested records and lists. */
export type State = number | Float32Array | readonly State[] | { readonly [key: string]: State };

/** True for the record form of {@link State} (not a number, array or list), e.g. state read from a checkpoint. */
export function isStateRecord(s: State | undefined): s is { readonly [key: string]: State } {
  return typeof s === 'object' && !(s instanceof Float32Array) && !Array.isArray(s);
}

export interface GradientTransformation<S extends State = State> {
  init(params: readonly Float32Array[]): S;
  update(updates: Float32Array[], state: S, params: readonly Float32Array[]): [Float32Array[], S];
}

/** Apply transformations in order; the state is the list of their states. */
export function chain(...ts: GradientTransformation[]): GradientTransformation<readonly State[]> {
  return {
    init: (params) => ts.map((t) => t.init(params)),
    update(updates, state, params) {
      const next: State[] = [];
      let u = updates;
      for (let i = 0; i < ts.length; i++) {
        const [u2, s2] = ts[i]!.update(u, state[i]!, params);
        u = u2;
        next.push(s2);
      }
      return [u, next];
    },
  };
}

/** Multiply updates by a constant. */
export function scale(factor: number): GradientTransformation<Record<string, never>> {
  return {
    init: () => ({}),
    update(updates, state) {
      const b = getBackend();
      for (const u of updates) b.axpby(factor, u, 0, u, u);
      return [updates, state];
    },
  };
}

/** Gradient descent direction: multiply by −lr. */
export function scaleByLearningRate(lr: number): GradientTransformation<Record<string, never>> {
  return scale(-lr);
}

export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
}

export interface AdamState {
  readonly [key: string]: State;
  step: number;
  m: Float32Array[];
  v: Float32Array[];
}

/** Adam's normalised direction m̂/(√v̂ + ε), PyTorch's defaults (β1 0.9, β2 0.999, ε 1e-8). */
export function scaleByAdam(opts: AdamOptions = {}): GradientTransformation<AdamState> {
  const beta1 = opts.beta1 ?? 0.9;
  const beta2 = opts.beta2 ?? 0.999;
  const eps = opts.eps ?? 1e-8;
  return {
    init: (params) => ({
      step: 0,
      m: params.map((p) => new Float32Array(p.length)),
      v: params.map((p) => new Float32Array(p.length)),
    }),
    update(updates, state) {
      const b = getBackend();
      const step = state.step + 1;
      for (let i = 0; i < updates.length; i++) {
        b.adamDirection(updates[i]!, state.m[i]!, state.v[i]!, { beta1, beta2, eps, step }, updates[i]!);
      }
      return [updates, { step, m: state.m, v: state.v }];
    },
  };
}

export interface MomentumState {
  readonly [key: string]: State;
  step: number;
  trace: Float32Array[];
}

/** PyTorch's SGD momentum buffer: buf ← μ·buf + g (buf = g on the first step); the update is buf. */
export function traceMomentum(momentum: number): GradientTransformation<MomentumState> {
  return {
    init: (params) => ({ step: 0, trace: params.map((p) => new Float32Array(p.length)) }),
    update(updates, state) {
      const b = getBackend();
      for (let i = 0; i < updates.length; i++) {
        const buf = state.trace[i]!;
        if (state.step === 0) buf.set(updates[i]!);
        else b.axpby(momentum, buf, 1, updates[i]!, buf);
        updates[i]!.set(buf);
      }
      return [updates, { step: state.step + 1, trace: state.trace }];
    },
  };
}

/** p ← p + u for every parameter. */
export function applyUpdates(params: readonly Float32Array[], updates: readonly Float32Array[]): void {
  const b = getBackend();
  for (let i = 0; i < params.length; i++) b.axpby(1, params[i]!, 1, updates[i]!, params[i]!);
}

/**
 * One optimiser step on parameter tensors: their gradients (a missing one counts as zero) through `opt`, the
 * result applied in place. Returns the applied updates and the new state (keep it).
 *
 * @example
 * [, state] = optimizerStep(adam(1e-3), state, model.parameters());
 */
export function optimizerStep<S extends State>(
  opt: GradientTransformation<S>, state: S, params: readonly Tensor[],
): [Float32Array[], S] {
  const grads = params.map((p) => p.grad ?? new Float32Array(p.size));
  const data = params.map((p) => p.data);
  const [updates, next] = opt.update(grads, state, data);
  applyUpdates(data, updates);
  return [updates, next];
}

/** Adam as PyTorch defines it. */
export function adam(lr: number, opts: AdamOptions = {}): GradientTransformation<readonly State[]> {
  return chain(scaleByAdam(opts), scaleByLearningRate(lr));
}

/** SGD, with PyTorch's momentum when momentum > 0. */
export function sgd(lr: number, momentum = 0): GradientTransformation<readonly State[]> {
  return momentum > 0 ? chain(traceMomentum(momentum), scaleByLearningRate(lr)) : chain(scaleByLearningRate(lr));
}
