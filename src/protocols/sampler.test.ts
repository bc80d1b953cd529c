import test from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../core/rng.js';
import { ShuffledCycler } from './sampler.js';
import { deriveRng, deriveSeed } from './seeds.js';

test('next(): each epoch visits every position exactly once, in a new order', () => {
  const c = new ShuffledCycler(50, new Rng(1));
  const epochs: number[][] = [];
  for (let e = 0; e < 3; e++) epochs.push(Array.from({ length: 50 }, () => c.next()));
  for (const ep of epochs) assert.deepEqual([...ep].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
  assert.notDeepEqual(epochs[0], epochs[1]);
  assert.equal(c.epochs, 3);
});

test('nextBatch(): drop_last — a batch never straddles epochs or repeats an item', () => {
  const c = new ShuffledCycler(10, new Rng(2));
  const b = new Int32Array(4);
  const seen = new Set<number>();
  c.nextBatch(b);
  b.forEach((v) => seen.add(v));
  c.nextBatch(b);
  b.forEach((v) => seen.add(v));
  assert.equal(seen.size, 8);
  assert.equal(c.epochs, 1);
  c.nextBatch(b); // only 2 left: new epoch
  assert.equal(c.epochs, 2);
  assert.equal(new Set(b).size, 4);
  assert.throws(() => c.nextBatch(new Int32Array(11)), RangeError);
  assert.throws(() => new ShuffledCycler(0, new Rng(1)), RangeError);
});

test('deterministic for a seed', () => {
  const run = (seed: number): number[] => {
    const c = new ShuffledCycler(30, new Rng(seed));
    return Array.from({ length: 70 }, () => c.next());
  };
  assert.deepEqual(run(5), run(5));
  assert.notDeepEqual(run(5), run(6));
});

test('derived seeds differ by purpose and by seed, and are stable', () => {
  assert.equal(deriveSeed(0, 'loader'), deriveSeed(0, 'loader'));
  assert.notEqual(deriveSeed(0, 'loader'), deriveSeed(0, 'permutations'));
  assert.notEqual(deriveSeed(0, 'loader'), deriveSeed(1, 'loader'));
  assert.notEqual(deriveSeed(1, 'loader'), deriveSeed(2 ** 32 + 1, 'loader'));
  assert.equal(deriveRng(3, 'x').nextUint32(), deriveRng(3, 'x').nextUint32());
});
