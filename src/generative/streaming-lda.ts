import { Rng } from '../core/index.js';
import { getBackend } from '../kernels/index.js';
import { maskedSoftmax } from '../nn/index.js';
import type { State } from '../optim/index.js';

/** Shrinkage of the shared covariance towards its mean variance: Σ + λ·(tr Σ / d)·I. */
const SHRINKAGE = 0.01;
/**
 * One row in this many of the stream (drawn by a hash of its position) updates the statistics. A stream
 * shows each class far more often than its statistics need; one row in sixteen keeps the cost a fraction of a
 * network's step.
 */
const ROW_STRIDE = 16;
/**
 * Centred rows wait in a buffer until this many have come, and then update the d×d scatter in one GEMM (a
 * rank-16 update of a matrix that does not fit in cache would cost its memory traffic every batch).
 */
const FLUSH_ROWS = 128;
/**
 * Conjugate-gradient steps on Σ·W = Mᵀ, preconditioned by Σ⁻¹ as it was when last computed: one after every
 * update of the scatter keeps the learner's W tracking statistics that change a little at a time (the temperature
 * is calibrated against that W). Answers come from a separate solve, warm-started from it, that goes on until every
 * class's relative residual is below SOLVE_TOLERANCE.
 */
const TRACKING_STEPS = 1;
const MAX_STEPS = 300;
const SOLVE_TOLERANCE = 1e-4;
/** The preconditioner Σ⁻¹ is recomputed when the rows behind Σ have grown eightfold since it was. */
const PRECONDITIONER_GROWTH = 8;
/** Step size and range of the temperature's log (τ from e^-2 to e^4). */
const TAU_RATE = 0.01;
const LOG_TAU_MIN = -2;
const LOG_TAU_MAX = 4;

/**
 * A fixed random feature map: φ(x) = max(0, x·R), R drawn once from N(0, 1/inputs) with its own seed. Linear
 * discriminants on such features separate what a linear rule on the raw inputs cannot (the map is never trained,
 * so it never drifts and the statistics on it stay valid for the whole stream).
 */
export interface RandomFeatures {
  count: number;
  seed: number;
}

/**
 * Streaming linear discriminant analysis: one Gaussian per class with a shared covariance, learned from a stream
 * one batch at a time by exact running statistics (class counts and means, the pooled within-class scatter), on
 * the raw inputs or on a fixed random feature map of them. Nothing is overwritten by later data, so it does not
 * forget: the order of the samples does not matter. No sample is kept. Logits:
 * z_c = φ·Σ⁻¹μ_c − ½·μ_cᵀΣ⁻¹μ_c (a uniform prior over the classes seen).
 *
 * Those logits are far too confident (the Gaussians are a crude model of the data), so the memory also keeps
 * a temperature τ, calibrated prequentially: each batch's rows are first scored, one gradient step on log τ
 * lowers the NLL of their labels under softmax(z/τ), and only then are they learnt. softmax(z/τ) is the
 * calibrated posterior ({@link StreamingLda.temperature}).
 *
 * Cost, on one row in {@link ROW_STRIDE} of each batch: the feature map (a GEMM), the class means, and for every
 * {@link FLUSH_ROWS} such rows a rank update of the d×d scatter (a GEMM) and one warm-started conjugate-gradient
 * step on the discriminant weights W = Σ⁻¹·Mᵀ (GEMMs of d×d by d×K), so that W tracks every row seen. Their
 * preconditioner, Σ⁻¹ itself as it was when the rows behind it were up to eight times fewer (Cholesky, then the
 * explicit inverse: four over a Split MNIST stream), makes a few steps enough however ill-conditioned
 * Σ is. {@link StreamingLda.logits} answers from W solved to tolerance on a copy (cached until the statistics
 * change), so asking never changes what the memory learns.
 *
 * @example
 * const lda = new StreamingLda(784, 10, { count: 1000, seed: 1 });
 * lda.observe(batch.x, batch.y, batch.size);
 * const z = lda.logits(x, n);   // n × 10, -Infinity for classes never seen
 */
