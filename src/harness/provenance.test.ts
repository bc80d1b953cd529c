import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getBackend, portableBackend } from '../kernels/index.js';
import { gitState, provenance } from './provenance.js';

const here = dirname(fileURLToPath(import.meta.url));
const gitAvailable = spawnSync('git', ['--version']).status === 0;

test('the checkout this code runs from: a full commit hash and whether it has changes', { skip: !gitAvailable && 'git is not installed' }, () => {
  const s = gitState();
  if (s.commit === null) {
    // A copy outside git (an unpacked tarball): the reason is given instead.
    assert.ok(s.commitUnavailable !== null && s.commitUnavailable.length > 0);
    return;
  }
  assert.match(s.commit, /^[0-9a-f]{40}$/);
  assert.equal(s.commitUnavailable, null);
  assert.equal(typeof s.dirty, 'boolean');
  assert.equal(s.dirty, s.changes.length > 0);
});

test('no repository, or one that is not the package\'s own: no commit, with the reason, never a crash', { skip: !gitAvailable && 'git is not installed' }, () => {
  const outside = mkdtempSync(join(tmpdir(), 'engram-nogit-'));
  const s = gitState(outside);
  assert.equal(s.commit, null);
  assert.match(s.commitUnavailable ?? '', /not a git repository|not a git checkout/);
  assert.equal(s.dirty, null);
  // A package installed inside someone else's repository must not report that repository's commit.
  const repo = mkdtempSync(join(tmpdir(), 'engram-host-'));
  assert.equal(spawnSync('git', ['init', '-q', repo]).status, 0);
  const nested = join(repo, 'node_modules', 'engram');
  mkdirSync(nested, { recursive: true });
  const n = gitState(nested);
  assert.equal(n.commit, null);
  assert.match(n.commitUnavailable ?? '', /not a git checkout of its own/);
});

test('without git on the PATH the reason is "git is not installed"', () => {
  const script = `import { gitState } from ${JSON.stringify(join(here, 'provenance.js'))}; console.log(JSON.stringify(gitState()));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, PATH: '' } });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { commit: null, commitUnavailable: 'git is not installed', dirty: null, changes: [] });
});

test('provenance names the backend, the machine and the OpenMP wait policy', () => {
  const p = provenance(portableBackend, 40);
  assert.equal(p.backend.name, 'portable');
  assert.equal(p.addon, null);
  assert.equal(p.node, process.version);
  assert.ok(p.cpu.cores >= 1 && p.cpu.model.length > 0);
  assert.equal(p.resumedAt, 40);
  const native = provenance(getBackend(), null);
  if (native.backend.name === 'native') {
    assert.ok(native.addon !== null && native.addon.compiler.length > 0);
    assert.equal(native.threads, getBackend().getThreads());
  }
  // Recorded in the words of the run's banner and the benchmarks (kernels/wait-policy.ts).
  const script = `import { provenance } from ${JSON.stringify(join(here, 'provenance.js'))}; ` +
    `import { portableBackend } from ${JSON.stringify(join(here, '..', 'kernels', 'index.js'))}; ` +
    'console.log(provenance(portableBackend, null).ompWaitPolicy);';
  const policyUnder = (vars: Record<string, string>): string => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env['OMP_WAIT_POLICY'];
    delete env['GOMP_SPINCOUNT'];
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...env, ...vars } });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };
  assert.equal(policyUnder({ GOMP_SPINCOUNT: '1000' }), 'spin:1000');
  assert.equal(policyUnder({ OMP_WAIT_POLICY: 'passive' }), 'passive');
  assert.equal(policyUnder({}), 'default');
});
