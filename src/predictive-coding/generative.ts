import type { Rng } from '../core/index.js';
import { getBackend, type Activation } from '../kernels/index.js';
import { Mlp } from '../nn/index.js';
import { adam, optimizerStep, type AdamLinks, type Chain, type State } from '../optim/index.js';
import { PcEngine } from './engine.js';
import { pixelEnergy } from './output-energy.js';
import { defaultPcSettings, type PcSettings } from './settings.js';

/** Weight of the newest batch in the running spread of the displacements (about the last 100 batches). */
const SPREAD_DECAY = 0.01;

/** A generative PC network's shape and learning rate. */
export interface GenerativePcOptions {
  /** Hidden widths from the class end to the pixel end. */
  hidden: number[];
  activation: Activation;
  /** Adam's learning rate on the local updates. */
  lr: number;
  pc?: PcSettings;
  /** The value nodes' SGD (default: the engine's constants). */
  activity?: { lr: number; momentum: number };
}

/**
 * Predictive coding run as a generative model (the generative mode of DESIGN §2, P4): the hierarchy's top
 * is the class, clamped; its bottom is the image, a Bernoulli observation of the last prediction's logits.
 * The same engine as the classifier, pointed the other way: the class one-hot is the clamped input x_0 of the
 * predictions, the image the clamped target, and the hidden value nodes are the latent causes that inference
 * moves to explain each image. Training is the PC step (inference, then local updates); nothing here
 * backpropagates.
 *
 * A dream is the model's own sample with the class clamped and no image. With the image free the energy's
 * minimum is the top-down pass (the class's mean image); a sample draws every hidden value node around its
 * prediction, x_ℓ = f(a_ℓ) + τ·s_ℓ·ε, where s_ℓ is how far inference moved that layer's value nodes while
 * learning (a running root mean square of the displacements) and τ a temperature, down to the pixels' means
 * σ(a_L). The energy's own unit variances would be far wider than the spread inference uses.
 *
 * @example
 * const g = new GenerativePc(10, 784, { hidden: [128, 256], activation: 'gelu', lr: 1e-3 }, new Rng(1));
 * g.learn(images, labels, 128);                      // one PC step on a batch of 128
 * const dreams = g.dream(new Int32Array([3, 3, 7]), 1, new Rng(2));   // 3 × 784 pixel intensities
 */
export class GenerativePc {
  readonly net: Mlp;
  private readonly engine: PcEngine;
  private readonly opt: Chain<AdamLinks>;
  private optState: State;
  /** Per hidden layer, the running root mean square of inference's displacements (the dreams' spread). */
  private spread: number[];
  private learned = 0;

  constructor(readonly classes: number, readonly pixels: number, options: GenerativePcOptions, rng: Rng) {
    this.net = new Mlp([classes, ...options.hidden, pixels], options.activation, rng);
    this.engine = new PcEngine(this.net, options.pc ?? defaultPcSettings, options.activity);
    this.opt = adam(options.lr);
    this.optState = this.opt.init(this.net.parameters().map((p) => p.data));
    this.spread = options.hidden.map(() => 0);
  }

  /**
   * One PC step on n images (n × pixels, intensities in [0, 1]) of the given classes; returns the
   * feedforward pass's mean Bernoulli energy (the top-down prediction's binary cross-entropy).
   */
  learn(images: Float32Array, labels: Int32Array, n: number): number {
    const params = this.net.parameters();
    const loss = this.engine.trainOn(this.oneHot(labels, n), n, pixelEnergy(images), () => {
      this.optState = optimizerStep(this.opt, this.optState, params)[1];
    });
    const rms = this.engine.displacementRms();
    this.learned++;
    // A running mean over the last ~100 batches (a plain mean until there are that many).
    const w = Math.max(1 / this.learned, SPREAD_DECAY);
    this.spread = this.spread.map((s, l) => Math.sqrt((1 - w) * s * s + w * rms[l]! ** 2));
    return loss;
  }

  /** Per hidden layer, the spread the dreams draw with at temperature 1. */
  dreamSpread(): readonly number[] {
    return this.spread;
  }

  /** Dreams of the given classes at temperature τ (0: each class's mean image): n × pixels intensities. */
  dream(labels: Int32Array, temperature: number, rng: Rng): Float32Array {
    const b = getBackend();
    const n = labels.length;
    const { net } = this;
    let x = this.oneHot(labels, n);
    const L = net.weights.length;
    for (let l = 0; l < L; l++) {
      const a = new Float32Array(n * net.sizes[l + 1]!);
      b.gemm(false, false, n, net.sizes[l + 1]!, net.sizes[l]!, 1, x, net.weights[l]!.data, 0, a, net.biases[l]!.data);
      if (l + 1 === L) {
        b.unary('sigmoid', a, a);
        return a;
      }
      b.unary(net.act, a, a);
      const sd = temperature * this.spread[l]!;
      if (sd > 0) b.axpby(sd, rng.fillNormal(new Float32Array(a.length)), 1, a, a);
      x = a;
    }
    return x;
  }

  private oneHot(labels: Int32Array, n: number): Float32Array {
    const x = new Float32Array(n * this.classes);
    for (let r = 0; r < n; r++) x[r * this.classes + labels[r]!] = 1;
    return x;
  }
}