export class StreamingLda {
  /** Size of the space the Gaussians live in: the feature count, or the input size without features. */
  readonly dim: number;
  private readonly projection: Float32Array | null;
  private readonly counts: Float32Array;
  private readonly means: Float32Array;
  private readonly scatter: Float32Array;
  private scatterRows = 0;
  /** Centred rows not yet in the scatter (FLUSH_ROWS × d), and how many. */
  private readonly pending: Float32Array;
  private pendingRows = 0;
  /** Rows offered so far: row i of the stream is learnt when a hash of i says so (a state-free, pattern-free draw). */
  private rowsSeen = 0;
  /** Discriminant weights W (d × K), tracking the statistics a step behind, and their biases. */
  private readonly weights: Float32Array;
  private readonly biases: Float32Array;
  /** Changes of the statistics so far, and W solved to tolerance at one of them (what answers use). */
  private version = 0;
  private answer: { version: number; weights: Float32Array; biases: Float32Array } | null = null;
  /** Σ⁻¹ as last computed (the solver's preconditioner), and the rows it was computed from. */
  private preconditioner: Float32Array | null = null;
  private preconditionerRows = 0;
  private logTau = 0;

  constructor(readonly inputs: number, readonly classes: number, readonly features: RandomFeatures | null = null) {
    this.dim = features === null ? inputs : features.count;
    const d = this.dim;
    this.projection = features === null ? null : randomProjection(inputs, features);
    this.counts = new Float32Array(classes);
    this.means = new Float32Array(classes * d);
    this.scatter = new Float32Array(d * d);
    this.weights = new Float32Array(d * classes);
    this.biases = new Float32Array(classes);
    this.pending = new Float32Array(FLUSH_ROWS * d);
  }

  /** τ of the calibrated posterior softmax(z/τ). */
  get temperature(): number {
    return Math.exp(this.logTau);
  }

  /** Numbers the memory holds (class counts and means, scatter, discriminant weights; the fixed map is a seed). */
  get size(): number {
    return this.counts.length + this.means.length + this.scatter.length + this.weights.length + this.biases.length;
  }

  /** Classes with at least one sample. */
  seen(): number[] {
    const out: number[] = [];
    for (let c = 0; c < this.classes; c++) if (this.counts[c]! > 0) out.push(c);
    return out;
  }

  /**
   * Test, then learn a batch of n rows (row-major n × inputs) with their class labels: the rows first calibrate
   * τ (over the outputs `mask` leaves each row, n × classes, or every class seen), then update the statistics.
   */
  observe(x: Float32Array, y: Int32Array, n: number, mask: Uint8Array | null = null): void {
    const picked: number[] = [];
    for (let r = 0; r < n; r++) if (rowHash(this.rowsSeen + r) % ROW_STRIDE === 0) picked.push(r);
    this.rowsSeen += n;
    if (picked.length === 0) return;
    const rows = picked.length;
    const p = inputsOf(x, picked, this.inputs);
    const f = this.map(p, rows);
    const d = this.dim;
    // τ is calibrated against the tracking W (at most one update of the scatter behind the statistics).
    if (this.seen().length > 1) this.calibrate(f, picked, y, mask);
    const scattered = this.scatterRows;
    for (let i = 0; i < rows; i++) {
      if (this.pendingRows === FLUSH_ROWS) this.flush();
      // Centred against its class's running mean, updated first: with δ = φ − μ_old, μ += δ/k and the row is
      // φ − μ_new = δ·(1 − 1/k).
      const c = y[picked[i]!]!;
      const k = ++this.counts[c]!;
      const mean = this.means.subarray(c * d, (c + 1) * d);
      const row = f.subarray(i * d, (i + 1) * d);
      const o = this.pendingRows++ * d;
      const centred = this.pending.subarray(o, o + d);
      const step = 1 / k;
      const keep = 1 - step;
      for (let j = 0; j < d; j++) {
        const delta = row[j]! - mean[j]!;
        mean[j]! += delta * step;
        centred[j] = delta * keep;
      }
    }
    if (this.pendingRows === FLUSH_ROWS) this.flush();
    this.version++;
    if (this.scatterRows !== scattered) this.track();
  }

  /** The buffered centred rows into the scatter. */
  private flush(): void {
    this.addPending(this.scatter);
    this.scatterRows += this.pendingRows;
    this.pendingRows = 0;
  }

  /** target += the buffered rows' scatter (PᵀP). */
  private addPending(target: Float32Array): void {
    const d = this.dim;
    getBackend().gemm(true, false, d, d, this.pendingRows, 1, this.pending, this.pending, 1, target);
  }

