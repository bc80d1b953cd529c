import { getBackend } from '../kernels/index.js';
import type { State } from '../optim/index.js';

/** Shrinkage of the shared covariance towards its mean variance: Σ + λ·(tr Σ / d)·I. */
const SHRINKAGE = 0.01;
/** Share of each batch's rows that update the shared scatter (a d×d statistic needs far fewer rows than the means). */
const SCATTER_STRIDE = 4;
/** Refactorise the covariance when the rows behind it have grown by this factor since the last factorisation. */
const REFACTOR_GROWTH = 1.5;

/**
 * Streaming linear discriminant analysis: one Gaussian per class with a shared covariance, learned from a stream
 * one batch at a time by exact running statistics (class counts and means, the pooled within-class scatter).
 * Nothing is overwritten by later data, so it does not forget: the same samples in any order give the same
 * model. No sample is kept. Logits: z_c = x·Σ⁻¹μ_c − ½·μ_cᵀΣ⁻¹μ_c (a uniform prior over the classes seen).
 *
 * Cost per batch: the class means (n·d), and a rank-(n/4) update of the d×d scatter through the backend's GEMM.
 * The Cholesky factor of Σ is recomputed when the rows behind it have grown by half (a geometric schedule:
 * about 15 factorisations over a million rows), the discriminant weights whenever a mean has changed.
 *
 * @example
 * const lda = new StreamingLda(784, 10);
 * lda.observe(batch.x, batch.y, batch.size);
 * const z = lda.logits(x, n);   // n × 10, -Infinity for classes never seen
 */
export class StreamingLda {
  private readonly counts: Float32Array;
  private readonly means: Float32Array;
  private readonly scatter: Float32Array;
  private scatterRows = 0;
  private batches = 0;
  /** Cholesky factor (lower, row-major) of the shrunk covariance, and the rows it was computed from. */
  private chol: Float32Array | null = null;
  private cholRows = 0;
  /** Discriminant weights (d × K) and biases, valid while `fresh`. */
  private readonly weights: Float32Array;
  private readonly biases: Float32Array;
  private fresh = false;
  private readonly gramF32: Float32Array;

  constructor(readonly dim: number, readonly classes: number) {
    this.counts = new Float32Array(classes);
    this.means = new Float32Array(classes * dim);
    this.scatter = new Float32Array(dim * dim);
    this.weights = new Float32Array(dim * classes);
    this.biases = new Float32Array(classes);
    this.gramF32 = new Float32Array(dim * dim);
  }

  /** Classes with at least one sample. */
  seen(): number[] {
    const out: number[] = [];
    for (let c = 0; c < this.classes; c++) if (this.counts[c]! > 0) out.push(c);
    return out;
  }

  /** Learn a batch of n rows (row-major n × dim) with their class labels. */
  observe(x: Float32Array, y: Int32Array, n: number): void {
    const d = this.dim;
    for (let r = 0; r < n; r++) {
      const c = y[r]!;
      const k = ++this.counts[c]!;
      const m = c * d;
      for (let j = 0; j < d; j++) this.means[m + j]! += (x[r * d + j]! - this.means[m + j]!) / k;
    }
    // Centred rows (against their class's running mean) for the scatter, every SCATTER_STRIDE-th row.
    const picked: number[] = [];
    for (let r = (this.batches++ % SCATTER_STRIDE); r < n; r += SCATTER_STRIDE) picked.push(r);
    if (picked.length > 0) {
      const rows = picked.length;
      const centred = new Float32Array(rows * d);
      picked.forEach((r, i) => {
        const m = y[r]! * d;
        for (let j = 0; j < d; j++) centred[i * d + j] = x[r * d + j]! - this.means[m + j]!;
      });
      getBackend().gemm(true, false, d, d, rows, 1, centred, centred, 0, this.gramF32);
      getBackend().axpby(1, this.scatter, 1, this.gramF32, this.scatter);
      this.scatterRows += rows;
    }
    this.fresh = false;
  }

  /**
   * Logits of n rows (n × classes): the log-density of each class's Gaussian up to a constant shared by the
   * classes; -Infinity for a class never seen. All -Infinity before anything is observed.
   */
  logits(x: Float32Array, n: number): Float32Array {
    const K = this.classes;
    const out = new Float32Array(n * K);
    const seen = this.seen();
    if (seen.length === 0 || this.scatterRows === 0) return out.fill(-Infinity);
    this.refresh();
    getBackend().gemm(false, false, n, K, this.dim, 1, x, this.weights, 0, out, this.biases);
    for (let c = 0; c < K; c++) if (this.counts[c] === 0) for (let r = 0; r < n; r++) out[r * K + c] = -Infinity;
    return out;
  }

