import { maskLogits, type Tensor } from '../../core/index.js';
import type { Batch, Scenario } from '../../protocols/types.js';
import { contextMask, rowMask } from './masks.js';

/** An output group a teacher's knowledge is replayed on: one outside task-IL, one per earlier context in task-IL. */
export interface ReplayHead {
  /** Output units the teacher knew in this head. */
  teacher: readonly number[];
  /** Output units the student may use for this head now (in class-IL: every class seen so far). */
  student: readonly number[];
}

/**
 * Which outputs a learner has met, from the labels (and, in task-IL, the context ids) of the batches it was
 * shown — so that it needs no boundary signal. Class-IL trains on the classes seen so far ("all-so-far"
 * active classes of van de Ven et al.); a frozen teacher's heads are a snapshot of this.
 */
export class KnownOutputs {
  readonly classes = new Set<number>();
  readonly contexts = new Set<number>();

  constructor(
    private readonly scenario: Scenario,
    private readonly numOutputs: number,
    private readonly activeOutputs: (context: number) => number[] | null,
  ) {}

  see(batch: Batch): void {
    for (const y of batch.y) this.classes.add(y);
    if (batch.contexts !== null) for (const c of batch.contexts) this.contexts.add(c);
  }

  /** Outputs the student trains on outside task-IL: the classes seen so far (class-IL) or all (domain-IL). */
  studentOutputs(): number[] {
    if (this.scenario === 'class') return [...this.classes].sort((a, b) => a - b);
    return Array.from({ length: this.numOutputs }, (_, i) => i);
  }

  /**
   * Logits of the current batch as the loss on it should see them: class-IL over the classes seen so far,
   * task-IL over each row's context head, domain-IL all outputs.
   */
  maskCurrent(logits: Tensor, batch: Batch): Tensor {
    if (this.scenario === 'class') return maskLogits(logits, rowMask(this.studentOutputs(), batch.size, this.numOutputs));
    if (this.scenario === 'task' && batch.contexts !== null) {
      return maskLogits(logits, contextMask(batch.contexts, this.numOutputs, this.activeOutputs));
    }
    return logits;
  }

  /** Replay heads for a teacher frozen now: one per context seen (task-IL), else one over the known outputs. */
  heads(): ReplayHead[] {
    if (this.scenario === 'task') {
      return [...this.contexts].sort((a, b) => a - b).map((c) => {
        const outs = this.activeOutputs(c) ?? [];
        return { teacher: outs, student: outs };
      });
    }
    const outs = this.studentOutputs();
    return [{ teacher: outs, student: outs }];
  }

  /** Heads with the student's side widened to what is known now (class-IL: new classes join the softmax). */
  widen(heads: readonly ReplayHead[]): ReplayHead[] {
    if (this.scenario !== 'class') return [...heads];
    const now = this.studentOutputs();
    return heads.map((h) => ({ teacher: h.teacher, student: now }));
  }

  getState(): { classes: Float32Array; contexts: Float32Array } {
    return { classes: Float32Array.from(this.classes), contexts: Float32Array.from(this.contexts) };
  }

  setState(s: { classes: Float32Array; contexts: Float32Array }): void {
    this.classes.clear();
    this.contexts.clear();
    s.classes.forEach((v) => this.classes.add(v));
    s.contexts.forEach((v) => this.contexts.add(v));
  }
}

/** Heads as state (Float32Arrays) and back. */
export function headsToState(heads: readonly ReplayHead[]): Float32Array[] {
  return heads.flatMap((h) => [Float32Array.from(h.teacher), Float32Array.from(h.student)]);
}

export function headsFromState(s: readonly Float32Array[]): ReplayHead[] {
  const out: ReplayHead[] = [];
  for (let i = 0; i + 1 < s.length; i += 2) out.push({ teacher: [...s[i]!], student: [...s[i + 1]!] });
  return out;
}
