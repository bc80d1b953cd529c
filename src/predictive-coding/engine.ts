import { getBackend } from '../kernels/index.js';
import type { Mlp } from '../nn/index.js';
import { ACTIVITY_LR, ACTIVITY_MOMENTUM, type PcSettings } from './settings.js';

/**
 * Predictive coding on an MLP's own weights (DESIGN §2, P4), with no autodiff: every quantity below is a
 * kernel call on plain arrays.
 *
 * Layer ℓ = 1…L maps x_{ℓ−1} to the prediction a_ℓ = x_{ℓ−1}·W_ℓ + b_ℓ; a hidden layer's value node x_ℓ is
 * predicted by u_ℓ = f(a_ℓ), its error node holds e_ℓ = u_ℓ − x_ℓ. The input x_0 is clamped to the data, the
 * output energy is the cross-entropy of the logits a_L against the label (PCX's `ce_energy`, the target
 * clamped), so a sample's energy is
 *
 *     E = Σ_{ℓ<L} ½‖e_ℓ‖² + CE(a_L, y).
 *
 * Training a batch: the value nodes start at the feedforward pass (every hidden error 0), then T inference
 * steps move them down ∂E/∂x_ℓ = δ_{ℓ+1}·W_{ℓ+1}ᵀ − e_ℓ, with δ_ℓ = ∂E/∂a_ℓ = e_ℓ ⊙ f′(a_ℓ) for a hidden
 * layer and softmax(a_L) − onehot(y) at the output, by SGD with momentum. Each weight then moves on its own
 * layer's error and its presynaptic activity only: ∂E/∂W_ℓ = x_{ℓ−1}ᵀ·δ_ℓ, ∂E/∂b_ℓ = Σ δ_ℓ (batch means).
 * iPC (`incremental`) takes a weight step at every inference step instead of once after the T steps.
 * Prediction needs no inference: with the output free, the feedforward pass is the energy's minimum (E = 0).
 */
export class PcEngine {
  private buffers: Buffers | null = null;
  private readonly weightGrads: Float32Array[];
  private readonly biasGrads: Float32Array[];
  private lastEnergies: Float32Array = new Float32Array(0);

  /** `activity`: the value nodes' SGD (the engine's constants unless a test needs another step size). */
  constructor(
    readonly net: Mlp,
    readonly settings: PcSettings,
    private readonly activity: { lr: number; momentum: number } = { lr: ACTIVITY_LR, momentum: ACTIVITY_MOMENTUM },
  ) {
    this.weightGrads = net.weights.map((w) => new Float32Array(w.size));
    this.biasGrads = net.bias ? net.biases.map((b) => new Float32Array(b.size)) : [];
  }

  /**
   * Learn one batch: relax the value nodes, write the local weight updates ∂E/∂θ into each parameter's `grad`
   * and call `step` to apply them (once, or at every inference step under iPC). `mask` (n×outputs, 1 = the
   * output is in play) restricts the output's softmax, e.g. to a task's head. Returns the feedforward pass's
   * mean cross-entropy (the energy before inference: backprop's loss, so the two engines report the same
   * thing); {@link energies} has each sample's energy at equilibrium.
   */
  train(x0: Float32Array, n: number, y: Int32Array, mask: Uint8Array | null, step: () => void): number {
    const s = this.settings;
    const buf = this.buffersFor(n);
    this.predict(buf, x0, 0, true);
    for (const v of buf.v) v.fill(0);
    let feedforwardLoss = NaN;
    for (let t = 0; t < s.steps; t++) {
      const energy = this.errors(buf, y, mask);
      if (t === 0) feedforwardLoss = energy / n;
      this.activityGradients(buf);
      if (s.incremental) {
        this.weightGradients(buf, x0, n);
        step();
      }
      this.moveActivities(buf);
      // Under iPC the weights moved, so even the first layer's prediction changed.
      this.predict(buf, x0, s.incremental ? 0 : 1);
    }
    this.errors(buf, y, mask);
    this.lastEnergies = this.sampleEnergies(buf, y, mask);
    if (!s.incremental) {
      this.weightGradients(buf, x0, n);
      step();
    }
    return feedforwardLoss;
  }

  /** Per-sample energies of the last {@link train} batch at equilibrium (a surprise signal). */
  energies(): Float32Array {
    return this.lastEnergies;
  }

  /**
   * a_ℓ = x_{ℓ−1}·W_ℓ + b_ℓ and u_ℓ = f(a_ℓ) for the layers from `from` (the first reads the clamped input);
   * `feedforward` also sets each value node to its prediction (the feedforward pass the inference starts from).
   */
  private predict(buf: Buffers, x0: Float32Array, from: number, feedforward = false): void {
    const b = getBackend();
    const { net } = this;
    const L = net.weights.length;
    for (let l = from; l < L; l++) {
      const input = l === 0 ? x0 : buf.x[l - 1]!;
      const inSize = net.sizes[l]!;
      const outSize = net.sizes[l + 1]!;
      b.gemm(false, false, buf.n, outSize, inSize, 1, input, net.weights[l]!.data, 0, buf.a[l]!, net.bias ? net.biases[l]!.data : null);
      if (l + 1 < L) {
        b.unary(net.act, buf.a[l]!, buf.u[l]!);
        if (feedforward) buf.x[l]!.set(buf.u[l]!);
      }
    }
  }

