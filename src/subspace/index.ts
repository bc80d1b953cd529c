/**
 * Orthonormal bases of layers' input subspaces (Gradient Projection Memory's linear algebra): a running Gram
 * matrix of inputs, its spectrum, the energy threshold that picks the basis, and the projection of an update
 * off the basis. Shared by the `gpm` baseline and Engram's sleep; below the optimisers, so that a projection
 * can become a link of an optimiser chain.
 *
 * @example
 * const gram = representationGram(inputs, n, dim);
 * const { basis } = updateBasis(emptyBasis(dim), gram, 0.97);
 * projectOut(basis, weightGrad, outSize); // the step no longer moves outputs on the protected inputs
 */
export {
  accumulateGram, basisFrom, emptyBasis, energyRank, ENERGY_FLOOR, projectOut, representationGram, symmetricSpectrum,
  updateBasis, type Basis, type BasisUpdate, type Spectrum,
} from './basis.js';
export { OjaSubspace, principalAngles } from './oja.js';
