import { add, crossEntropy, scale, sliceRows, type Tensor } from '../../core/index.js';
import type { Batch } from '../../protocols/types.js';
import type { LearnerSetup } from '../learner.js';
import { ReplayLearner, type ReplayOptions } from './replay-learner.js';

/**
 * Experience replay (ER) with a class-balanced buffer of raw samples, as in van de Ven, Tuytelaars & Tolias
 * (2022): each step trains on the current batch plus an equally large batch drawn from the buffer, weighted
 * L = (1/t)·L_current + (1 − 1/t)·L_replay with t the number of contexts so far (their `rnt`). The buffer keeps
 * a uniform random subset of each class's samples (reservoir sampling), which is what their random
 * selection at the end of each context gives, without needing to keep a context's data until its end.
 * In task-free streams (no t) both halves weigh equally. Stored: up to budget × classes raw samples, for good.
 */
export class ErLearner extends ReplayLearner {
  constructor(setup: LearnerSetup, opts: ReplayOptions = {}) {
    super('er', setup, opts);
  }

  protected override loss(batch: Batch): Tensor {
    const replay = this.replayBatch(batch.size);
    if (replay === null) return super.loss(batch);
    const n = batch.size;
    const x = new Float32Array((n + replay.y.length) * this.setup.inputSize);
    x.set(batch.x);
    x.set(replay.x, batch.x.length);
    let contexts: Int32Array | null = null;
    if (batch.contexts !== null) {
      contexts = new Int32Array(n + replay.y.length);
      contexts.set(batch.contexts);
      contexts.set(replay.contexts, n);
    }
    const logits = this.logits(x, n + replay.y.length, contexts);
    const current = crossEntropy(sliceRows(logits, 0, n), batch.y);
    const replayed = crossEntropy(sliceRows(logits, n, n + replay.y.length), replay.y);
    const rnt = this.setup.stream === 'task-free' ? 0.5 : 1 / (this.finished + 1);
    return add(scale(current, rnt), scale(replayed, 1 - rnt));
  }
}

