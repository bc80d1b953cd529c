import test from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../core/index.js';
import { labelEnergy, pixelEnergy, type OutputEnergy } from './output-energy.js';

function check(name: string, energy: OutputEnergy, logits: Float32Array, n: number, k: number): void {
  const delta = new Float32Array(n * k);
  const total = energy.gradient(logits, n, k, delta);
  const per = new Float32Array(n);
  energy.addPerSample(logits, n, k, per);
  const sum = per.reduce((s, v) => s + v, 0);
  assert.ok(Math.abs(sum - total) < 1e-4 * (1 + Math.abs(total)), `${name}: per-sample ${sum} against batch ${total}`);
  assert.ok(per.every((v) => v > 0), `${name}: every sample's energy is positive`);
}

test('the samples\' output energies add up to the batch energy the gradient call returns (labels, masked labels, pixels)', () => {
  const rng = new Rng(1);
  const n = 6, k = 5;
  const logits = rng.fillNormal(new Float32Array(n * k));
  const y = Int32Array.from({ length: n }, (_, r) => r % k);
  check('labels', labelEnergy(y, null), logits, n, k);
  const mask = Uint8Array.from({ length: n * k }, (_, i) => (i % k === Math.floor(i / k) % k || i % k === (Math.floor(i / k) + 1) % k ? 1 : 0));
  check('masked labels', labelEnergy(y, mask), logits, n, k);
  const x = Float32Array.from({ length: n * k }, () => rng.uniform());
  check('pixels', pixelEnergy(x), logits, n, k);
});
