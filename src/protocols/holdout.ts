/**
 * Stratified hold-out of validation samples: each class gives up a share of the requested count proportional
 * to its size (largest-remainder rounding, so the shares add up exactly), chosen at random.
 */
import type { Rng } from '../core/rng.js';

export interface Holdout {
  /** Pool entries kept for training, ascending. */
  train: Int32Array;
  /** Pool entries held out, ascending. */
  held: Int32Array;
}

/**
 * Split `pool` (image indices) into training and `count` held-out images, stratified by `labels[index]`.
 *
 * @example
 * const { train, held } = stratifiedHoldout(pool, mnist.train.labels, 1000, deriveRng(seed, 'validation'));
 */
export function stratifiedHoldout(pool: Int32Array, labels: Uint8Array, count: number, rng: Rng): Holdout {
  if (count > pool.length) throw new RangeError(`cannot hold out ${count} of ${pool.length} samples`);
  const byClass = new Map<number, number[]>();
  for (const idx of pool) {
    const y = labels[idx]!;
    let list = byClass.get(y);
    if (list === undefined) byClass.set(y, (list = []));
    list.push(idx);
  }
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  const quota = largestRemainder(classes.map((c) => byClass.get(c)!.length), count);
  const isHeld = new Set<number>();
  classes.forEach((c, k) => {
    const list = byClass.get(c)!;
    // Partial Fisher–Yates: the first quota[k] slots become a uniform random subset of the class.
    for (let i = 0; i < quota[k]!; i++) {
      const j = i + rng.int(list.length - i);
      const t = list[i]!;
      list[i] = list[j]!;
      list[j] = t;
      isHeld.add(list[i]!);
    }
  });
  const train = new Int32Array(pool.length - count);
  const held = new Int32Array(count);
  let a = 0;
  let b = 0;
  for (const idx of [...pool].sort((x, y) => x - y)) {
    if (isHeld.has(idx)) held[b++] = idx;
    else train[a++] = idx;
  }
  return { train, held };
}

/** Integer shares of `total` proportional to `sizes`, summing exactly to `total` (ties go to earlier entries). */
export function largestRemainder(sizes: number[], total: number): number[] {
  const sum = sizes.reduce((a, b) => a + b, 0);
  if (sum === 0) return sizes.map(() => 0);
  const exact = sizes.map((s) => (s * total) / sum);
  const shares = exact.map(Math.floor);
  let left = total - shares.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((e, i) => ({ i, r: e - Math.floor(e) })).sort((p, q) => q.r - p.r || p.i - q.i);
  for (const { i } of byRemainder) {
    if (left === 0) break;
    shares[i]!++;
    left--;
  }
  return shares;
}
