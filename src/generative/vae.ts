import {
  add, allocateUninitialised, exp, gaussianKL, mixtureLogDensity, mul, neg, noGrad, Rng, scale, sigmoidBce, sliceRows, square, sub, sum,
  Tensor,
} from '../core/index.js';
import { getBackend } from '../kernels/index.js';
import { activateFresh, Linear } from '../nn/linear.js';

/**
 * A variational auto-encoder over inputs in [0, 1] with a Bernoulli decoder, in the form van de Ven et al.
 * use for generative replay (GMvandeVen/continual-learning `models/cond_vae.py`):
 *
 *   encoder  x → h (fully connected, ReLU) → μ, log σ² (the log-variance layer has no bias)
 *   decoder  z → hidden layers (ReLU, optionally gated) → logits of the pixels
 *   prior    N(0, I), or a learned mixture with one mode per class (conditional replay)
 *   head     optional classifier on h (replay through feedback: the classifier is the encoder)
 *
 * Losses follow the reference: reconstruction = BCE summed over pixels, variational = KL (or its one-sample
 * estimate under a mixture prior), both averaged over the batch and divided by the number of pixels.
 *
 * Decoder gates (BI-R's "gating based on internal context"): for each gate (a class or context) a fixed random
 * binary mask per gated layer switches off a proportion of its units; a row's gate input (a one-hot label or a
 * distribution over classes) mixes the masks: g = p·Mask, h = relu(g ⊙ (zW + b)).
 */
export interface VaeConfig {
  inputSize: number;
  /** Encoder hidden sizes; the decoder mirrors them (e.g. [400, 400] gives 784-400-400 and z-400-400-784). */
  hidden: number[];
  zDim: number;
  /** Classifier outputs on the encoder's last hidden layer; 0 for none. */
  classes: number;
  prior: 'standard' | 'mixture';
  /** Mixture prior: number of modes (one per class). */
  modes: number;
  /** Decoder gates: how many gate inputs (classes or contexts) and the proportion of units each switches off. */
  gates: { count: number; proportion: number } | null;
}

/** Everything a forward pass through encoder, reparameterisation and decoder produces. */
export interface VaePass {
  hidden: Tensor;
  mu: Tensor;
  logvar: Tensor;
  z: Tensor;
  /** Pixel logits of the reconstruction. */
  recon: Tensor;
}

/** What the losses read of a pass: latents and reconstruction. */
export type VaeOutputs = Omit<VaePass, 'hidden'>;

/** Rows [a, b) of a pass's outputs, for a loss on part of a batch (e.g. current vs replayed rows). */
export function slicePass(pass: VaeOutputs, a: number, b: number): VaeOutputs {
  return {
    mu: sliceRows(pass.mu, a, b), logvar: sliceRows(pass.logvar, a, b), z: sliceRows(pass.z, a, b),
    recon: sliceRows(pass.recon, a, b),
  };
}

const LOG_2PI = Math.log(2 * Math.PI);

export class Vae {
  readonly encoder: Linear[] = [];
  readonly toMean: Linear;
  readonly toLogvar: Linear;
  readonly head: Linear | null;
  readonly decoder: Linear[] = [];
  /** Mixture prior's mode means and log-variances [modes, zDim] (trainable), or null. */
  readonly priorMeans: Tensor | null;
  readonly priorLogvars: Tensor | null;
  /** Per gated decoder layer: [gates, units] binary masks (fixed), or empty. */
  readonly gateMasks: Float32Array[] = [];
  /** Reused double-precision noise for `sample` (no allocation per call). */
  private noise = new Float64Array(0);

  /**
   * `rng` null builds a blank model (every parameter and gate mask zero) for a caller that sets them next, as
   * `clone` does: a sleep builds two per run of its loop, and drawing a million initial weights it overwrites
   * cost more than the copy.
   */
  constructor(readonly config: VaeConfig, rng: Rng | null) {
    const { inputSize, hidden, zDim, classes } = config;
    if (hidden.length < 1) throw new Error('a VAE needs at least one hidden layer');
    let prev = inputSize;
    for (const h of hidden) {
      this.encoder.push(new Linear(prev, h, rng));
      prev = h;
    }
    this.toMean = new Linear(prev, zDim, rng);
    this.toLogvar = new Linear(prev, zDim, rng, false);
    this.head = classes > 0 ? new Linear(prev, classes, rng) : null;
    const sizes = [zDim, ...[...hidden].reverse(), inputSize];
    for (let l = 0; l + 1 < sizes.length; l++) this.decoder.push(new Linear(sizes[l]!, sizes[l + 1]!, rng));
    if (config.prior === 'mixture') {
      if (config.modes < 1) throw new Error('a mixture prior needs at least one mode');
      const m = new Float32Array(config.modes * zDim);
      const v = new Float32Array(config.modes * zDim);
      if (rng !== null) {
        for (let i = 0; i < m.length; i++) m[i] = rng.normal();
        for (let i = 0; i < v.length; i++) v[i] = rng.normal();
      }
      this.priorMeans = Tensor.param(m, [config.modes, zDim]);
      this.priorLogvars = Tensor.param(v, [config.modes, zDim]);
    } else {
      this.priorMeans = null;
      this.priorLogvars = null;
    }
    if (config.gates !== null) {
      // Every decoder layer but the output one is gated.
      for (let l = 0; l + 1 < this.decoder.length; l++) {
        const units = this.decoder[l]!.outSize;
        const mask = new Float32Array(config.gates.count * units);
        if (rng !== null) for (let i = 0; i < mask.length; i++) mask[i] = rng.uniform() < config.gates.proportion ? 0 : 1;
        this.gateMasks.push(mask);
      }
    }
  }

