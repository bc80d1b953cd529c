import type { State } from '../../optim/index.js';

/**
 * The bounded short-term memory: raw samples (inputs, labels) admitted during wake, up to `capacity`, erased by
 * every sleep. It is the only raw data Engram holds, so its size is what `storedRawSamples` reports.
 */
export class ShortTermMemory {
  private readonly xs: Float32Array;
  private readonly ys: Int32Array;
  private n = 0;

  constructor(readonly capacity: number, readonly inputSize: number) {
    this.xs = new Float32Array(capacity * inputSize);
    this.ys = new Int32Array(capacity);
  }

  get size(): number {
    return this.n;
  }

  get full(): boolean {
    return this.n >= this.capacity;
  }

  /** Add row `r` of a batch; returns false when full (nothing is overwritten: sleep empties the memory). */
  add(x: Float32Array, r: number, y: number): boolean {
    if (this.full) return false;
    const d = this.inputSize;
    this.xs.set(x.subarray(r * d, (r + 1) * d), this.n * d);
    this.ys[this.n] = y;
    this.n++;
    return true;
  }

  /** Copies of what is held (for a sleep, which may run on another thread). */
  contents(): { x: Float32Array; y: Int32Array; n: number } {
    return { x: this.xs.slice(0, this.n * this.inputSize), y: this.ys.slice(0, this.n), n: this.n };
  }

  /** Labels held now (a view; do not keep). */
  labels(): Int32Array {
    return this.ys.subarray(0, this.n);
  }

  /** Forget everything (zeroed, so no raw sample lingers in memory after a sleep). */
  clear(): void {
    this.xs.fill(0, 0, this.n * this.inputSize);
    this.ys.fill(0, 0, this.n);
    this.n = 0;
  }

  getState(): State {
    return { x: this.xs.slice(0, this.n * this.inputSize), y: Float32Array.from(this.ys.subarray(0, this.n)) };
  }

  setState(s: State): void {
    const { x, y } = s as { x: Float32Array; y: Float32Array };
    if (y.length > this.capacity || x.length !== y.length * this.inputSize) {
      throw new Error('checkpoint short-term memory does not fit this learner');
    }
    this.clear();
    this.xs.set(x);
    this.ys.set(Int32Array.from(y));
    this.n = y.length;
  }
}
