/** A rows×cols 0/1 mask keeping the listed columns. */
export function rowMask(keep: readonly number[], rows: number, cols: number): Uint8Array {
  const row = new Uint8Array(cols);
  for (const o of keep) row[o] = 1;
  const m = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++) m.set(row, r * cols);
  return m;
}

/** Per-row mask of each sample's context head (task-IL). */
export function contextMask(contexts: Int32Array, cols: number, active: (c: number) => number[] | null): Uint8Array {
  const m = new Uint8Array(contexts.length * cols);
  for (let r = 0; r < contexts.length; r++) {
    const outs = active(contexts[r]!);
    if (outs === null) m.fill(1, r * cols, (r + 1) * cols);
    else for (const o of outs) m[r * cols + o] = 1;
  }
  return m;
}
