import test from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../core/index.js';
import { basisFrom, representationGram, symmetricSpectrum, type Basis } from './basis.js';
import { OjaSubspace, principalAngles } from './oja.js';

/** n samples in `dim` dimensions: a strong 3-dimensional signal (scales 3, 2, 1.5) plus weak isotropic noise. */
function lowRank(n: number, dim: number, rng: Rng): Float32Array {
  const dirs = Array.from({ length: 3 }, () => rng.fillNormal(new Float32Array(dim)));
  const x = new Float32Array(n * dim);
  for (let r = 0; r < n; r++) {
    const c = [3 * rng.normal(), 2 * rng.normal(), 1.5 * rng.normal()];
    for (let i = 0; i < dim; i++) x[r * dim + i] = c[0]! * dirs[0]![i]! + c[1]! * dirs[1]![i]! + c[2]! * dirs[2]![i]! + 0.1 * rng.normal();
  }
  return x;
}

function topEigenBasis(x: Float32Array, n: number, dim: number, k: number): Basis {
  const { vectors } = symmetricSpectrum(representationGram(x, n, dim), dim);
  const data = new Float32Array(dim * k);
  for (let i = 0; i < dim; i++) for (let j = 0; j < k; j++) data[i * k + j] = vectors[i * dim + j]!;
  return basisFrom(dim, data);
}

test('Oja\'s subspace rule finds the span of the top principal directions (principal angles to the eigenbasis < 3°)', () => {
  const rng = new Rng(2);
  const dim = 20;
  const data = lowRank(4000, dim, rng);
  const oja = new OjaSubspace(dim, 3, rng);
  const before = principalAngles(oja.basis(), topEigenBasis(data, 4000, dim, 3));
  for (let epoch = 0; epoch < 5; epoch++) for (let s = 0; s < 4000; s += 50) oja.update(data.subarray(s * dim, (s + 50) * dim), 50);
  const after = principalAngles(oja.basis(), topEigenBasis(data, 4000, dim, 3));
  assert.ok(before[2]! > 30, `a random start is far: ${before.join(', ')}`);
  assert.ok(after[2]! < 3, `largest angle ${after[2]}° (${after.join(', ')})`);
  const b = oja.basis();
  for (let r = 0; r < 3; r++) {
    for (let s = 0; s < 3; s++) {
      let dot = 0;
      for (let i = 0; i < dim; i++) dot += b.data[i * 3 + r]! * b.data[i * 3 + s]!;
      assert.ok(Math.abs(dot - (r === s ? 1 : 0)) < 1e-5, 'orthonormal');
    }
  }
});

test('principal angles: 0° between a basis and itself, 90° between orthogonal spans, one angle per vector of the smaller', () => {
  const e = (cols: number[][]): Basis => {
    const data = new Float32Array(4 * cols.length);
    cols.forEach((c, j) => c.forEach((v, i) => (data[i * cols.length + j] = v)));
    return basisFrom(4, data);
  };
  const a = e([[1, 0, 0, 0], [0, 1, 0, 0]]);
  assert.deepEqual([...principalAngles(a, a)].map((x) => Math.round(x)), [0, 0]);
  assert.deepEqual([...principalAngles(a, e([[0, 0, 1, 0]]))].map((x) => Math.round(x)), [90]);
  const h = Math.SQRT1_2;
  assert.deepEqual([...principalAngles(e([[h, 0, h, 0]]), a)].map((x) => Math.round(x)), [45]);
});