  /** TRACKING_STEPS steps of W towards the statistics in the scatter (recomputing the preconditioner when due). */
  private track(): void {
    const n = this.scatterRows;
    const ridge = ridgeOf(this.scatter, n, this.dim);
    if (this.preconditioner === null || n >= PRECONDITIONER_GROWTH * this.preconditionerRows) {
      this.preconditioner = inverseOfShrunk(this.scatter, n, ridge, this.dim);
      this.preconditionerRows = n;
    }
    const system = { scatter: this.scatter, rows: n, ridge, preconditioner: this.preconditioner };
    conjugateGradients(system, this.means, this.counts, this.weights, TRACKING_STEPS);
    biasesOf(this.means, this.weights, this.biases);
  }

  /** One gradient step on log τ of the mean NLL of the rows' labels under softmax(z/τ). */
  private calibrate(f: Float32Array, picked: readonly number[], y: Int32Array, mask: Uint8Array | null): void {
    const K = this.classes;
    const z = this.discriminants(f, picked.length, this.weights, this.biases);
    const rows = picked.length;
    const inPlay = new Uint8Array(rows * K);
    picked.forEach((r, i) => {
      for (let k = 0; k < K; k++) inPlay[i * K + k] = this.counts[k]! > 0 && (mask === null || mask[r * K + k] === 1) ? 1 : 0;
    });
    const tau = this.temperature;
    const p = maskedSoftmax(z, inPlay, rows, K, tau);
    // d NLL / d log τ of a row = (z_label − Σ_k p_k·z_k) / τ.
    let grad = 0;
    let used = 0;
    for (let i = 0; i < rows; i++) {
      const label = y[picked[i]!]!;
      if (inPlay[i * K + label] === 0) continue;
      let mean = 0;
      for (let k = 0; k < K; k++) if (inPlay[i * K + k] === 1) mean += p[i * K + k]! * z[i * K + k]!;
      grad += (z[i * K + label]! - mean) / tau;
      used++;
    }
    if (used > 0) this.logTau = Math.fround(Math.min(LOG_TAU_MAX, Math.max(LOG_TAU_MIN, this.logTau - (TAU_RATE * grad) / used)));
  }

  /**
   * Logits of n rows (n × classes): the log-density of each class's Gaussian up to a constant shared by the
   * classes; -Infinity for a class never seen. All -Infinity before anything is observed. Reads the memory
   * without changing it.
   */
  logits(x: Float32Array, n: number): Float32Array {
    const K = this.classes;
    const out = new Float32Array(n * K);
    if (this.seen().length === 0) return out.fill(-Infinity);
    const { weights, biases } = this.solution();
    const z = this.discriminants(this.map(x, n), n, weights, biases);
    for (let c = 0; c < K; c++) if (this.counts[c] === 0) for (let r = 0; r < n; r++) z[r * K + c] = -Infinity;
    return z;
  }

  /**
   * W solved to tolerance for every statistic seen, the buffered rows included, from a copy of the tracking W;
   * kept until the statistics change.
   */
  private solution(): { weights: Float32Array; biases: Float32Array } {
    if (this.answer?.version === this.version) return this.answer;
    const d = this.dim;
    let scatter = this.scatter;
    if (this.pendingRows > 0) {
      scatter = this.scatter.slice();
      this.addPending(scatter);
    }
    const rows = this.scatterRows + this.pendingRows;
    const ridge = ridgeOf(scatter, rows, d);
    const preconditioner = this.preconditioner ?? inverseOfShrunk(scatter, rows, ridge, d);
    const weights = this.weights.slice();
    const biases = new Float32Array(this.classes);
    conjugateGradients({ scatter, rows, ridge, preconditioner }, this.means, this.counts, weights, MAX_STEPS);
    biasesOf(this.means, weights, biases);
    this.answer = { version: this.version, weights, biases };
    return this.answer;
  }

  /** φ·W + b for n rows of features. */
  private discriminants(f: Float32Array, n: number, weights: Float32Array, biases: Float32Array): Float32Array {
    const out = new Float32Array(n * this.classes);
    getBackend().gemm(false, false, n, this.classes, this.dim, 1, f, weights, 0, out, biases);
    return out;
  }

  /** φ of n rows: the inputs themselves without features. */
  private map(x: Float32Array, n: number): Float32Array {
    if (this.projection === null) return x.slice(0, n * this.inputs);
    const f = new Float32Array(n * this.dim);
    getBackend().gemm(false, false, n, this.dim, this.inputs, 1, x, this.projection, 0, f);
    getBackend().unary('relu', f, f);
    return f;
  }

