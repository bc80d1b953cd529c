import { z } from 'zod';
import type { Tensor } from '../../core/index.js';
import type { State } from '../../optim/index.js';
import type { Batch } from '../../protocols/types.js';
import { ClassifierLearner } from '../classifier.js';
import type { LearnerSetup } from '../learner.js';
import { offerBatch, ReplayBuffer } from './buffer.js';
import { parseMethodOptions, positiveInt, type ReportedOptions } from '../method-options.js';

/**
 * The `--set` options of the replay methods (ER, A-GEM): `budgetPerClass`, raw samples kept per class (van de
 * Ven et al. 2022: 100).
 */
export const replayOptionsSchema = z.object({
  budgetPerClass: positiveInt().default(100),
}).strict();

export type ReplayOptions = z.input<typeof replayOptionsSchema>;
export type ReplayResolvedOptions = z.output<typeof replayOptionsSchema>;

/**
 * A replay method's options validated, with defaults.
 *
 * @example
 * resolveReplayOptions('er', { budgetPerClass: 50 }); // { budgetPerClass: 50 }
 */
export function resolveReplayOptions(method: string, given: Readonly<Record<string, unknown>>): ReplayResolvedOptions {
  return parseMethodOptions(method, replayOptionsSchema, given);
}

/**
 * Base of the methods that keep raw samples (ER, A-GEM): a class-balanced reservoir fed with every observed
 * batch, and replay batches drawn from it — in `boundaries` streams from earlier contexts only (the current
 * one is learnt from the stream itself), in task-free streams from everything held.
 */
export abstract class ReplayLearner extends ClassifierLearner {
  protected readonly buffer: ReplayBuffer;
  /** Contexts finished (boundaries streams), from onBoundary. */
  protected finished = 0;

  private readonly options: ReplayResolvedOptions;

  constructor(method: string, setup: LearnerSetup, opts: ReplayOptions) {
    super(method, { storesRawSamples: true, cumulativeStream: false }, setup);
    this.options = resolveReplayOptions(method, opts);
    this.buffer = new ReplayBuffer(setup.inputSize, this.options.budgetPerClass, this.rng);
  }

  override resolvedOptions(): ReportedOptions {
    return { ...this.options };
  }

  /** A replay batch of `n` samples, or null while nothing is eligible. */
  protected replayBatch(n: number): ReturnType<ReplayBuffer['sample']> {
    return this.buffer.sample(n, this.setup.stream === 'task-free' ? () => true : (c) => c < this.finished);
  }

  protected override afterStep(_params: Tensor[], _updates: readonly Float32Array[], batch: Batch): void {
    offerBatch(this.buffer, batch, this.setup.scenario, this.setup.numOutputs);
  }

  onBoundary(context: number): void {
    this.finished = context + 1;
  }

  override storedRawSamples(): number {
    return this.buffer.size;
  }

  protected override extraState(): State {
    return { finished: this.finished, buffer: this.buffer.getState() };
  }

  protected override restoreExtraState(extra: State): void {
    const e = extra as { finished: number; buffer: ReturnType<ReplayBuffer['getState']> };
    this.finished = e.finished;
    this.buffer.setState(e.buffer);
  }
}
