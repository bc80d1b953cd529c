import test from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../core/index.js';
import { GenerativePc } from './generative.js';

/** Two classes of 16-pixel images: class 0 lights the first half, class 1 the second, with pixel noise. */
function images(n: number, rng: Rng): { x: Float32Array; y: Int32Array } {
  const x = new Float32Array(n * 16);
  const y = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    y[r] = rng.int(2);
    for (let j = 0; j < 16; j++) {
      const lit = (j < 8) === (y[r] === 0);
      x[r * 16 + j] = lit ? 0.8 + 0.2 * rng.uniform() : 0.2 * rng.uniform();
    }
  }
  return { x, y };
}

const halves = (dream: Float32Array, r: number): [number, number] => {
  let first = 0, second = 0;
  for (let j = 0; j < 8; j++) first += dream[r * 16 + j]! / 8;
  for (let j = 8; j < 16; j++) second += dream[r * 16 + j]! / 8;
  return [first, second];
};

test('a generative PC network learns its classes\' images by local updates, and dreams each class when it is clamped', () => {
  const rng = new Rng(3);
  const g = new GenerativePc(2, 16, { hidden: [8, 12], activation: 'gelu', lr: 0.01 }, rng);
  const start = images(32, rng);
  const first = g.learn(start.x, start.y, 32);
  let last = first;
  for (let it = 0; it < 400; it++) {
    const { x, y } = images(32, rng);
    last = g.learn(x, y, 32);
  }
  assert.ok(last < 0.7 * first, `Bernoulli energy per image ${first} -> ${last}`);
  const dreams = g.dream(new Int32Array([0, 1, 0, 1]), 0, new Rng(4));
  for (let r = 0; r < 4; r++) {
    const [a, b] = halves(dreams, r);
    const [lit, dark] = r % 2 === 0 ? [a, b] : [b, a];
    assert.ok(lit > 0.7 && dark < 0.3, `dream ${r}: lit half ${lit}, dark half ${dark}`);
  }
});

test('dreams draw around the predictions as far as inference moved the value nodes; at temperature 0 a class dreams one image', () => {
  const rng = new Rng(5);
  const g = new GenerativePc(2, 16, { hidden: [8, 12], activation: 'gelu', lr: 0.01 }, rng);
  assert.deepEqual(g.dreamSpread(), [0, 0], 'nothing learned, nothing inferred');
  for (let it = 0; it < 20; it++) {
    const { x, y } = images(32, rng);
    g.learn(x, y, 32);
  }
  assert.ok(g.dreamSpread().every((s) => s > 0), `spread ${g.dreamSpread().join(', ')}`);
  const same = g.dream(new Int32Array([1, 1]), 0, new Rng(6));
  assert.deepEqual(same.subarray(0, 16), same.subarray(16, 32));
  const varied = g.dream(new Int32Array([1, 1]), 1, new Rng(6));
  assert.notDeepEqual(varied.subarray(0, 16), varied.subarray(16, 32));
  assert.ok(varied.every((v) => v >= 0 && v <= 1), 'pixel intensities');
});
