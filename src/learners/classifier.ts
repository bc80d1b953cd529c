import { backward, BufferArena, crossEntropy, maskLogits, noGrad, Rng, Tensor, withArena, zeroGrad } from '../core/index.js';
import { argmaxRows, Mlp } from '../nn/index.js';
import { adam, optimizerStep, sgd, type Chain, type GradientTransformation, type State } from '../optim/index.js';
import { defaultPcSettings, PcEngine } from '../predictive-coding/index.js';
import type { Batch } from '../protocols/types.js';
import type { ReportedOptions } from './method-options.js';
import { namedParams, restoreNamedParams, type Learner, type LearnerSetup, type LearnerState, type LearnerTraits } from './learner.js';

/**
 * An MLP classifier trained by backprop on each observed batch with cross-entropy: the `naive` fine-tuning
 * baseline, and the base other methods extend. Task-IL heads are realised by masking the logits of outputs
 * that a sample's context does not own. Under `engine: 'pc'` the gradients come from predictive coding's local
 * updates instead (no backward pass); the optimiser and every hook after the gradients stay the same.
 */
export class ClassifierLearner implements Learner {
  readonly net: Mlp;
  readonly rng: Rng;
  /** The optimiser (a method may extend the chain, e.g. GPM's projection before the step). */
  protected opt: GradientTransformation;
  protected optState: State;
  private readonly maskRows = new Map<number, Uint8Array | null>();
  /** Op buffers recycled from step to step (core/arena.ts): hooks must copy anything they keep. */
  private readonly arena = new BufferArena();
  /** The predictive-coding engine, when the setup asks for it. */
  private readonly pc: PcEngine | null;

  constructor(
    readonly method: string,
    readonly traits: LearnerTraits,
    readonly setup: LearnerSetup,
  ) {
    this.rng = new Rng(setup.seed);
    this.net = new Mlp([setup.inputSize, ...setup.hidden, setup.numOutputs], setup.activation, this.rng, setup.bias ?? true);
    this.opt = configuredOptimizer(setup);
    this.optState = this.opt.init(this.net.parameters().map((p) => p.data));
    this.pc = setup.engine === 'pc' ? new PcEngine(this.net, setup.pc ?? defaultPcSettings) : null;
  }

  /**
   * One training step. The stages are hooks for methods built on this class: `loss` (replay and distillation
   * terms), `adjustGradients` (regularisers that add a penalty's gradient directly, gradient projection), and
   * `afterStep` (path integrals that need the applied update).
   */
  observe(batch: Batch): number {
    return withArena(this.arena, () => {
      const params = this.net.parameters();
      const update = (): void => {
        this.adjustGradients(params, batch);
        const updates = this.step(params);
        this.afterStep(params, updates, batch);
      };
      if (this.pc !== null) return this.pc.train(batch.x, batch.size, batch.y, this.headMask(batch.contexts), update);
      zeroGrad(params);
      const loss = this.loss(batch);
      backward(loss);
      update();
      return loss.item();
    });
  }

  /** The training loss of a batch: cross-entropy on the (task-IL masked) logits. */
  protected loss(batch: Batch): Tensor {
    return crossEntropy(this.logits(batch.x, batch.size, batch.contexts), batch.y);
  }

  /** Logits of `n` inputs, masked to each sample's head in task-IL. */
  protected logits(x: Float32Array, n: number, contexts: Int32Array | null): Tensor {
    return this.masked(this.net.forward(Tensor.from(x, [n, this.setup.inputSize])), contexts);
  }

  /** Change the gradients in `params[i].grad` before the optimiser sees them (default: nothing). */
  protected adjustGradients(_params: Tensor[], _batch: Batch): void {}

  /** Runs after the parameters moved by `updates` (default: nothing). */
  protected afterStep(_params: Tensor[], _updates: readonly Float32Array[], _batch: Batch): void {}

  /** Method-specific state for checkpoints (default: none). */
  protected extraState(): State {
    return {};
  }

  protected restoreExtraState(_extra: State): void {}

  /** One optimiser step on the gradients now in `params`; returns the updates that were applied. */
  protected step(params: Tensor[]): Float32Array[] {
    const [updates, next] = optimizerStep(this.opt, this.optState, params);
    this.optState = next;
    return updates;
  }

  predict(x: Float32Array, n: number, contexts: Int32Array | null): Int32Array {
    const logits = noGrad(() => this.logits(x, n, contexts));
    return argmaxRows(logits.data, n, this.setup.numOutputs);
  }

  /** Mask logits of outputs a sample's context does not own (task-IL); identity elsewhere. */
  protected masked(logits: Tensor, contexts: Int32Array | null): Tensor {
    const mask = this.headMask(contexts);
    return mask === null ? logits : maskLogits(logits, mask);
  }

  /** rows × outputs, 1 where a row's context owns the output (task-IL); null when every output is in play. */
  private headMask(contexts: Int32Array | null): Uint8Array | null {
    if (contexts === null) return null;
    const cols = this.setup.numOutputs;
    let mask: Uint8Array | null = null;
    for (let r = 0; r < contexts.length; r++) {
      const row = this.maskRow(contexts[r]!);
      if (row === null) continue;
      mask ??= new Uint8Array(contexts.length * cols).fill(1);
      mask.set(row, r * cols);
    }
    return mask;
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

  /** Plain fine-tuning has no options of its own; methods built on this class list theirs. */
  resolvedOptions(): ReportedOptions {
    return {};
  }

  storedRawSamples(): number {
    return 0;
  }

  parameterCount(): number {
    return this.net.parameterCount();
  }

  getState(): LearnerState {
    const params = namedParams(this.net.parameterNames(), this.net.parameters());
    return { method: this.method, params, optimizer: this.optState, rng: this.rng.getState(), extra: this.extraState() };
  }

  setState(state: LearnerState): void {
    restoreNamedParams(this.net.parameterNames(), this.net.parameters(), state.params);
    this.optState = state.optimizer;
    this.rng.setState(state.rng);
    this.restoreExtraState(state.extra);
  }
}

/**
 * The optimiser the setup asks for: `adam(lr)` or `sgd(lr, momentum)`.
 *
 * @example
 * const opt = chain({ project: project(layers), ...configuredOptimizer(setup).links });
 */
export function configuredOptimizer(setup: Pick<LearnerSetup, 'optimizer' | 'lr' | 'momentum'>): Chain {
  return setup.optimizer === 'adam' ? adam(setup.lr) : sgd(setup.lr, setup.momentum);
}
