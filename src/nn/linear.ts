import { addBias, matmul, Rng, Tensor } from '../core/index.js';

/**
 * A fully connected layer x·W (+ b) with W stored [in, out], initialised like PyTorch's nn.Linear
 * (U(±1/√fan_in) for weights and biases), so that published hyperparameters carry over.
 */
export class Linear {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(readonly inSize: number, readonly outSize: number, rng: Rng, bias = true) {
    const bound = 1 / Math.sqrt(inSize);
    const w = new Float32Array(inSize * outSize);
    for (let i = 0; i < w.length; i++) w[i] = (2 * rng.uniform() - 1) * bound;
    this.weight = Tensor.param(w, [inSize, outSize]);
    if (bias) {
      const b = new Float32Array(outSize);
      for (let i = 0; i < outSize; i++) b[i] = (2 * rng.uniform() - 1) * bound;
      this.bias = Tensor.param(b, [outSize]);
    } else {
      this.bias = null;
    }
  }

  forward(x: Tensor): Tensor {
    const y = matmul(x, this.weight);
    return this.bias === null ? y : addBias(y, this.bias);
  }

  parameters(): Tensor[] {
    return this.bias === null ? [this.weight] : [this.weight, this.bias];
  }

  parameterNames(prefix: string): string[] {
    return this.bias === null ? [`${prefix}.weight`] : [`${prefix}.weight`, `${prefix}.bias`];
  }
}
