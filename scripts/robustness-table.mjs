#!/usr/bin/env node
// The robustness table of docs/ENGRAM.md from the files of `bash scripts/engram-results.sh robustness`: class-IL
// task-free ACC % of every method in every stream variation (random orders: the mean over the orders, i.e.
// seeds, run so far), one table per data set, and engram's change against its default on each variation.
//   node scripts/robustness-table.mjs [DIR]   (default docs/results/engram/robustness)
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? 'docs/results/engram/robustness';
if (!existsSync(dir)) {
  console.error(`robustness-table: ${dir} not found (run bash scripts/engram-results.sh robustness first)`);
  process.exit(2);
}
const variations = ['default', 'random-order', 'fuzziness-100', 'fuzziness-1500', 'iters-1000', 'iters-4000'];
const heading = { default: 'default', 'random-order': 'random orders', 'fuzziness-100': 'fuzziness 100',
  'fuzziness-1500': 'fuzziness 1500 (iters 4000)', 'iters-1000': 'iters 1000', 'iters-4000': 'iters 4000' };
for (const data of ['mnist', 'fashion']) {
  const cells = new Map(); // variation -> method -> [acc]
  const methods = [];
  for (const v of variations) {
    const d = join(dir, `${data}-${v}`);
    if (!existsSync(d)) continue;
    const byMethod = new Map();
    for (const f of readdirSync(d).filter((f) => /-s\d+\.json$/.test(f)).sort()) {
      const r = JSON.parse(readFileSync(join(d, f), 'utf8'));
      if (!methods.includes(r.method)) methods.push(r.method);
      if (!byMethod.has(r.method)) byMethod.set(r.method, []);
      byMethod.get(r.method).push(100 * r.acc);
    }
    cells.set(v, byMethod);
  }
  if (cells.size === 0) continue;
  const cols = variations.filter((v) => cells.has(v));
  console.log(`\n**${data === 'mnist' ? 'Split MNIST' : 'Split Fashion-MNIST'}**, class-IL, task-free, seed 1 (random orders: seeds 1-3, the mean; n = runs so far)\n`);
  console.log(`| method | ${cols.map((v) => heading[v]).join(' | ')} |`);
  console.log(`|---|${cols.map(() => '---').join('|')}|`);
  const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;
  for (const m of methods) {
    const row = cols.map((v) => {
      const xs = cells.get(v).get(m);
      if (xs === undefined) return '–';
      const cell = mean(xs).toFixed(1) + (v === 'random-order' ? ` (n=${xs.length})` : '');
      return m === 'engram' ? `**${cell}**` : cell;
    });
    console.log(`| ${m} | ${row.join(' | ')} |`);
  }
  const base = cells.get('default')?.get('engram');
  if (base !== undefined) {
    const deltas = cols.filter((v) => v !== 'default' && cells.get(v).get('engram') !== undefined)
      .map((v) => `${heading[v]} ${(mean(cells.get(v).get('engram')) - mean(base)).toFixed(1)}`);
    console.log(`\nengram against its default: ${deltas.join(', ')}`);
  }
}
