import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomClassOrder, resolveConfig } from '../harness/index.js';
import type { CompareSummary, SummaryRow } from './compare-summary.js';
import { aggregate, configDifference, defaultJobs, heartbeatLine, planGrid, readResult, runPool, sharedCoresEnv, type ResultLike } from './compare.js';

const cli = join(dirname(fileURLToPath(import.meta.url)), 'main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

const result = (method: string, seed: number, acc: number, bwt: number, wall: number, stored: [number, number],
  protocol = 'split-mnist'): ResultLike => ({
  protocol, scenario: 'class', stream: 'boundaries', method, seed, acc, bwt, forgetting: -bwt, wallSeconds: wall,
  storedRawSamples: { max: stored[0], atEnd: stored[1] },
});
const close = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual} ≠ ${expected}`);

test('aggregate: mean and sample sd over seeds per method, stored samples, seeds sorted, rows in method order', () => {
  const rows = aggregate([
    result('er', 3, 0.9, -0.2, 30, [1000, 70]),
    result('naive', 1, 0.2, -0.8, 5, [0, 0]),
    result('er', 1, 0.5, -0.1, 10, [1000, 50]),
    result('er', 2, 0.7, -0.3, 20, [1000, 60]),
  ], ['naive', 'er']);
  assert.deepEqual(rows.map((r) => r.method), ['naive', 'er']);
  const er = rows[1]!;
  assert.deepEqual(er.seeds, [1, 2, 3]);
  close(er.acc.mean, 0.7, 'acc mean');
  close(er.acc.sd, 0.2, 'acc sd (n-1)');
  close(er.bwt.mean, -0.2, 'bwt mean');
  close(er.bwt.sd, 0.1, 'bwt sd');
  close(er.forgetting.mean, 0.2, 'forgetting mean');
  close(er.wallSeconds.mean, 20, 'wall mean');
  close(er.wallSeconds.sd, 10, 'wall sd');
  assert.deepEqual(er.storedRawSamplesMax, { mean: 1000, sd: 0 });
  close(er.storedRawSamplesAtEnd.mean, 60, 'stored at end mean');
  close(er.storedRawSamplesAtEnd.sd, 10, 'stored at end sd');
  const naive = rows[0]!;
  assert.deepEqual(naive.seeds, [1]);
  assert.deepEqual(naive.acc, { mean: 0.2, sd: 0 }, 'one seed: sd 0');
  assert.deepEqual(naive.storedRawSamplesMax, { mean: 0, sd: 0 });
});

test('aggregate: different protocols never share a row; unlisted methods come last', () => {
  const rows = aggregate([
    result('si', 1, 0.4, 0, 1, [0, 0]),
    result('er', 1, 0.5, 0, 1, [0, 0], 'permuted-mnist'),
    result('er', 1, 0.9, 0, 1, [0, 0]),
  ], ['er']);
  assert.deepEqual(rows.map((r: SummaryRow) => `${r.method}/${r.protocol}`), ['er/permuted-mnist', 'er/split-mnist', 'si/split-mnist']);
  assert.deepEqual(aggregate([]), []);
});

test('plan: every method × seed once, seed by seed, with file names and the run arguments', () => {
  const plan = planGrid({ protocol: 'split-mnist', iters: 20 }, ['naive', 'er', 'ewc'], [1, 2], 'out', ['--iters', '20']);
  assert.equal(plan.length, 6);
  assert.deepEqual(plan.map((p) => `${p.method}:${p.seed}`), ['naive:1', 'er:1', 'ewc:1', 'naive:2', 'er:2', 'ewc:2']);
  assert.equal(new Set(plan.map((p) => p.file)).size, 6);
  assert.equal(plan[1]!.file, join('out', 'split-mnist-class-boundaries-er-s1.json'));
  const args = plan[1]!.args;
  assert.equal(args[0], 'run');
  const value = (flag: string) => args[args.indexOf(flag) + 1];
  assert.equal(value('--method'), 'er');
  assert.equal(value('--seed'), '1');
  assert.equal(value('--scenario'), 'class');
  assert.equal(value('--stream'), 'boundaries');
  assert.equal(value('--iters'), '20');
  assert.equal(value('--out'), plan[1]!.file);
  assert.ok(args.includes('--no-progress'));
  assert.equal(plan[1]!.config.method, 'er');
  assert.equal(plan[1]!.config.iters, 20);
  assert.deepEqual(plan[4]!.config, resolveConfig({ protocol: 'split-mnist', iters: 20, method: 'er', seed: 2 }), 'resolved per run');
  // Stream variations pass through, resolved per run: each seed draws its own class order.
  const varied = planGrid({ protocol: 'split-mnist', stream: 'task-free', classOrder: 'random', fuzziness: 100, contexts: 10 },
    ['naive'], [1, 2], 'out', ['--class-order', 'random', '--fuzziness', '100', '--contexts', '10']);
  assert.deepEqual(varied[0]!.config.classOrder, randomClassOrder(1));
  assert.deepEqual(varied[1]!.config.classOrder, randomClassOrder(2));
  assert.equal(varied[1]!.config.fuzziness, 100);
  assert.equal(varied[1]!.config.contexts, 10);
  assert.ok(varied[1]!.args.includes('random') && varied[1]!.args.includes('--fuzziness'));
  const perm = planGrid({ protocol: 'permuted-mnist', stream: 'task-free' }, ['si'], [7], 'd');
  assert.equal(basename(perm[0]!.file), 'permuted-mnist-domain-task-free-si-s7.json');
});

test('default jobs: cores / threads per run, at least 1; one at a time when runs use every core', () => {
  assert.equal(defaultJobs(16, null), 1);
  assert.equal(defaultJobs(16, 4), 4);
  assert.equal(defaultJobs(16, 5), 3);
  assert.equal(defaultJobs(2, 4), 1);
  assert.equal(defaultJobs(2, 1), 2);
});

test('config difference ignores threads and names the first differing key', () => {
  const cfg = resolveConfig({ protocol: 'split-mnist', threads: 2 });
  assert.equal(configDifference({ ...cfg, threads: 8 }, cfg), null);
  assert.equal(configDifference({ ...cfg, iters: 5 }, cfg), 'iters');
  assert.equal(configDifference(undefined, cfg), 'config');
});

test('a result file from before the engine options existed matches a backprop run, not a predictive-coding one', () => {
  const cfg = resolveConfig({ protocol: 'split-mnist', stream: 'task-free' });
  const { engine: _e, pcSteps: _s, pcIncremental: _i, ...older } = cfg;
  assert.equal(configDifference(older, cfg), null);
  assert.equal(configDifference(older, resolveConfig({ protocol: 'split-mnist', stream: 'task-free', engine: 'pc' })), 'engine');
});

test('runPool keeps at most `limit` calls in flight and returns results in order', async () => {
  let inFlight = 0;
  let peak = 0;
  const out = await runPool([5, 1, 4, 2, 3], 2, async (x) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    await new Promise((r) => setTimeout(r, x));
    inFlight--;
    return x * 10;
  });
  assert.deepEqual(out, [50, 10, 40, 20, 30]);
  assert.equal(peak, 2);
});

test('readResult: null for a missing, truncated or foreign file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-compare-read-'));
  assert.equal(readResult(join(dir, 'none.json')), null);
  writeFileSync(join(dir, 'bad.json'), '{"acc": 0.5');
  assert.equal(readResult(join(dir, 'bad.json')), null);
  writeFileSync(join(dir, 'other.json'), '{"acc": 0.5}');
  assert.equal(readResult(join(dir, 'other.json')), null);
  writeFileSync(join(dir, 'ok.json'), JSON.stringify(result('er', 1, 0.5, 0, 1, [1, 1])));
  assert.equal(readResult(join(dir, 'ok.json'))?.acc, 0.5);
  rmSync(dir, { recursive: true });
});

test('bad input exits 2 with one line before starting anything', () => {
  const parent = mkdtempSync(join(tmpdir(), 'engram-compare-bad-'));
  const dir = join(parent, 'out');
  const cases: [string[], RegExp][] = [
    [['--methods', 'naive,nope', '--seeds', '1'], /^engram: error: unknown method "nope"; available: .*naive/],
    [['--methods', 'naive', '--seeds', '1', '--frobnicate'], /unknown option '--frobnicate'/],
    [['--methods', 'naive', '--seeds', '1', '--method', 'er'], /--method is set by compare: use --methods/],
    [['--methods', 'naive', '--seeds', '1', '--iters', '0'], /iters must be positive/],
    [['--methods', 'naive', '--seeds', '1,x'], /--seeds must be comma-separated whole numbers/],
    [['--methods', 'naive', '--seeds', '1,1'], /--seeds names seed 1 twice/],
    [['--methods', 'naive,er,naive', '--seeds', '1'], /--methods names naive twice/],
    [['--methods', 'naive', '--seeds', '1', '--bias', '--no-bias'], /--bias and --no-bias contradict each other/],
    // Every method of the grid is checked before anything starts.
    [['--methods', 'naive,engram', '--seeds', '1', '--lr', '0.1'], /engram does not use --lr/],
    [['--methods', 'ewc', '--seeds', '1', '--set', 'lamda=1'], /ewc has no option "lamda"/],
    [['--methods', 'naive', '--seeds', '1', '--fuzziness', '5'], /--fuzziness applies to --stream task-free/],
  ];
  for (const [args, pattern] of cases) {
    const r = run('compare', ...args, '--out-dir', dir);
    assert.equal(r.status, 2, `${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    assert.match(r.stderr, pattern, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.ok(!existsSync(dir), 'nothing created');
  }
  rmSync(parent, { recursive: true });
});

