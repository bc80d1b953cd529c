/**
 * The linear algebra of Gradient Projection Memory (Saha, Garg & Roy, ICLR 2021), as pure functions:
 * representation → spectrum → energy threshold → basis update, and the projection of a gradient.
 *
 * GPM keeps, per layer, an orthonormal basis M of the space spanned by the layer's inputs on earlier contexts.
 * The paper takes the SVD of the representation matrix R (dim × n, one column per sample); its left singular
 * vectors and squared singular values are exactly the eigenvectors and eigenvalues of the Gram matrix
 * C = R Rᵀ = Σᵢ aᵢ aᵢᵀ (dim × dim). Working from C means a learner only accumulates a running sum of outer
 * products during training instead of keeping raw samples, and every quantity the paper needs follows from it:
 * - ‖R‖²_F = tr C;
 * - the projected representation R̂ = (I − M Mᵀ) R has R̂ R̂ᵀ = P C P with P = I − M Mᵀ, and ‖R̂‖²_F = tr(P C P).
 *
 * Weights are stored [in, out] (x·W), so a layer's gradient G is [in, out] and its projection onto the
 * orthogonal complement of the input basis is G ← G − M (Mᵀ G). A layer with a bias is treated as the weight of
 * a constant input 1: its input space has dimension fanIn + 1 and the bias gradient is the last row of G.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { getBackend } from '../kernels/index.js';

/** Eigenvalues below this share of the representation's energy count as zero (float32 Gram matrices). */
export const ENERGY_FLOOR = 1e-6;

/** An orthonormal basis of part of a `dim`-dimensional input space. */
export interface Basis {
  /** Dimension of the input space (a layer's fan-in, + 1 when it has a bias). */
  readonly dim: number;
  /** Number of basis vectors (0 ≤ k ≤ dim). */
  readonly k: number;
  /** dim × k, row-major: column j is basis vector j. */
  readonly data: Float32Array;
}

/** The result of adding one representation to a basis. */
export interface BasisUpdate {
  readonly basis: Basis;
  /** Basis vectors added. */
  readonly added: number;
  /** Share of the representation's energy ‖R‖²_F that the old basis already held (0 for an empty basis). */
  readonly energyBefore: number;
  /** Share of the representation's energy that the new basis holds. */
  readonly energyAfter: number;
}

/** A basis with no vectors (nothing protected yet). */
export function emptyBasis(dim: number): Basis {
  if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`basis dimension must be a positive whole number, got ${dim}`);
  return { dim, k: 0, data: new Float32Array(0) };
}

/** A basis from stored data (a checkpoint): `data.length` must be a multiple of `dim`. */
export function basisFrom(dim: number, data: Float32Array): Basis {
  if (data.length % dim !== 0 || data.length > dim * dim) {
    throw new RangeError(`basis data of ${data.length} values does not fit a ${dim}-dimensional space`);
  }
  return { dim, k: data.length / dim, data };
}

/**
 * gram += Aᵀ A for `n` samples of dimension `dim` stored row-major in `a` (n × dim): adds the samples'
 * outer products to a running Gram matrix (dim × dim) of the representation matrix R = Aᵀ.
 */
export function accumulateGram(gram: Float32Array, a: Float32Array, n: number, dim: number): void {
  if (gram.length !== dim * dim) throw new RangeError(`Gram matrix must be ${dim}×${dim}`);
  if (a.length < n * dim) throw new RangeError(`representation has fewer than ${n}×${dim} values`);
  if (n === 0) return;
  getBackend().gemm(true, false, dim, dim, n, 1, a, a, 1, gram);
}

/** The Gram matrix R Rᵀ of a representation given as `n` rows of dimension `dim` (R = Aᵀ). */
export function representationGram(a: Float32Array, n: number, dim: number): Float32Array {
  const gram = new Float32Array(dim * dim);
  accumulateGram(gram, a, n, dim);
  return gram;
}

/**
 * The number of spectral components GPM keeps: the smallest r such that
 * (captured + Σ_{i<r} values[i]) / total ≥ threshold, with `values` sorted in decreasing order (or all of them
 * when even that falls short). With captured = 0 and total = Σ values this is the paper's Eq. 5 (first
 * context: ‖R_r‖²_F ≥ ε‖R‖²_F); with captured = ‖R‖²_F − ‖R̂‖²_F and `values` the spectrum of the projected
 * representation R̂ it is Eq. 9 (later contexts). A zero or empty representation keeps nothing.
 */