  /** Every statistic and the discriminant weights in use, for a checkpoint (a restored model predicts alike). */
  getState(): LdaState {
    return {
      counts: this.counts.slice(), means: this.means.slice(), scatter: this.scatter.slice(),
      weights: this.weights.slice(),
      pending: this.pending.slice(0, this.pendingRows * this.dim),
      preconditioner: this.preconditioner === null ? new Float32Array(0) : this.preconditioner.slice(),
      counters: Float32Array.from([this.scatterRows, this.rowsSeen, this.logTau, this.preconditionerRows]),
    };
  }

  setState(s: LdaState): void {
    const d = this.dim;
    if (s.counts.length !== this.classes || s.means.length !== this.means.length || s.scatter.length !== d * d
      || s.weights.length !== this.weights.length || s.pending.length > this.pending.length || s.pending.length % d !== 0
      || (s.preconditioner.length !== 0 && s.preconditioner.length !== d * d)
      || s.counters.length !== 4) {
      throw new Error('checkpoint LDA statistics do not fit this model');
    }
    this.counts.set(s.counts);
    this.means.set(s.means);
    this.scatter.set(s.scatter);
    this.weights.set(s.weights);
    this.pending.set(s.pending);
    this.pendingRows = s.pending.length / d;
    [this.scatterRows, this.rowsSeen, this.logTau, this.preconditionerRows] = [s.counters[0]!, s.counters[1]!, s.counters[2]!, s.counters[3]!];
    this.preconditioner = s.preconditioner.length === 0 ? null : s.preconditioner.slice();
    biasesOf(this.means, this.weights, this.biases);
    this.answer = null;
  }
}

/** What {@link StreamingLda.getState} saves. */
export interface LdaState {
  counts: Float32Array;
  means: Float32Array;
  scatter: Float32Array;
  weights: Float32Array;
  pending: Float32Array;
  preconditioner: Float32Array;
  counters: Float32Array;
}

