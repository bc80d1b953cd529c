import { getBackend } from '../../kernels/index.js';
import { argmaxRows } from '../../nn/index.js';

export { maskedSoftmax } from '../../nn/softmax.js';

/**
 * softmax(z/T) over the kept columns (the same for every row), 0 elsewhere: the distillation targets of the
 * replay baselines (LwF, DGR + distillation, BI-R). The same function as `maskedSoftmax` with
 * `rowMask(keep)`, computed through the backend's logSoftmax on the kept columns, which rounds differently in
 * the last bits: kept so that those baselines' published runs reproduce exactly.
 *
 * @example
 * softTargets(new Float32Array([0, 5, 0]), [0, 2], 1, 3, 2); // [0.5, 0, 0.5]
 */
export function softTargets(z: Float32Array, keep: readonly number[], rows: number, cols: number, T: number): Float32Array {
  const k = keep.length;
  const sub = new Float32Array(rows * k);
  for (let r = 0; r < rows; r++) for (let j = 0; j < k; j++) sub[r * k + j] = z[r * cols + keep[j]!]! / T;
  getBackend().logSoftmax(sub, rows, k, sub);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let j = 0; j < k; j++) out[r * cols + keep[j]!] = Math.exp(sub[r * k + j]!);
  return out;
}

/**
 * The teacher's most likely output within the kept columns, per row (DGR's hard replay labels).
 *
 * @example
 * hardTargets(new Float32Array([9, 1, 2]), [1, 2], 1, 3); // [2]
 */
export function hardTargets(z: Float32Array, keep: readonly number[], rows: number, cols: number): Int32Array {
  const k = keep.length;
  const sub = new Float32Array(rows * k);
  for (let r = 0; r < rows; r++) for (let j = 0; j < k; j++) sub[r * k + j] = z[r * cols + keep[j]!]!;
  const idx = argmaxRows(sub, rows, k);
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) out[r] = keep[idx[r]!]!;
  return out;
}
