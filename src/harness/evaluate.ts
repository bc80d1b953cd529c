import type { Learner } from '../learners/index.js';
import type { Batch, Protocol } from '../protocols/types.js';

const EVAL_CHUNK = 1000;

/**
 * Test batches of every context, materialised once (the online curve evaluates the same samples dozens of
 * times), or re-materialised chunk by chunk for full test sets, which would not fit in memory for long
 * protocols.
 */
export class TestSet {
  private readonly cached: Batch[][] | null;

  /**
   * `limit`: samples per context (null = all, not cached). `split`: the test images, or the held-out validation
   * part of the training images (for tuning hyperparameters without looking at the test set).
   */
  constructor(private readonly protocol: Protocol, private readonly limit: number | null, private readonly split: 'test' | 'validation' = 'test') {
    this.cached = limit === null ? null : protocol.contexts.map((_, j) => [...this.batches(j)]);
  }

  private *batches(context: number): Generator<Batch> {
    const spec = this.protocol.contexts[context]!;
    const all = this.split === 'test' ? spec.testIndices : spec.valIndices;
    const idx = this.limit === null ? all : all.subarray(0, Math.min(this.limit, all.length));
    for (let start = 0; start < idx.length; start += EVAL_CHUNK) {
      yield this.protocol.makeBatch(this.split === 'test' ? 'test' : 'train', context, idx.subarray(start, Math.min(idx.length, start + EVAL_CHUNK)));
    }
  }

  /**
   * Test accuracy of a learner on one context. The context id is shown to the learner only in task-IL, where
   * it is part of the scenario.
   */
  accuracy(learner: Learner, context: number): number {
    let correct = 0;
    let total = 0;
    const task = this.protocol.config.scenario === 'task';
    for (const batch of this.cached?.[context] ?? this.batches(context)) {
      const pred = learner.predict(batch.x, batch.size, task ? new Int32Array(batch.size).fill(context) : null);
      for (let i = 0; i < batch.size; i++) if (pred[i] === batch.y[i]) correct++;
      total += batch.size;
    }
    return total === 0 ? 0 : correct / total;
  }

  /** Accuracy on every context. */
  accuracies(learner: Learner): number[] {
    return this.protocol.contexts.map((_, j) => this.accuracy(learner, j));
  }
}
