import { ldaStateFrom, StreamingLda } from '../../generative/index.js';
import type { Batch } from '../../protocols/types.js';
import { argmaxRows } from '../../nn/index.js';
import { contextMask } from '../heads/index.js';
import type { Learner, LearnerSetup, LearnerState, LearnerTraits } from '../learner.js';

/**
 * Streaming linear discriminant analysis on the inputs (Hayes & Kanan 2020, "Lifelong machine learning with
 * deep streaming linear discriminant analysis", here without a pretrained feature extractor): class means and
 * one shared covariance as exact running statistics, classification by the Gaussian class-conditionals with a
 * uniform prior over the classes seen. No sample is kept and nothing is ever overwritten, so it does not forget:
 * on class-IL streams it is the same model whatever the order. It is also Engram's statistical memory
 * (`src/generative/streaming-lda.ts`); alone, it shows what that memory contributes.
 */
export class SldaLearner implements Learner {
  readonly method = 'slda';
  readonly traits: LearnerTraits = { storesRawSamples: false, cumulativeStream: false };
  private readonly lda: StreamingLda;

  constructor(readonly setup: LearnerSetup) {
    this.lda = new StreamingLda(setup.inputSize, setup.numOutputs);
  }

  observe(batch: Batch): number {
    this.lda.observe(batch.x, batch.y, batch.size);
    return Number.NaN;
  }

  predict(x: Float32Array, n: number, contexts: Int32Array | null): Int32Array {
    const K = this.setup.numOutputs;
    const z = this.lda.logits(x, n);
    if (contexts !== null && this.setup.scenario === 'task') {
      const mask = contextMask(contexts, K, this.setup.activeOutputs);
      for (let i = 0; i < z.length; i++) if (mask[i] === 0) z[i] = -Infinity;
    }
    return argmaxRows(z, n, K);
  }

  /** It has no options (its shrinkage and row stride are constants of the statistical memory). */
  resolvedOptions(): Record<string, never> {
    return {};
  }

  storedRawSamples(): number {
    return 0;
  }

  parameterCount(): number {
    return this.lda.size;
  }

  getState(): LearnerState {
    return { method: this.method, params: {}, optimizer: {}, rng: [], extra: { ...this.lda.getState() } };
  }

  setState(state: LearnerState): void {
    this.lda.setState(ldaStateFrom(state.extra));
  }
}