test('--help documents the default --jobs rule and the wall-time caveat', () => {
  const r = run('compare', '--help');
  assert.equal(r.status, 0);
  const help = r.stdout.replace(/\s+/g, ' ');
  assert.match(help, /floor\(cores \/ threads per run\)/);
  assert.match(help, /distort each other's wall times/);
  assert.match(run('--help').stdout, /compare \[options\]/);
});

test('end to end: a 2 × 2 grid in parallel, then --resume skips what exists and reports a failed run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-compare-'));
  const args = ['compare', '--protocol', 'split-mnist', '--methods', 'naive,er', '--seeds', '1,2', '--iters', '20', '--batch', '16',
    '--hidden', '16', '--eval-every', '20', '--curve-samples', '50', '--threads', '1', '--jobs', '2', '--out-dir', dir];
  const r = run(...args);
  assert.equal(r.status, 0, r.stderr);
  const files = readdirSync(dir).sort();
  assert.deepEqual(files, ['split-mnist-class-boundaries-er-s1.json', 'split-mnist-class-boundaries-er-s2.json',
    'split-mnist-class-boundaries-naive-s1.json', 'split-mnist-class-boundaries-naive-s2.json', 'summary.json', 'summary.md']);
  assert.equal(r.stderr.match(/^\[\d\/4\] (naive|er) +s[12] +ACC [\d.]+% +wall [\d.]+ s$/gm)?.length, 4, r.stderr);
  const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as CompareSummary;
  assert.deepEqual(s.rows.map((row) => [row.method, row.seeds]), [['naive', [1, 2]], ['er', [1, 2]]]);
  assert.deepEqual(s.failed, []);
  const naive = [1, 2].map((seed) => readResult(join(dir, `split-mnist-class-boundaries-naive-s${seed}.json`))!);
  assert.ok(Math.abs(s.rows[0]!.acc.mean - (naive[0]!.acc + naive[1]!.acc) / 2) < 1e-12);
  assert.equal(s.rows[1]!.storedRawSamplesMax.mean, naive[0]!.storedRawSamples.max + 1000, 'er stores 100 per class, naive none');
  const md = readFileSync(join(dir, 'summary.md'), 'utf8');
  assert.match(md, /^\| naive +\| 1,2 +\| [\d.]+ ± [\d.]+ +\|/m);
  assert.ok(r.stdout.includes(md), 'the table is printed too');

  // Resume: three results exist; the fourth's path is blocked by a directory, so that run fails.
  const blocked = join(dir, 'split-mnist-class-boundaries-er-s2.json');
  rmSync(blocked);
  mkdirSync(join(blocked, 'x'), { recursive: true });
  const again = run(...args, '--resume');
  assert.equal(again.status, 1, again.stderr);
  assert.equal(again.stderr.match(/\(existing result, skipped\)/g)?.length, 3, again.stderr);
  // The run checks its --out before training, so it fails at once, naming the flag.
  assert.match(again.stderr, /er +s2 +FAILED \(exit 2\): engram: error: --out .*split-mnist-class-boundaries-er-s2\.json: .* is a directory/);
  const s2 = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as CompareSummary;
  assert.deepEqual(s2.rows.map((row) => [row.method, row.seeds]), [['naive', [1, 2]], ['er', [1]]]);
  assert.equal(s2.failed.length, 1);
  assert.deepEqual([s2.failed[0]!.method, s2.failed[0]!.seed, s2.failed[0]!.exitCode], ['er', 2, 2]);
  assert.match(readFileSync(join(dir, 'summary.md'), 'utf8'), /Failed runs \(1\):\n- er, seed 2 \(exit 2\)/);
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temp files left behind');
  rmSync(dir, { recursive: true });
});

test('runs side by side get passive OpenMP waiting unless the user chose a policy', () => {
  assert.equal(sharedCoresEnv({ PATH: '/bin' })['OMP_WAIT_POLICY'], 'passive');
  assert.equal(sharedCoresEnv({ PATH: '/bin' })['PATH'], '/bin');
  assert.equal(sharedCoresEnv({ OMP_WAIT_POLICY: 'active' })['OMP_WAIT_POLICY'], 'active');
  assert.equal(sharedCoresEnv({ GOMP_SPINCOUNT: '1000' })['OMP_WAIT_POLICY'], undefined);
});

test('off a terminal, compare\'s periodic line names the runs done and each running one with its time', () => {
  assert.equal(heartbeatLine(3, 10, [{ name: 'engram s1', ms: 250_000 }, { name: 'er s2', ms: 12_000 }]),
    'engram compare: 3/10 runs done | running: engram s1 (4m 10s), er s2 (12s)');
  assert.equal(heartbeatLine(10, 10, []), 'engram compare: 10/10 runs done');
});
