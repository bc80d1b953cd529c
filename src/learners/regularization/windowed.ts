import type { Tensor } from '../../core/index.js';
import { getBackend } from '../../kernels/index.js';
import type { State } from '../../optim/index.js';
import type { Batch } from '../../protocols/types.js';
import type { LearnerSetup } from '../learner.js';
import { assertPositiveInt, QuadraticPenaltyLearner } from './base.js';
import { copyArrays } from './penalty.js';
import { PerSampleStats } from './per-sample.js';

/**
 * A penalty whose importance is estimated from samples of the period being consolidated (EWC's Fisher, MAS's
 * output sensitivity). Authors' code makes a pass over the finished context's data at the boundary; a learner
 * here may not keep raw data, so instead the estimate is accumulated online over the period's last
 * ⌈samples / batch⌉ training batches (for the default Split MNIST protocol: the last 94 of 2000 iterations,
 * ≈ one epoch of the context) and averaged at consolidation. Nothing is stored but the running sums
 * (`storedRawSamples()` is truly 0), the cost is the same as the pass at the boundary, and the only difference
 * is that each batch's contribution is evaluated at the parameters of the step it was trained on (within the
 * last few percent of the context's steps) instead of all at the final ones.
 *
 * @example
 * class Mas extends WindowedImportanceLearner { protected gather(batch) { ... this.stats.accumulate(...) } }
 */
export abstract class WindowedImportanceLearner extends QuadraticPenaltyLearner {
  /** Σ over the window's samples of the per-sample importance, one array per parameter tensor. */
  protected readonly stats: PerSampleStats;
  /** Samples accumulated in `stats` since the last consolidation. */
  protected samplesSeen = 0;
  /** Samples wanted per importance estimate (whole batches: ⌈samples / batch⌉ of them). */
  readonly importanceSamples: number;

  constructor(method: string, setup: LearnerSetup, consolidateEvery: number | null, importanceSamples: number) {
    super(method, setup, consolidateEvery);
    assertPositiveInt(importanceSamples, 'importance samples');
    this.importanceSamples = importanceSamples;
    this.stats = new PerSampleStats(this.net);
  }

  /** Add the batch's per-sample importance to `stats.sums`. */
  protected abstract gather(batch: Batch): void;

  /** Training batches at the end of each period that feed the estimate. */
  windowIterations(): number {
    return Math.ceil(this.importanceSamples / this.setup.batchSize);
  }

  protected override afterPenalisedStep(_params: Tensor[], _updates: readonly Float32Array[], batch: Batch): void {
    if (this.sinceConsolidation > this.periodLength() - this.windowIterations()) {
      this.gather(batch);
      this.samplesSeen += batch.size;
    }
  }

  /**
   * The mean per-sample importance over the window, and a fresh window. Zero if the period was cut short
   * before its window began (the consolidation then only moves the anchor).
   */
  protected takeMean(): Float32Array[] {
    const b = getBackend();
    const k = this.samplesSeen > 0 ? 1 / this.samplesSeen : 0;
    const mean = this.stats.sums.map((s) => {
      const m = new Float32Array(s.length);
      b.axpby(k, s, 0, s, m);
      return m;
    });
    this.stats.clear();
    this.samplesSeen = 0;
    return mean;
  }

  protected override methodState(): State {
    return { samplesSeen: this.samplesSeen, sums: this.stats.sums };
  }

  protected override restoreMethodState(state: State): void {
    const s = state as { samplesSeen: number; sums: Float32Array[] };
    copyArrays(s.sums, this.stats.sums, 'importance sums');
    this.samplesSeen = s.samplesSeen;
  }
}
