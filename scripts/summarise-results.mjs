// Prints a markdown table (mean ± sd over seeds) of result JSON files written by `engram run --out`.
// Usage: node scripts/summarise-results.mjs results/*.json
import { readFileSync } from 'node:fs';
import { meanSd } from '../dist/metrics/index.js';

const groups = new Map();
for (const file of process.argv.slice(2)) {
  const r = JSON.parse(readFileSync(file, 'utf8'));
  const key = `${r.protocol} | ${r.scenario}-IL | ${r.stream} | ${r.method}`;
  if (!groups.has(key)) groups.set(key, []);
  groups.get(key).push(r);
}
const fmt = (xs, scale = 100, digits = 1) => {
  const { mean, sd } = meanSd(xs.map((x) => x * scale));
  return `${mean.toFixed(digits)} ± ${sd.toFixed(digits)}`;
};
console.log('| protocol | scenario | stream | method | seeds | ACC % | BWT % | forgetting % | wall s | train samples/s | peak RSS MB | raw samples max/end | backend |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const [key, rs] of groups) {
  const seeds = rs.map((r) => r.seed).sort((a, b) => a - b).join(',');
  const stored = [...new Set(rs.map((r) => `${r.storedRawSamples.max}/${r.storedRawSamples.atEnd}`))].join(', ');
  console.log(`| ${key} | ${seeds} | ${fmt(rs.map((r) => r.acc))} | ${fmt(rs.map((r) => r.bwt))} | ${fmt(rs.map((r) => r.forgetting))} | ` +
    `${fmt(rs.map((r) => r.wallSeconds), 1)} | ${fmt(rs.map((r) => r.trainSamplesPerSecond), 1, 0)} | ` +
    `${fmt(rs.map((r) => r.peakRssMB), 1, 0)} | ${stored} | ${rs[0].backend.description} |`);
}
