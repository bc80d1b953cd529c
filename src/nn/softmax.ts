/**
 * softmax(z/T) within each row's mask (1 = the output is in the row's head), 0 elsewhere; `mask` null keeps
 * every output, where -Infinity logits (masked with `maskLogits`) get probability 0. Arithmetic in double,
 * each probability rounded to float32 once before the division by the row's sum. The one masked tempered
 * softmax of the project: Engram's sleep targets, EWC's sampled Fisher labels and the streaming LDA's
 * temperature use it. A row with nothing in its head (or all -Infinity) is NaN.
 *
 * @example
 * maskedSoftmax(new Float32Array([0, 5, 0]), new Uint8Array([1, 0, 1]), 1, 3, 2); // [0.5, 0, 0.5]
 */
export function maskedSoftmax(z: Float32Array, mask: Uint8Array | null, rows: number, cols: number, T: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const off = r * cols;
    let max = -Infinity;
    for (let c = 0; c < cols; c++) if (mask === null || mask[off + c]) max = Math.max(max, z[off + c]! / T);
    let sum = 0;
    for (let c = 0; c < cols; c++) {
      if (mask !== null && !mask[off + c]) continue;
      const e = Math.exp(z[off + c]! / T - max);
      out[off + c] = e;
      sum += e;
    }
    for (let c = 0; c < cols; c++) out[off + c]! /= sum;
  }
  return out;
}
