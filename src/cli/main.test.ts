import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
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

test('a reader that closes the pipe early (`| true`) ends the command quietly, without a stack trace', () => {
  // `true` exits without reading, so the help text is written into a closed pipe.
  const r = spawnSync('sh', ['-c', `"${process.execPath}" "${cli}" run --help | true`], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.doesNotMatch(r.stderr, /EPIPE|Error|at /);
});

test('bad input: one clear line, exit code 2, no stack trace', () => {
  const cases: [string[], RegExp][] = [
    [['run', '--method', 'nope'], /unknown method "nope"; available: .*naive/],
    [['run', '--iters', 'abc'], /--iters must be a whole number/],
    [['run', '--lr', 'fast'], /--lr must be a number/],
    [['run', '--protocol', 'cifar'], /Allowed choices are split-mnist, permuted-mnist, rotated-mnist/],
    [['run', '--iters', '0'], /iters must be positive/],
    [['run', '--class-order', '0,1,2'], /class-order/],
    [['run', '--class-order', '0,0,1,2,3,4,5,6,7,8'], /permutation of 0\.\.9/],
    [['run', '--data-dir', '/nonexistent/engram-data', ...tiny], /nonexistent\/engram-data/],
    [['run', '--load', '/nonexistent/x.engram', ...tiny], /cannot read checkpoint/],
    [['frobnicate'], /unknown command/],
    [['run', '--resume', ...tiny], /--resume needs --checkpoint FILE/],
  ];
  for (const [args, pattern] of cases) {
    const r = run(...args);
    assert.equal(r.status, 2, `${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    assert.match(r.stderr, pattern, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, `stack trace for ${args.join(' ')}`);
  }
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
    'onlineCurve', 'wallSeconds', 'trainSamplesPerSecond', 'peakRssMB', 'params', 'backend', 'storedRawSamples', 'config']) {
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
