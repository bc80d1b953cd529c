import test from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Tensor } from '../../core/index.js';
import { getBackend } from '../../kernels/index.js';
import { QuadraticPenalty } from './penalty.js';

// Tiny networks: one thread avoids handing each small kernel to a second thread (costly on a shared machine).
getBackend().setThreads(1);

const rng = new Rng(3);
const rand = (n: number, lo = -1, hi = 1) => new Float32Array(n).map(() => lo + (hi - lo) * rng.uniform());
const shapes = [[4, 3], [3], [3, 2]] as const;
const makeParams = () => shapes.map((s) => Tensor.param(rand(s.reduce((a: number, b: number) => a * b, 1)), s));

test('the penalty gradient added to the grads matches central finite differences of the penalty', () => {
  const params = makeParams();
  const pen = new QuadraticPenalty(params.map((p) => p.data));
  params.forEach((p, i) => {
    pen.importance[i]!.set(rand(p.size, 0, 3));
    pen.anchor[i]!.set(rand(p.size));
  });
  pen.active = true;
  const scale = 7.5;
  // Existing gradients are kept and the penalty's is added to them.
  const before = params.map((p) => rand(p.size));
  params.forEach((p, i) => (p.grad = before[i]!.slice()));
  pen.addGradient(params, scale);
  const data = params.map((p) => p.data);
  const h = 1e-2;
  for (let i = 0; i < params.length; i++) {
    for (let j = 0; j < params[i]!.size; j++) {
      const v = data[i]![j]!;
      data[i]![j] = v + h;
      const up = pen.value(data, scale);
      data[i]![j] = v - h;
      const down = pen.value(data, scale);
      data[i]![j] = v;
      // (θ±h) is rounded to float32: divide by the step actually taken.
      const step = Math.fround(v + h) - Math.fround(v - h);
      const fd = (up - down) / step;
      const got = params[i]!.grad![j]! - before[i]![j]!;
      assert.ok(Math.abs(got - fd) < 1e-4 * Math.max(1, Math.abs(fd)), `param ${i}[${j}]: ${got} vs ${fd}`);
    }
  }
});

test('an inactive penalty costs nothing and is zero', () => {
  const params = makeParams();
  const pen = new QuadraticPenalty(params.map((p) => p.data));
  params.forEach((p) => (p.grad = null));
  pen.addGradient(params, 1e9);
  assert.ok(params.every((p) => p.grad === null));
  assert.equal(pen.value(params.map((p) => p.data), 1e9), 0);
});

test('offline EWC: merged terms give the gradient of the explicit sum of per-context penalties', () => {
  const params = makeParams();
  const data = params.map((p) => p.data);
  const pen = new QuadraticPenalty(data);
  const terms: { w: Float32Array[]; a: Float32Array[] }[] = [];
  for (let k = 0; k < 4; k++) {
    // Some importances are exactly zero, as Fisher entries of unused outputs are.
    const w = data.map((d) => rand(d.length, -1, 2).map((v) => Math.max(0, v)));
    const a = data.map((d) => rand(d.length));
    terms.push({ w, a });
    pen.addQuadratic(w, a);
  }
  params.forEach((p) => (p.grad = new Float32Array(p.size)));
  pen.addGradient(params, 3);
  const explicitValue = (): number => {
    let s = 0;
    for (const { w, a } of terms) {
      data.forEach((d, i) => d.forEach((v, j) => (s += 1.5 * w[i]![j]! * (v - a[i]![j]!) ** 2)));
    }
    return s;
  };
  for (let i = 0; i < data.length; i++) {
    for (let j = 0; j < data[i]!.length; j++) {
      let want = 0;
      for (const { w, a } of terms) want += 3 * w[i]![j]! * (data[i]![j]! - a[i]![j]!);
      assert.ok(Math.abs(params[i]!.grad![j]! - want) < 1e-5 * Math.max(1, Math.abs(want)), `${i}[${j}]`);
    }
  }
  // The values differ by a constant only.
  const c0 = explicitValue() - pen.value(data, 3);
  data.forEach((d) => d.forEach((v, j) => (d[j] = v + 0.3 * (rng.uniform() - 0.5))));
  const c1 = explicitValue() - pen.value(data, 3);
  assert.ok(Math.abs(c0 - c1) < 1e-4 * Math.abs(c0), `${c0} vs ${c1}`);
});

test('accumulate: decayed running importance and the newest anchor (online EWC, SI, MAS)', () => {
  const data = [new Float32Array([1, 2])];
  const pen = new QuadraticPenalty(data);
  pen.accumulate([new Float32Array([1, 4])], [new Float32Array([0, 0])], 0.5);
  pen.accumulate([new Float32Array([2, 2])], [new Float32Array([5, 6])], 0.5);
  assert.deepEqual(pen.importance[0], new Float32Array([2.5, 4]));
  assert.deepEqual(pen.anchor[0], new Float32Array([5, 6]));
  assert.equal(pen.active, true);
});