export function energyRank(values: ArrayLike<number>, total: number, captured: number, threshold: number): number {
  if (!(threshold >= 0 && threshold <= 1)) throw new RangeError(`threshold must lie in [0, 1], got ${threshold}`);
  if (!(total > 0)) return 0;
  let acc = captured / total;
  let r = 0;
  while (r < values.length && acc < threshold) {
    acc += values[r]! / total;
    r++;
  }
  return r;
}

/** Eigenvalues (decreasing, clamped at 0) and unit eigenvectors (column j of the dim × dim row-major matrix). */
export interface Spectrum {
  readonly values: Float64Array;
  readonly vectors: Float64Array;
}

/** Eigendecomposition of a symmetric dim × dim matrix (row-major), in float64. */
export function symmetricSpectrum(sym: ArrayLike<number>, dim: number): Spectrum {
  const m = Matrix.from1DArray(dim, dim, Array.from(sym));
  const evd = new EigenvalueDecomposition(m, { assumeSymmetric: true });
  const lambda = evd.realEigenvalues;
  const vec = evd.eigenvectorMatrix;
  const order = lambda.map((_, i) => i).sort((i, j) => lambda[j]! - lambda[i]!);
  const values = new Float64Array(dim);
  const vectors = new Float64Array(dim * dim);
  order.forEach((src, dst) => {
    values[dst] = Math.max(0, lambda[src]!);
    for (let i = 0; i < dim; i++) vectors[i * dim + dst] = vec.get(i, src);
  });
  return { values, vectors };
}

/**
 * Add the directions of a new representation (given by its Gram matrix C = R Rᵀ) to a basis, as GPM does after
 * each context: project out what the basis already spans (P C P, the Gram matrix of R̂ = (I − M Mᵀ) R), take
 * its eigenvectors in decreasing order of energy until the basis holds `threshold` of ‖R‖²_F (Eq. 9; for an
 * empty basis Eq. 5 on R itself), and append them. New vectors are re-orthogonalised against the basis (two
 * Gram–Schmidt passes, in float64) so that rounding never lets the stored basis drift from orthonormal;
 * a vector that is numerically inside the span already is dropped, directions without energy (below
 * `ENERGY_FLOOR` of ‖R‖²_F) are never added, and the basis never exceeds `dim` vectors.
 */
export function updateBasis(basis: Basis, gram: ArrayLike<number>, threshold: number): BasisUpdate {
  const d = basis.dim;
  if (gram.length !== d * d) throw new RangeError(`Gram matrix must be ${d}×${d}, got ${gram.length} values`);
  const c = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) c[i * d + j] = 0.5 * (gram[i * d + j]! + gram[j * d + i]!);
  }
  const total = trace(c, d);
  const m = Float64Array.from(basis.data);
  const target = basis.k === 0 ? c : projectGram(c, m, d, basis.k);
  const residual = basis.k === 0 ? total : Math.max(0, trace(target, d));
  const captured = total > 0 ? Math.max(0, total - residual) : 0;
  const energyBefore = total > 0 ? captured / total : 0;
  if (!(total > 0) || basis.k >= d) return { basis, added: 0, energyBefore, energyAfter: energyBefore };

  const { values, vectors } = symmetricSpectrum(target, d);
  // Directions with no energy (eigenvalues at the Gram matrix's float32 rounding level) are never added, even
  // when rounding keeps the running share just below a threshold of 1.
  let usable = 0;
  while (usable < d && values[usable]! > ENERGY_FLOOR * total) usable++;
  const r = energyRank(values.subarray(0, usable), total, captured, threshold);
  const cols: Float64Array[] = [];
  for (let j = 0; j < basis.k; j++) cols.push(column(m, d, basis.k, j));
  let kept = 0;
  let gained = 0;
  for (let j = 0; j < r && cols.length < d; j++) {
    const v = column(vectors, d, d, j);
    for (let pass = 0; pass < 2; pass++) {
      for (const u of cols) {
        const dot = dot64(u, v);
        for (let i = 0; i < d; i++) v[i] -= dot * u[i]!;
      }
    }
    const norm = Math.sqrt(dot64(v, v));
    // A unit eigenvector of P C P with a non-zero eigenvalue lies outside span(M); one that lost more than half
    // its length to the projection is rounding noise of a (numerically) zero eigenvalue.
    if (!(norm > 0.5)) continue;
    for (let i = 0; i < d; i++) v[i] /= norm;
    cols.push(v);
    kept++;
    gained += values[j]!;
  }
  if (kept === 0) return { basis, added: 0, energyBefore, energyAfter: energyBefore };
  const k = cols.length;
  const data = new Float32Array(d * k);
  for (let j = 0; j < k; j++) {
    const u = cols[j]!;
    for (let i = 0; i < d; i++) data[i * k + j] = u[i]!;
  }
  return { basis: { dim: d, k, data }, added: kept, energyBefore, energyAfter: Math.min(1, (captured + gained) / total) };
}