  parameters(): Tensor[] {
    const ps: Tensor[] = [];
    for (const l of this.encoder) ps.push(...l.parameters());
    ps.push(...this.toMean.parameters(), ...this.toLogvar.parameters());
    if (this.head !== null) ps.push(...this.head.parameters());
    for (const l of this.decoder) ps.push(...l.parameters());
    if (this.priorMeans !== null) ps.push(this.priorMeans, this.priorLogvars!);
    return ps;
  }

  parameterNames(): string[] {
    const names: string[] = [];
    this.encoder.forEach((l, i) => names.push(...l.parameterNames(`enc${i + 1}`)));
    names.push(...this.toMean.parameterNames('toMean'), ...this.toLogvar.parameterNames('toLogvar'));
    if (this.head !== null) names.push(...this.head.parameterNames('head'));
    this.decoder.forEach((l, i) => names.push(...l.parameterNames(`dec${i + 1}`)));
    if (this.priorMeans !== null) names.push('prior.means', 'prior.logvars');
    return names;
  }

  parameterCount(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }

  /**
   * A copy with the same configuration and gate masks, holding `values` (default: this model's parameters):
   * a frozen teacher / generator. Built blank, so cloning never draws from a random stream.
   */
  clone(values: readonly Float32Array[] = this.parameters().map((p) => p.data)): Vae {
    const copy = new Vae(this.config, null);
    copy.parameters().forEach((p, i) => p.data.set(values[i]!));
    copy.gateMasks.forEach((m, i) => m.set(this.gateMasks[i]!));
    return copy;
  }

  /** The encoder's last hidden layer (the classifier's features in replay through feedback). */
  features(x: Tensor): Tensor {
    let h = x;
    for (const l of this.encoder) h = activateFresh(l.forward(h), 'relu');
    return h;
  }

  /** Classifier logits of the features `hidden`. */
  classify(hidden: Tensor): Tensor {
    if (this.head === null) throw new Error('this VAE has no classifier head');
    return this.head.forward(hidden);
  }

  /** z = μ + ε·σ with ε ~ N(0, I) drawn from `rng`. */
  reparameterize(mu: Tensor, logvar: Tensor, rng: Rng): Tensor {
    const eps = rng.fillNormal(allocateUninitialised(mu.size));
    return add(mu, mul(exp(scale(logvar, 0.5)), Tensor.from(eps, mu.shape)));
  }

  /**
   * Pixel logits for latents `z`. `gate` is [rows, gates.count] (one-hot labels or class probabilities) when
   * the decoder is gated; ignored otherwise.
   */
  decode(z: Tensor, gate: Float32Array | null): Tensor {
    let h = z;
    const last = this.decoder.length - 1;
    for (let l = 0; l <= last; l++) {
      h = this.decoder[l]!.forward(h);
      if (l === last) break;
      if (this.config.gates !== null) {
        if (gate === null) throw new Error('a gated decoder needs a gate input per row');
        h = mul(h, Tensor.from(this.gateValues(gate, z.rows, l), h.shape));
      }
      h = activateFresh(h, 'relu');
    }
    return h;
  }

  /** A double buffer of n values, reused from call to call. */
  private scratch(n: number): Float64Array {
    if (this.noise.length < n) this.noise = new Float64Array(n);
    return this.noise.subarray(0, n);
  }

  /** g = p · Mask_l: each row's mixture of the layer's unit masks. */
  private gateValues(gate: Float32Array, rows: number, layer: number): Float32Array {
    const count = this.config.gates!.count;
    if (gate.length !== rows * count) throw new Error(`gate input has ${gate.length} values for ${rows}x${count}`);
    const units = this.decoder[layer]!.outSize;
    const out = allocateUninitialised(rows * units);
    getBackend().gemm(false, false, rows, units, count, 1, gate, this.gateMasks[layer]!, 0, out);
    return out;
  }

  /** Encode, sample z and decode (the training pass). */
  forward(x: Tensor, rng: Rng, gate: Float32Array | null): VaePass {
    const hidden = this.features(x);
    const mu = this.toMean.forward(hidden);
    const logvar = this.toLogvar.forward(hidden);
    const z = this.reparameterize(mu, logvar, rng);
    return { hidden, mu, logvar, z, recon: this.decode(z, gate) };
  }

