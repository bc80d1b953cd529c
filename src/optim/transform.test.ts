import test from 'node:test';
import assert from 'node:assert/strict';
import { portableBackend, setBackend } from '../kernels/index.js';
import { adam, applyUpdates, scaleByAdam, sgd } from './transform.js';

setBackend(portableBackend);

test('adam matches a hand-computed PyTorch step sequence', () => {
  // Minimise (p − 3)² from p = 0 with Adam(lr 0.1), reference computed in float64 with PyTorch's formula.
  const p = [new Float32Array([0])];
  const opt = adam(0.1);
  let state = opt.init(p);
  let m = 0, v = 0, ref = 0;
  for (let t = 1; t <= 20; t++) {
    const g = 2 * (p[0]![0]! - 3);
    const gr = 2 * (ref - 3);
    m = 0.9 * m + 0.1 * gr;
    v = 0.999 * v + 0.001 * gr * gr;
    ref -= (0.1 * (m / (1 - 0.9 ** t))) / (Math.sqrt(v / (1 - 0.999 ** t)) + 1e-8);
    const [u, s] = opt.update([new Float32Array([g])], state, p);
    state = s;
    applyUpdates(p, u);
    assert.ok(Math.abs(p[0]![0]! - ref) < 1e-5, `step ${t}: ${p[0]![0]} vs ${ref}`);
  }
});

test('sgd with momentum follows PyTorch: buf = g first, then μ·buf + g', () => {
  const p = [new Float32Array([1])];
  const opt = sgd(0.5, 0.9);
  let state = opt.init(p);
  const grads = [2, 4, -1];
  let buf = 0;
  let ref = 1;
  grads.forEach((g, i) => {
    buf = i === 0 ? g : 0.9 * buf + g;
    ref -= 0.5 * buf;
    const [u, s] = opt.update([new Float32Array([g])], state, p);
    state = s;
    applyUpdates(p, u);
    assert.ok(Math.abs(p[0]![0]! - ref) < 1e-6);
  });
});

test('adam and sgd keep each link\'s state under its name', () => {
  const params = [new Float32Array(2)];
  const a = adam(0.1);
  const [, s] = a.update([new Float32Array([1, -1])], a.init(params), params);
  assert.deepEqual(Object.keys(s), ['adam', 'lr']);
  assert.equal(s.adam.step, 1);
  assert.deepEqual(Object.keys(sgd(0.1, 0.9).init(params)), ['momentum', 'lr']);
  assert.deepEqual(Object.keys(sgd(0.1).init(params)), ['lr']);
});

test('adam state is explicit: steps counted, moments per parameter', () => {
  const t = scaleByAdam();
  const params = [new Float32Array(3), new Float32Array(2)];
  let s = t.init(params);
  [, s] = t.update([new Float32Array([1, 1, 1]), new Float32Array([1, 1])], s, params);
  assert.equal(s.step, 1);
  assert.equal(s.m.length, 2);
  assert.ok(Math.abs(s.m[0]![0]! - 0.1) < 1e-7);
  assert.ok(Math.abs(s.v[1]![1]! - 0.001) < 1e-7);
});
