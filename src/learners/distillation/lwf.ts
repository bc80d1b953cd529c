import { add, crossEntropy, maskLogits, noGrad, Rng, scale, softCrossEntropy, Tensor } from '../../core/index.js';
import { getBackend } from '../../kernels/index.js';
import { Mlp } from '../../nn/index.js';
import type { State } from '../../optim/index.js';
import type { Batch } from '../../protocols/types.js';
import { ClassifierLearner } from '../classifier.js';
import type { LearnerSetup } from '../learner.js';

export interface LwfOptions {
  /** Distillation temperature (van de Ven et al.: 2). */
  temperature?: number;
  /** Task-free streams: iterations between teacher snapshots (default: iterations per context). */
  snapshotEvery?: number;
}

/**
 * Learning without Forgetting (Li & Hoiem 2017), in van de Ven et al.'s (2022) form: a frozen copy of the
 * model taken at each context's end (every `snapshotEvery` iterations in task-free streams) labels the
 * *current* inputs with soft targets over the classes learnt before, and the loss is
 * L = (1/t)·CE(current labels) + (1 − 1/t)·T²·CE(teacher's softened outputs ‖ student's), t = contexts so far.
 * In task-IL each earlier context's head is distilled on its own softmax. Stores no raw data.
 */
export class LwfLearner extends ClassifierLearner {
  private teacher: Mlp | null = null;
  /** Output units learnt before the teacher snapshot, grouped per head (one group outside task-IL). */
  private heads: number[][] = [];
  private readonly seen = new Set<number>();
  private readonly seenContexts = new Set<number>();
  private snapshots = 0;
  private steps = 0;
  private readonly temperature: number;
  private readonly snapshotEvery: number;

  constructor(setup: LearnerSetup, opts: LwfOptions = {}) {
    super('lwf', { storesRawSamples: false, cumulativeStream: false }, setup);
    this.temperature = opts.temperature ?? 2;
    this.snapshotEvery = opts.snapshotEvery ?? setup.itersPerContext;
  }

  protected override loss(batch: Batch): Tensor {
    for (const y of batch.y) this.seen.add(y);
    if (batch.contexts !== null) for (const c of batch.contexts) this.seenContexts.add(c);
    const x = Tensor.from(batch.x, [batch.size, this.setup.inputSize]);
    // Unmasked logits: distillation covers earlier heads, which the current samples' task-IL mask hides.
    const raw = this.net.forward(x);
    const current = crossEntropy(this.masked(raw, batch.contexts), batch.y);
    if (this.teacher === null) return current;
    const T = this.temperature;
    const teacherLogits = noGrad(() => this.teacher!.forward(x));
    let distill: Tensor | null = null;
    for (const head of this.heads) {
      const mask = headMask(head, batch.size, this.setup.numOutputs);
      const targets = softTargets(teacherLogits.data, mask, batch.size, this.setup.numOutputs, T);
      const term = softCrossEntropy(maskLogits(raw, mask), Tensor.from(targets, [batch.size, this.setup.numOutputs]), T);
      distill = distill === null ? term : add(distill, term);
    }
    const t = this.snapshots + 1;
    const kd = scale(distill!, (T * T) / this.heads.length);
    return add(scale(current, 1 / t), scale(kd, 1 - 1 / t));
  }

  protected override afterStep(): void {
    this.steps++;
    if (this.setup.stream === 'task-free' && this.steps % this.snapshotEvery === 0) this.snapshot();
  }

  onBoundary(): void {
    this.snapshot();
  }

  /** Freeze a copy of the current model as the teacher and record which outputs it knows. */
  private snapshot(): void {
    // A throwaway RNG: the copy's initial values are overwritten, and drawing from this.rng would shift a resumed run.
    const copy = new Mlp(this.net.sizes, this.net.act, new Rng(0), this.net.bias);
    const src = this.net.parameters();
    copy.parameters().forEach((p, i) => p.data.set(src[i]!.data));
    this.teacher = copy;
    this.snapshots++;
    if (this.setup.scenario === 'task') {
      this.heads = [...this.seenContexts].sort((a, b) => a - b).map((c) => this.setup.activeOutputs(c) ?? []);
    } else {
      this.heads = [[...this.seen].sort((a, b) => a - b)];
    }
  }

  protected override extraState(): State {
    const teacher = this.teacher === null ? [] : this.teacher.parameters().map((p) => p.data);
    return {
      teacher,
      heads: this.heads.map((h) => Float32Array.from(h)),
      seen: Float32Array.from(this.seen),
      seenContexts: Float32Array.from(this.seenContexts),
      snapshots: this.snapshots,
      steps: this.steps,
    };
  }

  protected override restoreExtraState(extra: State): void {
    const e = extra as { teacher: Float32Array[]; heads: Float32Array[]; seen: Float32Array; seenContexts: Float32Array; snapshots: number; steps: number };
    if (e.teacher.length > 0) {
      const copy = new Mlp(this.net.sizes, this.net.act, new Rng(0), this.net.bias);
      copy.parameters().forEach((p, i) => p.data.set(e.teacher[i]!));
      this.teacher = copy;
    }
    this.heads = e.heads.map((h) => [...h]);
    e.seen.forEach((v) => this.seen.add(v));
    e.seenContexts.forEach((v) => this.seenContexts.add(v));
    this.snapshots = e.snapshots;
    this.steps = e.steps;
  }
}

/** rows×cols mask keeping the columns of one head. */
function headMask(head: readonly number[], rows: number, cols: number): Uint8Array {
  const row = new Uint8Array(cols);
  for (const o of head) row[o] = 1;
  const m = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++) m.set(row, r * cols);
  return m;
}

/** softmax(z/T) over the kept columns, 0 elsewhere. */
function softTargets(z: Float32Array, mask: Uint8Array, rows: number, cols: number, T: number): Float32Array {
  const masked = new Float32Array(rows * cols);
  for (let i = 0; i < masked.length; i++) masked[i] = mask[i] === 1 ? z[i]! / T : -Infinity;
  const out = new Float32Array(rows * cols);
  getBackend().logSoftmax(masked, rows, cols, out);
  for (let i = 0; i < out.length; i++) out[i] = mask[i] === 1 ? Math.exp(out[i]!) : 0;
  return out;
}
