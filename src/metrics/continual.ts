/**
 * Continual-learning metrics, pure functions of the accuracy matrix (DESIGN §5). R[t][j] is the test accuracy
 * on context j after training through context t (0-based here; T contexts); `initial[j]` is the accuracy of
 * the freshly initialised model on context j.
 *
 * ACC = mean_j R[T−1][j]
 * BWT = mean_{j<T−1} (R[T−1][j] − R[j][j])
 * FWT = mean_{j≥1} (R[j−1][j] − initial[j])
 * Forgetting = mean_{j<T−1} (max_{t<T−1} R[t][j] − R[T−1][j])
 *
 * @example
 * const R = [[0.99, 0.5], [0.6, 0.98]];
 * acc(R);          // 0.79
 * bwt(R);          // -0.39
 */
export type AccuracyMatrix = readonly (readonly number[])[];

function check(R: AccuracyMatrix): number {
  const T = R.length;
  if (T === 0) throw new Error('accuracy matrix is empty');
  for (const row of R) if (row.length !== T) throw new Error('accuracy matrix must be square (contexts × contexts)');
  return T;
}

const meanOf = (xs: number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

/** Average accuracy over all contexts after the last one. */
export function acc(R: AccuracyMatrix): number {
  const T = check(R);
  return meanOf([...R[T - 1]!]);
}

/** Backward transfer: how much training on later contexts changed accuracy on earlier ones (negative = forgetting). */
export function bwt(R: AccuracyMatrix): number {
  const T = check(R);
  const d: number[] = [];
  for (let j = 0; j < T - 1; j++) d.push(R[T - 1]![j]! - R[j]![j]!);
  return meanOf(d);
}

/** Forward transfer: accuracy on a context just before training on it, relative to a fresh model. */
export function fwt(R: AccuracyMatrix, initial: readonly number[]): number {
  const T = check(R);
  if (initial.length !== T) throw new Error('initial accuracies must have one entry per context');
  const d: number[] = [];
  for (let j = 1; j < T; j++) d.push(R[j - 1]![j]! - initial[j]!);
  return meanOf(d);
}

/** Average drop from the best accuracy each earlier context ever had to its final accuracy. */
export function forgetting(R: AccuracyMatrix): number {
  const T = check(R);
  const d: number[] = [];
  for (let j = 0; j < T - 1; j++) {
    let best = -Infinity;
    for (let t = 0; t < T - 1; t++) best = Math.max(best, R[t]![j]!);
    d.push(best - R[T - 1]![j]!);
  }
  return meanOf(d);
}

/** A mean and a sample standard deviation. */
export interface MeanSd {
  mean: number;
  sd: number;
}

/** Mean and sample standard deviation (n−1), for summaries over seeds. */
export function meanSd(xs: readonly number[]): MeanSd {
  const m = meanOf([...xs]);
  if (xs.length < 2) return { mean: m, sd: 0 };
  const v = xs.reduce((a, x) => a + (x - m) * (x - m), 0) / (xs.length - 1);
  return { mean: m, sd: Math.sqrt(v) };
}
