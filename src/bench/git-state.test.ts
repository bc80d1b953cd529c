import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { gitState } from './git-state.js';

const inGit = spawnSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' });
test('gitState gives the checkout\'s commit as git does', { skip: inGit.status !== 0 && 'not a git checkout' }, () => {
  const s = gitState();
  assert.equal(s.commit, inGit.stdout.trim());
  assert.match(s.commit ?? '', /^[0-9a-f]{40}$/);
  assert.equal(typeof s.dirty, 'boolean');
});
