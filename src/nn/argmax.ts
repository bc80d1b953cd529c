/** Index of the largest value in each row (first one on ties). */
export function argmaxRows(x: Float32Array, rows: number, cols: number): Int32Array {
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const off = r * cols;
    let best = 0;
    let bv = x[off]!;
    for (let c = 1; c < cols; c++) {
      if (x[off + c]! > bv) {
        bv = x[off + c]!;
        best = c;
      }
    }
    out[r] = best;
  }
  return out;
}
