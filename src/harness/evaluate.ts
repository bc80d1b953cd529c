import type { Learner } from '../learners/index.js';
import type { Protocol } from '../protocols/types.js';

const EVAL_CHUNK = 1000;

/**
 * Test accuracy of a learner on one context, on the first `limit` test samples (all when null). The context
 * id is shown to the learner only in task-IL, where it is part of the scenario.
 */
export function contextAccuracy(learner: Learner, protocol: Protocol, context: number, limit: number | null): number {
  const all = protocol.contexts[context]!.testIndices;
  const idx = limit === null ? all : all.subarray(0, Math.min(limit, all.length));
  let correct = 0;
  for (let start = 0; start < idx.length; start += EVAL_CHUNK) {
    const part = idx.subarray(start, Math.min(idx.length, start + EVAL_CHUNK));
    const batch = protocol.makeBatch('test', context, part);
    const ctx = protocol.config.scenario === 'task' ? new Int32Array(batch.size).fill(context) : null;
    const pred = learner.predict(batch.x, batch.size, ctx);
    for (let i = 0; i < batch.size; i++) if (pred[i] === batch.y[i]) correct++;
  }
  return idx.length === 0 ? 0 : correct / idx.length;
}

/** Accuracy on every context. */
export function allAccuracies(learner: Learner, protocol: Protocol, limit: number | null): number[] {
  return protocol.contexts.map((_, j) => contextAccuracy(learner, protocol, j, limit));
}
