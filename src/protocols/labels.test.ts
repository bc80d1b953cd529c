import test from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../core/rng.js';
import { largestRemainder, stratifiedHoldout } from './holdout.js';
import { labelSpace } from './labels.js';

const SPLIT = [[3, 7], [0, 9], [1, 2], [4, 5], [6, 8]];
const PERM = [0, 1, 2].map(() => Array.from({ length: 10 }, (_, c) => c));

test('split class-IL: target = position in the class order', () => {
  const ls = labelSpace('class', SPLIT);
  assert.equal(ls.numOutputs, 10);
  assert.equal(ls.targetOf(0, 3), 0);
  assert.equal(ls.targetOf(0, 7), 1);
  assert.equal(ls.targetOf(1, 9), 3);
  assert.equal(ls.targetOf(4, 8), 9);
  assert.equal(ls.activeOutputs(2), null);
  assert.throws(() => ls.targetOf(0, 0), RangeError);
  assert.throws(() => ls.targetOf(5, 0), RangeError);
});

test('split domain-IL: first or second class of the context', () => {
  const ls = labelSpace('domain', SPLIT);
  assert.equal(ls.numOutputs, 2);
  assert.equal(ls.targetOf(2, 1), 0);
  assert.equal(ls.targetOf(2, 2), 1);
  assert.equal(ls.activeOutputs(2), null);
});

test('split task-IL: class-IL targets, one head of two units per context', () => {
  const ls = labelSpace('task', SPLIT);
  assert.equal(ls.numOutputs, 10);
  assert.equal(ls.targetOf(3, 5), 7);
  assert.deepEqual(ls.activeOutputs(3), [6, 7]);
  const heads = ls.activeOutputs(3)!;
  heads.push(99); // callers get a copy
  assert.deepEqual(ls.activeOutputs(3), [6, 7]);
});

test('permuted: domain = digit; class / task = digit + 10·context over 10·contexts outputs', () => {
  const d = labelSpace('domain', PERM);
  assert.equal(d.numOutputs, 10);
  assert.equal(d.targetOf(2, 4), 4);
  const c = labelSpace('class', PERM);
  assert.equal(c.numOutputs, 30);
  assert.equal(c.targetOf(2, 4), 24);
  const t = labelSpace('task', PERM);
  assert.equal(t.numOutputs, 30);
  assert.deepEqual(t.activeOutputs(1), [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
});

test('largest remainder: proportional shares that add up exactly', () => {
  assert.deepEqual(largestRemainder([5, 5], 3), [2, 1]);
  assert.deepEqual(largestRemainder([10, 30], 4), [1, 3]);
  assert.deepEqual(largestRemainder([1, 1, 1], 2), [1, 1, 0]);
  assert.equal(largestRemainder([5923, 6742, 5958], 1000).reduce((a, b) => a + b), 1000);
});

test('stratified hold-out: exact count, class proportions, disjoint, deterministic', () => {
  const labels = new Uint8Array(300).map((_, i) => (i % 3 === 0 ? 0 : 1)); // 100 of class 0, 200 of class 1
  const pool = new Int32Array(300).map((_, i) => i);
  const a = stratifiedHoldout(pool, labels, 30, new Rng(4));
  assert.equal(a.held.length, 30);
  assert.equal(a.train.length, 270);
  assert.equal([...a.held].filter((i) => labels[i] === 0).length, 10);
  const all = new Set([...a.train, ...a.held]);
  assert.equal(all.size, 300);
  assert.deepEqual([...a.held], [...a.held].sort((x, y) => x - y));
  const b = stratifiedHoldout(pool, labels, 30, new Rng(4));
  assert.deepEqual(b.held, a.held);
  assert.notDeepEqual(stratifiedHoldout(pool, labels, 30, new Rng(5)).held, a.held);
  assert.equal(stratifiedHoldout(pool, labels, 0, new Rng(4)).train.length, 300);
});
