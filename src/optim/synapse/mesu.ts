import type { GradientTransformation, State } from '../base.js';
import { SynapseStateError } from './importance.js';

export interface MesuOptions {
  /** σ_prior: the prior's standard deviation, the initial σ of every parameter and where σ relaxes back to. */
  sigmaPrior: number;
  /**
   * N, the memory window: the number of past steps (minibatches) whose likelihood the posterior keeps. It sets
   * the floor σ² ≈ 1/(N·h + 1/σ_prior²) for curvature h and the relaxation time (≈ N steps) back to σ_prior.
   */
  memoryWindow: number;
  /** μ_prior, the prior mean the forgetting term pulls μ towards (default 0); `null` drops that pull. */
  muPrior?: number | null;
  /** Extra factor on Δμ (the authors' code's c_μ; default 1, the paper's rule). */
  lrMu?: number;
  /** Extra factor on Δσ (the authors' code's c_σ; default 1, the paper's rule). */
  lrSigma?: number;
  /** |Δσ| is clipped to maxSigmaStep·σ, which keeps σ > 0 (default 0.5; the authors' code's ratio_max). */
  maxSigmaStep?: number;
}

/** The state of {@link mesu}; every array has one entry per parameter tensor. */
export interface MesuState {
  readonly [key: string]: State;
  /** Update calls so far. */
  step: number;
  /** 1 when `eps` holds the ε of a sample drawn by {@link mesuSample} and not yet consumed by `update`, else 0. */
  sampled: number;
  /** σ per parameter (the posterior's standard deviation); μ is the parameter itself. */
  sigma: Float32Array[];
  /** ε of the last sample, θ = μ + σ⊙ε. */
  eps: Float32Array[];
}

/** A source of standard normal draws, e.g. the project's `Rng`. */
export interface NormalSource {
  normal(): number;
}

/**
 * MESU, Metaplasticity from Synaptic Uncertainty (Bonnet, Cottart, Hirtzlin, Januel, Dalgaty, Vianello &
 * Querlioz, "Bayesian continual learning and forgetting in neural networks", arXiv 2504.13569; Nat. Commun.
 * 2025). Each parameter is a Gaussian N(μ, σ²): μ is the parameter as the model holds it, σ lives in this
 * transformation's state. With C_t the loss of step t (as the gradients are scaled: a batch mean gives mean
 * gradients), the paper's rule, applied per parameter with σ, μ of the previous step:
 *
 *   Δμ = −σ²·∂C/∂μ + σ²/(N·σ_p²)·(μ_p − μ)
 *   Δσ = −(σ²/2)·∂C/∂σ + σ/(2N·σ_p²)·(σ_p² − σ²)
 *
 * The learning rate of μ is σ² (no global learning rate: σ_p² is the initial one). ∂C/∂σ ≈ σ·∂²C/∂μ², so σ
 * shrinks where the loss is curved (important parameters become stiff), with the fixed point
 * σ² = 1/(N·h + 1/σ_p²) under steady curvature h; the second term forgets: with no more gradient, σ relaxes
 * back to σ_p over about N steps, and the parameter becomes plastic again. No task boundary, O(parameters)
 * per step. `lrMu`, `lrSigma` scale Δμ, Δσ (1: the paper); |Δσ| ≤ maxSigmaStep·σ (never reached in the
 * paper's regime, it only keeps σ > 0 against a noisy one-sample ∂C/∂σ).
 *
 * Our models hold deterministic weights, so the expectations over q(ω) = N(μ, σ²) are estimated the paper's
 * way, by the reparameterisation ω = μ + σ⊙ε with one sample per step. Each step the caller must:
 *   1. `const { theta, state: s1 } = mesuSample(mu, state, rng)`: θ = μ + σ⊙ε (a copy; ε is kept in s1);
 *   2. evaluate the loss and its gradient g = ∂L/∂ω at ω = θ (e.g. copy θ into the model's weights, run the
 *      forward and backward passes, then put μ back);
 *   3. `[u, state] = opt.update([g], s1, mu)` with the means μ as `params` (not θ), then `applyUpdates(mu, u)`.
 * `update` uses g as the estimate of ∂C/∂μ and g⊙ε as the estimate of ∂C/∂σ (both unbiased, since
 * ∂C/∂μ = E[∂L/∂ω] and ∂C/∂σ = E[ε·∂L/∂ω]). It throws when no sample is pending, because a gradient taken at
 * μ carries no information on σ. Differences from the paper: one Monte-Carlo sample per step (the paper may
 * average several), the clip on Δσ, and the result Δμ is returned as an update for `applyUpdates` instead of
 * being written into μ. Put `mesu` last in a chain (its output is already the displacement; do not follow
 * it with `scaleByLearningRate`). The returned updates reuse the gradient buffers and σ is updated in place.
 *
 * @example
 * const opt = mesu({ sigmaPrior: 0.3, memoryWindow: 1000 });
 * let state = opt.init(params);
 * const { theta, state: s } = mesuSample(params, state, rng);
 * const grads = gradientAt(theta);                       // ∂L/∂ω at the sampled weights
 * let u: Float32Array[];
 * [u, state] = opt.update(grads, s, params);             // params: the means μ
 * applyUpdates(params, u);
 */
