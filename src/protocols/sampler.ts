/**
 * The equivalent of PyTorch's `cycle(DataLoader(dataset, shuffle=True, drop_last=True))`, which van de Ven's
 * code uses for every context: positions come in a fresh random order each epoch, and a new epoch starts when
 * the current one is used up (for whole batches: when fewer than a batch remain, which are dropped).
 */
import type { Rng } from '../core/rng.js';

/**
 * Endless shuffled passes over positions 0..size-1.
 *
 * @example
 * const loader = new ShuffledCycler(trainIndices.length, rng);
 * const idx = new Int32Array(128);
 * loader.nextBatch(idx);              // 128 distinct positions from the current epoch
 * const one = loader.next();          // one position (task-free streams draw sample by sample)
 */
export class ShuffledCycler {
  /** Current epoch's order; reshuffled in place, so an epoch costs no allocation. */
  private readonly order: Int32Array;
  private pos: number;
  /** Completed-or-started epochs so far (for tests and diagnostics). */
  epochs = 0;

  constructor(readonly size: number, private readonly rng: Rng) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`cannot sample from ${size} items`);
    this.order = new Int32Array(size);
    for (let i = 0; i < size; i++) this.order[i] = i;
    this.pos = size; // start a (shuffled) epoch on first use
  }

  /** Next position; starts a new epoch after the last one of the current epoch. */
  next(): number {
    if (this.pos >= this.size) this.newEpoch();
    return this.order[this.pos++]!;
  }

  /**
   * Fill `out` with the next `out.length` positions of one epoch. As with `drop_last=True`, when fewer than
   * that remain in the current epoch they are skipped and a new epoch starts, so a batch never repeats an item.
   */
  nextBatch(out: Int32Array): void {
    const n = out.length;
    if (n > this.size) throw new RangeError(`batch of ${n} is larger than the ${this.size} items to sample from`);
    if (this.pos + n > this.size) this.newEpoch();
    out.set(this.order.subarray(this.pos, this.pos + n));
    this.pos += n;
  }

  private newEpoch(): void {
    this.rng.shuffle(this.order);
    this.pos = 0;
    this.epochs++;
  }
}
