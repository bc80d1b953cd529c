import { getBackend } from '../kernels/index.js';
import type { Mlp } from '../nn/index.js';
import { labelEnergy, type OutputEnergy } from './output-energy.js';
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
 * layer's error and its presynaptic activity only: ∂E/∂W_ℓ = x_{ℓ−1}ᵀ·δ_ℓ, ∂E/∂b_ℓ = Σ δ_ℓ, summed over the batch
 * (the batch's energy is the sum of its samples' energies, as in PCX).
 * iPC (`incremental`) takes a weight step at every inference step instead of once after the T steps.
 * Prediction needs no inference: with the output free, the feedforward pass is the energy's minimum (E = 0).
 *
 * Numerics: the value nodes are held as the feedforward values x̄_ℓ plus a displacement d_ℓ (x_ℓ = x̄_ℓ + d_ℓ),
 * and the predictions as ā_ℓ + Δa_ℓ with Δa_ℓ = d_{ℓ−1}·W_ℓ. Errors far from the output are tiny beside the
 * activities (they shrink by about the inference step per layer), so x_ℓ − u_ℓ computed from two float32
 * activities would be mostly rounding; from d they keep their precision (e_1 = −d_1 exactly). Same algorithm,
 * same equations: only where the rounding falls changes.
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
   * Learn one batch of labels: relax the value nodes, write the local weight updates ∂E/∂θ into each
   * parameter's `grad` and call `step` to apply them (once, or at every inference step under iPC). `mask`
   * (n×outputs, 1 = the output is in play) restricts the output's softmax, e.g. to a task's head. Returns the
   * feedforward pass's mean cross-entropy (the energy before inference: backprop's loss, so the two engines
   * report the same thing); {@link energies} has each sample's energy at equilibrium.
   */
  train(x0: Float32Array, n: number, y: Int32Array, mask: Uint8Array | null, step: () => void): number {
    return this.trainOn(x0, n, labelEnergy(y, mask), step);
  }

  /** {@link train} against any output energy (labels, pixels); returns the feedforward pass's mean output energy. */
  trainOn(x0: Float32Array, n: number, output: OutputEnergy, step: () => void): number {
    const s = this.settings;
    const buf = this.buffersFor(n);
    this.feedforward(buf, x0, true);
    let feedforwardLoss = NaN;
    for (let t = 0; t < s.steps; t++) {
      const energy = this.errors(buf, output);
      if (t === 0) feedforwardLoss = energy / n;
      this.activityGradients(buf);
      if (s.incremental) {
        this.weightGradients(buf, x0, n);
        step();
      }
      this.moveActivities(buf);
      // Under iPC the weights moved: the predictions of the feedforward values change with them.
      if (s.incremental) this.feedforward(buf, x0, false);
    }
    this.errors(buf, output);
    this.lastEnergies = this.sampleEnergies(buf, output);
    if (!s.incremental) {
      this.weightGradients(buf, x0, n);
      step();
    }
    return feedforwardLoss;
  }

  /**
   * Per hidden layer, the root mean square of the last batch's displacements d_ℓ: how far inference moved the
   * value nodes from their predictions (the spread of the latent causes it found).
   */
  displacementRms(): number[] {
    return (this.buffers?.d ?? []).map((d) => Math.sqrt(squaredNorm(d) / Math.max(1, d.length)));
  }

  /** Per-sample energies of the last {@link train} batch at equilibrium (a surprise signal). */
  energies(): Float32Array {
    return this.lastEnergies;
  }

  /**
   * ā_ℓ = x̄_ℓ₋₁·W_ℓ + b_ℓ and ū_ℓ = f(ā_ℓ), and r_ℓ = ū_ℓ − x̄_ℓ. `start`: the feedforward pass the inference
   * starts from (x̄_ℓ = ū_ℓ, r = 0, no displacement, no momentum); otherwise (iPC, after a weight step) the
   * feedforward values stay and r holds how far the new weights' predictions moved from them.
   */
  private feedforward(buf: Buffers, x0: Float32Array, start: boolean): void {
    const b = getBackend();
    const { net } = this;
    const L = net.weights.length;
    for (let l = 0; l < L; l++) {
      const input = l === 0 ? x0 : buf.xbar[l - 1]!;
      b.gemm(false, false, buf.n, net.sizes[l + 1]!, net.sizes[l]!, 1, input, net.weights[l]!.data, 0, buf.abar[l]!, net.bias ? net.biases[l]!.data : null);
      if (l + 1 === L) continue;
      b.unary(net.act, buf.abar[l]!, buf.ubar[l]!);
      if (start) {
        buf.xbar[l]!.set(buf.ubar[l]!);
        buf.r[l]!.fill(0);
        buf.d[l]!.fill(0);
        buf.v[l]!.fill(0);
      } else {
        b.binary('sub', buf.ubar[l]!, buf.xbar[l]!, buf.r[l]!);
      }
    }
  }

  /**
   * Error nodes from the displacements: Δa_ℓ = d_ℓ₋₁·W_ℓ, e_ℓ = r_ℓ + (f(ā_ℓ + Δa_ℓ) − ū_ℓ) − d_ℓ, δ_ℓ = e_ℓ ⊙
   * f′(ā_ℓ + Δa_ℓ), and the output's δ from the logits ā_L + Δa_L by the output energy; returns
   * the batch's summed energy.
   */
  private errors(buf: Buffers, output: OutputEnergy): number {
    const b = getBackend();
    const { net } = this;
    const L = net.weights.length;
    let energy = 0;
    for (let l = 1; l < L; l++) {
      b.gemm(false, false, buf.n, net.sizes[l + 1]!, net.sizes[l]!, 1, buf.d[l - 1]!, net.weights[l]!.data, 0, buf.da[l]!);
      b.binary('add', buf.abar[l]!, buf.da[l]!, buf.a[l]!);
    }
    buf.a[0]!.set(buf.abar[0]!);
    for (let l = 0; l + 1 < L; l++) {
      const u = buf.u[l]!;
      const e = buf.e[l]!;
      b.unary(net.act, buf.a[l]!, u);
      // (f(a) − ū) first: the change of the prediction, a small number, before the (small) r and d join it.
      b.binary('sub', u, buf.ubar[l]!, e);
      b.binary('add', e, buf.r[l]!, e);
      b.binary('sub', e, buf.d[l]!, e);
      b.activationBackward(net.act, buf.a[l]!, u, e, buf.delta[l]!);
      energy += 0.5 * squaredNorm(e);
    }
    energy += output.gradient(buf.a[L - 1]!, buf.n, net.sizes[L]!, buf.delta[L - 1]!);
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

  /** SGD with momentum on the value nodes' displacements: v ← m·v + g, d ← d − η·v. */
  private moveActivities(buf: Buffers): void {
    const b = getBackend();
    for (let l = 0; l < buf.d.length; l++) {
      b.axpby(this.activity.momentum, buf.v[l]!, 1, buf.g[l]!, buf.v[l]!);
      b.axpby(-this.activity.lr, buf.v[l]!, 1, buf.d[l]!, buf.d[l]!);
    }
  }

  /**
   * ∂E/∂W_ℓ = x_{ℓ−1}ᵀ·δ_ℓ and ∂E/∂b_ℓ = Σ_rows δ_ℓ of the batch's summed energy, written as the parameters'
   * gradients. Summed, not averaged: errors far from the output are about the inference step per layer smaller
   * than backprop's gradient, and as batch means the first layers' updates fell to Adam's ε (1e-8) and stopped
   * learning.
   */
  private weightGradients(buf: Buffers, x0: Float32Array, n: number): void {
    const b = getBackend();
    const { net } = this;
    for (let l = 0; l < net.weights.length; l++) {
      let input = x0;
      if (l > 0) {
        input = buf.x[l - 1]!;
        b.binary('add', buf.xbar[l - 1]!, buf.d[l - 1]!, input);
      }
      const gw = this.weightGrads[l]!;
      b.gemm(true, false, net.sizes[l]!, net.sizes[l + 1]!, n, 1, input, buf.delta[l]!, 0, gw);
      net.weights[l]!.grad = gw;
      if (net.bias) {
        const gb = this.biasGrads[l]!;
        b.sumColumns(buf.delta[l]!, n, net.sizes[l + 1]!, gb);
        net.biases[l]!.grad = gb;
      }
    }
  }

  /** ½‖e‖² summed over layers plus the output's energy, per sample. */
  private sampleEnergies(buf: Buffers, output: OutputEnergy): Float32Array {
    const out = new Float32Array(buf.n);
    for (const e of buf.e) {
      const width = e.length / buf.n;
      for (let r = 0; r < buf.n; r++) {
        let s = 0;
        for (let j = r * width; j < (r + 1) * width; j++) s += e[j]! * e[j]!;
        out[r] = out[r]! + 0.5 * s;
      }
    }
    output.addPerSample(buf.a[buf.a.length - 1]!, buf.n, this.net.sizes[this.net.sizes.length - 1]!, out);
    return out;
  }

  private buffersFor(n: number): Buffers {
    if (this.buffers?.n === n) return this.buffers;
    const { sizes } = this.net;
    const L = sizes.length - 1;
    const layer = (l: number) => new Float32Array(n * sizes[l + 1]!);
    const layers = Array.from({ length: L }, (_, l) => l);
    const hidden = layers.slice(0, L - 1);
    this.buffers = {
      n,
      abar: layers.map(layer), da: layers.map(layer), a: layers.map(layer), delta: layers.map(layer),
      ubar: hidden.map(layer), xbar: hidden.map(layer), r: hidden.map(layer), d: hidden.map(layer),
      u: hidden.map(layer), x: hidden.map(layer), e: hidden.map(layer), g: hidden.map(layer), v: hidden.map(layer),
    };
    return this.buffers;
  }
}

/**
 * Scratch arrays for one batch size, each n × the layer's width. Per layer: ā (feedforward predictions), Δa,
 * a = ā + Δa, δ. Per hidden layer: ū, x̄ (feedforward values), r = ū − x̄ (0 but under iPC), d (displacement),
 * u = f(a), x (x̄ + d, for the weight updates), e, g (∂E/∂x), v (momentum).
 */
interface Buffers {
  n: number;
  abar: Float32Array[];
  da: Float32Array[];
  a: Float32Array[];
  delta: Float32Array[];
  ubar: Float32Array[];
  xbar: Float32Array[];
  r: Float32Array[];
  d: Float32Array[];
  u: Float32Array[];
  x: Float32Array[];
  e: Float32Array[];
  g: Float32Array[];
  v: Float32Array[];
}

function squaredNorm(v: Float32Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return s;
}