  /** Error nodes e_ℓ and δ_ℓ from the current predictions and value nodes; returns the batch's summed energy. */
  private errors(buf: Buffers, y: Int32Array, mask: Uint8Array | null): number {
    const b = getBackend();
    const L = this.net.weights.length;
    let energy = 0;
    for (let l = 0; l + 1 < L; l++) {
      b.binary('sub', buf.u[l]!, buf.x[l]!, buf.e[l]!);
      b.activationBackward(this.net.act, buf.a[l]!, buf.u[l]!, buf.e[l]!, buf.delta[l]!);
      energy += 0.5 * squaredNorm(buf.e[l]!);
    }
    const logits = this.maskedLogits(buf, mask);
    energy += b.softmaxCrossEntropy(logits, y, buf.n, this.net.sizes[L]!, 1, 1, buf.delta[L - 1]!);
    return energy;
  }

  /** g_ℓ = ∂E/∂x_ℓ = δ_{ℓ+1}·W_{ℓ+1}ᵀ − e_ℓ for every hidden value node. */
  private activityGradients(buf: Buffers): void {
    const b = getBackend();
    const { net } = this;
    for (let l = 0; l + 1 < net.weights.length; l++) {
      b.gemm(false, true, buf.n, net.sizes[l + 1]!, net.sizes[l + 2]!, 1, buf.delta[l + 1]!, net.weights[l + 1]!.data, 0, buf.g[l]!);
      b.axpby(-1, buf.e[l]!, 1, buf.g[l]!, buf.g[l]!);
    }
  }

  /** SGD with momentum on the value nodes: v ← m·v + g, x ← x − η·v. */
  private moveActivities(buf: Buffers): void {
    const b = getBackend();
    for (let l = 0; l < buf.x.length; l++) {
      b.axpby(this.activity.momentum, buf.v[l]!, 1, buf.g[l]!, buf.v[l]!);
      b.axpby(-this.activity.lr, buf.v[l]!, 1, buf.x[l]!, buf.x[l]!);
    }
  }

  /** ∂E/∂W_ℓ = x_{ℓ−1}ᵀ·δ_ℓ / n and ∂E/∂b_ℓ = Σ_rows δ_ℓ / n, written as the parameters' gradients. */
  private weightGradients(buf: Buffers, x0: Float32Array, n: number): void {
    const b = getBackend();
    const { net } = this;
    for (let l = 0; l < net.weights.length; l++) {
      const input = l === 0 ? x0 : buf.x[l - 1]!;
      const gw = this.weightGrads[l]!;
      b.gemm(true, false, net.sizes[l]!, net.sizes[l + 1]!, n, 1 / n, input, buf.delta[l]!, 0, gw);
      net.weights[l]!.grad = gw;
      if (net.bias) {
        const gb = this.biasGrads[l]!;
        b.sumColumns(buf.delta[l]!, n, net.sizes[l + 1]!, gb);
        b.axpby(1 / n, gb, 0, gb, gb);
        net.biases[l]!.grad = gb;
      }
    }
  }

  /** The logits with outputs out of play at −∞ (the network's own buffer when nothing is masked). */
  private maskedLogits(buf: Buffers, mask: Uint8Array | null): Float32Array {
    const a = buf.a[buf.a.length - 1]!;
    if (mask === null) return a;
    const out = buf.masked;
    for (let i = 0; i < a.length; i++) out[i] = mask[i] === 1 ? a[i]! : -Infinity;
    return out;
  }

  /** ½‖e‖² summed over layers plus the output's cross-entropy, per sample. */
  private sampleEnergies(buf: Buffers, y: Int32Array, mask: Uint8Array | null): Float32Array {
    const K = this.net.sizes[this.net.sizes.length - 1]!;
    const out = new Float32Array(buf.n);
    for (const e of buf.e) {
      const width = e.length / buf.n;
      for (let r = 0; r < buf.n; r++) {
        let s = 0;
        for (let j = r * width; j < (r + 1) * width; j++) s += e[j]! * e[j]!;
        out[r] = out[r]! + 0.5 * s;
      }
    }
    const logp = buf.logp;
    getBackend().logSoftmax(this.maskedLogits(buf, mask), buf.n, K, logp);
    for (let r = 0; r < buf.n; r++) out[r] = out[r]! - logp[r * K + y[r]!]!;
    return out;
  }

  private buffersFor(n: number): Buffers {
    if (this.buffers?.n === n) return this.buffers;
    const { sizes } = this.net;
    const L = sizes.length - 1;
    const hidden = (l: number) => new Float32Array(n * sizes[l + 1]!);
    const hiddenLayers = Array.from({ length: L - 1 }, (_, l) => l);
    this.buffers = {
      n,
      a: Array.from({ length: L }, (_, l) => hidden(l)),
      delta: Array.from({ length: L }, (_, l) => hidden(l)),
      u: hiddenLayers.map(hidden),
      x: hiddenLayers.map(hidden),
      e: hiddenLayers.map(hidden),
      g: hiddenLayers.map(hidden),
      v: hiddenLayers.map(hidden),
      masked: new Float32Array(n * sizes[L]!),
      logp: new Float32Array(n * sizes[L]!),
    };
    return this.buffers;
  }
}

/** Scratch arrays for one batch size: per layer (a, δ) or per hidden layer (u, x, e, g, v), each n × width. */
interface Buffers {
  n: number;
  a: Float32Array[];
  delta: Float32Array[];
  u: Float32Array[];
  x: Float32Array[];
  e: Float32Array[];
  g: Float32Array[];
  v: Float32Array[];
  masked: Float32Array;
  logp: Float32Array;
}

function squaredNorm(v: Float32Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return s;
}