  /** Reconstruction loss: BCE summed over pixels, averaged over rows, divided by the number of pixels. */
  reconstructionLoss(pass: Pick<VaeOutputs, 'recon'>, x: Tensor): Tensor {
    return scale(sigmoidBce(pass.recon, x), 1 / this.config.inputSize);
  }

  /**
   * Variational loss per pixel. Standard prior: KL(q(z|x) ‖ N(0, I)) in closed form. Mixture prior: the
   * one-sample estimate log q(z|x) − log p(z), with p(z) = Σ_k w_k N(z; μ_k, σ_k²) and per-row mode weights
   * `modeWeights` [rows, modes] (one-hot labels or a teacher's class probabilities).
   */
  variationalLoss(pass: Omit<VaeOutputs, 'recon'>, modeWeights: Float32Array | null): Tensor {
    const pixels = this.config.inputSize;
    if (this.config.prior === 'standard') return scale(gaussianKL(pass.mu, pass.logvar), 1 / pixels);
    if (modeWeights === null) throw new Error('a mixture prior needs mode weights per row');
    const n = pass.z.rows;
    // log q(z|x) = −½ Σ_j [log 2π + log σ_j² + (z_j − μ_j)² / σ_j²], averaged over rows.
    const quad = sum(mul(square(sub(pass.z, pass.mu)), exp(neg(pass.logvar))));
    const logq = scale(add(quad, sum(pass.logvar)), -0.5 / n);
    const constant = Tensor.from(new Float32Array([-0.5 * this.config.zDim * LOG_2PI]), []);
    const logp = mixtureLogDensity(pass.z, this.priorMeans!, this.priorLogvars!, modeWeights);
    return scale(sub(add(logq, constant), logp), 1 / pixels);
  }

  /**
   * Generate `n` inputs (pixel probabilities). With a mixture prior, each row's mode (class) is drawn from
   * `classProbs` (length = modes; null = uniform over all modes); a gated decoder is gated by `gate` when
   * given ([n, gates] rows, e.g. one-hot contexts), else by the drawn class. Returns the inputs and each row's
   * class (null without a mixture prior or gates). Inside a step's arena scope (core/arena.ts) the inputs are
   * an arena buffer, valid until the scope ends, like any op's output. `spread` scales the prior's standard
   * deviations (more varied samples above 1).
   */
  sample(
    n: number, rng: Rng, classProbs: readonly number[] | null, gate: Float32Array | null = null, spread = 1,
  ): { x: Float32Array; classes: Int32Array | null } {
    return noGrad(() => {
      const zDim = this.config.zDim;
      const z = allocateUninitialised(n * zDim);
      let classes: Int32Array | null = null;
      const conditional = this.config.prior === 'mixture' || this.config.gates !== null;
      if (conditional) {
        const k = this.config.prior === 'mixture' ? this.config.modes : this.config.gates!.count;
        classes = new Int32Array(n);
        for (let r = 0; r < n; r++) classes[r] = drawIndex(classProbs, k, rng);
      }
      if (this.config.prior === 'mixture') {
        const m = this.priorMeans!.data;
        const v = this.priorLogvars!.data;
        // In double, as one expression per value would be: the same z to the bit.
        const sd = new Float64Array(v.length);
        for (let i = 0; i < v.length; i++) sd[i] = spread * Math.exp(0.5 * v[i]!);
        const eps = rng.fillNormal(this.scratch(z.length));
        for (let r = 0; r < n; r++) {
          const c = classes![r]!;
          for (let j = 0; j < zDim; j++) z[r * zDim + j] = m[c * zDim + j]! + sd[c * zDim + j]! * eps[r * zDim + j]!;
        }
      } else {
        rng.fillNormal(z);
      }
      const g = this.config.gates === null ? null : gate ?? oneHot(classes!, this.config.gates.count);
      const logits = this.decode(Tensor.from(z, [n, zDim]), g);
      const x = allocateUninitialised(logits.size);
      getBackend().unary('sigmoid', logits.data, x);
      return { x, classes };
    });
  }
}

/** Rows of one-hot vectors. */
export function oneHot(labels: Int32Array, count: number): Float32Array {
  const out = new Float32Array(labels.length * count);
  for (let r = 0; r < labels.length; r++) out[r * count + labels[r]!] = 1;
  return out;
}

/** An index in [0, k) drawn from `probs` (unnormalised is fine), or uniformly when `probs` is null. */
function drawIndex(probs: readonly number[] | null, k: number, rng: Rng): number {
  if (probs === null) return rng.int(k);
  let total = 0;
  for (const p of probs) total += p;
  let u = rng.uniform() * total;
  for (let i = 0; i < probs.length; i++) {
    u -= probs[i]!;
    if (u < 0) return i;
  }
  // Rounding: the last index with positive probability.
  for (let i = probs.length - 1; i >= 0; i--) if (probs[i]! > 0) return i;
  throw new Error('class probabilities are all zero');
}
