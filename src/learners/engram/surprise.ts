import type { State } from '../../optim/index.js';

/** One point of the surprise series: mean NLL and mean z-score over a window of wake batches. */
export interface SurprisePoint {
  /** Wake batches observed when the window closed. */
  batch: number;
  nll: number;
  z: number;
}

/**
 * Surprise: each sample's negative log-likelihood of its label under the slow weights, compared with running
 * statistics (exponential moving mean and variance, rate `decay`). A z-score far above 0 means the long-term
 * memory does not explain the sample. Window means are recorded as a series for the run's result.
 */
export class SurpriseMonitor {
  private mean = 0;
  private variance = 1;
  private seen = 0;
  private batches = 0;
  private windowNll = 0;
  private windowZ = 0;
  private windowCount = 0;
  readonly series: SurprisePoint[] = [];

  constructor(private readonly decay = 0.01, private readonly window = 100) {}

  /** Record a batch of per-sample NLLs; returns their z-scores against the statistics before this batch. */
  observe(nll: Float32Array): Float32Array {
    const z = new Float32Array(nll.length);
    const sd = Math.sqrt(this.variance) + 1e-6;
    for (let i = 0; i < nll.length; i++) z[i] = this.seen === 0 ? 0 : (nll[i]! - this.mean) / sd;
    for (let i = 0; i < nll.length; i++) {
      const v = nll[i]!;
      if (this.seen === 0) {
        this.mean = v;
        this.variance = 1;
      } else {
        const d = v - this.mean;
        this.mean += this.decay * d;
        this.variance = (1 - this.decay) * (this.variance + this.decay * d * d);
      }
      this.seen++;
      this.windowNll += v;
      this.windowZ += z[i]!;
      this.windowCount++;
    }
    this.batches++;
    if (this.batches % this.window === 0 && this.windowCount > 0) {
      this.series.push({ batch: this.batches, nll: this.windowNll / this.windowCount, z: this.windowZ / this.windowCount });
      this.windowNll = this.windowZ = this.windowCount = 0;
    }
    return z;
  }

  /** Running mean and standard deviation of the NLL. */
  stats(): { mean: number; sd: number } {
    return { mean: this.mean, sd: Math.sqrt(this.variance) };
  }

  getState(): State {
    const s = this.series;
    return {
      numbers: new Float32Array([this.mean, this.variance, this.seen, this.batches, this.windowNll, this.windowZ, this.windowCount]),
      series: new Float32Array(s.flatMap((p) => [p.batch, p.nll, p.z])),
    };
  }

  setState(state: State): void {
    const { numbers, series } = state as { numbers: Float32Array; series: Float32Array };
    [this.mean, this.variance, this.seen, this.batches, this.windowNll, this.windowZ, this.windowCount] = Array.from(numbers) as [
      number, number, number, number, number, number, number,
    ];
    this.series.length = 0;
    for (let i = 0; i + 2 < series.length; i += 3) this.series.push({ batch: series[i]!, nll: series[i + 1]!, z: series[i + 2]! });
  }
}
