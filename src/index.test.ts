import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as engram from './index.js';

const entry = new URL('./index.js', import.meta.url);
const packageRoot = fileURLToPath(new URL('..', import.meta.url));

/** The code of the entry's TSDoc example (the compiled file keeps the comment). */
function docExample(): string {
  const match = /```ts\n([\s\S]*?)\n \* ```/.exec(readFileSync(entry, 'utf8'));
  assert.ok(match !== null, 'the library entry has a ```ts example');
  return match[1]!.split('\n').map((line) => line.replace(/^ \* ?/, '')).join('\n');
}

test('"engram" resolves to the library entry through package.json\'s exports', () => {
  // From inside the package, Node resolves the package's own name through its `exports` map.
  assert.equal(import.meta.resolve('engram'), entry.href);
});

test('the library entry\'s TSDoc example runs as written, importing from "engram"', () => {
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', docExample()], {
    cwd: packageRoot, encoding: 'utf8', timeout: 120_000,
  });
  assert.equal(run.status, 0, run.stderr);
  const [summary, lastContext] = run.stdout.trim().split('\n');
  const [contexts, acc] = summary!.split(' ').map(Number);
  assert.equal(contexts, 5);
  assert.ok(acc! >= 0 && acc! <= 1, `ACC ${acc}`);
  // The learner driven by hand learnt the context it was trained on last.
  assert.ok(Number(lastContext) > 0.8, `last-context accuracy ${lastContext}`);
});

test('the entry\'s registry holds every method `engram run --method` takes', () => {
  const names = engram.listMethods().map((m) => m.name);
  for (const name of ['naive', 'joint', 'er', 'lwf', 'ewc', 'si', 'dgr-distill', 'bi-r', 'gpm', 'gen-classifier', 'engram']) {
    assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
  }
});

test('the packed package (`npm pack`) installs into a fresh project, which imports it by name and runs its CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-pack-'));
  try {
    const npm = (args: string[], cwd: string) => spawnSync('npm', args, { cwd, encoding: 'utf8', timeout: 180_000 });
    // --ignore-scripts: dist/ is built already (the test runs from it) and the native build is the install
    // script's own business (scripts/build-native.cjs); the library works on either backend.
    const pack = npm(['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], packageRoot);
    assert.equal(pack.status, 0, pack.stderr);
    const tarball = join(dir, pack.stdout.trim().split('\n').at(-1)!);
    const project = join(dir, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'uses-engram', version: '1.0.0', type: 'module', private: true }));
    const install = npm(['install', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', tarball], project);
    assert.equal(install.status, 0, install.stderr);
    // Test files stay out of the package.
    assert.ok(!existsSync(join(project, 'node_modules', 'engram', 'dist', 'index.test.js')));
    const code = [
      "import { runExperiment, resolveConfig } from 'engram';",
      "const r = runExperiment(resolveConfig({ protocol: 'split-mnist', scenario: 'class', method: 'naive', iters: 20, hidden: [16], evalEvery: 20, curveSamples: 20 }));",
      'console.log(r.accuracyMatrix.length, r.acc);',
    ].join('\n');
    const use = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: project, encoding: 'utf8', timeout: 120_000 });
    assert.equal(use.status, 0, use.stderr);
    const [contexts, acc] = use.stdout.trim().split(' ').map(Number);
    assert.equal(contexts, 5);
    assert.ok(acc! > 0.1 && acc! <= 1, `ACC ${acc}`);
    const bin = spawnSync(join(project, 'node_modules', '.bin', 'engram'), ['--version'], { encoding: 'utf8' });
    assert.equal(bin.stdout.trim(), JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')).version);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
