import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seriesPoints, type CurveResult } from './plot-curves.js';

const cli = join(dirname(fileURLToPath(import.meta.url)), 'main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

/**
 * A synthetic result: 3 contexts of 100 iterations, a point every 10. Each context is learnt to 0.9; at each
 * switch every earlier context dips by `dip` for the first 20 iterations, then recovers.
 */
function synthetic(method: string, stream: 'boundaries' | 'task-free', seed: number, dip: number): Record<string, unknown> {
  const iters = 100;
  const starts = stream === 'boundaries' ? [0, 100, 200] : [0, 50, 150];
  const onlineCurve = [];
  for (let i = 0; i <= 300; i += 10) {
    const accuracy = starts.map((s0, j) => {
      if (i <= s0) return 0;
      const later = starts.filter((s, k) => k > j && s < i);
      const last = later.at(-1);
      return last !== undefined && i <= last + 20 ? 0.9 - dip : 0.9;
    });
    onlineCurve.push({ iteration: i, accuracy, loss: i === 0 ? null : 0.1 });
  }
  return { protocol: 'split-mnist', scenario: 'class', stream, method, seed, onlineCurve, config: { iters, stream } };
}

test('plot-curves writes an SVG with both series and prints each stability gap', () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-plot-'));
  const a = join(dir, 'a.json');
  const b = join(dir, 'b.json');
  writeFileSync(a, JSON.stringify(synthetic('naive', 'boundaries', 1, 0.5)));
  writeFileSync(b, JSON.stringify(synthetic('engram', 'task-free', 2, 0.25)));
  const out = join(dir, 'curves.svg');
  const r = run('plot-curves', a, b, '--out', out, '--title', 'Synthetic');
  assert.equal(r.status, 0, r.stderr);
  assert.ok(existsSync(out));
  const svg = readFileSync(out, 'utf8');
  assert.match(svg, /^<svg[\s>]/);
  assert.match(svg, /<\/svg>\s*$/);
  assert.ok(svg.includes('naive (boundaries, seed 1)'), 'series label a');
  assert.ok(svg.includes('engram (task-free, seed 2)'), 'series label b');
  assert.ok(svg.includes('Synthetic'));
  // No temp file left behind.
  assert.deepEqual(readdirSync(dir).sort(), ['a.json', 'b.json', 'curves.svg']);
  // The dips are exactly the gaps: 50 and 25 points; minima 40% and 65%.
  assert.match(r.stdout, /naive \(boundaries, seed 1\)[^\n]*\n\s+stability gap 50\.0 pts \(mean over 3 /);
  assert.match(r.stdout, /engram \(task-free, seed 2\)[^\n]*\n\s+stability gap 25\.0 pts \(mean over 3 /);
  assert.match(r.stdout, /min accuracy on earlier contexts after a switch 40\.0%/);
  assert.match(r.stdout, /min accuracy on earlier contexts after a switch 65\.0%/);

  const one = run('plot-curves', a, '--out', join(dir, 'c0.svg'), '--context', '0');
  assert.equal(one.status, 0, one.stderr);
  assert.match(readFileSync(join(dir, 'c0.svg'), 'utf8'), /accuracy on context 0/);
});

test('plot-curves: --help, and bad input gives one line and exit 2', () => {
  const h = run('plot-curves', '--help');
  assert.equal(h.status, 0);
  assert.match(h.stdout, /--out <file\.svg>/);
  assert.match(h.stdout, /--context <n>/);

  const dir = mkdtempSync(join(tmpdir(), 'engram-plot-bad-'));
  const good = join(dir, 'good.json');
  writeFileSync(good, JSON.stringify(synthetic('naive', 'boundaries', 1, 0.5)));
  const notJson = join(dir, 'x.json');
  writeFileSync(notJson, '{ nope');
  const noCurve = join(dir, 'y.json');
  writeFileSync(noCurve, JSON.stringify({ method: 'naive', stream: 'boundaries', seed: 1, config: { iters: 100 } }));
  const out = join(dir, 'o.svg');
  const cases: [string[], RegExp][] = [
    [['plot-curves', join(dir, 'missing.json'), '--out', out], /missing\.json: no such file/],
    [['plot-curves', notJson, '--out', out], /x\.json is not JSON/],
    [['plot-curves', noCurve, '--out', out], /y\.json is not a result file with an online curve \(onlineCurve: /],
    [['plot-curves', good], /required option '--out/],
    [['plot-curves', good, '--out', join(dir, 'no', 'such', 'dir', 'o.svg')], /does not exist/],
    [['plot-curves', good, '--out', out, '--context', '3'], /--context 3: .* has contexts 0–2/],
    [['plot-curves', good, '--out', out, '--context', 'x'], /--context must be a whole number/],
  ];
  for (const [args, pattern] of cases) {
    const r = run(...args);
    assert.equal(r.status, 2, `${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    assert.match(r.stderr, pattern, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, `stack trace for ${args.join(' ')}`);
  }
  assert.ok(!existsSync(out), 'no chart written on bad input');
});

test('default series: one segment per new context, starting at the last point before its switch', () => {
  const r = synthetic('naive', 'boundaries', 1, 0.5) as unknown as CurveResult;
  const pts = seriesPoints(r, 'L', null);
  assert.deepEqual([...new Set(pts.map((p) => p.segment))], ['L#1', 'L#2']);
  const seg1 = pts.filter((p) => p.segment === 'L#1');
  assert.deepEqual(seg1.map((p) => p.iteration), [100, 110, 120, 130, 140, 150, 160, 170, 180, 190, 200]);
  assert.deepEqual(seg1.slice(0, 4).map((p) => Math.round(p.accuracy)), [90, 40, 40, 90]);
  const seg2 = pts.filter((p) => p.segment === 'L#2');
  assert.equal(seg2[0]!.iteration, 200);
  assert.equal(seg2.at(-1)!.iteration, 300);
  assert.equal(Math.round(seg2[1]!.accuracy), 40); // mean of contexts 0 and 1, both dipped by 50
  // --context: the whole run.
  assert.equal(seriesPoints(r, 'L', 2).length, 31);
});
