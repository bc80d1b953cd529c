import { z } from 'zod';
import { add, crossEntropy, noGrad, scale, Tensor } from '../../core/index.js';
import { Mlp } from '../../nn/index.js';
import type { State } from '../../optim/index.js';
import type { Batch } from '../../protocols/types.js';
import { ClassifierLearner } from '../classifier.js';
import type { LearnerSetup } from '../learner.js';
import { headsFromState, headsToState, KnownOutputs, type ReplayHead } from '../heads/index.js';
import { replayLoss } from './replay-loss.js';
import { parseMethodOptions, positive, positiveInt, refuseOutsideTaskFree, type OptionContext, type ReportedOptions } from '../method-options.js';
import { TASK_FREE_UPDATE_EVERY } from '../task-free.js';

/**
 * LwF's `--set` options: `temperature`, of the distillation (van de Ven et al.: 2); `snapshotEvery`, task-free
 * streams only: iterations between teacher snapshots (default {@link TASK_FREE_UPDATE_EVERY}).
 */
export const lwfOptionsSchema = z.object({
  temperature: positive().default(2),
  snapshotEvery: positiveInt().default(TASK_FREE_UPDATE_EVERY),
}).strict();

export type LwfOptions = z.input<typeof lwfOptionsSchema>;

/** LwF's options with every default decided (`snapshotEvery` in task-free streams only). */
export type LwfResolvedOptions = {
  temperature: number;
  snapshotEvery?: number;
};

/**
 * LwF's options validated, with every default decided for `ctx`.
 *
 * @example
 * resolveLwfOptions({}, { protocol: 'split-mnist', scenario: 'class', stream: 'task-free', hidden: [400, 400] });
 * // { temperature: 2, snapshotEvery: 2000 }
 */
export function resolveLwfOptions(given: Readonly<Record<string, unknown>>, ctx: OptionContext): LwfResolvedOptions {
  const o = parseMethodOptions('lwf', lwfOptionsSchema, given);
  refuseOutsideTaskFree('lwf', given, ctx, 'snapshotEvery');
  return { temperature: o.temperature, ...(ctx.stream === 'task-free' ? { snapshotEvery: o.snapshotEvery } : {}) };
}

/**
 * Learning without Forgetting (Li & Hoiem 2017), in van de Ven et al.'s (2022) form (`--lwf`: replay of the
 * current inputs with distillation, GMvandeVen/continual-learning `train/train_task_based.py`): a frozen copy
 * of the model taken at each context's end (every `snapshotEvery` iterations in task-free streams) labels the
 * *current* inputs with soft targets over the classes it knew, and
 * L = (1/t)·CE(current labels) + (1 − 1/t)·T²·KD(teacher ‖ student), t = contexts so far.
 * As in the reference, class-IL trains on the classes seen so far ("all-so-far" active classes) and the
 * distillation's student softmax spans them too, with zero targets for the classes the teacher never saw;
 * task-IL distils each earlier context's head on its own softmax and averages. Stores no raw data.
 */
export class LwfLearner extends ClassifierLearner {
  private teacher: Mlp | null = null;
  /** Output groups the teacher knew (one outside task-IL). */
  private heads: ReplayHead[] = [];
  private readonly known: KnownOutputs;
  private snapshots = 0;
  private steps = 0;
  private readonly options: LwfResolvedOptions;
  private readonly temperature: number;
  /** Task-free streams: iterations between teacher snapshots (null: at boundaries). */
  private readonly snapshotEvery: number | null;

  constructor(setup: LearnerSetup, opts: LwfOptions = {}) {
    super('lwf', { storesRawSamples: false, cumulativeStream: false }, setup);
    this.options = resolveLwfOptions(opts, setup);
    this.temperature = this.options.temperature;
    this.snapshotEvery = this.options.snapshotEvery ?? null;
    this.known = new KnownOutputs(setup.scenario, setup.numOutputs, setup.activeOutputs);
  }

  protected override loss(batch: Batch): Tensor {
    this.known.see(batch);
    const x = Tensor.from(batch.x, [batch.size, this.setup.inputSize]);
    const raw = this.net.forward(x);
    const current = crossEntropy(this.known.maskCurrent(raw, batch), batch.y);
    if (this.teacher === null) return current;
    const teacher = this.teacher;
    const teacherLogits = noGrad(() => teacher.forward(x)).data;
    const kd = replayLoss(raw, teacherLogits, this.known.widen(this.heads), true, this.temperature);
    const w = 1 / (this.snapshots + 1);
    return add(scale(current, w), scale(kd, 1 - w));
  }

  protected override afterStep(): void {
    this.steps++;
    if (this.snapshotEvery !== null && this.steps % this.snapshotEvery === 0) this.snapshot();
  }

  override resolvedOptions(): ReportedOptions {
    return { ...this.options };
  }

  onBoundary(): void {
    this.snapshot();
  }

  /** Freeze a copy of the current model as the teacher and record which outputs it knows. */
  private snapshot(): void {
    this.teacher = this.net.clone();
    this.heads = this.known.heads();
    this.snapshots++;
  }

  protected override extraState(): State {
    return {
      teacher: this.teacher === null ? [] : this.teacher.parameters().map((p) => p.data),
      heads: headsToState(this.heads),
      known: this.known.getState(),
      snapshots: this.snapshots,
      steps: this.steps,
    };
  }

  protected override restoreExtraState(extra: State): void {
    const e = extra as {
      teacher: Float32Array[]; heads: Float32Array[]; known: { classes: Float32Array; contexts: Float32Array };
      snapshots: number; steps: number;
    };
    this.teacher = e.teacher.length > 0 ? this.net.clone(e.teacher) : null;
    this.heads = headsFromState(e.heads);
    this.known.setState(e.known);
    this.snapshots = e.snapshots;
    this.steps = e.steps;
  }
}