  private refresh(): void {
    if (this.chol === null || this.scatterRows >= REFACTOR_GROWTH * this.cholRows) {
      this.chol = choleskyOfShrunk(this.scatter, this.scatterRows, this.dim);
      this.cholRows = this.scatterRows;
      this.fresh = false;
    }
    if (this.fresh) return;
    const d = this.dim;
    const K = this.classes;
    const w = new Float64Array(d);
    for (let c = 0; c < K; c++) {
      if (this.counts[c] === 0) continue;
      const mu = this.means.subarray(c * d, (c + 1) * d);
      choleskySolve(this.chol, mu, w, d);
      let quad = 0;
      for (let j = 0; j < d; j++) {
        this.weights[j * K + c] = w[j]!;
        quad += mu[j]! * w[j]!;
      }
      this.biases[c] = -0.5 * quad;
    }
    this.fresh = true;
  }

  /** Every statistic and the covariance factor in use, for a checkpoint (a restored model predicts alike). */
  getState(): LdaState {
    return {
      counts: this.counts.slice(), means: this.means.slice(), scatter: this.scatter.slice(),
      chol: this.chol === null ? new Float32Array(0) : this.chol.slice(),
      counters: Float32Array.from([this.scatterRows, this.batches, this.cholRows]),
    };
  }

  setState(s: LdaState): void {
    const d = this.dim;
    if (s.counts.length !== this.classes || s.means.length !== this.means.length || s.scatter.length !== d * d
      || (s.chol.length !== 0 && s.chol.length !== d * d) || s.counters.length !== 3) {
      throw new Error('checkpoint LDA statistics do not fit this model');
    }
    this.counts.set(s.counts);
    this.means.set(s.means);
    this.scatter.set(s.scatter);
    this.chol = s.chol.length === 0 ? null : s.chol.slice();
    [this.scatterRows, this.batches, this.cholRows] = [s.counters[0]!, s.counters[1]!, s.counters[2]!];
    this.fresh = false;
  }
}

/** What {@link StreamingLda.getState} saves. */
export interface LdaState {
  counts: Float32Array;
  means: Float32Array;
  scatter: Float32Array;
  chol: Float32Array;
  counters: Float32Array;
}

/** A saved {@link LdaState} read back from a checkpoint's state record; anything else is an error. */
export function ldaStateFrom(s: State): LdaState {
  const keys = ['counts', 'means', 'scatter', 'chol', 'counters'] as const;
  if (typeof s !== 'object' || s instanceof Float32Array || Array.isArray(s)) throw new Error('checkpoint lacks the LDA statistics');
  const r = s as { readonly [key: string]: State };
  const out: Partial<LdaState> = {};
  for (const k of keys) {
    const v = r[k];
    if (!(v instanceof Float32Array)) throw new Error(`checkpoint LDA statistic ${k} is missing`);
    out[k] = v;
  }
  return out as LdaState;
}

/** Lower Cholesky factor (row-major) of S/rows + λ·(tr/d)·I. */
function choleskyOfShrunk(scatter: Float32Array, rows: number, d: number): Float32Array {
  // Factorised in double, stored in float32 (so that a checkpoint holds exactly the factor in use).
  const a = new Float64Array(d * d);
  let trace = 0;
  for (let i = 0; i < d; i++) trace += scatter[i * d + i]!;
  const inv = 1 / rows;
  const ridge = SHRINKAGE * (trace * inv / d) + 1e-12;
  for (let i = 0; i < d * d; i++) a[i] = scatter[i]! * inv;
  for (let i = 0; i < d; i++) a[i * d + i]! += ridge;
  // In-place Cholesky–Banachiewicz, row by row.
  for (let i = 0; i < d; i++) {
    const ri = i * d;
    for (let j = 0; j <= i; j++) {
      const rj = j * d;
      let s = a[ri + j]!;
      for (let k = 0; k < j; k++) s -= a[ri + k]! * a[rj + k]!;
      a[ri + j] = i === j ? Math.sqrt(Math.max(s, 1e-300)) : s / a[rj + j]!;
    }
    for (let j = i + 1; j < d; j++) a[ri + j] = 0;
  }
  return Float32Array.from(a);
}

/** Solve (L·Lᵀ) w = b for w. */
function choleskySolve(l: Float32Array, b: Float32Array, w: Float64Array, d: number): void {
  for (let i = 0; i < d; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i * d + k]! * w[k]!;
    w[i] = s / l[i * d + i]!;
  }
  for (let i = d - 1; i >= 0; i--) {
    let s = w[i]!;
    for (let k = i + 1; k < d; k++) s -= l[k * d + i]! * w[k]!;
    w[i] = s / l[i * d + i]!;
  }
}
