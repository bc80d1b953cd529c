import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeWaitPolicy, parseWaitPolicy, waitPolicyEnv, waitPolicyName, waitPolicyVars } from './wait-policy.js';

test('wait policies parse, name themselves back, and reject anything else', () => {
  for (const name of ['inherit', 'passive', 'active', 'spin:0', 'spin:10000']) {
    assert.equal(waitPolicyName(parseWaitPolicy(name)), name);
  }
  assert.deepEqual(parseWaitPolicy(' spin:300000 '), { kind: 'spin', count: 300000 });
  for (const bad of ['', 'spin', 'spin:', 'spin:-1', 'spin:1e4', 'PASSIVE', 'throughput']) {
    assert.throws(() => parseWaitPolicy(bad), /inherit, passive, active or spin:N/);
  }
});

test('a wait policy replaces both OpenMP variables in the child environment, inherit keeps them', () => {
  const parent = { PATH: '/bin', OMP_WAIT_POLICY: 'active', GOMP_SPINCOUNT: '5' };
  const spin = waitPolicyEnv({ kind: 'spin', count: 10000 }, parent);
  assert.equal(spin['GOMP_SPINCOUNT'], '10000');
  assert.equal(spin['OMP_WAIT_POLICY'], undefined);
  assert.equal(spin['PATH'], '/bin');
  const passive = waitPolicyEnv({ kind: 'passive' }, parent);
  assert.equal(passive['OMP_WAIT_POLICY'], 'passive');
  assert.equal(passive['GOMP_SPINCOUNT'], undefined);
  assert.deepEqual(waitPolicyEnv({ kind: 'inherit' }, parent), parent);
  // The parent's environment is never modified.
  assert.equal(parent.OMP_WAIT_POLICY, 'active');
});

test('a policy says itself through the variables, and an environment is described in the same words', () => {
  for (const name of ['passive', 'active', 'spin:10000']) {
    assert.equal(describeWaitPolicy(waitPolicyVars(parseWaitPolicy(name))), name);
  }
  assert.deepEqual(waitPolicyVars({ kind: 'inherit' }), {});
  assert.equal(describeWaitPolicy({}), 'default');
  assert.equal(describeWaitPolicy({ OMP_WAIT_POLICY: 'PASSIVE' }), 'passive');
  assert.equal(describeWaitPolicy({ OMP_WAIT_POLICY: 'active', GOMP_SPINCOUNT: '5' }), 'active, spin:5');
});
