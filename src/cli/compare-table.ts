import type { MeanSd } from '../metrics/index.js';
import type { CompareSummary, SummaryRow } from './compare-summary.js';

/** `mean ± sd` scaled and rounded; just the mean when there is a single seed (no sd to speak of). */
export function formatMeanSd(x: MeanSd, n: number, scale: number, digits: number): string {
  const mean = (x.mean * scale).toFixed(digits);
  return n < 2 ? mean : `${mean} ± ${(x.sd * scale).toFixed(digits)}`;
}

export const tableHeader = ['method', 'seeds', 'ACC %', 'BWT %', 'forgetting %', 'wall s', 'raw samples max', 'raw samples at end'] as const;

/** The cells of one row, in the order of {@link tableHeader}. */
export function rowCells(r: SummaryRow): string[] {
  const n = r.seeds.length;
  return [
    r.method,
    r.seeds.join(','),
    formatMeanSd(r.acc, n, 100, 1),
    formatMeanSd(r.bwt, n, 100, 1),
    formatMeanSd(r.forgetting, n, 100, 1),
    formatMeanSd(r.wallSeconds, n, 1, 1),
    formatMeanSd(r.storedRawSamplesMax, n, 1, 0),
    formatMeanSd(r.storedRawSamplesAtEnd, n, 1, 0),
  ];
}

/** A markdown table with padded columns, so it reads as well in a terminal as rendered. */
export function markdownTable(header: readonly string[], rows: readonly string[][]): string {
  const widths = header.map((h, i) => Math.max(3, h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => `| ${widths.map((w, i) => (cells[i] ?? '').padEnd(w)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** The summary as markdown: a title line naming the setting, the table, and any failed runs. */
export function renderMarkdown(s: CompareSummary): string {
  const options = s.runOptions.length > 0 ? `; run options: \`${s.runOptions.join(' ')}\`` : '';
  const lines = [
    `**${s.protocol}, ${s.scenario}-IL, ${s.stream} stream**: mean ± sd over seed${s.seeds.length === 1 ? '' : 's'} ${s.seeds.join(', ')}${options}`,
    '',
    markdownTable(tableHeader, s.rows.map(rowCells)),
  ];
  if (s.rows.length === 0) lines.push('', '(no run succeeded)');
  if (s.failed.length > 0) {
    lines.push('', `Failed runs (${s.failed.length}):`);
    for (const f of s.failed) lines.push(`- ${f.method}, seed ${f.seed}${f.exitCode !== null ? ` (exit ${f.exitCode})` : ''}: ${f.error}`);
  }
  return lines.join('\n') + '\n';
}

/** The summary as JSON (the {@link CompareSummary} object). */
export function renderJson(s: CompareSummary): string {
  return JSON.stringify(s, null, 1) + '\n';
}
