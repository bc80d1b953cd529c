import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = join(dirname(fileURLToPath(import.meta.url)), 'main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
const tiny = ['--iters', '5', '--batch', '16', '--hidden', '16', '--eval-every', '5', '--curve-samples', '20'];

test('--help lists the commands and every run option', () => {
  const top = run('--help');
  assert.equal(top.status, 0);
  assert.match(top.stdout, /run \[options\]/);
  const r = run('run', '--help');
  assert.equal(r.status, 0);
  for (const opt of ['--protocol', '--scenario', '--stream', '--method', '--seed', '--out', '--iters', '--batch', '--lr',
    '--hidden', '--data-dir', '--eval-every', '--class-order', '--save', '--load']) {
    assert.ok(r.stdout.includes(opt), `help lacks ${opt}`);
  }
  assert.match(r.stdout, /naive/);
  assert.match(r.stdout, /joint/);
});

test('--version prints the package version', () => {
  const r = run('--version');
  assert.equal(r.status, 0);
  const pkg = JSON.parse(readFileSync(join(dirname(cli), '..', '..', 'package.json'), 'utf8')) as { version: string };
  assert.equal(r.stdout.trim(), pkg.version);
});

test('a reader that closes the pipe early (`| true`) ends the command quietly, without a stack trace', () => {
  // `true` exits without reading, so the help text is written into a closed pipe.
  const r = spawnSync('sh', ['-c', `"${process.execPath}" "${cli}" run --help | true`], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.doesNotMatch(r.stderr, /EPIPE|Error|at /);
});

// Bad invocations: the battery in bad-invocations.test.ts.

test('an --out that disappears during the run: the summary is still printed and the result goes to the named fallback', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-vanish-'));
  const out = join(dir, 'r.json');
  const child = spawn(process.execPath, [cli, 'run', '--iters', '400', '--batch', '16', '--hidden', '16', '--eval-every', '100',
    '--curve-samples', '20', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  // The bar's first line comes once the run has started, after the paths were checked: then the directory goes.
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (existsSync(dir) && /iter \d+\/\d+/.test(stderr)) rmSync(dir, { recursive: true, force: true });
  });
  const status = await new Promise<number | null>((done) => child.on('close', done));
  assert.equal(status, 2, stderr);
  assert.match(stdout, /ACC/, 'the summary table was printed');
  const m = /could not write --out .*r\.json \(.*\); the result is in (\S+)/.exec(stderr);
  assert.ok(m !== null, stderr);
  const saved = JSON.parse(readFileSync(m[1]!, 'utf8')) as { accuracyMatrix: number[][] };
  assert.ok(saved.accuracyMatrix.length > 0);
  rmSync(m[1]!);
});

test('off a terminal, a run prints the backend, then progress lines with rate, and says when it resumed a finished run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-progress-'));
  const ckpt = join(dir, 'run.ckpt');
  const first = run('run', ...tiny, '--threads', '1', '--checkpoint', ckpt);
  assert.equal(first.status, 0, first.stderr);
  const lines = first.stderr.trim().split('\n');
  assert.match(lines[0]!, /^engram: backend .*, idle OpenMP threads: /);
  assert.match(lines.at(-1)!, /^engram: iter 25\/25 \(100%\) \| [\d.]+ it\/s \| loss \d/);
  // 25 iterations: a line every 3 (10 %, rounded up), and the last.
  assert.ok(lines.length >= 1 + 9, `expected a line per 10 %: ${first.stderr}`);
  assert.doesNotMatch(first.stderr, /eta 0s/);
  const again = run('run', ...tiny, '--threads', '1', '--checkpoint', ckpt, '--resume');
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /resumed from iteration 25: the checkpoint holds the finished run/);
  rmSync(dir, { recursive: true, force: true });
});

