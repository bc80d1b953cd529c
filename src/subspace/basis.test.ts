import test from 'node:test';
import assert from 'node:assert/strict';
import { SingularValueDecomposition, Matrix } from 'ml-matrix';
import { Rng } from '../core/index.js';
import { getBackend } from '../kernels/index.js';
import {
  accumulateGram, basisFrom, emptyBasis, energyRank, projectOut, representationGram, updateBasis, type Basis,
} from './basis.js';

getBackend().setThreads(1);

/** `cols` orthonormal random vectors of dimension `dim` (columns of a dim × cols float64 row-major matrix). */
function orthonormal(rng: Rng, dim: number, cols: number): Float64Array {
  const q = new Float64Array(dim * cols);
  for (let j = 0; j < cols; j++) {
    const v = Array.from({ length: dim }, () => rng.normal());
    for (let p = 0; p < j; p++) {
      let dot = 0;
      for (let i = 0; i < dim; i++) dot += q[i * cols + p]! * v[i]!;
      for (let i = 0; i < dim; i++) v[i] = v[i]! - dot * q[i * cols + p]!;
    }
    const norm = Math.hypot(...v);
    for (let i = 0; i < dim; i++) q[i * cols + j] = v[i]! / norm;
  }
  return q;
}

/**
 * A representation with a known spectrum: n samples (rows, n × dim) A = V diag(s) Uᵀ, i.e. R = Aᵀ = U diag(s) Vᵀ,
 * whose left singular vectors are the columns of U and whose squared singular values are s².
 */
function knownRepresentation(rng: Rng, dim: number, n: number, s: number[]): { a: Float32Array; u: Float64Array } {
  const r = s.length;
  const u = orthonormal(rng, dim, r);
  const v = orthonormal(rng, n, r);
  const a = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < dim; d++) {
      let x = 0;
      for (let j = 0; j < r; j++) x += v[i * r + j]! * s[j]! * u[d * r + j]!;
      a[i * dim + d] = x;
    }
  }
  return { a, u };
}

function randomRows(rng: Rng, n: number, dim: number): Float32Array {
  return Float32Array.from({ length: n * dim }, () => rng.normal());
}

/** max |MᵀM − I|. */
function orthonormalityError(b: Basis): number {
  let worst = 0;
  for (let p = 0; p < b.k; p++) {
    for (let q = 0; q < b.k; q++) {
      let dot = 0;
      for (let i = 0; i < b.dim; i++) dot += b.data[i * b.k + p]! * b.data[i * b.k + q]!;
      worst = Math.max(worst, Math.abs(dot - (p === q ? 1 : 0)));
    }
  }
  return worst;
}

/** Share of the energy of the rows of `a` (n × dim) inside span(basis). */
function capturedShare(b: Basis, a: Float32Array, n: number): number {
  let total = 0;
  let inside = 0;
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < b.dim; i++) total += a[r * b.dim + i]! ** 2;
    for (let j = 0; j < b.k; j++) {
      let dot = 0;
      for (let i = 0; i < b.dim; i++) dot += b.data[i * b.k + j]! * a[r * b.dim + i]!;
      inside += dot * dot;
    }
  }
  return inside / total;
}

test('energyRank: the smallest r reaching the threshold, counting what the basis already holds (Eq. 5 and 9)', () => {
  const e = [50, 30, 15, 4, 1];
  assert.equal(energyRank(e, 100, 0, 0.5), 1);
  assert.equal(energyRank(e, 100, 0, 0.79), 2);
  assert.equal(energyRank(e, 100, 0, 0.8), 2);
  assert.equal(energyRank(e, 100, 0, 0.95), 3);
  assert.equal(energyRank(e, 100, 0, 0.96), 4);
  assert.equal(energyRank(e, 100, 0, 1), 5);
  // Eq. 9: the old basis already holds 90 of 100; the projected spectrum is what is left.
  assert.equal(energyRank([6, 3, 1], 100, 90, 0.95), 1);
  assert.equal(energyRank([6, 3, 1], 100, 90, 0.97), 2);
  assert.equal(energyRank([6, 3, 1], 100, 96, 0.95), 0);
  assert.equal(energyRank([], 0, 0, 0.95), 0);
  assert.throws(() => energyRank(e, 100, 0, 1.5), RangeError);
});

