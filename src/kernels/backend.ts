/**
 * The narrow interface every numerical backend implements. All arrays are dense, row-major float32;
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

export interface AdamHyper {
  beta1: number;
  beta2: number;
  eps: number;
  /** 1-based step count, used for bias correction */
  step: number;
}

/** The scalars of {@link Backend.pathIntegralAdvance}. */
export interface PathIntegralHyper {
  /** Index of the update being recorded: written to `lastChange` where the pending change is significant. */
  step: number;
  /** A change d is significant when |d| > rtol·|prev| + atol. */
  rtol: number;
  atol: number;
  /** Whether `prev` / `prevGrad` hold a step whose change is not yet integrated into ω. */
  pending: boolean;
}

/**
 * The scalars of {@link Backend.synapseAdamStep}: those of the kernels it fuses. The two step counts differ in
 * general: `path.step` is the importance source's update count, `adam.step` Adam's (1-based).
 */
export interface SynapseAdamHyper {
  path: PathIntegralHyper;
  adam: AdamHyper;
  /** viscousScale's c (read only when an importance array is given). */
  c: number;
  /** The learning rate: the update is scaled by −lr. */
  lr: number;
}

export interface Backend {
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
   * Fused softmax cross-entropy with hard labels on logits / temperature T.
   * Returns the summed loss Σ_r −log softmax(x_r/T)[label_r] and writes
   * grad[r, c] = scale · (softmax(x_r/T)[c] − [c = label_r]) / T, the gradient of scale·loss w.r.t. x.
   * -Infinity logits (masked) get probability 0 and gradient 0.
   */
  softmaxCrossEntropy(
    x: Float32Array, labels: Int32Array, rows: number, cols: number, temperature: number,
    scale: number, grad: Float32Array,
  ): number;

  /**
   * Fused softmax cross-entropy with soft targets p (rows of a distribution; entries where p = 0 contribute 0
   * even if the logit is masked): loss = Σ_r Σ_c −p[r,c] · log softmax(x_r/T)[c];
   * grad[r, c] = scale · (softmax(x_r/T)[c] − p[r, c]) / T.
   */
  softCrossEntropy(
    x: Float32Array, targets: Float32Array, rows: number, cols: number, temperature: number,
    scale: number, grad: Float32Array,
  ): number;

  /**
   * Binary cross-entropy of sigmoid(z) against targets x ∈ [0, 1] (a Bernoulli decoder's reconstruction loss),
   * from the logits without forming log σ: loss = Σ_i softplus(z_i) − x_i·z_i; grad[i] = scale · (σ(z_i) − x_i).
   */
  sigmoidBce(z: Float32Array, x: Float32Array, scale: number, grad: Float32Array): number;

  /**
   * Adam's moment update and direction, PyTorch's form, in place on the moments:
   * m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  out = (m / (1−β1^t)) / (sqrt(v / (1−β2^t)) + eps).
   * The learning rate and sign are applied by later transformations. `out` may alias `g`.
   */
  adamDirection(g: Float32Array, m: Float32Array, v: Float32Array, h: AdamHyper, out: Float32Array): void;

  /**
   * Synaptic Intelligence's online path-integral step, in place over n = theta.length elements (the other arrays
   * have at least n; only their first n are touched). When `h.pending`, for every j: d = θ_j − prev_j;
   * ω_j ← ω_j − prevGrad_j·d; lastChange_j ← h.step where |d| > rtol·|prev_j| + atol (NaN is never
   * significant). Then, pending or not: prev ← θ, prevGrad ← g (zeros when g is null). Arithmetic in double,
   * stored in float32. The arrays must not overlap, except that g may be prevGrad itself.
   */
  pathIntegralAdvance(
    theta: Float32Array, prev: Float32Array, prevGrad: Float32Array, omega: Float32Array, lastChange: Float32Array,
    g: Float32Array | null, h: PathIntegralHyper,
  ): void;

  /**
   * Viscous scaling, in place over n = u.length elements: u_j ← u_j / (1 + c·Ω_j) where Ω_j > 0, u_j unchanged
   * elsewhere (Ω ≤ 0 or NaN). Arithmetic in double, stored in float32.
   */
  viscousScale(u: Float32Array, importance: Float32Array, c: number): void;

  /**
   * The sleep optimiser's whole step on one parameter tensor θ (n = theta.length elements), in one pass over
   * memory. Bit for bit the same as this backend's
   *   pathIntegralAdvance(theta, prev, prevGrad, omega, lastChange, g, h.path);
   *   adamDirection(g, m, v, h.adam, u);
   *   viscousScale(u, importance, h.c);      // only when importance is not null
   *   axpby(−h.lr, u, 0, u, u);              // scaleByLearningRate
   *   axpby(1, theta, 1, u, theta);          // applyUpdates
   * for any thread count, where u, the applied update, is written to `out` (which may be `g` itself) or, when
   * `out` is null, kept nowhere. The other arrays have at least n elements; only their first n are touched.
   * The arrays must not overlap, except that `out` may be `g`.
   */
  synapseAdamStep(
    theta: Float32Array, prev: Float32Array, prevGrad: Float32Array, omega: Float32Array, lastChange: Float32Array,
    g: Float32Array, m: Float32Array, v: Float32Array, importance: Float32Array | null, h: SynapseAdamHyper,
    out: Float32Array | null,
  ): void;

  /**
   * Standard normals by Box–Muller from a xoshiro128** stream whose four state words are `state` (advanced in
   * place), two per pair: u₁ = next()/2³² (drawn again while 0), u₂ = next()/2³², r = √(−2·ln u₁), θ = 2π·u₂,
   * out[2i] = r·cos θ, out[2i+1] = r·sin θ, in double, stored in out's precision. out.length must be even.
   * These are `Rng.fillNormal`'s values (a native backend's C library may differ from V8's in the last bit of
   * a double).
   */
  normalPairs(state: Uint32Array, out: Float32Array | Float64Array): void;

  /**
   * Mixture log-density of the rows of z (n×d) under k diagonal Gaussian modes (means and logvars, k×d) with
   * per-row weights (n×k; a weight ≤ 0 leaves the mode out): returns Σ_r log Σ_m w[r,m]·N(z_r; μ_m, e^{logvar_m})
   * (log-sum-exp) and writes the responsibilities resp[r,m] = w·N_m / Σ_m' w·N_m' (0 for absent modes).
   * Arithmetic in double, each row's sum over dimensions in order.
   */
  mixtureLogDensity(
    z: Float32Array, means: Float32Array, logvars: Float32Array, weights: Float32Array, n: number, k: number,
    d: number, resp: Float32Array,
  ): number;

  /**
   * g times the gradient of `mixtureLogDensity` from its responsibilities, written (overwritten) into gz (n×d),
   * gm and gl (k×d) where not null: ∂/∂z_r = −Σ_m ρ_rm (z_r−μ_m)/σ_m², ∂/∂μ_m = Σ_r ρ_rm (z_r−μ_m)/σ_m²,
   * ∂/∂logvar_m = Σ_r ½ρ_rm ((z_r−μ_m)²/σ_m² − 1); accumulated in float32 over m (for gz) and r (gm, gl) in order.
   */
  mixtureLogDensityBackward(
    z: Float32Array, means: Float32Array, logvars: Float32Array, resp: Float32Array, g: number, n: number, k: number,
    d: number, gz: Float32Array | null, gm: Float32Array | null, gl: Float32Array | null,
  ): void;
}
