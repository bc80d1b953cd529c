import { activation, affine, matmul, reluInPlace, Rng, Tensor } from '../core/index.js';
import type { Activation } from '../kernels/backend.js';

/**
 * A fully connected layer x·W (+ b) with W stored [in, out], initialised like PyTorch's nn.Linear
 * (U(±1/√fan_in) for weights and biases), so that published hyperparameters carry over.
 */
export class Linear {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  /** `rng` null: zero weights, for a caller that sets them next (no draws spent on values it overwrites). */
  constructor(readonly inSize: number, readonly outSize: number, rng: Rng | null, bias = true) {
    const bound = 1 / Math.sqrt(inSize);
    const w = new Float32Array(inSize * outSize);
    if (rng !== null) for (let i = 0; i < w.length; i++) w[i] = (2 * rng.uniform() - 1) * bound;
    this.weight = Tensor.param(w, [inSize, outSize]);
    if (bias) {
      const b = new Float32Array(outSize);
      if (rng !== null) for (let i = 0; i < outSize; i++) b[i] = (2 * rng.uniform() - 1) * bound;
      this.bias = Tensor.param(b, [outSize]);
    } else {
      this.bias = null;
    }
  }

  forward(x: Tensor): Tensor {
    return this.bias === null ? matmul(x, this.weight) : affine(x, this.weight, this.bias);
  }

  parameters(): Tensor[] {
    return this.bias === null ? [this.weight] : [this.weight, this.bias];
  }

  parameterNames(prefix: string): string[] {
    return this.bias === null ? [`${prefix}.weight`] : [`${prefix}.weight`, `${prefix}.bias`];
  }
}

/**
 * act(h) for a freshly computed pre-activation `h` that nothing else reads: relu runs in place (saving a
 * buffer per layer); other activations, whose gradient rules need their input, get a new buffer.
 */
export function activateFresh(h: Tensor, act: Activation): Tensor {
  return act === 'relu' ? reluInPlace(h) : activation(h, act);
}
