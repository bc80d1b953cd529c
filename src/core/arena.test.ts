import test from 'node:test';
import assert from 'node:assert/strict';
import { allocate, allocateUninitialised, arenaActive, BufferArena, withArena } from './arena.js';
import { affine, reluInPlace, sum } from './ops.js';
import { backward, Tensor, zeroGrad } from './tensor.js';

test('an arena hands recycled, zeroed buffers to the next scope, and fresh ones outside any scope', () => {
  const arena = new BufferArena();
  let first: Float32Array | null = null;
  withArena(arena, () => {
    assert.equal(arenaActive(), true);
    first = allocate(8);
    first.fill(3);
  });
  assert.equal(arenaActive(), false);
  withArena(arena, () => {
    const again = allocate(8);
    assert.equal(again, first, 'the same buffer comes back');
    assert.deepEqual([...again], new Array(8).fill(0), 'zeroed');
    assert.notEqual(allocate(8), again, 'two live buffers are distinct');
  });
  assert.notEqual(allocate(8), first, 'outside a scope: a new array');
  assert.equal(allocateUninitialised(4).length, 4);
});

test('re-entering the active arena does not recycle the outer scope\'s buffers early', () => {
  const arena = new BufferArena();
  withArena(arena, () => {
    const outer = allocate(4);
    outer.fill(7);
    withArena(arena, () => allocate(4));
    const next = allocate(4);
    assert.notEqual(next, outer);
    assert.deepEqual([...outer], [7, 7, 7, 7]);
  });
});

test('leaf gradients survive the step that computed them; affine and in-place relu give the plain gradients', () => {
  const arena = new BufferArena();
  const w = Tensor.param(new Float32Array([1, -2, 3, -4, 0.5, 0.25]), [2, 3]);
  const b = Tensor.param(new Float32Array([3, 0.2, -0.5]), [3]);
  const x = Tensor.from(new Float32Array([1, 2, -1, 0.5]), [2, 2]);
  const step = (): [Float32Array, Float32Array] => withArena(arena, () => {
    zeroGrad([w, b]);
    backward(sum(reluInPlace(affine(x, w, b))));
    return [w.grad!, b.grad!];
  });
  const [gw, gb] = step();
  const keptW = gw.slice();
  const keptB = gb.slice();
  // A second step reuses the arena; the first step's leaf gradients must not have been arena buffers.
  step();
  assert.deepEqual(w.grad, keptW);
  assert.deepEqual(b.grad, keptB);
  // Pre-activations x·w + b: [-4, -0.8, 3; 0, 2.45, -3.375], so relu passes (0,2) and (1,1) only:
  // dL/db = [0, 1, 1], dL/dw = xᵀ·mask = [0, -1, 1; 0, 0.5, 2].
  assert.deepEqual([...keptB], [0, 1, 1]);
  assert.deepEqual([...keptW], [0, -1, 1, 0, 0.5, 2]);
});
