import { affine, matmul, Rng, Tensor } from '../core/index.js';
import { activateFresh } from './linear.js';
import type { Activation } from '../kernels/backend.js';

/**
 * A fully connected network: Linear → activation → … → Linear (logits). Weights are stored [in, out] so the
 * forward pass is x·W, and initialised like PyTorch's nn.Linear (U(±1/√fan_in) for weights and biases), so
 * published hyperparameters carry over.
 *
 * @example
 * const net = new Mlp([784, 400, 400, 10], 'relu', new Rng(1));
 * const logits = net.forward(Tensor.from(x, [128, 784]));
 */
export class Mlp {
  readonly weights: Tensor[] = [];
  readonly biases: Tensor[] = [];

  constructor(
    readonly sizes: readonly number[],
    readonly act: Activation,
    rng: Rng,
    readonly bias = true,
  ) {
    if (sizes.length < 2) throw new Error('an MLP needs at least input and output sizes');
    for (let l = 0; l + 1 < sizes.length; l++) {
      const fanIn = sizes[l]!;
      const fanOut = sizes[l + 1]!;
      const bound = 1 / Math.sqrt(fanIn);
      const w = new Float32Array(fanIn * fanOut);
      for (let i = 0; i < w.length; i++) w[i] = (2 * rng.uniform() - 1) * bound;
      this.weights.push(Tensor.param(w, [fanIn, fanOut]));
      if (bias) {
        const bv = new Float32Array(fanOut);
        for (let i = 0; i < fanOut; i++) bv[i] = (2 * rng.uniform() - 1) * bound;
        this.biases.push(Tensor.param(bv, [fanOut]));
      }
    }
  }

  /** Trainable tensors in a fixed order (weight, bias per layer). */
  parameters(): Tensor[] {
    const out: Tensor[] = [];
    for (let l = 0; l < this.weights.length; l++) {
      out.push(this.weights[l]!);
      if (this.bias) out.push(this.biases[l]!);
    }
    return out;
  }

  /** Names matching `parameters()`, for checkpoints. */
  parameterNames(): string[] {
    const out: string[] = [];
    for (let l = 0; l < this.weights.length; l++) {
      out.push(`fc${l + 1}.weight`);
      if (this.bias) out.push(`fc${l + 1}.bias`);
    }
    return out;
  }

  parameterCount(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }

  /**
   * A network of the same shape holding `values` (default: this network's parameters), e.g. a frozen teacher.
   * Its initialisation draws from a throwaway RNG, so cloning never shifts a learner's random stream.
   */
  clone(values: readonly Float32Array[] = this.parameters().map((p) => p.data)): Mlp {
    const copy = new Mlp(this.sizes, this.act, new Rng(0), this.bias);
    copy.parameters().forEach((p, i) => p.data.set(values[i]!));
    return copy;
  }

  /** Logits (no activation on the last layer). */
  forward(x: Tensor): Tensor {
    let h = x;
    const last = this.weights.length - 1;
    for (let l = 0; l <= last; l++) {
      // The bias goes in with the product; relu then reuses its buffer (nothing else reads it).
      h = this.bias ? affine(h, this.weights[l]!, this.biases[l]!) : matmul(h, this.weights[l]!);
      if (l < last) h = activateFresh(h, this.act);
    }
    return h;
  }
}