test('a tiny run writes the result JSON with every documented field, and save/load round-trips', () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-cli-'));
  const out = join(dir, 'r.json');
  const ckpt = join(dir, 'l.engram');
  const r = run('run', '--protocol', 'split-mnist', '--scenario', 'class', '--method', 'naive', '--seed', '3', ...tiny,
    '--out', out, '--save', ckpt, '--no-progress');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /ACC/);
  const j = JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>;
  for (const k of ['protocol', 'scenario', 'stream', 'method', 'seed', 'accuracyMatrix', 'acc', 'bwt', 'fwt', 'forgetting',
    'onlineCurve', 'wallSeconds', 'trainSamplesPerSecond', 'peakRssMB', 'params', 'backend', 'storedRawSamples', 'config',
    'provenance']) {
    assert.ok(k in j, `result lacks ${k}`);
  }
  assert.equal(j['seed'], 3);
  assert.ok(existsSync(ckpt));
  const again = run('run', ...tiny, '--load', ckpt, '--no-progress');
  assert.equal(again.status, 0, again.stderr);
  const wrong = run('run', ...tiny, '--hidden', '8', '--load', ckpt);
  assert.equal(wrong.status, 2);
  assert.match(wrong.stderr, /hidden/);
  // A finished run's checkpoint resumes to the same result without training again.
  const runCkpt = join(dir, 'run.ckpt');
  const first = run('run', ...tiny, '--checkpoint', runCkpt, '--resume', '--out', join(dir, 'a.json'), '--no-progress');
  assert.equal(first.status, 0, first.stderr);
  const second = run('run', ...tiny, '--checkpoint', runCkpt, '--resume', '--out', join(dir, 'b.json'), '--no-progress');
  assert.equal(second.status, 0, second.stderr);
  const a = JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8')) as { accuracyMatrix: number[][] };
  const b = JSON.parse(readFileSync(join(dir, 'b.json'), 'utf8')) as { accuracyMatrix: number[][] };
  assert.deepEqual(b.accuracyMatrix, a.accuracyMatrix);
});

test('a run idles its OpenMP threads passively unless the environment chose a policy', () => {
  const banner = (env: NodeJS.ProcessEnv): string => {
    const r = spawnSync(process.execPath, [cli, 'run', ...tiny, '--contexts', '2', '--protocol', 'permuted-mnist', '--no-progress'],
      { encoding: 'utf8', env });
    assert.equal(r.status, 0, r.stderr);
    return /idle OpenMP threads: (.*)/.exec(r.stderr)?.[1] ?? '';
  };
  const base: NodeJS.ProcessEnv = { ...process.env };
  delete base['OMP_WAIT_POLICY'];
  delete base['GOMP_SPINCOUNT'];
  assert.equal(banner(base), 'passive');
  assert.equal(banner({ ...base, OMP_WAIT_POLICY: 'active' }), 'active');
  assert.equal(banner({ ...base, GOMP_SPINCOUNT: '2000' }), 'spin:2000');
});

const readJson = (file: string): Record<string, unknown> => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
const matrixOf = (file: string): number[][] => readJson(file)['accuracyMatrix'] as number[][];

test('the result records its provenance and every resolved method option; --set lambda changes EWC\'s run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-cli-ewc-'));
  const short = ['--method', 'ewc', '--scenario', 'task', ...tiny, '--iters', '30', '--threads', '1', '--no-progress'];
  const def = run('run', ...short, '--out', join(dir, 'default.json'));
  assert.equal(def.status, 0, def.stderr);
  const strong = run('run', ...short, '--set', 'lambda=1e9', '--out', join(dir, 'strong.json'));
  assert.equal(strong.status, 0, strong.stderr);
  const config = (f: string) => readJson(join(dir, f))['config'] as { methodOptions: Record<string, unknown> };
  assert.deepEqual(config('default.json').methodOptions, { lambda: 1e5, fisherSamples: 12_000, fisherLabels: 'all' });
  assert.equal(config('strong.json').methodOptions['lambda'], 1e9);
  assert.notDeepEqual(matrixOf(join(dir, 'strong.json')), matrixOf(join(dir, 'default.json')), 'lambda must change the run');
  const p = readJson(join(dir, 'default.json'))['provenance'] as Record<string, unknown>;
  for (const k of ['commit', 'commitUnavailable', 'dirty', 'node', 'engram', 'backend', 'addon', 'cpu', 'threads', 'ompWaitPolicy']) {
    assert.ok(k in p, `provenance lacks ${k}`);
  }
  assert.equal(p['threads'], 1);
  assert.ok(p['commit'] === null ? typeof p['commitUnavailable'] === 'string' : /^[0-9a-f]{40}$/.test(String(p['commit'])));
});

