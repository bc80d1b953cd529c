import { add, backward, crossEntropy, maskLogits, matmul, addBias, noGrad, Tensor, zeroGrad } from '../../core/index.js';
import type { State } from '../../optim/index.js';

/**
 * The fast path's fast weights θ_F: an additive linear head on the slow model's features, z = z_S + h·W_F + b_F.
 * It learns every wake batch at once with plain SGD on the combined prediction (θ_S frozen), so a class the
 * slow weights have never seen is predicted right within a few batches; sleep distils it into θ_S and resets
 * it to zero.
 */
export class FastHead {
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(readonly features: number, readonly outputs: number, private readonly lr: number) {
    this.weight = Tensor.param(new Float32Array(features * outputs), [features, outputs]);
    this.bias = Tensor.param(new Float32Array(outputs), [outputs]);
  }

  /** Combined logits z_S + h·W_F + b_F (no gradient). */
  combine(slowLogits: Tensor, hidden: Tensor): Tensor {
    return noGrad(() => add(slowLogits, addBias(matmul(hidden, this.weight), this.bias)));
  }

  /** One SGD step on CE of the combined logits (masked to `mask` when given); returns the loss. */
  learn(slowLogits: Tensor, hidden: Tensor, labels: Int32Array, mask: Uint8Array | null): number {
    if (this.lr === 0) return Number.NaN;
    const ps = [this.weight, this.bias];
    zeroGrad(ps);
    let z = add(Tensor.from(slowLogits.data, slowLogits.shape), addBias(matmul(Tensor.from(hidden.data, hidden.shape), this.weight), this.bias));
    if (mask !== null) z = maskLogits(z, mask);
    const loss = crossEntropy(z, labels);
    backward(loss);
    for (const p of ps) {
      const g = p.grad!;
      for (let i = 0; i < g.length; i++) p.data[i]! -= this.lr * g[i]!;
    }
    return loss.item();
  }

  /** Back to zero: nothing fast is left after sleep. */
  reset(): void {
    this.weight.data.fill(0);
    this.bias.data.fill(0);
  }

  getState(): State {
    return { weight: this.weight.data.slice(), bias: this.bias.data.slice() };
  }

  setState(s: State): void {
    const { weight, bias } = s as { weight: Float32Array; bias: Float32Array };
    if (weight.length !== this.weight.size || bias.length !== this.bias.size) throw new Error('checkpoint fast head does not fit');
    this.weight.data.set(weight);
    this.bias.data.set(bias);
  }
}