test('first basis: orthonormal, and exactly the top singular vectors whose energy reaches the threshold', () => {
  const rng = new Rng(3);
  const dim = 20;
  const n = 30;
  // Energies s² = 50, 30, 15, 4, 1 (of 100).
  const s = [50, 30, 15, 4, 1].map(Math.sqrt);
  const { a, u } = knownRepresentation(rng, dim, n, s);
  const gram = representationGram(a, n, dim);
  for (const [threshold, want] of [[0.5, 1], [0.8, 2], [0.95, 3], [0.96, 4], [0.999, 5]] as const) {
    const { basis, added, energyBefore, energyAfter } = updateBasis(emptyBasis(dim), gram, threshold);
    assert.equal(basis.k, want, `threshold ${threshold}`);
    assert.equal(added, want);
    assert.equal(energyBefore, 0);
    assert.ok(energyAfter >= threshold - 1e-6, `energy ${energyAfter} < ${threshold}`);
    assert.ok(orthonormalityError(basis) < 1e-5, `MᵀM − I: ${orthonormalityError(basis)}`);
    // Same subspace as the top `want` columns of U: ‖U_rᵀ M‖²_F = r.
    let overlap = 0;
    for (let p = 0; p < want; p++) {
      for (let q = 0; q < want; q++) {
        let dot = 0;
        for (let i = 0; i < dim; i++) dot += u[i * s.length + p]! * basis.data[i * want + q]!;
        overlap += dot * dot;
      }
    }
    assert.ok(Math.abs(overlap - want) < 1e-4, `subspace overlap ${overlap} ≠ ${want}`);
  }
});

test('the Gram route agrees with an SVD of the representation matrix itself', () => {
  const rng = new Rng(5);
  const dim = 15;
  const n = 12;
  const a = randomRows(rng, n, dim);
  const { basis } = updateBasis(emptyBasis(dim), representationGram(a, n, dim), 0.9);
  const r = Matrix.from1DArray(n, dim, Array.from(a)).transpose();
  const svd = new SingularValueDecomposition(r, { computeRightSingularVectors: false, autoTranspose: true });
  const energy = svd.diagonal.map((x) => x * x);
  const total = energy.reduce((x, y) => x + y, 0);
  const k = energyRank(energy, total, 0, 0.9);
  assert.equal(basis.k, k);
  const uk = svd.leftSingularVectors;
  let overlap = 0;
  for (let p = 0; p < k; p++) {
    for (let q = 0; q < k; q++) {
      let dot = 0;
      for (let i = 0; i < dim; i++) dot += uk.get(i, p) * basis.data[i * k + q]!;
      overlap += dot * dot;
    }
  }
  assert.ok(Math.abs(overlap - k) < 1e-3, `subspace overlap ${overlap} ≠ ${k}`);
});

test('later update: new vectors are orthogonal to the old basis, energy counts what it held (Eq. 8–9)', () => {
  const rng = new Rng(7);
  const dim = 24;
  const first = knownRepresentation(rng, dim, 40, [3, 2, 1.5]);
  const b1 = updateBasis(emptyBasis(dim), representationGram(first.a, 40, dim), 0.999).basis;
  assert.equal(b1.k, 3);
  // A second representation: half in the old span, half outside.
  const n = 50;
  const second = randomRows(rng, n, dim);
  const before = capturedShare(b1, second, n);
  const upd = updateBasis(b1, representationGram(second, n, dim), 0.95);
  assert.ok(Math.abs(upd.energyBefore - before) < 1e-4, `energyBefore ${upd.energyBefore} vs ${before}`);
  assert.ok(upd.added > 0);
  assert.equal(upd.basis.k, b1.k + upd.added);
  // The old vectors are kept as they were, first.
  for (let i = 0; i < dim; i++) {
    for (let j = 0; j < b1.k; j++) assert.equal(upd.basis.data[i * upd.basis.k + j], b1.data[i * b1.k + j]);
  }
  assert.ok(orthonormalityError(upd.basis) < 1e-5, `MᵀM − I: ${orthonormalityError(upd.basis)}`);
  const after = capturedShare(upd.basis, second, n);
  assert.ok(after >= 0.95 - 1e-4, `captured ${after}`);
  assert.ok(Math.abs(after - upd.energyAfter) < 1e-4);
  // One vector fewer would fall short of the threshold (the rank is minimal).
  const fewer = basisFrom(dim, new Float32Array(dim * (upd.basis.k - 1)).map((_, idx) => {
    const i = Math.floor(idx / (upd.basis.k - 1));
    const j = idx % (upd.basis.k - 1);
    return upd.basis.data[i * upd.basis.k + j]!;
  }));
  assert.ok(capturedShare(fewer, second, n) < 0.95, 'basis is not minimal');
});

