#!/usr/bin/env node
// Dreams of a generative predictive-coding network (docs/PREDICTIVE-CODING.md, "Dreams"): trains it on the
// training images by PC, dreams each class at the given temperature, has a backprop classifier label them, and
// writes DIR/dreams-DATA.json (figures, options, provenance) and DIR/dreams-DATA.svg (a grid: one row per class).
//
//   npm run build && node scripts/pc-dreams.mjs [data-dir=DIR] [out=docs/results/predictive-coding]
//     [iters=3000] [classifier-iters=3000] [per-class=100] [shown=8] [temperature=1] [seed=1] [threads=1]
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { loadMnist } from '../dist/data/index.js';
import { getBackend } from '../dist/kernels/index.js';
import { provenance } from '../dist/harness/index.js';
import { writeAtomic } from '../dist/cli/files.js';
import { defaultDreamReportOptions, dreamReport, imageGridSvg } from '../dist/predictive-coding/dream-report.js';

const keys = { 'data-dir': null, out: 'docs/results/predictive-coding', iters: 'iters', 'classifier-iters': 'classifierIters',
  'per-class': 'perClass', shown: 'shownPerClass', temperature: 'temperature', seed: 'seed', threads: null };
const args = {};
for (const a of process.argv.slice(2)) {
  const m = /^([\w-]+)=(.*)$/.exec(a);
  if (m === null || !(m[1] in keys)) {
    console.error(`pc-dreams: expected key=value with a key of ${Object.keys(keys).join(', ')}; got "${a}"`);
    process.exit(2);
  }
  args[m[1]] = m[2];
}
const options = { ...defaultDreamReportOptions };
for (const [k, field] of Object.entries(keys)) {
  if (typeof field !== 'string' || !(k in args) || k === 'out') continue;
  const v = Number(args[k]);
  const whole = field !== 'temperature';
  if (!Number.isFinite(v) || v < 0 || (whole && (!Number.isInteger(v) || v === 0))) {
    console.error(`pc-dreams: ${k} must be ${whole ? 'a positive whole number' : 'a number ≥ 0'}, got "${args[k]}"`);
    process.exit(2);
  }
  options[field] = v;
}
if (options.shownPerClass > options.perClass) {
  console.error(`pc-dreams: shown (${options.shownPerClass}) cannot exceed per-class (${options.perClass})`);
  process.exit(2);
}
const threads = Number(args.threads ?? 1);
if (!Number.isInteger(threads) || threads < 1) {
  console.error(`pc-dreams: threads must be a positive whole number, got "${args.threads}"`);
  process.exit(2);
}
let data;
try {
  data = loadMnist(args['data-dir'] ?? null);
} catch (e) {
  console.error(`pc-dreams: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(2);
}
const b = getBackend();
try {
  b.setThreads(threads);
} catch (e) {
  console.error(`pc-dreams: threads: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(2);
}
const name = args['data-dir'] === undefined ? 'mnist' : basename(data.dir);
const out = args.out ?? keys.out;
mkdirSync(out, { recursive: true });
const t0 = performance.now();
const report = dreamReport(data, options, (line) => process.stderr.write(line + '\n'));
const { shown, ...figures } = report;
const file = join(out, `dreams-${name}.json`);
writeAtomic(file, JSON.stringify({ data: data.dir, ...figures, wallSeconds: (performance.now() - t0) / 1000, threads,
  provenance: provenance(b, null) }, null, 2) + '\n');
writeAtomic(join(out, `dreams-${name}.svg`), imageGridSvg(shown, data.rows, options.shownPerClass));
const pct = (v) => (100 * v).toFixed(1) + ' %';
console.log(`${name}: the backprop classifier (test accuracy ${pct(report.classifierTestAccuracy)}) labels ` +
  `${pct(report.labelledAsClamped)} of ${10 * options.perClass} dreams (temperature ${options.temperature}) as the clamped class; ` +
  `per class ${report.labelledAsClampedPerClass.map((v) => (100 * v).toFixed(0)).join(' ')}; within-class pixel sd ${report.withinClassPixelSd.toFixed(3)}`);
console.log(`written: ${file} and dreams-${name}.svg`);
