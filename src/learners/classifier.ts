import { backward, crossEntropy, maskLogits, noGrad, Rng, Tensor, zeroGrad } from '../core/index.js';
import { Mlp } from '../nn/index.js';
import { adam, applyUpdates, sgd, type GradientTransformation, type State } from '../optim/index.js';
import type { Batch } from '../protocols/types.js';
import type { Learner, LearnerSetup, LearnerState, LearnerTraits } from './learner.js';

/**
 * An MLP classifier trained by backprop on each observed batch with cross-entropy: the `naive` fine-tuning
 * baseline, and the base other methods extend. Task-IL heads are realised by masking the logits of outputs
 * that a sample's context does not own.
 */
export class ClassifierLearner implements Learner {
  readonly net: Mlp;
  readonly rng: Rng;
  protected readonly opt: GradientTransformation;
  protected optState: State;
  private readonly maskRows = new Map<number, Uint8Array | null>();

  constructor(
    readonly method: string,
    readonly traits: LearnerTraits,
    readonly setup: LearnerSetup,
  ) {
    this.rng = new Rng(setup.seed);
    this.net = new Mlp([setup.inputSize, ...setup.hidden, setup.numOutputs], setup.activation, this.rng);
    this.opt = setup.optimizer === 'adam' ? adam(setup.lr) : sgd(setup.lr, setup.momentum);
    this.optState = this.opt.init(this.net.parameters().map((p) => p.data));
  }

  observe(batch: Batch): number {
    const params = this.net.parameters();
    zeroGrad(params);
    const logits = this.masked(this.net.forward(Tensor.from(batch.x, [batch.size, this.setup.inputSize])), batch.contexts);
    const loss = crossEntropy(logits, batch.y);
    backward(loss);
    this.step(params);
    return loss.item();
  }

  /** One optimiser step on the gradients now in `params`. */
  protected step(params: Tensor[]): void {
    const grads = params.map((p) => p.grad ?? new Float32Array(p.size));
    const data = params.map((p) => p.data);
    const [updates, next] = this.opt.update(grads, this.optState, data);
    this.optState = next;
    applyUpdates(data, updates);
  }

  predict(x: Float32Array, n: number, contexts: Int32Array | null): Int32Array {
    const logits = noGrad(() => this.masked(this.net.forward(Tensor.from(x, [n, this.setup.inputSize])), contexts));
    return argmaxRows(logits.data, n, this.setup.numOutputs);
  }

  /** Mask logits of outputs a sample's context does not own (task-IL); identity elsewhere. */
  protected masked(logits: Tensor, contexts: Int32Array | null): Tensor {
    if (contexts === null) return logits;
    const cols = this.setup.numOutputs;
    let mask: Uint8Array | null = null;
    for (let r = 0; r < contexts.length; r++) {
      const row = this.maskRow(contexts[r]!);
      if (row === null) continue;
      mask ??= new Uint8Array(contexts.length * cols).fill(1);
      mask.set(row, r * cols);
    }
    return mask === null ? logits : maskLogits(logits, mask);
  }

  private maskRow(context: number): Uint8Array | null {
    let row = this.maskRows.get(context);
    if (row === undefined) {
      const active = this.setup.activeOutputs(context);
      row = null;
      if (active !== null) {
        row = new Uint8Array(this.setup.numOutputs);
        for (const o of active) row[o] = 1;
      }
      this.maskRows.set(context, row);
    }
    return row;
  }

  storedRawSamples(): number {
    return 0;
  }

  parameterCount(): number {
    return this.net.parameterCount();
  }

  getState(): LearnerState {
    const params: Record<string, Float32Array> = {};
    const names = this.net.parameterNames();
    this.net.parameters().forEach((p, i) => (params[names[i]!] = p.data));
    return { method: this.method, params, optimizer: this.optState, rng: this.rng.getState(), extra: {} };
  }

  setState(state: LearnerState): void {
    const names = this.net.parameterNames();
    const ps = this.net.parameters();
    for (let i = 0; i < ps.length; i++) {
      const src = state.params[names[i]!];
      if (src === undefined || src.length !== ps[i]!.size) {
        throw new Error(`checkpoint parameter ${names[i]} is missing or has the wrong size`);
      }
      ps[i]!.data.set(src);
    }
    this.optState = state.optimizer;
    this.rng.setState(state.rng);
  }
}

/** Index of the largest value in each row (first one on ties). */
export function argmaxRows(x: Float32Array, rows: number, cols: number): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const off = r * cols;
    let best = 0;
    let bv = x[off]!;
    for (let c = 1; c < cols; c++) {
      if (x[off + c]! > bv) {
        bv = x[off + c]!;
        best = c;
      }
    }
    out[r] = best;
  }
  return out;
}