test('a representation already inside the basis adds nothing; the basis never exceeds the dimension', () => {
  const rng = new Rng(9);
  const dim = 6;
  const rep = knownRepresentation(rng, dim, 10, [2, 1]);
  const b = updateBasis(emptyBasis(dim), representationGram(rep.a, 10, dim), 0.999).basis;
  const again = updateBasis(b, representationGram(rep.a, 10, dim), 0.99);
  assert.equal(again.added, 0);
  assert.ok(again.energyBefore > 0.999);
  let full = b;
  for (let t = 0; t < 4; t++) full = updateBasis(full, representationGram(randomRows(rng, 20, dim), 20, dim), 1).basis;
  assert.equal(full.k, dim);
  assert.ok(orthonormalityError(full) < 1e-5);
  assert.equal(updateBasis(full, representationGram(randomRows(rng, 5, dim), 5, dim), 1).added, 0);
  // A zero representation keeps nothing.
  assert.equal(updateBasis(emptyBasis(dim), new Float32Array(dim * dim), 0.95).basis.k, 0);
});

test('accumulateGram sums outer products batch by batch', () => {
  const rng = new Rng(2);
  const a = randomRows(rng, 7, 5);
  const whole = representationGram(a, 7, 5);
  const parts = new Float32Array(25);
  accumulateGram(parts, a.subarray(0, 3 * 5), 3, 5);
  accumulateGram(parts, a.subarray(3 * 5), 4, 5);
  for (let i = 0; i < 25; i++) assert.ok(Math.abs(parts[i]! - whole[i]!) < 1e-5);
  assert.ok(whole[1]! !== 0 && Math.abs(whole[1]! - whole[5]!) < 1e-6, 'symmetric');
});

test('a projected gradient is orthogonal to the basis, and projecting twice changes nothing', () => {
  const rng = new Rng(4);
  const dim = 30;
  const out = 7;
  const b = updateBasis(emptyBasis(dim), representationGram(randomRows(rng, 8, dim), 8, dim), 0.99).basis;
  assert.ok(b.k > 0 && b.k < dim);
  const g = randomRows(rng, dim, out);
  const original = g.slice();
  projectOut(b, g, out);
  let worst = 0;
  for (let j = 0; j < b.k; j++) {
    for (let c = 0; c < out; c++) {
      let dot = 0;
      for (let i = 0; i < dim; i++) dot += b.data[i * b.k + j]! * g[i * out + c]!;
      worst = Math.max(worst, Math.abs(dot));
    }
  }
  assert.ok(worst < 1e-5, `Mᵀg = ${worst}`);
  assert.ok(g.some((v, i) => Math.abs(v - original[i]!) > 1e-3), 'projection changed nothing');
  const twice = g.slice();
  projectOut(b, twice, out, new Float32Array(b.k * out));
  for (let i = 0; i < g.length; i++) assert.ok(Math.abs(twice[i]! - g[i]!) < 1e-5);
  // An empty basis leaves the gradient alone.
  const h = original.slice();
  projectOut(emptyBasis(dim), h, out);
  assert.deepEqual(h, original);
  assert.throws(() => projectOut(b, new Float32Array(5), out), RangeError);
});
