import test from 'node:test';
import assert from 'node:assert/strict';
import { getBackend } from '../../kernels/index.js';
import type { Batch } from '../../protocols/types.js';
import { contextMask, KnownOutputs, maskedSoftmax, rowMask, softTargets } from './index.js';

getBackend().setThreads(1);

const close = (a: number, b: number, tol = 1e-6): void => assert.ok(Math.abs(a - b) < tol, `${a} vs ${b}`);

test('maskedSoftmax is softmax(z/T) within each row\'s mask and 0 outside it', () => {
  const z = new Float32Array([1, 5, 2, 0.5, -1, 3, 3, 9]);
  const mask = new Uint8Array([1, 0, 1, 1, 0, 1, 1, 0]);
  const p = maskedSoftmax(z, mask, 2, 4, 2);
  // Row 0 keeps logits 1, 2, 0.5; row 1 keeps 3, 3.
  const e = [Math.exp(0.5), Math.exp(1), Math.exp(0.25)];
  const tot = e[0]! + e[1]! + e[2]!;
  assert.equal(p[1], 0);
  close(p[0]!, e[0]! / tot);
  close(p[2]!, e[1]! / tot);
  close(p[3]!, e[2]! / tot);
  assert.deepEqual([p[4], p[7]], [0, 0]);
  close(p[5]!, 0.5);
  close(p[6]!, 0.5);
});

test('maskedSoftmax without a mask gives -Infinity logits probability 0, and an empty head is NaN', () => {
  const p = maskedSoftmax(new Float32Array([0, -Infinity, 0, -Infinity, -Infinity, -Infinity]), null, 2, 3, 1);
  assert.deepEqual([...p.subarray(0, 3)], [0.5, 0, 0.5]);
  assert.ok([...p.subarray(3)].every(Number.isNaN));
  assert.ok([...maskedSoftmax(new Float32Array([1, 2]), new Uint8Array(2), 1, 2, 1)].every(Number.isNaN));
});

test('softTargets over a column list is maskedSoftmax with that list\'s row mask (to float32 rounding)', () => {
  const z = new Float32Array([0.3, -2, 1.7, 4, 0, 2.5, -1, 1]);
  const keep = [0, 2, 3];
  const a = softTargets(z, keep, 2, 4, 2);
  const b = maskedSoftmax(z, rowMask(keep, 2, 4), 2, 4, 2);
  a.forEach((v, i) => close(v, b[i]!));
});

test('rowMask keeps the listed columns on every row; contextMask keeps each row\'s context head (all when unknown)', () => {
  assert.deepEqual([...rowMask([0, 2], 2, 3)], [1, 0, 1, 1, 0, 1]);
  const active = (c: number): number[] | null => (c === 0 ? [0, 1] : c === 1 ? [2, 3] : null);
  assert.deepEqual([...contextMask(new Int32Array([1, 0, 7]), 4, active)], [0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1]);
});

test('KnownOutputs learns the outputs in play from the labels seen, without a boundary signal', () => {
  const batch = (y: number[], contexts: number[] | null): Batch => ({
    x: new Float32Array(y.length), y: Int32Array.from(y), contexts: contexts === null ? null : Int32Array.from(contexts), size: y.length,
  });
  const cls = new KnownOutputs('class', 10, () => null);
  cls.see(batch([3, 1, 3], null));
  assert.deepEqual(cls.studentOutputs(), [1, 3]);
  const heads = cls.heads();
  assert.deepEqual(heads, [{ teacher: [1, 3], student: [1, 3] }]);
  cls.see(batch([5], null));
  assert.deepEqual(cls.widen(heads), [{ teacher: [1, 3], student: [1, 3, 5] }]);
  const task = new KnownOutputs('task', 4, (c) => (c === 0 ? [0, 1] : [2, 3]));
  task.see(batch([2, 0], [1, 0]));
  assert.deepEqual(task.heads(), [{ teacher: [0, 1], student: [0, 1] }, { teacher: [2, 3], student: [2, 3] }]);
});
