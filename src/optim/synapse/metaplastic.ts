import { stateless, synapsesOf, type EmptyState, type GradientTransformation } from '../base.js';

export interface MetaplasticOptions {
  /** m in the attenuation 1 − tanh²(m·max(Ω, 0)·|θ − θ*|); 0 leaves updates unchanged. */
  m: number;
}

/**
 * Metaplastic synapses after Laborieux, Ernoult, Hirtzlin & Querlioz (Nat. Commun. 2021). Their binarised
 * networks attenuate a hidden weight's update by f_meta = 1 − tanh²(m·|W_h|) only when the update moves W_h
 * towards zero, i.e. towards flipping the binary weight (`Adam_meta`: condition sign(W_h)·m_Adam > 0 with the
 * step −lr·m̂/√v̂); steps that grow |W_h| pass unchanged. For real-valued weights the "forgetting" direction is
 * away from the consolidation anchor θ*, so, with d = θ − θ* and u the displacement (θ ← θ + u):
 *
 *   u_i ← u_i · (1 − tanh²(m · max(Ω_i, 0) · |d_i|))   if u_i · d_i > 0  (the step increases |θ_i − θ*_i|)
 *   u_i ← u_i                                          otherwise (towards the anchor, or at it)
 *
 * The further a consolidated weight has drifted, the harder it is to push further (a soft leash of length
 * ≈ 1/(m·Ω)); unconsolidated weights (Ω ≤ 0) are untouched. u must be the displacement, so place it after
 * `scaleByLearningRate`. Stateless; reads Ω and θ* from an importance link earlier in its chain.
 *
 * @example
 * const opt = chain({ importance: onlineImportance({ xi: 0.1, consolidateEvery: 100 }),
 *   adam: scaleByAdam(), lr: scaleByLearningRate(1e-3), metaplastic: metaplastic({ m: 1 }) });
 */
export function metaplastic(opts: MetaplasticOptions): GradientTransformation<EmptyState> {
  const { m } = opts;
  if (!(Number.isFinite(m) && m >= 0)) throw new RangeError(`metaplastic m must be a finite number ≥ 0, got ${m}`);
  return stateless((updates, params, extra) => {
    const synapses = synapsesOf(extra, 'metaplastic');
    for (let i = 0; i < updates.length; i++) {
      const u = updates[i]!, th = params[i]!, om = synapses.importance[i]!, a = synapses.anchor[i]!;
      for (let j = 0; j < u.length; j++) {
        const o = om[j]!;
        const d = th[j]! - a[j]!;
        const uj = u[j]!;
        if (o > 0 && uj * d > 0) {
          const t = Math.tanh(m * o * Math.abs(d));
          u[j] = uj * (1 - t * t);
        }
      }
    }
    return updates;
  });
}
