import type { RunResult } from '../harness/index.js';

const pct = (x: number): string => (100 * x).toFixed(1);

/** Fixed-width text table. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The end-of-run summary: accuracy matrix (%), metrics, cost. */
export function summary(r: RunResult): string {
  const T = r.accuracyMatrix.length;
  const header = ['after', ...Array.from({ length: T }, (_, j) => `ctx${j + 1}`), 'mean'];
  const rows = r.accuracyMatrix.map((row, t) => [
    `ctx${t + 1}`, ...row.map(pct), pct(row.reduce((a, b) => a + b, 0) / row.length),
  ]);
  const metrics = table(
    ['ACC', 'BWT', 'FWT', 'forgetting', 'wall s', 'train samples/s', 'peak RSS MB', 'params', 'raw samples max/end'],
    [[pct(r.acc), pct(r.bwt), pct(r.fwt), pct(r.forgetting), r.wallSeconds.toFixed(1),
      Math.round(r.trainSamplesPerSecond).toString(), r.peakRssMB.toFixed(0), r.params.toString(),
      `${r.storedRawSamples.max}/${r.storedRawSamples.atEnd}`]],
  );
  return [
    `${r.method}${r.engine === 'pc' ? ' (predictive coding)' : ''} on ${r.protocol}, ${r.scenario}-IL, ${r.stream} stream, seed ${r.seed} — ${r.backend.description}`,
    `${r.config.evalSplit === 'validation' ? 'validation' : 'test'} accuracy (%) after each context:`,
    table(header, rows),
    '',
    metrics,
  ].join('\n');
}