/**
 * g ← g − M (Mᵀ g) for a dim × cols gradient `g` (row-major, in place): removes the components of every column
 * of g inside span(M), so that for any input x in span(M), xᵀ(W − η g) = xᵀW. `scratch` (≥ k·cols) avoids an
 * allocation per call.
 */
export function projectOut(basis: Basis, g: Float32Array, cols: number, scratch?: Float32Array): void {
  const { dim, k, data } = basis;
  if (g.length !== dim * cols) throw new RangeError(`gradient must be ${dim}×${cols}, got ${g.length} values`);
  if (k === 0) return;
  const t = scratch !== undefined && scratch.length >= k * cols ? scratch.subarray(0, k * cols) : new Float32Array(k * cols);
  const b = getBackend();
  b.gemm(true, false, k, cols, dim, 1, data, g, 0, t);
  b.gemm(false, false, dim, cols, k, -1, data, t, 1, g);
}

/** P C P with P = I − M Mᵀ, for a symmetric d × d C and a d × k M with orthonormal columns (float64). */
function projectGram(c: Float64Array, m: Float64Array, d: number, k: number): Float64Array {
  // T = Mᵀ C (k × d); B = C − M T = P C; U = B M (d × k); P C P = B − U Mᵀ.
  const t = new Float64Array(k * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < k; j++) {
      const mij = m[i * k + j]!;
      if (mij === 0) continue;
      const row = j * d;
      const crow = i * d;
      for (let x = 0; x < d; x++) t[row + x] += mij * c[crow + x]!;
    }
  }
  const bm = c.slice();
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < k; j++) {
      const mij = m[i * k + j]!;
      if (mij === 0) continue;
      const row = i * d;
      const trow = j * d;
      for (let x = 0; x < d; x++) bm[row + x] -= mij * t[trow + x]!;
    }
  }
  const u = new Float64Array(d * k);
  for (let i = 0; i < d; i++) {
    const row = i * d;
    const urow = i * k;
    for (let x = 0; x < d; x++) {
      const b = bm[row + x]!;
      if (b === 0) continue;
      const mrow = x * k;
      for (let j = 0; j < k; j++) u[urow + j] += b * m[mrow + j]!;
    }
  }
  const out = bm;
  for (let i = 0; i < d; i++) {
    const urow = i * k;
    const row = i * d;
    for (let x = 0; x < d; x++) {
      const mrow = x * k;
      let s = 0;
      for (let j = 0; j < k; j++) s += u[urow + j]! * m[mrow + j]!;
      out[row + x] -= s;
    }
  }
  // Symmetrise away rounding.
  for (let i = 0; i < d; i++) {
    for (let j = i + 1; j < d; j++) {
      const s = 0.5 * (out[i * d + j]! + out[j * d + i]!);
      out[i * d + j] = s;
      out[j * d + i] = s;
    }
  }
  return out;
}

function trace(c: Float64Array, d: number): number {
  let s = 0;
  for (let i = 0; i < d; i++) s += c[i * d + i]!;
  return s;
}

/** Column j of a rows × cols row-major matrix, as a new float64 vector. */
function column(a: ArrayLike<number>, rows: number, cols: number, j: number): Float64Array {
  const v = new Float64Array(rows);
  for (let i = 0; i < rows; i++) v[i] = a[i * cols + j]!;
  return v;
}

function dot64(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
