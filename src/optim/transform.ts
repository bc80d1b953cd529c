import type { Tensor } from '../core/tensor.js';
import { getBackend } from '../kernels/index.js';
import { stateless, type EmptyState, type GradientTransformation, type State } from './base.js';
import { chain, type Chain } from './combine.js';

/**
 * The common transformations and optimisers (optax's `transform.py` and `alias.py`), built as chains:
 * `adam(lr)` is `chain({ adam: scaleByAdam(), lr: scaleByLearningRate(lr) })`. Applying updates to
 * parameters is a separate step (`applyUpdates`).
 *
 * @example
 * const opt = adam(1e-3);
 * let state = opt.init(params);
 * [grads, state] = opt.update(grads, state, params);
 * applyUpdates(params, grads);
 * state.adam.step; // 1
 */

/** Multiply updates by a constant. */
export function scale(factor: number): GradientTransformation<EmptyState> {
  return stateless((updates) => {
    const b = getBackend();
    for (const u of updates) b.axpby(factor, u, 0, u, u);
    return updates;
  });
}

/** Gradient descent direction: multiply by −lr. */
export function scaleByLearningRate(lr: number): GradientTransformation<EmptyState> {
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

/** The links of {@link adam}. */
export interface AdamLinks {
  readonly [name: string]: GradientTransformation;
  adam: GradientTransformation<AdamState>;
  lr: GradientTransformation<EmptyState>;
}

/** Adam as PyTorch defines it: `chain({ adam: scaleByAdam(opts), lr: scaleByLearningRate(lr) })`. */
export function adam(lr: number, opts: AdamOptions = {}): Chain<AdamLinks> {
  return chain({ adam: scaleByAdam(opts), lr: scaleByLearningRate(lr) });
}

/**
 * SGD, with PyTorch's momentum when momentum > 0: `chain({ momentum: traceMomentum(μ), lr: scaleByLearningRate(lr) })`,
 * or `chain({ lr: scaleByLearningRate(lr) })`.
 */
export function sgd(lr: number, momentum = 0): Chain {
  return momentum > 0
    ? chain({ momentum: traceMomentum(momentum), lr: scaleByLearningRate(lr) })
    : chain({ lr: scaleByLearningRate(lr) });
}
