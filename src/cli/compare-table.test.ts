import test from 'node:test';
import assert from 'node:assert/strict';
import type { CompareSummary, SummaryRow } from './compare-summary.js';
import { formatMeanSd, markdownTable, renderJson, renderMarkdown, rowCells, tableHeader } from './compare-table.js';

const ms = (mean: number, sd: number) => ({ mean, sd });
const row = (method: string, seeds: number[]): SummaryRow => ({
  method, protocol: 'split-mnist', scenario: 'class', stream: 'boundaries', seeds,
  acc: ms(0.7, 0.2), bwt: ms(-0.2, 0.1), forgetting: ms(0.25, 0.05), wallSeconds: ms(20, 10),
  storedRawSamplesMax: ms(1000, 0), storedRawSamplesAtEnd: ms(60, 10),
});
const summary = (rows: SummaryRow[], failed: CompareSummary['failed'] = []): CompareSummary => ({
  protocol: 'split-mnist', scenario: 'class', stream: 'boundaries', methods: rows.map((r) => r.method), seeds: [1, 2, 3],
  runOptions: ['--iters', '20'], jobs: 1, rows, failed,
});

test('mean ± sd cells: percent for metrics, seconds and sample counts as they are; no sd for one seed', () => {
  assert.deepEqual(rowCells(row('er', [1, 2, 3])),
    ['er', '1,2,3', '70.0 ± 20.0', '-20.0 ± 10.0', '25.0 ± 5.0', '20.0 ± 10.0', '1000 ± 0', '60 ± 10']);
  assert.equal(formatMeanSd(ms(0.123, 0.5), 1, 100, 1), '12.3');
  assert.equal(formatMeanSd(ms(0.123, 0.01), 2, 100, 2), '12.30 ± 1.00');
});

test('markdown table: header, separator, one line per row, every line with the same columns', () => {
  const md = renderMarkdown(summary([row('naive', [1, 2, 3]), row('er', [1, 2, 3])]));
  const lines = md.split('\n').filter((l) => l.startsWith('|'));
  assert.equal(lines.length, 2 + 2);
  assert.match(lines[0]!, /^\| method +\| seeds +\| ACC % +\| BWT % +\| forgetting % +\| wall s +\| raw samples max +\| raw samples at end +\|$/);
  assert.match(lines[1]!, /^\|(-+\|){8}$/);
  assert.match(lines[2]!, /^\| naive /);
  assert.match(lines[3]!, /^\| er /);
  for (const l of lines) {
    assert.equal(l.split('|').length, tableHeader.length + 2, l);
    assert.equal(l.length, lines[0]!.length, 'columns are padded to one width');
  }
  assert.match(md, /split-mnist, class-IL, boundaries stream\*\*: mean ± sd over seeds 1, 2, 3; run options: `--iters 20`/);
  assert.doesNotMatch(md, /Failed/);
});

test('markdown lists failed runs under the table, and says so when nothing succeeded', () => {
  const md = renderMarkdown(summary([], [{ method: 'er', seed: 2, file: 'x.json', exitCode: 2, error: 'engram: error: boom' }]));
  assert.match(md, /\(no run succeeded\)/);
  assert.match(md, /Failed runs \(1\):\n- er, seed 2 \(exit 2\): engram: error: boom/);
  assert.equal(markdownTable(['a', 'b'], []).split('\n').length, 2);
});

test('JSON summary round-trips the summary object', () => {
  const s = summary([row('naive', [1])]);
  assert.deepEqual(JSON.parse(renderJson(s)), s);
});
