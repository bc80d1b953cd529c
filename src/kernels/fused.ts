/**
 * Fused kernels: composites of the primitives (backend.ts) that every backend also implements as one kernel,
 * because the composed form costs extra passes over memory or buffers that a profile showed matter (each says
 * why below). They are algorithms of the layers above — losses, Adam, the synapse state, the VAE's mixture
 * prior — declared here so that the primitive interface stays small; the portable backend's versions define
 * their meaning and the native ones are tested against them (native.test.ts).
 *
 * @example
 * const b = getBackend();
 * const loss = b.softmaxCrossEntropy(logits, labels, rows, cols, 1, 1 / rows, grad);
 */

/** The scalars of {@link FusedKernels.adamDirection}. */
export interface AdamHyper {
  beta1: number;
  beta2: number;
  eps: number;
  /** 1-based step count, used for bias correction */
  step: number;
}

/** The scalars of {@link FusedKernels.pathIntegralAdvance}. */
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
 * The scalars of {@link FusedKernels.synapseAdamStep}: those of the kernels it fuses. The two step counts
 * differ in general: `path.step` is the importance source's update count, `adam.step` Adam's (1-based).
 */
export interface SynapseAdamHyper {
  path: PathIntegralHyper;
  adam: AdamHyper;
  /** viscousScale's c (read only when an importance array is given). */
  c: number;
  /** The learning rate: the update is scaled by −lr. */
  lr: number;
}

/** The fused kernels every backend implements beside its primitives. */
export interface FusedKernels {
  /**
   * Fused softmax cross-entropy with hard labels on logits / temperature T.
   * Returns the summed loss Σ_r −log softmax(x_r/T)[label_r] and writes
   * grad[r, c] = scale · (softmax(x_r/T)[c] − [c = label_r]) / T, the gradient of scale·loss w.r.t. x.
   * -Infinity logits (masked) get probability 0 and gradient 0.
   * Why fused: loss and gradient in one pass over the logits (composed: four passes and a probability buffer).
   */
  softmaxCrossEntropy(
    x: Float32Array, labels: Int32Array, rows: number, cols: number, temperature: number,
    scale: number, grad: Float32Array,
  ): number;

  /**
   * Fused softmax cross-entropy with soft targets p (rows of a distribution; entries where p = 0 contribute 0
   * even if the logit is masked): loss = Σ_r Σ_c −p[r,c] · log softmax(x_r/T)[c];
   * grad[r, c] = scale · (softmax(x_r/T)[c] − p[r, c]) / T.
   * Why fused: loss and gradient in one pass over logits and targets (composed: four passes and a buffer).
   */
  softCrossEntropy(
    x: Float32Array, targets: Float32Array, rows: number, cols: number, temperature: number,
    scale: number, grad: Float32Array,
  ): number;

  /**
   * Binary cross-entropy of sigmoid(z) against targets x ∈ [0, 1] (a Bernoulli decoder's reconstruction loss),
   * from the logits without forming log σ: loss = Σ_i softplus(z_i) − x_i·z_i; grad[i] = scale · (σ(z_i) − x_i).
   * Why fused: one pass from the logits, no σ or log σ buffers (log of a rounded σ(z) fails for large |z|).
   */
  sigmoidBce(z: Float32Array, x: Float32Array, scale: number, grad: Float32Array): number;

  /**
   * Adam's moment update and direction, PyTorch's form, in place on the moments:
   * m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  out = (m / (1−β1^t)) / (sqrt(v / (1−β2^t)) + eps).
   * The learning rate and sign are applied by later transformations. `out` may alias `g`.
   * Why fused: Adam is memory-bound: one pass over g, m and v instead of about eight elementwise passes.
   */
  adamDirection(g: Float32Array, m: Float32Array, v: Float32Array, h: AdamHyper, out: Float32Array): void;

  /**
   * Synaptic Intelligence's online path-integral step, in place over n = theta.length elements (the other arrays
   * have at least n; only their first n are touched). When `h.pending`, for every j: d = θ_j − prev_j;
   * ω_j ← ω_j − prevGrad_j·d; lastChange_j ← h.step where |d| > rtol·|prev_j| + atol (NaN is never
   * significant). Then, pending or not: prev ← θ, prevGrad ← g (zeros when g is null). Arithmetic in double,
   * stored in float32. The arrays must not overlap, except that g may be prevGrad itself.
   * Why fused: it touches five arrays per parameter every step: one threaded pass instead of one per stage.
   */
  pathIntegralAdvance(
    theta: Float32Array, prev: Float32Array, prevGrad: Float32Array, omega: Float32Array, lastChange: Float32Array,
    g: Float32Array | null, h: PathIntegralHyper,
  ): void;

  /**
   * Viscous scaling, in place over n = u.length elements: u_j ← u_j / (1 + c·Ω_j) where Ω_j > 0, u_j unchanged
   * elsewhere (Ω ≤ 0 or NaN). Arithmetic in double, stored in float32.
   * Why fused: the Ω > 0 condition has no elementwise primitive; one pass over u and Ω.
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
   * Why fused: one pass instead of five: 4.2–4.7 → 3.3–3.6 ms a step on 1.07 M parameters (docs/ENGRAM.md).
   */
  synapseAdamStep(
    theta: Float32Array, prev: Float32Array, prevGrad: Float32Array, omega: Float32Array, lastChange: Float32Array,
    g: Float32Array, m: Float32Array, v: Float32Array, importance: Float32Array | null, h: SynapseAdamHyper,
    out: Float32Array | null,
  ): void;

  /**
   * Mixture log-density of the rows of z (n×d) under k diagonal Gaussian modes (means and logvars, k×d) with
   * per-row weights (n×k; a weight ≤ 0 leaves the mode out): returns Σ_r log Σ_m w[r,m]·N(z_r; μ_m, e^{logvar_m})
   * (log-sum-exp) and writes the responsibilities resp[r,m] = w·N_m / Σ_m' w·N_m' (0 for absent modes).
   * Arithmetic in double, each row's sum over dimensions in order.
   * Why fused: composed, it would materialise n×k×d values; native with its backward: 4.7× faster (94aa56e).
   */
  mixtureLogDensity(
    z: Float32Array, means: Float32Array, logvars: Float32Array, weights: Float32Array, n: number, k: number,
    d: number, resp: Float32Array,
  ): number;

  /**
   * g times the gradient of `mixtureLogDensity` from its responsibilities, written (overwritten) into gz (n×d),
   * gm and gl (k×d) where not null: ∂/∂z_r = −Σ_m ρ_rm (z_r−μ_m)/σ_m², ∂/∂μ_m = Σ_r ρ_rm (z_r−μ_m)/σ_m²,
   * ∂/∂logvar_m = Σ_r ½ρ_rm ((z_r−μ_m)²/σ_m² − 1); accumulated in float32 over m (for gz) and r (gm, gl) in order.
   * Why fused: one pass over z and the modes, reusing the forward's responsibilities.
   */
  mixtureLogDensityBackward(
    z: Float32Array, means: Float32Array, logvars: Float32Array, resp: Float32Array, g: number, n: number, k: number,
    d: number, gz: Float32Array | null, gm: Float32Array | null, gl: Float32Array | null,
  ): void;
}
