import { getBackend } from '../../kernels/index.js';
import { stateless, synapsesOf, type EmptyState, type GradientTransformation } from '../base.js';

export interface ViscosityOptions {
  /** c in u ← u / (1 + c·max(Ω, 0)); 0 leaves updates unchanged. */
  c: number;
}

/**
 * Viscous synapses: each parameter's learning rate falls with its importance, lr_i = lr / (1 + c·Ω_i)
 * (DESIGN P1), applied as u_i ← u_i / (1 + c·max(Ω_i, 0)). Ω is clipped at 0 because SI's importance can be
 * slightly negative, and a negative Ω would raise the rate (or flip the step when c·Ω ≤ −1). A pure
 * per-parameter scaling, so it may sit anywhere after `scaleByAdam` (before it, Adam's normalisation would
 * cancel it). Stateless; reads Ω from an importance link earlier in its chain (`extra.synapses`).
 *
 * @example
 * const opt = chain({ importance: onlineImportance({ xi: 0.1, consolidateEvery: 100 }),
 *   adam: scaleByAdam(), viscosity: viscosity({ c: 1 }), lr: scaleByLearningRate(1e-3) });
 */
export function viscosity(opts: ViscosityOptions): GradientTransformation<EmptyState> {
  const { c } = opts;
  if (!(Number.isFinite(c) && c >= 0)) throw new RangeError(`viscosity c must be a finite number ≥ 0, got ${c}`);
  return stateless((updates, _params, extra) => {
    const { importance } = synapsesOf(extra, 'viscosity');
    const b = getBackend();
    for (let i = 0; i < updates.length; i++) b.viscousScale(updates[i]!, importance[i]!, c);
    return updates;
  });
}