export function mesu(opts: MesuOptions): GradientTransformation<MesuState> {
  const { sigmaPrior, memoryWindow } = opts;
  const muPrior = opts.muPrior === undefined ? 0 : opts.muPrior;
  const lrMu = opts.lrMu ?? 1;
  const lrSigma = opts.lrSigma ?? 1;
  const maxStep = opts.maxSigmaStep ?? 0.5;
  check(sigmaPrior, 'mesu sigmaPrior', (v) => v > 0, '> 0');
  check(memoryWindow, 'mesu memoryWindow', (v) => v > 0, '> 0');
  if (muPrior !== null) check(muPrior, 'mesu muPrior', () => true, '(or null)');
  check(lrMu, 'mesu lrMu', (v) => v >= 0, '≥ 0');
  check(lrSigma, 'mesu lrSigma', (v) => v >= 0, '≥ 0');
  check(maxStep, 'mesu maxSigmaStep', (v) => v > 0 && v < 1, 'in (0, 1)');
  const sp2 = sigmaPrior * sigmaPrior;
  const forget = 1 / (memoryWindow * sp2); // 1/(N·σ_p²)

  return {
    init: (params) => ({
      step: 0,
      sampled: 0,
      sigma: params.map((p) => new Float32Array(p.length).fill(sigmaPrior)),
      eps: params.map((p) => new Float32Array(p.length)),
    }),
    update(updates, state, params) {
      if (state.sampled !== 1) {
        throw new SynapseStateError(
          'mesu: no pending weight sample; call mesuSample(μ, state, rng) and take the gradient at the returned θ before update',
        );
      }
      if (updates.length !== state.sigma.length) {
        throw new SynapseStateError(`mesu: ${updates.length} gradients for ${state.sigma.length} parameter tensors`);
      }
      for (let i = 0; i < updates.length; i++) {
        const g = updates[i]!, sg = state.sigma[i]!, ep = state.eps[i]!, mu = params[i]!;
        if (g.length !== sg.length || mu.length !== sg.length) {
          throw new SynapseStateError(`mesu: parameter ${i} has ${mu.length} entries, gradient ${g.length}, state ${sg.length}`);
        }
        for (let j = 0; j < g.length; j++) {
          const s = sg[j]!, s2 = s * s, gj = g[j]!;
          const gSigma = gj * ep[j]!; // ∂C/∂σ ≈ ε·∂L/∂ω at ω = μ + σε
          let dMu = -s2 * gj;
          if (muPrior !== null) dMu += s2 * forget * (muPrior - mu[j]!);
          let dSigma = lrSigma * (-0.5 * s2 * gSigma + 0.5 * s * forget * (sp2 - s2));
          const lim = maxStep * s;
          if (dSigma > lim) dSigma = lim;
          else if (dSigma < -lim) dSigma = -lim;
          g[j] = lrMu * dMu;
          sg[j] = s + dSigma;
        }
      }
      return [updates, { step: state.step + 1, sampled: 0, sigma: state.sigma, eps: state.eps }];
    },
  };
}

/**
 * Draw the weights for one MESU step: ε ~ N(0, 1) per parameter and θ = μ + σ⊙ε. Returns θ (fresh arrays, or
 * `out` when given), the ε used (the state's buffers: read them before the next sample) and the state to pass
 * to `update`, which holds ε and is marked as sampled. The state's arrays are written in place.
 *
 * @example
 * const { theta, eps, state: s } = mesuSample(params, state, new Rng(1));
 */
export function mesuSample(
  params: readonly Float32Array[], state: MesuState, rng: NormalSource, out?: Float32Array[],
): { theta: Float32Array[]; eps: readonly Float32Array[]; state: MesuState } {
  if (params.length !== state.sigma.length) {
    throw new SynapseStateError(`mesuSample: ${params.length} parameter tensors for ${state.sigma.length} in the state`);
  }
  const theta = out ?? params.map((p) => new Float32Array(p.length));
  for (let i = 0; i < params.length; i++) {
    const mu = params[i]!, sg = state.sigma[i]!, ep = state.eps[i]!, th = theta[i]!;
    if (mu.length !== sg.length || th.length !== sg.length) {
      throw new SynapseStateError(`mesuSample: parameter ${i} has ${mu.length} entries, state ${sg.length}, out ${th.length}`);
    }
    for (let j = 0; j < mu.length; j++) {
      const e = Math.fround(rng.normal()); // θ uses exactly the stored ε
      ep[j] = e;
      th[j] = mu[j]! + sg[j]! * e;
    }
  }
  return { theta, eps: state.eps, state: { step: state.step, sampled: 1, sigma: state.sigma, eps: state.eps } };
}

function check(v: number, what: string, ok: (v: number) => boolean, rule: string): void {
  if (!(Number.isFinite(v) && ok(v))) throw new RangeError(`${what} must be a finite number ${rule}, got ${v}`);
}
