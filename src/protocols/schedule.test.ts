import test from 'node:test';
import assert from 'node:assert/strict';
import { boundariesContext, fuzzyPhase, fuzzyProbabilities, fuzzyProbability } from './schedule.js';

const N = 5;
const ITERS = 2000;
const F = 500;

test('fuzzy probabilities sum to 1 at every iteration and mix at most two contexts', () => {
  const p = new Float64Array(N);
  for (let i = 0; i < N * ITERS; i++) {
    fuzzyProbabilities(N, ITERS, F, i, p);
    const sum = p.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - 1) < 1e-12, `iteration ${i}: sum ${sum}`);
    assert.ok(p.filter((v) => v > 0).length <= 2, `iteration ${i}`);
  }
});

test('van de Ven schedule, split-MNIST defaults (5 × 2000, fuzziness 500)', () => {
  const p = (k: number, i: number): number => fuzzyProbability(N, ITERS, F, k, i);
  // Context 0 alone until h - f = 500, ramping down over [500, 1500): 1 - (j + 0.5) / 1000.
  assert.equal(p(0, 0), 1);
  assert.equal(p(0, 499), 1);
  assert.equal(p(0, 500), 1 - 0.5 / 1000);
  assert.equal(p(1, 500), 0.5 / 1000);
  assert.equal(p(1, 1000), 500.5 / 1000);
  assert.equal(p(0, 1499), 1 - 999.5 / 1000);
  assert.equal(p(0, 1500), 0);
  // Context 1 owns [1000, 3000): alone over [1500, 2500).
  assert.equal(p(1, 1500), 1);
  assert.equal(p(1, 2000), 1);
  assert.equal(p(1, 2499), 1);
  assert.equal(p(2, 2500), 0.5 / 1000);
  // The last context (4) owns [7000, 9000); context 0 returns for the final half period [9000, 10000).
  assert.equal(p(4, 8000), 1);
  assert.equal(p(4, 8500), 1 - 0.5 / 1000);
  assert.equal(p(0, 8500), 0.5 / 1000);
  assert.equal(p(0, 9500), 1);
  assert.equal(p(0, 9999), 1);
  assert.equal(p(3, 9999), 0);
});

test('fuzziness 0 gives sharp switches half a period in', () => {
  for (let i = 0; i < 6 * 100; i++) {
    const h = 50;
    const owner = i < h ? 0 : i >= h + 5 * 100 ? 0 : 1 + Math.floor((i - h) / 100);
    for (let k = 0; k < 6; k++) assert.equal(fuzzyProbability(6, 100, 0, k, i), k === owner ? 1 : 0);
  }
});

test('phase: nominal period, with the final half period counted as the last context', () => {
  assert.equal(fuzzyPhase(N, ITERS, 0), 0);
  assert.equal(fuzzyPhase(N, ITERS, 999), 0);
  assert.equal(fuzzyPhase(N, ITERS, 1000), 1);
  assert.equal(fuzzyPhase(N, ITERS, 2999), 1);
  assert.equal(fuzzyPhase(N, ITERS, 3000), 2);
  assert.equal(fuzzyPhase(N, ITERS, 7000), 4);
  assert.equal(fuzzyPhase(N, ITERS, 9000), 4);
  assert.equal(fuzzyPhase(N, ITERS, 9999), 4);
  assert.equal(boundariesContext(ITERS, 1999), 0);
  assert.equal(boundariesContext(ITERS, 2000), 1);
});

test('a single context is always drawn', () => {
  assert.equal(fuzzyProbability(1, 100, 20, 0, 50), 1);
  assert.equal(fuzzyPhase(1, 100, 99), 0);
});
