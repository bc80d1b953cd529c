import { projectOut, type Basis } from '../subspace/index.js';
import type { EmptyState, GradientTransformation } from './base.js';

/**
 * A layer as {@link project} sees it: the indices of its weight ([in, out], as weights are stored) and bias
 * among the parameters, and the basis of its protected input directions (dimension: fan-in, + 1 with a bias).
 */
export interface ProjectedLayer {
  readonly weight: number;
  readonly bias: number | null;
  readonly basis: Basis;
}

/**
 * Gradient Projection Memory's projection (Saha, Garg & Roy, ICLR 2021) as a link: each layer's update G (the
 * weight's, with the bias's as the row of a constant input 1) loses its components inside the span of the
 * layer's input basis M, G ← G − M·(Mᵀ·G), so that inputs in the protected subspace see no change from a step
 * that follows the projected update linearly (SGD, momentum). Stateless; layers with an empty basis and the
 * parameters of no layer pass unchanged. Put it before the step it protects, as GPM projects the gradient:
 * `chain({ project: project(layers), ...sgd(lr).links })`. The bases are fixed for the link's life; a learner
 * whose bases grow builds a new chain (GPM builds a new optimiser per context).
 *
 * @example
 * const opt = chain({ project: project([{ weight: 0, bias: 1, basis }]), lr: scaleByLearningRate(0.01) });
 */
export function project(layers: readonly ProjectedLayer[]): GradientTransformation<EmptyState> {
  // Work buffers, sized at the first update: the stacked weight-and-bias update, and Mᵀ·G.
  let stacked = new Float32Array(0);
  let scratch = new Float32Array(0);
  const outputs = (l: ProjectedLayer, updates: readonly Float32Array[]): number => {
    const w = updates[l.weight];
    const fanIn = l.basis.dim - (l.bias === null ? 0 : 1);
    const out = w === undefined || fanIn < 1 ? Number.NaN : w.length / fanIn;
    if (!Number.isInteger(out) || (l.bias !== null && updates[l.bias]?.length !== out)) {
      throw new RangeError(`project: parameter ${l.weight} (and bias ${l.bias}) do not fit a ${l.basis.dim}-dimensional input basis`);
    }
    return out;
  };
  return {
    init: () => ({}),
    update(updates, state) {
      if (scratch.length === 0) {
        const largest = Math.max(0, ...layers.map((l) => l.basis.dim * outputs(l, updates)));
        scratch = new Float32Array(largest);
        if (layers.some((l) => l.bias !== null)) stacked = new Float32Array(largest);
      }
      for (const l of layers) {
        if (l.basis.k === 0) continue;
        const out = outputs(l, updates);
        const uw = updates[l.weight]!;
        if (l.bias === null) {
          projectOut(l.basis, uw, out, scratch);
          continue;
        }
        const ub = updates[l.bias]!;
        const g = stacked.subarray(0, uw.length + ub.length);
        g.set(uw);
        g.set(ub, uw.length);
        projectOut(l.basis, g, out, scratch);
        uw.set(g.subarray(0, uw.length));
        ub.set(g.subarray(uw.length));
      }
      return [updates, state];
    },
  };
}
