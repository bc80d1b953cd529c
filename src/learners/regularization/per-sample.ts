import { getBackend } from '../../kernels/index.js';
import type { Mlp } from '../../nn/index.js';

/**
 * Sums over samples of elementwise functions of per-sample gradients of an MLP, without a backward pass per
 * sample. A dense layer's per-sample weight gradient is the outer product a_i ⊗ δ_i of its input row and its
 * output gradient row, so elementwise Σ_i (a_i ⊗ δ_i)² = (A∘A)ᵀ(Δ∘Δ) and Σ_i |a_i ⊗ δ_i| = |A|ᵀ|Δ|: one GEMM
 * per layer for a whole batch, and exact (not an approximation). Biases: column sums of Δ∘Δ or |Δ|.
 *
 * @example
 * const acts = forwardKeep(net, x, n);
 * const stats = new PerSampleStats(net);
 * stats.accumulate(net, acts, outputGrads, 'square'); // stats.sums[i] += Σ_samples (∂ℓ_i/∂θ)²
 */

/** One forward pass with every layer's input and pre-activation kept (no autodiff tape). */
export interface MlpActivations {
  readonly n: number;
  /** inputs[l]: the n×fanIn input of layer l (inputs[0] is x). */
  readonly inputs: Float32Array[];
  /** pre[l]: the n×fanOut pre-activation of layer l (the last one is the logits). */
  readonly pre: Float32Array[];
}

/** Forward pass through `net` keeping what per-sample gradients need. */
export function forwardKeep(net: Mlp, x: Float32Array, n: number): MlpActivations {
  const b = getBackend();
  const inputs: Float32Array[] = [x];
  const pre: Float32Array[] = [];
  const last = net.weights.length - 1;
  for (let l = 0; l <= last; l++) {
    const [fanIn, fanOut] = net.weights[l]!.shape as [number, number];
    const z = new Float32Array(n * fanOut);
    b.gemm(false, false, n, fanOut, fanIn, 1, inputs[l]!, net.weights[l]!.data, 0, z);
    if (net.bias) b.addRowVector(z, net.biases[l]!.data, n, fanOut, z);
    pre.push(z);
    if (l < last) {
      const a = new Float32Array(z.length);
      b.unary(net.act, z, a);
      inputs.push(a);
    }
  }
  return { n, inputs, pre };
}

/** The logits of a kept forward pass (n×outputs). */
export const logitsOf = (acts: MlpActivations): Float32Array => acts.pre[acts.pre.length - 1]!;

/** Which elementwise function of the per-sample gradients to sum. */
export type PerSampleReduction = 'square' | 'abs';

/** Running sums Σ_samples f(per-sample gradient), one array per `net.parameters()` entry. */
export class PerSampleStats {
  readonly sums: Float32Array[];

  constructor(net: Mlp) {
    this.sums = net.parameters().map((p) => new Float32Array(p.size));
  }

  /** Reset the sums to zero. */
  clear(): void {
    for (const s of this.sums) s.fill(0);
  }

  /**
   * Add Σ_i f(∂ℓ_i/∂θ) for the per-sample losses ℓ_i whose gradients with respect to the logits are the rows
   * of `outputGrad` (n×outputs). Rows can be pre-scaled: a row scaled by √w adds w·(gradient)² in 'square' mode.
   * Several output gradients (one per label, for a Fisher over all labels) add the sum of their terms; since
   * f(a ⊗ δ) = f(a) ⊗ f(δ) shares f(a), their f(δ) are summed per layer first and each layer takes one GEMM.
   */
  accumulate(net: Mlp, acts: MlpActivations, outputGrad: Float32Array | readonly Float32Array[], reduction: PerSampleReduction): void {
    const b = getBackend();
    const n = acts.n;
    const layers = net.weights.length;
    const fDelta = net.weights.map((w) => new Float32Array(n * w.shape[1]!));
    for (const g of Array.isArray(outputGrad) ? outputGrad : [outputGrad]) {
      let delta: Float32Array = g;
      for (let l = layers - 1; l >= 0; l--) {
        addReduced(reduction, delta, fDelta[l]!);
        if (l === 0) break;
        const [fanIn, fanOut] = net.weights[l]!.shape as [number, number];
        const below = new Float32Array(n * fanIn);
        b.gemm(false, true, n, fanIn, fanOut, 1, delta, net.weights[l]!.data, 0, below);
        b.activationBackward(net.act, acts.pre[l - 1]!, acts.inputs[l]!, below, below);
        delta = below;
      }
    }
    const perLayer = net.bias ? 2 : 1;
    for (let l = 0; l < layers; l++) {
      const [fanIn, fanOut] = net.weights[l]!.shape as [number, number];
      const fInput = new Float32Array(acts.inputs[l]!.length);
      applyReduction(reduction, acts.inputs[l]!, fInput);
      b.gemm(true, false, fanIn, fanOut, n, 1, fInput, fDelta[l]!, 1, this.sums[l * perLayer]!);
      if (net.bias) {
        const col = new Float32Array(fanOut);
        b.sumColumns(fDelta[l]!, n, fanOut, col);
        const acc = this.sums[l * perLayer + 1]!;
        b.axpby(1, acc, 1, col, acc);
      }
    }
  }
}

/** acc += f(x) elementwise. */
function addReduced(reduction: PerSampleReduction, x: Float32Array, acc: Float32Array): void {
  if (reduction === 'square') {
    for (let i = 0; i < x.length; i++) acc[i]! += x[i]! * x[i]!;
  } else {
    for (let i = 0; i < x.length; i++) acc[i]! += Math.abs(x[i]!);
  }
}

function applyReduction(reduction: PerSampleReduction, x: Float32Array, out: Float32Array): void {
  if (reduction === 'square') {
    getBackend().binary('mul', x, x, out);
  } else {
    // |x| in a plain loop: sqrt(x²) would lose tiny values to flushed subnormals.
    for (let i = 0; i < x.length; i++) out[i] = Math.abs(x[i]!);
  }
}