/** A saved {@link LdaState} read back from a checkpoint's state record; anything else is an error. */
export function ldaStateFrom(s: State): LdaState {
  const keys = ['counts', 'means', 'scatter', 'weights', 'pending', 'preconditioner', 'counters'] as const;
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

/** Σ = scatter/rows + ridge·I as the solver sees it, with the preconditioner it uses. */
interface ShrunkSystem {
  scatter: Float32Array;
  rows: number;
  ridge: number;
  preconditioner: Float32Array;
}

/** Shrinkage of Σ = scatter/rows towards its mean variance: λ·tr Σ / d. */
function ridgeOf(scatter: Float32Array, rows: number, d: number): number {
  let trace = 0;
  for (let i = 0; i < d; i++) trace += scatter[i * d + i]!;
  return SHRINKAGE * (trace / rows / d) + 1e-12;
}

/**
 * Preconditioned conjugate gradients on Σ·w_c = μ_c for every class seen, from the given W (d × K, updated in
 * place), for at most `steps` steps or until each relative residual is below SOLVE_TOLERANCE. Classes never seen
 * keep w_c = 0.
 */
function conjugateGradients(sys: ShrunkSystem, means: Float32Array, counts: Float32Array, W: Float32Array, steps: number): void {
  const K = counts.length;
  const d = W.length / K;
  const apply = (v: Float32Array, out: Float32Array): void => {
    getBackend().gemm(false, false, d, K, d, 1 / sys.rows, sys.scatter, v, 0, out);
    for (let i = 0; i < out.length; i++) out[i]! += sys.ridge * v[i]!;
  };
  const r = new Float32Array(d * K);
  apply(W, r);
  // r = Mᵀ − Σ·W, column c for class c.
  const live: number[] = [];
  const target = new Float64Array(K);
  for (let c = 0; c < K; c++) {
    if (counts[c] === 0) continue;
    live.push(c);
    for (let j = 0; j < d; j++) {
      const m = means[c * d + j]!;
      r[j * K + c] = m - r[j * K + c]!;
      target[c]! += m * m;
    }
  }
  const z = new Float32Array(d * K);
  const p = new Float32Array(d * K);
  const q = new Float32Array(d * K);
  const rz = new Float64Array(K);
  const precondition = (): void => getBackend().gemm(false, false, d, K, d, 1, sys.preconditioner, r, 0, z);
  const columnDot = (a: Float32Array, b: Float32Array, c: number): number => {
    let sum = 0;
    for (let j = 0; j < d; j++) sum += a[j * K + c]! * b[j * K + c]!;
    return sum;
  };
  const unsolved = (c: number): boolean => columnDot(r, r, c) > SOLVE_TOLERANCE ** 2 * target[c]!;
  let active = live.filter(unsolved);
  if (active.length === 0) return;
  precondition();
  p.set(z);
  for (const c of live) rz[c] = columnDot(r, z, c);
  for (let step = 0; step < steps && active.length > 0; step++) {
    apply(p, q);
    for (const c of active) {
      const alpha = rz[c]! / columnDot(p, q, c);
      for (let j = 0; j < d; j++) {
        W[j * K + c]! += alpha * p[j * K + c]!;
        r[j * K + c]! -= alpha * q[j * K + c]!;
      }
    }
    active = active.filter(unsolved);
    if (active.length === 0 || step + 1 === steps) break;
    precondition();
    for (const c of active) {
      const next = columnDot(r, z, c);
      const beta = next / rz[c]!;
      rz[c] = next;
      for (let j = 0; j < d; j++) p[j * K + c] = z[j * K + c]! + beta * p[j * K + c]!;
    }
  }
}

/** b_c = −½·μ_c·w_c. */
function biasesOf(means: Float32Array, W: Float32Array, biases: Float32Array): void {
  const K = biases.length;
  const d = W.length / K;
  for (let c = 0; c < K; c++) {
    let quad = 0;
    for (let j = 0; j < d; j++) quad += means[c * d + j]! * W[j * K + c]!;
    biases[c] = -0.5 * quad;
  }
}

function randomProjection(inputs: number, f: RandomFeatures): Float32Array {
  const rng = new Rng(f.seed);
  const r = new Float32Array(inputs * f.count);
  const s = 1 / Math.sqrt(inputs);
  for (let i = 0; i < r.length; i++) r[i] = rng.normal() * s;
  return r;
}

/** A 32-bit integer hash (lowbias32) of a row's position in the stream. */
function rowHash(i: number): number {
  let h = i >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

function inputsOf(x: Float32Array, rows: readonly number[], d: number): Float32Array {
  const out = new Float32Array(rows.length * d);
  rows.forEach((r, i) => out.set(x.subarray(r * d, (r + 1) * d), i * d));
  return out;
}

/**
 * (S/rows + ridge·I)⁻¹: Cholesky L in double, L⁻¹ row by row, then L⁻ᵀ·L⁻¹ through the GEMM; in float32 (so that a
 * checkpoint holds exactly the matrix in use).
 */
function inverseOfShrunk(scatter: Float32Array, rows: number, ridge: number, d: number): Float32Array {
  const a = new Float64Array(d * d);
  for (let i = 0; i < d * d; i++) a[i] = scatter[i]! / rows;
  for (let i = 0; i < d; i++) a[i * d + i]! += ridge;
  // In-place Cholesky–Banachiewicz, row by row (lower triangle).
  for (let i = 0; i < d; i++) {
    const ri = i * d;
    for (let j = 0; j <= i; j++) {
      const rj = j * d;
      let s = a[ri + j]!;
      for (let k = 0; k < j; k++) s -= a[ri + k]! * a[rj + k]!;
      a[ri + j] = i === j ? Math.sqrt(Math.max(s, 1e-300)) : s / a[rj + j]!;
    }
  }
  // L⁻¹ (lower), row by row: row i = −(Σ_{k<i} L_ik·row k of L⁻¹) / L_ii, and 1/L_ii on the diagonal.
  const li = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    const ri = i * d;
    for (let k = 0; k < i; k++) {
      const coef = a[ri + k]!;
      const rk = k * d;
      for (let j = 0; j <= k; j++) li[ri + j]! -= coef * li[rk + j]!;
    }
    const diag = a[ri + i]!;
    for (let j = 0; j < i; j++) li[ri + j]! /= diag;
    li[ri + i] = 1 / diag;
  }
  const l32 = Float32Array.from(li);
  const out = new Float32Array(d * d);
  getBackend().gemm(true, false, d, d, d, 1, l32, l32, 0, out);
  return out;
}