test('stream variations: 10 one-class contexts, a random class order drawn from the seed, the fuzziness recorded', () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-cli-stream-'));
  const out = join(dir, 'r.json');
  const r = run('run', ...tiny, '--stream', 'task-free', '--contexts', '10', '--class-order', 'random', '--seed', '5',
    '--fuzziness', '2', '--threads', '1', '--no-progress', '--out', out);
  assert.equal(r.status, 0, r.stderr);
  const cfg = readJson(out)['config'] as { classOrder: number[]; fuzziness: number; contexts: number };
  assert.equal(matrixOf(out).length, 10);
  assert.equal(matrixOf(out)[0]!.length, 10);
  assert.deepEqual([...cfg.classOrder].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.notDeepEqual(cfg.classOrder, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(cfg.fuzziness, 2);
});

test('reproduce: the same run matches exactly (exit 0); a different matrix exits 1 naming the first difference', () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-cli-repro-'));
  const out = join(dir, 'r.json');
  const first = run('run', ...tiny, '--method', 'lwf', '--stream', 'task-free', '--set', 'snapshotEvery=7', '--threads', '1',
    '--no-progress', '--out', out);
  assert.equal(first.status, 0, first.stderr);
  const again = run('reproduce', out, '--no-progress', '--out', join(dir, 'again.json'));
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /reproduced: the accuracy matrix \(5×5\) matches .*r\.json exactly/);
  assert.deepEqual(matrixOf(join(dir, 'again.json')), matrixOf(out));
  assert.deepEqual((readJson(join(dir, 'again.json'))['config'] as Record<string, unknown>)['methodOptions'], { temperature: 2, snapshotEvery: 7 });

  // Another matrix than this code gives: exit 1, the first differing entry shown.
  const j = readJson(out);
  const m = j['accuracyMatrix'] as number[][];
  m[2]![1] = m[2]![1]! + 0.01;
  const changed = join(dir, 'changed.json');
  writeFileSync(changed, JSON.stringify(j));
  const differs = run('reproduce', changed, '--no-progress');
  assert.equal(differs.status, 1, differs.stderr);
  assert.match(differs.stdout, /NOT reproduced: .*first difference: R\[3\]\[2\]/);

  // No provenance, or another commit: still run, with a warning.
  const { provenance: _p, ...bare } = readJson(out);
  const old = join(dir, 'old.json');
  writeFileSync(old, JSON.stringify(bare));
  const noProv = run('reproduce', old, '--no-progress');
  assert.equal(noProv.status, 0, noProv.stderr);
  assert.match(noProv.stderr, /warning: .*old\.json records no provenance/);
  const other = join(dir, 'other.json');
  writeFileSync(other, JSON.stringify({ ...bare, provenance: { commit: 'f'.repeat(40), dirty: false } }));
  const otherCommit = run('reproduce', other, '--no-progress');
  assert.equal(otherCommit.status, 0, otherCommit.stderr);
  assert.match(otherCommit.stderr, /warning: .*was produced by commit ffffffffffff, .*the commit differs/);
});

test('reproduce: a malformed or missing file is one line, exit 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-cli-repro-bad-'));
  const write = (name: string, text: string): string => {
    const f = join(dir, name);
    writeFileSync(f, text);
    return f;
  };
  const cases: [string, RegExp][] = [
    [join(dir, 'missing.json'), /cannot read .*missing\.json/],
    [write('text.json', 'not json'), /text\.json is not JSON/],
    [write('empty.json', '{}'), /empty\.json is not a result file: accuracyMatrix/],
    [write('cfg.json', JSON.stringify({ accuracyMatrix: [[1]], config: { protocol: 'cifar' } })), /cfg\.json: its config is not a run configuration/],
    [write('method.json', JSON.stringify({ accuracyMatrix: [[1]], config: { ...baseConfig(), method: 'nope' } })), /unknown method "nope"/],
    [write('opts.json', JSON.stringify({ accuracyMatrix: [[1]], config: { ...baseConfig(), method: 'ewc', methodOptions: { lamda: 1 } } })),
      /ewc has no option "lamda"/],
  ];
  for (const [file, pattern] of cases) {
    const r = run('reproduce', file);
    assert.equal(r.status, 2, `${file}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

/** A complete, valid run configuration (as a result file records it). */
function baseConfig(): Record<string, unknown> {
  return {
    protocol: 'split-mnist', scenario: 'class', stream: 'boundaries', method: 'naive', seed: 1, iters: 5, batch: 16, lr: 0.001,
    optimizer: 'adam', momentum: 0, hidden: [16], activation: 'relu', bias: true, contexts: 5, padding: 0, classOrder: null,
    fuzziness: null, valPerContext: 500, dataDir: null, evalEvery: 5, curveSamples: 20, threads: 1, evalSplit: 'test', methodOptions: {},
  };
}
