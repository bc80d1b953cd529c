import test from 'node:test';
import assert from 'node:assert/strict';
import { acc, bwt, forgetting, fwt, meanSd } from './continual.js';
import { Rng } from '../core/rng.js';

const close = (a: number, b: number): void => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);

test('metrics on a hand-worked matrix', () => {
  const R = [
    [0.9, 0.1, 0.2],
    [0.5, 0.8, 0.3],
    [0.4, 0.6, 0.7],
  ];
  close(acc(R), (0.4 + 0.6 + 0.7) / 3);
  close(bwt(R), ((0.4 - 0.9) + (0.6 - 0.8)) / 2);
  close(fwt(R, [0.1, 0.05, 0.1]), ((0.1 - 0.05) + (0.3 - 0.1)) / 2);
  close(forgetting(R), ((0.9 - 0.4) + (0.8 - 0.6)) / 2);
});

test('invariants hold on random matrices', () => {
  const rng = new Rng(3);
  for (let trial = 0; trial < 200; trial++) {
    const T = 2 + rng.int(6);
    const R = Array.from({ length: T }, () => Array.from({ length: T }, () => rng.uniform()));
    // Forgetting is never below −BWT, since the best earlier accuracy is at least R[j][j].
    assert.ok(forgetting(R) >= -bwt(R) - 1e-12);
    assert.ok(forgetting(R) <= 1 && bwt(R) >= -1 && bwt(R) <= 1);
    assert.ok(acc(R) >= 0 && acc(R) <= 1);
    // A model that never changes has zero BWT and zero forgetting.
    const row = R[0]!;
    const frozen = R.map(() => [...row]);
    close(bwt(frozen), 0);
    close(forgetting(frozen), 0);
  }
});

test('when accuracy only ever falls after training, forgetting equals −BWT', () => {
  const R = [
    [0.9, 0.0, 0.0],
    [0.7, 0.95, 0.0],
    [0.5, 0.6, 0.99],
  ];
  close(forgetting(R), -bwt(R));
  close(forgetting(R), ((0.9 - 0.5) + (0.95 - 0.6)) / 2);
});

test('malformed matrices are rejected', () => {
  assert.throws(() => acc([]), /empty/);
  assert.throws(() => acc([[1, 2]]), /square/);
  assert.throws(() => fwt([[1]], [1, 2]), /one entry per context/);
});

test('meanSd uses the sample standard deviation', () => {
  const { mean, sd } = meanSd([1, 2, 3, 4]);
  close(mean, 2.5);
  close(sd, Math.sqrt(5 / 3));
  assert.deepEqual(meanSd([0.5]), { mean: 0.5, sd: 0 });
});
