import type { FusedKernels } from './fused.js';

/**
 * The narrow interface every numerical backend implements: primitives that every op composes (GEMM,
 * elementwise maps, reductions, log-softmax, normals), and the declared fused kernels of `fused.ts`, each
 * kept as one kernel for a stated reason. All arrays are dense, row-major float32;
 * `Float32Array` views with a byte offset are allowed everywhere. The portable backend defines what each
 * kernel means (including NaN / ±Infinity behaviour); other backends are tested against it.
 *
 * Subnormal floats: a backend may treat subnormal inputs as ±0 and flush subnormal results to ±0 (the native
 * backend does: denormal arithmetic is ~100× slower on x86 and long training runs produce it).
 *
 * Convention: kernels write their whole output (`out`) unless the name says `accumulate` / the doc says `+=`.
 * `out` may alias an input only where the doc says so.
 */

/** Pointwise activations that have a fused forward and backward kernel. */
export type Activation = 'relu' | 'sigmoid' | 'tanh' | 'gelu';

/** Pointwise unary maps (forward only; their gradients are composed from other kernels). */
export type UnaryMap = Activation | 'exp' | 'log' | 'neg' | 'square' | 'sqrt';

/** Elementwise binary maps on equal-length arrays. */
export type BinaryMap = 'add' | 'sub' | 'mul' | 'div';

/** Which GEMM implementation a backend runs. */
export type BlasKind = 'openblas' | 'builtin' | 'js';

/** A backend: the primitives below, plus the fused kernels ({@link FusedKernels}) it also implements. */
export interface Backend extends FusedKernels {
  readonly name: 'portable' | 'native';
  readonly blas: BlasKind;

  /** Threads used by GEMM (and any threaded kernel). */
  setThreads(n: number): void;
  getThreads(): number;

  /**
   * C = alpha · op(A) · op(B) + beta · C, with op(A) of shape m×k and op(B) of shape k×n; all row-major and
   * contiguous: A is m×k (or k×m when transA), B is k×n (or n×k when transB), C is m×n.
   * beta = 0 means C is overwritten (its old contents, even NaN, are ignored). `bias` (n values), when given,
   * is then added to every row of C, with the rounding of `addRowVector` after the product (a layer's
   * x·W + b in one pass over C).
   */
  gemm(
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    alpha: number, a: Float32Array, b: Float32Array, beta: number, c: Float32Array, bias?: Float32Array | null,
  ): void;

  /** out[i] = f(x[i]). `out` may alias `x`. */
  unary(op: UnaryMap, x: Float32Array, out: Float32Array): void;

  /** out[i] = a[i] ∘ b[i]. `out` may alias `a` or `b`. */
  binary(op: BinaryMap, a: Float32Array, b: Float32Array, out: Float32Array): void;

  /**
   * Backward of an activation: gx[i] = gy[i] · f'(x[i]), where y = f(x) is also given so that sigmoid / tanh
   * need no recomputation. `gx` may alias `gy`.
   */
  activationBackward(op: Activation, x: Float32Array, y: Float32Array, gy: Float32Array, gx: Float32Array): void;

  /** out = alpha · x + beta · y (elementwise); `out` may alias x or y. */
  axpby(alpha: number, x: Float32Array, beta: number, y: Float32Array, out: Float32Array): void;

  /** out[r, c] = x[r, c] + v[c] for a rows×cols matrix and a cols vector; `out` may alias `x`. */
  addRowVector(x: Float32Array, v: Float32Array, rows: number, cols: number, out: Float32Array): void;

  /** out[c] = Σ_r x[r, c] (column sums of a rows×cols matrix). */
  sumColumns(x: Float32Array, rows: number, cols: number, out: Float32Array): void;

  /** Σ x[i], accumulated in double precision. */
  sum(x: Float32Array): number;

  /**
   * Row-wise log-softmax of a rows×cols matrix. Entries equal to -Infinity (masked logits) give -Infinity,
   * and a row that is entirely -Infinity gives NaN. `out` may alias `x`.
   */
  logSoftmax(x: Float32Array, rows: number, cols: number, out: Float32Array): void;

  /**
   * Standard normals by Box–Muller from a xoshiro128** stream whose four state words are `state` (advanced in
   * place), two per pair: u₁ = next()/2³² (drawn again while 0), u₂ = next()/2³², r = √(−2·ln u₁), θ = 2π·u₂,
   * out[2i] = r·cos θ, out[2i+1] = r·sin θ, in double, stored in out's precision. out.length must be even.
   * These are `Rng.fillNormal`'s values (a native backend's C library may differ from V8's in the last bit of
   * a double).
   */
  normalPairs(state: Uint32Array, out: Float32Array | Float64Array): void;
}
