import type { Rng } from '../core/index.js';
import { getBackend } from '../kernels/index.js';
import { basisFrom, symmetricSpectrum, type Basis } from './basis.js';

/**
 * Oja's subspace rule (Oja 1989): k units with weights W (k × dim) learn the span of the top k principal
 * directions of their inputs (uncentred, as GPM's Gram matrix R Rᵀ) by a local Hebbian update, with no
 * decomposition and no stored samples:
 *
 *     y = W x,   W ← W + η (y xᵀ − y yᵀ W)      (batch means)
 *
 * The −y yᵀ W term keeps the rows near orthonormal. The step is η divided by the batch's mean ‖x‖², so one
 * learning rate serves inputs of any scale (the rule is stable for η‖x‖² well below 1). This is the local
 * replacement for the SVD basis of orthogonal projection (DESIGN §2, P4): {@link basis} orthonormalises the
 * rows into the same `Basis` the projection reads.
 *
 * @example
 * const oja = new OjaSubspace(784, 20, new Rng(1));
 * oja.update(inputs, n);                          // n × 784 rows, every batch
 * principalAngles(oja.basis(), svdBasis);         // degrees, smallest first
 */
export class OjaSubspace {
  /** k × dim, row-major. */
  readonly weights: Float32Array;
  /** y = W x of the last batch (reused while the batch size stays). */
  private y = new Float32Array(0);

  constructor(readonly dim: number, readonly k: number, rng: Rng, readonly lr = 1) {
    if (!Number.isInteger(k) || k < 1 || k > dim) throw new RangeError(`Oja subspace needs 1 ≤ k ≤ ${dim}, got ${k}`);
    this.weights = rng.fillNormal(new Float32Array(k * dim));
    const scale = 1 / Math.sqrt(dim);
    for (let i = 0; i < this.weights.length; i++) this.weights[i]! *= scale;
  }

  /** One step on n inputs (n × dim, row-major). */
  update(x: Float32Array, n: number): void {
    const b = getBackend();
    const { dim, k } = this;
    if (this.y.length !== n * k) this.y = new Float32Array(n * k);
    const { y } = this;
    b.gemm(false, true, n, k, dim, 1, x, this.weights, 0, y);
    let sq = 0;
    for (let i = 0; i < n * dim; i++) sq += x[i]! * x[i]!;
    if (!(sq > 0)) return;
    const step = this.lr / (sq / n) / n;
    // W += step · (yᵀ x − (yᵀ y) W)
    const yty = new Float32Array(k * k);
    b.gemm(true, false, k, k, n, 1, y, y, 0, yty);
    const decay = new Float32Array(k * dim);
    b.gemm(false, false, k, dim, k, 1, yty, this.weights, 0, decay);
    b.gemm(true, false, k, dim, n, step, y, x, 1, this.weights);
    b.axpby(-step, decay, 1, this.weights, this.weights);
  }

  /** The rows, orthonormalised (Gram–Schmidt in float64), as a basis (dim × k). */
  basis(): Basis {
    const { dim, k } = this;
    const q = new Float64Array(dim * k);
    let kept = 0;
    for (let r = 0; r < k; r++) {
      const v = Float64Array.from(this.weights.subarray(r * dim, (r + 1) * dim));
      for (let pass = 0; pass < 2; pass++) {
        for (let j = 0; j < kept; j++) {
          let dot = 0;
          for (let i = 0; i < dim; i++) dot += v[i]! * q[i * k + j]!;
          for (let i = 0; i < dim; i++) v[i]! -= dot * q[i * k + j]!;
        }
      }
      const norm = Math.hypot(...v);
      if (!(norm > 1e-9)) continue;
      for (let i = 0; i < dim; i++) q[i * k + kept] = v[i]! / norm;
      kept++;
    }
    const data = new Float32Array(dim * kept);
    for (let i = 0; i < dim; i++) for (let j = 0; j < kept; j++) data[i * kept + j] = q[i * k + j]!;
    return basisFrom(dim, data);
  }
}

/**
 * Principal angles between the spans of two orthonormal bases of the same space, in degrees, smallest first:
 * arccos of the singular values of AᵀB (from the eigenvalues of (AᵀB)ᵀ(AᵀB)). min(kA, kB) angles.
 */
export function principalAngles(a: Basis, b: Basis): Float64Array {
  if (a.dim !== b.dim) throw new RangeError(`bases of ${a.dim}- and ${b.dim}-dimensional spaces`);
  const [p, q] = a.k <= b.k ? [a, b] : [b, a];
  const m = new Float64Array(p.k * q.k); // pᵀ q
  for (let i = 0; i < p.dim; i++) {
    for (let r = 0; r < p.k; r++) {
      const pr = p.data[i * p.k + r]!;
      if (pr === 0) continue;
      for (let c = 0; c < q.k; c++) m[r * q.k + c]! += pr * q.data[i * q.k + c]!;
    }
  }
  const mmt = new Float64Array(p.k * p.k);
  for (let r = 0; r < p.k; r++) {
    for (let s = 0; s < p.k; s++) {
      let dot = 0;
      for (let c = 0; c < q.k; c++) dot += m[r * q.k + c]! * m[s * q.k + c]!;
      mmt[r * p.k + s] = dot;
    }
  }
  const { values } = symmetricSpectrum(mmt, p.k);
  return Float64Array.from(values, (v) => (Math.acos(Math.min(1, Math.sqrt(Math.max(0, v)))) * 180) / Math.PI);
}
