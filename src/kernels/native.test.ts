import test from 'node:test';
import assert from 'node:assert/strict';
import type { Activation, Backend, BinaryMap, UnaryMap } from './backend.js';
import type { SynapseAdamHyper } from './fused.js';
import { loadNativeBackend, nativeHasOpenblas, nativeInfo, nativeLoadError } from './native.js';
import { portableBackend as ref } from './portable.js';

// Every native kernel is checked against the portable reference on random data with odd sizes, typed-array
// views at non-zero offsets, and the reference's NaN / ±Infinity / masked-logit semantics.

const builtin = loadNativeBackend({ gemm: 'builtin' });
const skip = builtin === null ? `native addon unavailable: ${nativeLoadError() ?? 'unknown reason'}` : false;
const skipOpenblas = skip !== false ? skip : nativeHasOpenblas() ? false : 'built without OpenBLAS';

function must<T>(x: T | null): T {
  assert.ok(x !== null);
  return x;
}

/** Deterministic uniform numbers in [0, 1) (mulberry32). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A Float32Array view of n elements at a non-zero offset into a larger buffer (sentinels around it). */
function view(n: number, offset = 3): Float32Array {
  const buf = new Float32Array(n + offset + 5).fill(12345);
  return buf.subarray(offset, offset + n);
}

function randomView(n: number, r: () => number, lo = -1, hi = 1, offset = 3): Float32Array {
  const v = view(n, offset);
  for (let i = 0; i < n; i++) v[i] = lo + (hi - lo) * r();
  return v;
}

function copyView(x: Float32Array, offset = 5): Float32Array {
  const v = view(x.length, offset);
  v.set(x);
  return v;
}

/** The elements just outside a view must be untouched. */
function assertSentinels(v: Float32Array, label: string): void {
  const whole = new Float32Array(v.buffer);
  const start = v.byteOffset / 4;
  assert.equal(whole[start - 1], 12345, `${label}: wrote before the view`);
  assert.equal(whole[start + v.length], 12345, `${label}: wrote after the view`);
}

/**
 * |actual - expected| <= atol + rtol·scale (scale = |expected| unless given per element); NaN must match NaN and
 * infinities must match exactly.
 */
function assertClose(
  actual: ArrayLike<number>, expected: ArrayLike<number>, label: string,
  opts: { rtol?: number; atol?: number; scale?: ArrayLike<number> } = {},
): void {
  const rtol = opts.rtol ?? 1e-5;
  const atol = opts.atol ?? 0;
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e) || Number.isNaN(a)) {
      if (!(Number.isNaN(a) && Number.isNaN(e))) assert.fail(`${label}[${i}]: got ${a}, expected ${e}`);
      continue;
    }
    if (!Number.isFinite(e) || !Number.isFinite(a)) {
      if (a !== e) assert.fail(`${label}[${i}]: got ${a}, expected ${e}`);
      continue;
    }
    const scale = opts.scale === undefined ? Math.abs(e) : opts.scale[i]!;
    const tol = atol + rtol * scale;
    if (!(Math.abs(a - e) <= tol)) {
      assert.fail(`${label}[${i}]: got ${a}, expected ${e} (|diff| ${Math.abs(a - e)} > ${tol})`);
    }
  }
}

const MIN_NORMAL = 1.1754943508222875e-38;
/**
 * The native kernels run with flush-to-zero and denormals-are-zero (see native/denormals.h): subnormal inputs
 * read as ±0 and subnormal results become ±0. References are computed on flushed inputs and flushed after.
 */
function flush(x: Float32Array): Float32Array {
  return x.map((v) => (v !== 0 && Math.abs(v) < MIN_NORMAL ? (v < 0 ? -0 : 0) : v));
}

function assertCloseNumber(actual: number, expected: number, label: string, rtol = 1e-6): void {
  assertClose([actual], [expected], label, { rtol, atol: 1e-12 });
}

// ------------------------------------------------------------------------------------------------------------
// Loading

test('native addon loads and reports its GEMMs', { skip }, () => {
  const b = must(builtin);
  assert.equal(b.name, 'native');
  assert.equal(b.blas, 'builtin');
  const def = must(loadNativeBackend());
  assert.equal(def.blas, 'builtin', 'the builtin GEMM is the default');
  assert.equal(nativeLoadError(), null);
  const info = must(nativeInfo());
  assert.match(info.builtinKernel, /^(avx512|avx2|generic) \d+x\d+$/);
  assert.match(info.compiler, /^(gcc|clang|unknown)/);
  assert.equal(info.openblasCore !== null, nativeHasOpenblas());
  assert.equal(loadNativeBackend({ gemm: 'builtin' }), b, 'backends are cached');
  if (!nativeHasOpenblas()) assert.equal(loadNativeBackend({ gemm: 'openblas' }), null);
});

// ------------------------------------------------------------------------------------------------------------
// GEMM

interface GemmCase {
  m: number;
  k: number;
  n: number;
}

const GEMM_CASES: GemmCase[] = [
  { m: 1, k: 1, n: 1 },
  { m: 7, k: 13, n: 5 },
  { m: 3, k: 1, n: 17 },
  { m: 1, k: 40, n: 33 },
  { m: 33, k: 7, n: 1 },
  { m: 9, k: 300, n: 50 },
  { m: 64, k: 33, n: 47 },
  { m: 130, k: 785, n: 401 },
];

interface GemmReference {
  /** op(A) (m×k) and op(B) (k×n), logically */
  opA: Float32Array;
  opB: Float32Array;
  /** op(A)·op(B) by the reference */
  prod: Float32Array;
  /** ‖op(A) row i‖·‖op(B) column j‖ ≥ Σ_p |a_ip b_pj|: the scale of the rounding error */
  scale: Float32Array;
  c0: Float32Array;
}

function transpose(x: Float32Array, rows: number, cols: number, offset: number): Float32Array {
  const t = view(rows * cols, offset);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = x[r * cols + c]!;
  return t;
}

/** Cauchy–Schwarz bound of |op(A)|·|op(B)| (cheap, within a small factor of it for random data). */
function productScale(opA: Float32Array, opB: Float32Array, m: number, k: number, n: number): Float32Array {
  const rowNorm = new Float64Array(m);
  const colNorm = new Float64Array(n);
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) rowNorm[i]! += opA[i * k + p]! ** 2;
  for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) colNorm[j]! += opB[p * n + j]! ** 2;
  const s = new Float32Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) s[i * n + j] = Math.sqrt(rowNorm[i]! * colNorm[j]!);
  return s;
}

function gemmReference(c: GemmCase, seed: number): GemmReference {
  const r = rng(seed);
  const opA = randomView(c.m * c.k, r);
  const opB = randomView(c.k * c.n, r, -1, 1, 7);
  const c0 = randomView(c.m * c.n, r);
  const prod = new Float32Array(c.m * c.n);
  ref.gemm(false, false, c.m, c.n, c.k, 1, opA, opB, 0, prod);
  return { opA, opB, prod, scale: productScale(opA, opB, c.m, c.k, c.n), c0 };
}

function checkGemm(backend: Backend, c: GemmCase, transA: boolean, transB: boolean, R: GemmReference): void {
  const label = `${backend.blas} gemm tA=${transA} tB=${transB} m=${c.m} k=${c.k} n=${c.n}`;
  // The stored layouts: A is k×m when transA, B is n×k when transB.
  const a = transA ? transpose(R.opA, c.m, c.k, 1) : R.opA;
  const b = transB ? transpose(R.opB, c.k, c.n, 6) : R.opB;
  for (const [alpha, beta] of [[1, 0], [-0.75, 0], [1.5, 0.5], [1, -1]] as const) {
    const out = view(c.m * c.n, 2);
    if (beta === 0) out.fill(Number.NaN);
    else out.set(R.c0);
    backend.gemm(transA, transB, c.m, c.n, c.k, alpha, a, b, beta, out);
    const expected = new Float64Array(c.m * c.n);
    const scale = new Float64Array(c.m * c.n);
    for (let i = 0; i < expected.length; i++) {
      expected[i] = alpha * R.prod[i]! + (beta === 0 ? 0 : beta * R.c0[i]!);
      scale[i] = Math.abs(alpha) * R.scale[i]! + Math.abs(beta * R.c0[i]!);
    }
    assertClose(out, expected, `${label} alpha=${alpha} beta=${beta}`, { rtol: 2e-6, atol: 1e-30, scale });
    assertSentinels(out, label);
  }
}

test('gemm: builtin and OpenBLAS agree with the reference (all transposes, beta 0 / non-zero, edges, views)', { skip }, () => {
  const backends = [must(builtin)];
  if (nativeHasOpenblas()) backends.push(must(loadNativeBackend({ gemm: 'openblas' })));
  let seed = 1;
  for (const c of GEMM_CASES) {
    const R = gemmReference(c, seed++);
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        for (const b of backends) checkGemm(b, c, transA, transB, R);
      }
    }
  }
});

test('gemm with a bias: the product, then addRowVector, bit for bit (both GEMMs, 1-2 threads, deep k, k = 0)', { skip }, () => {
  const backends = [must(builtin)];
  if (nativeHasOpenblas()) backends.push(must(loadNativeBackend({ gemm: 'openblas' })));
  const threads = must(builtin).getThreads();
  try {
    for (const t of [1, 2]) {
      must(builtin).setThreads(t);
      // Small, edge-sized, and deep enough for several rank-kc updates (k > 384) and the threaded paths.
      for (const [m, n, k] of [[1, 1, 1], [9, 50, 17], [256, 400, 784], [130, 10, 400], [5, 7, 0]] as const) {
        const r = rng(m * 7 + n + k);
        for (const b of backends) {
          for (const [transA, transB, beta] of [[false, false, 0], [true, false, 0], [false, true, 0.5]] as const) {
            const A = randomView(m * k, r);
            const B = randomView(k * n, r);
            const bias = randomView(n, r);
            const C0 = randomView(m * n, r);
            const expected = C0.slice();
            b.gemm(transA, transB, m, n, k, 1, A, B, beta, expected);
            b.addRowVector(expected, bias, m, n, expected);
            const C = copyView(C0);
            b.gemm(transA, transB, m, n, k, 1, A, B, beta, C, bias);
            assert.deepEqual(Array.from(C), Array.from(expected), `${b.blas} [${m},${n},${k}] ${transA}/${transB} beta ${beta}, ${t} threads`);
            assertSentinels(C, 'gemm with bias');
            const P = new Float32Array(m * n).fill(Number.NaN);
            ref.gemm(transA, transB, m, n, k, 1, A, B, 0, P, bias);
            if (beta === 0) assertClose(C, P, `${b.blas} [${m},${n},${k}] against the reference`, { rtol: 1e-4, atol: 1e-4 });
          }
        }
      }
    }
  } finally {
    must(builtin).setThreads(threads);
  }
  assert.throws(() => must(builtin).gemm(false, false, 2, 3, 4, 1, new Float32Array(8), new Float32Array(12), 0, new Float32Array(6), new Float32Array(2)), /bias has 2 elements/);
});

test('gemm: k = 0 gives beta·C (or zeros), m = 0 / n = 0 touch nothing', { skip }, () => {
  const backends = [must(builtin)];
  if (nativeHasOpenblas()) backends.push(must(loadNativeBackend({ gemm: 'openblas' })));
  for (const b of backends) {
    const c = new Float32Array([1, Number.NaN, 3, 4, 5, 6]);
    b.gemm(false, false, 2, 3, 0, 1, new Float32Array(0), new Float32Array(0), 0, c);
    assert.deepEqual(Array.from(c), [0, 0, 0, 0, 0, 0]);
    const d = new Float32Array([1, 2, 3, 4, 5, 6]);
    b.gemm(false, false, 2, 3, 0, 1, new Float32Array(0), new Float32Array(0), 2, d);
    assert.deepEqual(Array.from(d), [2, 4, 6, 8, 10, 12]);
    const e = new Float32Array([7]);
    b.gemm(false, false, 0, 1, 4, 1, new Float32Array(0), new Float32Array(4), 0, e);
    b.gemm(false, false, 1, 0, 4, 1, new Float32Array(4), new Float32Array(0), 0, e);
    assert.equal(e[0], 7);
  }
});

test('gemm: the builtin GEMM and OpenBLAS agree on a large product', { skip: skipOpenblas }, () => {
  const m = 128;
  const k = 784;
  const n = 400;
  const r = rng(99);
  const a = randomView(m * k, r);
  const b = randomView(k * n, r);
  const c1 = new Float32Array(m * n);
  const c2 = new Float32Array(m * n);
  must(builtin).gemm(false, false, m, n, k, 1, a, b, 0, c1);
  must(loadNativeBackend({ gemm: 'openblas' })).gemm(false, false, m, n, k, 1, a, b, 0, c2);
  assertClose(c1, c2, 'builtin vs openblas', { rtol: 2e-6, scale: productScale(a, b, m, k, n) });
});

test('gemm: 1 and 2 threads give the same result', { skip }, () => {
  const b = must(builtin);
  const before = b.getThreads();
  const backends = [b];
  if (nativeHasOpenblas()) backends.push(must(loadNativeBackend({ gemm: 'openblas' })));
  const m = 130;
  const k = 785;
  const n = 401;
  const r = rng(7);
  const a = randomView(m * k, r);
  const bm = randomView(k * n, r);
  // Same magnitudes whatever the layout: the scale of op(A)·op(B) for the untransposed reading is a fair one.
  const scale = productScale(a, bm, m, k, n);
  try {
    for (const be of backends) {
      for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
        const one = new Float32Array(m * n);
        const two = new Float32Array(m * n);
        be.setThreads(1);
        assert.equal(be.getThreads(), 1);
        be.gemm(transA, transB, m, n, k, 1, a, bm, 0, one);
        be.setThreads(2);
        assert.equal(be.getThreads(), 2);
        be.gemm(transA, transB, m, n, k, 1, a, bm, 0, two);
        assertClose(two, one, `${be.blas} threads tA=${transA} tB=${transB}`, { rtol: 2e-6, scale });
      }
    }
  } finally {
    b.setThreads(before);
  }
});

test('gemm and setThreads reject bad arguments instead of touching memory', { skip }, () => {
  const b = must(builtin);
  assert.throws(() => b.gemm(false, false, 2, 2, 2, 1, new Float32Array(3), new Float32Array(4), 0, new Float32Array(4)), RangeError);
  assert.throws(() => b.gemm(false, false, 2, 2, 2, 1, new Float32Array(4), new Float32Array(4), 0, new Float32Array(3)), RangeError);
  assert.throws(() => b.gemm(false, false, 2.5, 2, 2, 1, new Float32Array(8), new Float32Array(8), 0, new Float32Array(8)), TypeError);
  assert.throws(() => b.setThreads(0), RangeError);
  assert.throws(() => b.unary('exp', new Float32Array(4), new Float32Array(3)), RangeError);
  assert.throws(
    () => b.softmaxCrossEntropy(new Float32Array(6), new Int32Array([0, 3]), 2, 3, 1, 1, new Float32Array(6)),
    RangeError,
  );
  assert.throws(
    () => b.softmaxCrossEntropy(new Float32Array(6), new Int32Array([0, -1]), 2, 3, 1, 1, new Float32Array(6)),
    RangeError,
  );
});

// ------------------------------------------------------------------------------------------------------------
// Elementwise

const SPECIALS = [
  Number.NaN, Infinity, -Infinity, 0, -0, 1e-30, -1e-30, 1e-7, -1e-7, 0.5, -0.5, 0.62, 0.63, -0.63, 1, -1, 3, -3,
  9.5, -9.5, 20, -20, 40, -40, 87, 88.5, 89, -87, -100, -104, -110, 1e10, -1e10, 1e20, -1e20, 3e38, -3e38,
  1e-40, 1.4e-45, 1.17549435e-38, 0.7071067, 0.7071068, 1.4142135, 1.4142137, 0.99999994, 1.0000001, 2, 0.5,
];

function unaryInput(n: number, seed: number, op: UnaryMap): Float32Array {
  const r = rng(seed);
  const lo = op === 'exp' ? -90 : op === 'log' || op === 'sqrt' ? -0.5 : -8;
  const hi = op === 'exp' ? 88 : op === 'log' || op === 'sqrt' ? 50 : 8;
  const x = randomView(n, r, lo, hi);
  // Small arguments matter for tanh's polynomial branch.
  for (let i = 0; i < n; i += 7) x[i] = (r() - 0.5) * 1.5;
  for (let i = 0; i < SPECIALS.length && i < n; i++) x[(i * 13) % n] = SPECIALS[i]!;
  return x;
}

const UNARY_OPS: UnaryMap[] = ['relu', 'sigmoid', 'tanh', 'gelu', 'exp', 'log', 'neg', 'square', 'sqrt'];

test('unary: every map agrees with the reference, including NaN and ±Infinity', { skip }, () => {
  const b = must(builtin);
  for (const [oi, op] of UNARY_OPS.entries()) {
    for (const n of [1, 15, 16, 17, 1037]) {
      const x = unaryInput(n, 100 + oi * 10 + n, op);
      const expected = new Float32Array(n);
      ref.unary(op, flush(x), expected);
      expected.set(flush(expected));
      const out = view(n);
      b.unary(op, x, out);
      // Denormal results carry fewer significant bits; atol covers them.
      const atol = 1e-37;
      assertClose(out, expected, `unary ${op} n=${n}`, { rtol: 2e-6, atol });
      assertSentinels(out, `unary ${op}`);
      // out may alias x.
      const inPlace = copyView(x);
      b.unary(op, inPlace, inPlace);
      assertClose(inPlace, out, `unary ${op} in place`, { rtol: 0 });
    }
  }
});

test('binary: add, sub, mul, div agree with the reference (aliasing allowed)', { skip }, () => {
  const b = must(builtin);
  const ops: BinaryMap[] = ['add', 'sub', 'mul', 'div'];
  for (const op of ops) {
    for (const n of [1, 31, 1001]) {
      const r = rng(n + op.length);
      const x = randomView(n, r, -3, 3);
      const y = randomView(n, r, -3, 3, 6);
      for (let i = 0; i < Math.min(n, SPECIALS.length); i++) y[(i * 7) % n] = SPECIALS[i]!;
      if (n > 3) y[2] = 0;
      const expected = new Float32Array(n);
      ref.binary(op, flush(x), flush(y), expected);
      expected.set(flush(expected));
      const out = view(n);
      b.binary(op, x, y, out);
      assertClose(out, expected, `binary ${op}`, { rtol: 0 });
      const aliasA = copyView(x);
      b.binary(op, aliasA, y, aliasA);
      assertClose(aliasA, expected, `binary ${op} out=a`, { rtol: 0 });
      const aliasB = copyView(y);
      b.binary(op, x, aliasB, aliasB);
      assertClose(aliasB, expected, `binary ${op} out=b`, { rtol: 0 });
    }
  }
});

test('activationBackward: relu, sigmoid, tanh, gelu agree with the reference', { skip }, () => {
  const b = must(builtin);
  const acts: Activation[] = ['relu', 'sigmoid', 'tanh', 'gelu'];
  for (const op of acts) {
    for (const n of [1, 17, 1037]) {
      const r = rng(n * 3 + op.length);
      const x = randomView(n, r, -7, 7);
      for (let i = 0; i < Math.min(n, SPECIALS.length); i++) x[(i * 11) % n] = SPECIALS[i]!;
      const y = view(n);
      ref.unary(op, x, y);
      const gy = randomView(n, r, -2, 2, 4);
      if (n > 5) gy[5] = Number.NaN;
      const expected = new Float32Array(n);
      ref.activationBackward(op, flush(x), flush(y), flush(gy), expected);
      expected.set(flush(expected));
      const gx = view(n);
      b.activationBackward(op, x, y, gy, gx);
      // Near a zero of the derivative (gelu's at x ≈ -0.75) only a bound relative to |gy| is meaningful.
      const scale = Array.from(expected, (e, i) => Math.max(Math.abs(e), 1e-2 * Math.abs(gy[i]!) || 0));
      assertClose(gx, expected, `activationBackward ${op}`, { rtol: 1e-5, atol: 1e-30, scale });
      const alias = copyView(gy);
      b.activationBackward(op, x, y, alias, alias);
      assertClose(alias, gx, `activationBackward ${op} gx=gy`, { rtol: 0 });
    }
  }
});

test('axpby, addRowVector, sumColumns and sum agree with the reference', { skip }, () => {
  const b = must(builtin);
  const r = rng(5);
  for (const n of [1, 19, 2049]) {
    const x = randomView(n, r, -5, 5);
    const y = randomView(n, r, -5, 5, 2);
    const expected = new Float32Array(n);
    ref.axpby(0.3, x, -1.7, y, expected);
    const out = view(n);
    b.axpby(0.3, x, -1.7, y, out);
    // Double arithmetic like the reference (fused multiply-add may round the last float bit differently).
    assertClose(out, expected, 'axpby', { rtol: 2.5e-7 });
    const alias = copyView(y);
    b.axpby(0.3, x, -1.7, alias, alias);
    assertClose(alias, out, 'axpby out=y', { rtol: 0 });
  }
  for (const [rows, cols] of [[1, 1], [7, 13], [3, 1030], [129, 10]] as const) {
    const x = randomView(rows * cols, r, -4, 4);
    const v = randomView(cols, r, -4, 4, 1);
    const expected = new Float32Array(rows * cols);
    ref.addRowVector(x, v, rows, cols, expected);
    const out = view(rows * cols);
    b.addRowVector(x, v, rows, cols, out);
    assertClose(out, expected, 'addRowVector', { rtol: 0 });
    b.addRowVector(x, v, rows, cols, x);
    assertClose(x, expected, 'addRowVector in place', { rtol: 0 });

    const sums = new Float32Array(cols);
    ref.sumColumns(x, rows, cols, sums);
    const got = view(cols);
    b.sumColumns(x, rows, cols, got);
    assertClose(got, sums, `sumColumns ${rows}x${cols}`, { rtol: 1e-7, atol: 1e-6 });
    assertSentinels(got, 'sumColumns');
  }
  // Double accumulation: a float accumulator would lose the small terms next to 1e8.
  const big = randomView(100003, r, -1, 1);
  big[0] = 1e8;
  big[50000] = -1e8;
  // Both sums carry rounding errors near 1e8 · 2^-52 per addition; a float sum would be off by units.
  assert.ok(Math.abs(b.sum(big) - ref.sum(big)) < 1e-5, `sum: ${b.sum(big)} vs ${ref.sum(big)}`);
  const small = randomView(100003, r, -1, 1);
  assertCloseNumber(b.sum(small), ref.sum(small), 'sum', 1e-12);
  assertCloseNumber(b.sum(big.subarray(1, 8)), ref.sum(big.subarray(1, 8)), 'sum short', 1e-12);
  assert.equal(b.sum(new Float32Array(0)), 0);
  assert.ok(Number.isNaN(b.sum(new Float32Array([1, Number.NaN, 2]))));
});

// ------------------------------------------------------------------------------------------------------------
// Softmax family

/** Logits with masked (-Infinity) entries, an all-masked row, a NaN row and a +Infinity row. */
function logits(rows: number, cols: number, seed: number, specialRows: boolean): Float32Array {
  const r = rng(seed);
  const x = randomView(rows * cols, r, -12, 12);
  for (let i = 0; i < rows * cols; i += 5) x[i] = -Infinity;
  if (specialRows && rows >= 4) {
    x.fill(-Infinity, cols, 2 * cols); // row 1 all masked → NaN
    x[2 * cols + 1] = Number.NaN; // row 2 has a NaN
    x[3 * cols + 2] = Infinity; // row 3 has +Infinity
  }
  return x;
}

test('logSoftmax agrees with the reference, masked logits and special rows included', { skip }, () => {
  const b = must(builtin);
  for (const [rows, cols] of [[1, 1], [5, 3], [6, 10], [9, 37], [4, 1001]] as const) {
    const x = logits(rows, cols, rows * 100 + cols, true);
    const expected = new Float32Array(rows * cols);
    ref.logSoftmax(x, rows, cols, expected);
    const out = view(rows * cols);
    b.logSoftmax(x, rows, cols, out);
    assertClose(out, expected, `logSoftmax ${rows}x${cols}`, { rtol: 1e-6, atol: 2e-6 });
    assertSentinels(out, 'logSoftmax');
    b.logSoftmax(x, rows, cols, x);
    assertClose(x, expected, `logSoftmax ${rows}x${cols} in place`, { rtol: 1e-6, atol: 2e-6 });
  }
});

test('softmaxCrossEntropy agrees with the reference (temperature, scale, masked logits)', { skip }, () => {
  const b = must(builtin);
  for (const [rows, cols] of [[1, 1], [3, 2], [7, 10], [16, 33], [5, 1000]] as const) {
    for (const [temperature, scale] of [[1, 1], [2.5, 1 / rows], [0.7, -3]] as const) {
      const x = logits(rows, cols, rows + cols, false);
      const labels = new Int32Array(rows + 2).subarray(1, rows + 1);
      const r = rng(rows * cols);
      for (let i = 0; i < rows; i++) {
        labels[i] = Math.floor(r() * cols);
        if (x[i * cols + labels[i]!] === -Infinity) x[i * cols + labels[i]!] = 0.25; // labels are not masked here
      }
      const gradRef = new Float32Array(rows * cols);
      const lossRef = ref.softmaxCrossEntropy(x, labels, rows, cols, temperature, scale, gradRef);
      const grad = view(rows * cols);
      const loss = b.softmaxCrossEntropy(x, labels, rows, cols, temperature, scale, grad);
      const label = `softmaxCrossEntropy ${rows}x${cols} T=${temperature} scale=${scale}`;
      assertCloseNumber(loss, lossRef, `${label} loss`, 1e-5);
      assertClose(grad, gradRef, `${label} grad`, { rtol: 1e-5, atol: 1e-7 * Math.abs(scale / temperature) });
      assertSentinels(grad, label);
    }
  }
  // A masked label gives an infinite loss; an all-masked row gives NaN; masked logits get zero gradient.
  const x = new Float32Array([1, -Infinity, 2, -Infinity, -Infinity, -Infinity, 0.5, -Infinity, 3]);
  const labels = new Int32Array([1, 0, 2]);
  const gradRef = new Float32Array(9);
  const lossRef = ref.softmaxCrossEntropy(x.subarray(0, 3), labels.subarray(0, 1), 1, 3, 1, 1, gradRef.subarray(0, 3));
  const grad = new Float32Array(9);
  const loss = b.softmaxCrossEntropy(x.subarray(0, 3), labels.subarray(0, 1), 1, 3, 1, 1, grad.subarray(0, 3));
  assert.equal(lossRef, Infinity);
  assert.equal(loss, Infinity);
  assertClose(grad.subarray(0, 3), gradRef.subarray(0, 3), 'masked label grad', { atol: 1e-7 });
  const lossAll = b.softmaxCrossEntropy(x, labels, 3, 3, 1, 1, grad);
  const lossAllRef = ref.softmaxCrossEntropy(x, labels, 3, 3, 1, 1, gradRef);
  assert.ok(Number.isNaN(lossAll) && Number.isNaN(lossAllRef));
  assertClose(grad, gradRef, 'all-masked row grad', { atol: 1e-7 });
  assert.equal(grad[7], 0);
});

test('softCrossEntropy agrees with the reference (zero targets on masked logits)', { skip }, () => {
  const b = must(builtin);
  for (const [rows, cols] of [[1, 1], [4, 3], [7, 10], [5, 999]] as const) {
    for (const [temperature, scale] of [[1, 1], [3, 0.125]] as const) {
      const x = logits(rows, cols, rows * 7 + cols, false);
      const r = rng(cols * 31 + rows);
      const t = view(rows * cols, 1);
      for (let i = 0; i < rows; i++) {
        let s = 0;
        for (let c = 0; c < cols; c++) {
          const masked = x[i * cols + c] === -Infinity;
          const p = masked || r() < 0.3 ? 0 : r();
          t[i * cols + c] = p;
          s += p;
        }
        for (let c = 0; c < cols; c++) t[i * cols + c] = s > 0 ? t[i * cols + c]! / s : 0;
      }
      const gradRef = new Float32Array(rows * cols);
      const lossRef = ref.softCrossEntropy(x, t, rows, cols, temperature, scale, gradRef);
      const grad = view(rows * cols);
      const loss = b.softCrossEntropy(x, t, rows, cols, temperature, scale, grad);
      const label = `softCrossEntropy ${rows}x${cols} T=${temperature}`;
      assert.ok(Number.isFinite(lossRef), `${label}: reference loss finite`);
      assertCloseNumber(loss, lossRef, `${label} loss`, 1e-5);
      assertClose(grad, gradRef, `${label} grad`, { rtol: 1e-5, atol: 1e-7 });
    }
  }
  // All-masked row: NaN like the reference.
  const x = new Float32Array([-Infinity, -Infinity, 1, 2]);
  const t = new Float32Array([0.5, 0.5, 0.5, 0.5]);
  const g = new Float32Array(4);
  const gRef = new Float32Array(4);
  assert.ok(Number.isNaN(b.softCrossEntropy(x, t, 2, 2, 1, 1, g)));
  assert.ok(Number.isNaN(ref.softCrossEntropy(x, t, 2, 2, 1, 1, gRef)));
  assertClose(g, gRef, 'softCrossEntropy all-masked row grad', { atol: 1e-7 });
});

test('sigmoidBce agrees with the reference (large logits, odd lengths, targets in [0, 1])', { skip }, () => {
  const b = must(builtin);
  for (const n of [1, 7, 16, 33, 784 * 3 + 5]) {
    const r = rng(n);
    const z = view(n);
    const x = view(n, 1);
    for (let i = 0; i < n; i++) {
      z[i] = (r() - 0.5) * (i % 5 === 0 ? 200 : 8);
      x[i] = i % 3 === 0 ? 0 : i % 3 === 1 ? 1 : r();
    }
    const gradRef = new Float32Array(n);
    const lossRef = ref.sigmoidBce(z, x, 0.25, gradRef);
    const grad = view(n);
    const loss = b.sigmoidBce(z, x, 0.25, grad);
    assert.ok(Number.isFinite(lossRef), `sigmoidBce n=${n}: reference loss finite`);
    assertCloseNumber(loss, lossRef, `sigmoidBce n=${n} loss`, 1e-5);
    assertClose(grad, gradRef, `sigmoidBce n=${n} grad`, { rtol: 1e-5, atol: 1e-7 });
  }
});

test('adamDirection agrees with the reference (moments in place, out may alias g)', { skip }, () => {
  const b = must(builtin);
  for (const n of [1, 23, 4099]) {
    for (const step of [1, 10, 1000]) {
      const r = rng(n + step);
      const g = randomView(n, r, -1, 1);
      if (n > 4) g[4] = 0;
      const m0 = randomView(n, r, -0.1, 0.1, 2);
      const v0 = randomView(n, r, 0, 0.01, 4);
      if (n > 4) v0[4] = 0;
      const h = { beta1: 0.9, beta2: 0.999, eps: 1e-8, step };
      const mRef = Float32Array.from(m0);
      const vRef = Float32Array.from(v0);
      const outRef = new Float32Array(n);
      ref.adamDirection(g, mRef, vRef, h, outRef);
      const m = copyView(m0);
      const v = copyView(v0);
      const out = view(n);
      b.adamDirection(g, m, v, h, out);
      assertClose(m, mRef, `adam m n=${n} step=${step}`, { rtol: 1e-6, atol: 1e-12 });
      assertClose(v, vRef, `adam v n=${n} step=${step}`, { rtol: 1e-6, atol: 1e-15 });
      assertClose(out, outRef, `adam out n=${n} step=${step}`, { rtol: 1e-5, atol: 1e-7 });
      const alias = copyView(g);
      const m2 = copyView(m0);
      const v2 = copyView(v0);
      b.adamDirection(alias, m2, v2, h, alias);
      assertClose(alias, out, `adam out=g n=${n}`, { rtol: 0 });
    }
  }
});

// ------------------------------------------------------------------------------------------------------------
// Synapse kernels. Both compute in double and round once to float32, like the reference, so a GCC build must
// agree exactly (rtol 0): the only allowed difference is the flushing of subnormals (results are compared with
// the reference's, flushed). A Clang build may fuse multiply-adds (native/kernels.cc): ω and the viscous u then
// differ by one double rounding of prevGrad·d or c·Ω, at most one float ulp (plus 2⁻⁵³·|prevGrad·d| for ω).
// Sizes go above 2 × the per-thread minimum (16384, native/kernels.cc), and every case runs with 1, 2 and 3
// threads.

const SYNAPSE_SIZES = [1, 15, 17, 4099, 65_539, 100_003];
const fusedSynapse = !(nativeInfo()?.compiler.startsWith('gcc') ?? true);
const FUSED_TOLERANCE = fusedSynapse ? { rtol: 2 ** -23, atol: 2e-15 } : { rtol: 0 };

/** Runs `body` with 1, 2 and 3 native threads, restoring the count after. */
function withThreadCounts(b: Backend, body: (threads: number) => void): void {
  const before = b.getThreads();
  try {
    for (const threads of [1, 2, 3]) {
      b.setThreads(threads);
      body(threads);
    }
  } finally {
    b.setThreads(before);
  }
}

interface PathCase {
  theta: Float32Array; prev: Float32Array; prevGrad: Float32Array; omega: Float32Array; lastChange: Float32Array;
  g: Float32Array;
}

/** Random SI state with a mix of tiny, large, exactly-at-tolerance and special changes. */
function pathCase(n: number, seed: number, rtol: number, atol: number): PathCase {
  const r = rng(seed);
  const prev = randomView(n, r, -2, 2, 1);
  const theta = view(n, 2);
  const prevGrad = randomView(n, r, -3, 3, 3);
  const omega = randomView(n, r, -1, 1, 4);
  for (let j = 0; j < n; j++) {
    const k = j % 4;
    // no change, a tiny one, a large one, one of about the tolerance
    const d = k === 0 ? 0 : k === 1 ? (r() - 0.5) * 1e-6 : k === 2 ? (r() - 0.5) * 0.1 : (r() - 0.5) * 4e-3;
    theta[j] = prev[j]! + d;
  }
  // ω ≈ prevGrad·d with d of ~50 significant bits (a small prev, a large change): prevGrad·d is inexact in double
  // and the update cancels, so rounding the product first (as the reference does) or not (a fused multiply-add)
  // shows in the float result for several percent of these.
  for (let j = 2; j < n; j += 8) {
    prev[j] = (r() - 0.5) * 1e-7;
    theta[j] = r() - 0.5;
    omega[j] = prevGrad[j]! * (theta[j]! - prev[j]!);
  }
  // |d| exactly at the tolerance (not significant: the rule is strict), and just above it.
  if (n > 9 && rtol === 0.5 && atol === 0.25) {
    prev[5] = 1; theta[5] = 1.75;
    prev[6] = -1; theta[6] = -1.75;
    prev[7] = 1; theta[7] = 1.75000012;
  }
  if (n > 12) {
    theta[9] = Number.NaN;
    theta[11] = Infinity;
    prev[12] = -Infinity;
  }
  return {
    theta, prev, prevGrad, omega,
    lastChange: Float32Array.from({ length: n }, () => Math.floor(r() * 50)),
    g: randomView(n, r, -3, 3, 5),
  };
}

test('pathIntegralAdvance agrees exactly with the reference (pending or not, g or none, 1-3 threads)', { skip }, () => {
  const b = must(builtin);
  withThreadCounts(b, (threads) => {
    for (const n of SYNAPSE_SIZES) {
      for (const [rtol, atol] of [[1e-3, 1e-6], [0.5, 0.25], [0, 0]] as const) {
        const c = pathCase(n, n * 7 + threads, rtol, atol);
        for (const pending of [true, false]) {
          for (const withGrad of [true, false]) {
            const h = { step: 16_777_217, rtol, atol, pending }; // not a float32: stored rounded, like the reference
            const label = `pathIntegralAdvance n=${n} rtol=${rtol} pending=${pending} g=${withGrad} threads=${threads}`;
            const want = [c.prev, c.prevGrad, c.omega, c.lastChange].map((x) => Float32Array.from(x));
            ref.pathIntegralAdvance(c.theta, want[0]!, want[1]!, want[2]!, want[3]!, withGrad ? c.g : null, h);
            const got = [c.prev, c.prevGrad, c.omega, c.lastChange].map((x, k) => copyView(x, 1 + k));
            b.pathIntegralAdvance(c.theta, got[0]!, got[1]!, got[2]!, got[3]!, withGrad ? c.g : null, h);
            ['prev', 'prevGrad', 'omega', 'lastChange'].forEach((name, k) => {
              assertSentinels(got[k]!, `${label} ${name}`);
              assertClose(got[k]!, flush(want[k]!), `${label} ${name}`, name === 'omega' ? FUSED_TOLERANCE : { rtol: 0 });
            });
            if (n > 9 && rtol === 0.5 && pending) {
              assert.deepEqual([...got[3]!.subarray(5, 8)], [c.lastChange[5], c.lastChange[6], 16_777_216], `${label}: strict tolerance`);
            }
          }
        }
      }
    }
  });
});

test('pathIntegralAdvance: g may be prevGrad itself; only the first theta.length elements are touched', { skip }, () => {
  const b = must(builtin);
  const c = pathCase(4099, 3, 1e-3, 1e-6);
  const h = { step: 9, rtol: 1e-3, atol: 1e-6, pending: true };
  const want = [c.prev, c.prevGrad, c.omega, c.lastChange].map((x) => Float32Array.from(x));
  ref.pathIntegralAdvance(c.theta, want[0]!, want[1]!, want[2]!, want[3]!, want[1]!, h);
  const got = [c.prev, c.prevGrad, c.omega, c.lastChange].map((x) => copyView(x));
  b.pathIntegralAdvance(c.theta, got[0]!, got[1]!, got[2]!, got[3]!, got[1]!, h);
  got.forEach((x, k) => assertClose(x, want[k]!, `aliased g, array ${k}`, k === 2 ? FUSED_TOLERANCE : { rtol: 0 }));
  // Longer state arrays: the tail stays as it was.
  const longer = [c.prev, c.prevGrad, c.omega, c.lastChange].map((x) => Float32Array.of(...x, 7, 8));
  b.pathIntegralAdvance(c.theta, longer[0]!, longer[1]!, longer[2]!, longer[3]!, null, h);
  for (const x of longer) assert.deepEqual([...x.subarray(4099)], [7, 8]);
});

test('viscousScale agrees exactly with the reference (Ω ≤ 0, NaN and ±Infinity left alone or handled alike)', { skip }, () => {
  const b = must(builtin);
  withThreadCounts(b, (threads) => {
    for (const n of SYNAPSE_SIZES) {
      const r = rng(n + 31 * threads);
      const u0 = randomView(n, r, -1e-2, 1e-2);
      const omega = view(n, 2);
      for (let j = 0; j < n; j++) {
        // Negative, zero, small and large importance (SI's Ω can be negative).
        const k = j % 4;
        omega[j] = k === 0 ? -r() * 5 : k === 1 ? 0 : k === 2 ? r() * 1e-3 : r() * 1e4;
      }
      [Number.NaN, Infinity, -Infinity, -0, 1e30].forEach((v, k) => {
        if (k * 3 + 1 < n) omega[k * 3 + 1] = v;
      });
      if (n > 20) u0[20] = Number.NaN;
      for (const c of [0, 0.1, 1.7, 1e6]) {
        const want = Float32Array.from(u0);
        ref.viscousScale(want, omega, c);
        const got = copyView(u0);
        b.viscousScale(got, omega, c);
        const label = `viscousScale n=${n} c=${c} threads=${threads}`;
        assertSentinels(got, label);
        // Ω = 1e30 with c = 1e6 gives subnormal results: flushed to zero natively.
        assertClose(got, flush(want), label, FUSED_TOLERANCE);
      }
    }
  });
});

test('synapse kernels reject bad arguments instead of touching memory', { skip }, () => {
  const b = must(builtin);
  const f = (n: number): Float32Array => new Float32Array(n);
  const h = { step: 1, rtol: 1e-3, atol: 1e-6, pending: true };
  assert.throws(() => b.pathIntegralAdvance(f(8), f(7), f(8), f(8), f(8), null, h), RangeError);
  assert.throws(() => b.pathIntegralAdvance(f(8), f(8), f(8), f(8), f(7), f(8), h), RangeError);
  assert.throws(() => b.pathIntegralAdvance(f(8), f(8), f(8), f(8), f(8), f(7), h), RangeError);
  assert.throws(
    () => b.pathIntegralAdvance(f(8), f(8), f(8), f(8), f(8), new Float64Array(8) as unknown as Float32Array, h),
    /Float32Array or null/,
  );
  assert.throws(() => b.viscousScale(f(8), f(7), 1), RangeError);
  const hs = { path: h, adam: { beta1: 0.9, beta2: 0.999, eps: 1e-8, step: 1 }, c: 1, lr: 1e-3 };
  const step = (lengths: number[], importance: Float32Array | null = null, out: Float32Array | null = null): void => {
    const [t, p, pg, w, lc, g, m, v] = lengths.map(f);
    b.synapseAdamStep(t!, p!, pg!, w!, lc!, g!, m!, v!, importance, hs, out);
  };
  step([8, 8, 8, 8, 8, 8, 8, 8]);
  for (let k = 1; k < 8; k++) {
    assert.throws(() => step([8, 8, 8, 8, 8, 8, 8, 8].map((len, i) => (i === k ? 7 : len))), RangeError, `array ${k} short`);
  }
  assert.throws(() => step([8, 8, 8, 8, 8, 8, 8, 8], f(7)), /importance has 7 elements/);
  assert.throws(() => step([8, 8, 8, 8, 8, 8, 8, 8], null, f(7)), /out has 7 elements/);
  assert.throws(() => step([8, 8, 8, 8, 8, 8, 8, 8], new Float64Array(8) as unknown as Float32Array), /Float32Array or null/);
});

test('normalPairs: the same normals and final state as the reference, on 1 and 2 threads', { skip }, () => {
  const b = must(builtin);
  const threads = b.getThreads();
  try {
    for (const t of [1, 2]) {
      b.setThreads(t);
      for (const n of [0, 2, 14, 2 * 5000 + 2]) {
        const sRef = new Uint32Array([7, 1, 99, 123456789]);
        const s = sRef.slice();
        const expected = new Float32Array(n);
        ref.normalPairs(sRef, expected);
        const out = view(n);
        b.normalPairs(s, out);
        assert.deepEqual(Array.from(out), Array.from(expected), `n=${n}, ${t} threads`);
        assert.deepEqual(Array.from(s), Array.from(sRef), `state after n=${n}`);
        assertSentinels(out, `normalPairs n=${n}`);
      }
    }
  } finally {
    b.setThreads(threads);
  }
  const wideRef = new Float64Array(10);
  const wide = new Float64Array(10);
  ref.normalPairs(new Uint32Array([5, 6, 7, 8]), wideRef);
  b.normalPairs(new Uint32Array([5, 6, 7, 8]), wide);
  assert.deepEqual(Array.from(wide), Array.from(wideRef), 'Float64Array out');
  assert.throws(() => b.normalPairs(new Uint32Array(3), new Float32Array(2)), /4 words/);
  assert.throws(() => b.normalPairs(new Uint32Array(4), new Float32Array(3)), /even length/);
  assert.throws(() => b.normalPairs(new Int32Array(4) as unknown as Uint32Array, new Float32Array(2)), /Uint32Array/);
  assert.throws(() => b.normalPairs(new Uint32Array(4), new Int32Array(2) as unknown as Float32Array), /Float32Array or Float64Array/);
});

test('mixtureLogDensity and its backward agree with the reference (absent modes, one mode)', { skip }, () => {
  const b = must(builtin);
  for (const [n, k, d] of [[1, 1, 1], [13, 3, 7], [37, 10, 100]] as const) {
    const r = rng(n * 31 + k);
    const z = randomView(n * d, r, -2, 2);
    const means = randomView(k * d, r, -1, 1);
    const logvars = randomView(k * d, r, -0.5, 0.5);
    // Rows with every mode, with one (a hard label), and with some absent (weight 0).
    const weights = view(n * k);
    for (let i = 0; i < n; i++) {
      for (let m = 0; m < k; m++) weights[i * k + m] = i % 3 === 0 ? 1 / k : i % 3 === 1 ? (m === i % k ? 1 : 0) : (m % 2 === 0 ? r() : 0);
    }
    if (k > 1) weights[2 * k + 1] = 0.5; // row 2 always has a mode
    const respRef = new Float32Array(n * k);
    const lossRef = ref.mixtureLogDensity(z, means, logvars, weights, n, k, d, respRef);
    const resp = view(n * k);
    const loss = b.mixtureLogDensity(z, means, logvars, weights, n, k, d, resp);
    assert.ok(Number.isFinite(lossRef), `[${n},${k},${d}]: reference finite`);
    // exp and log are the C library's against V8's: the sum may differ in its last bits.
    assertCloseNumber(loss, lossRef, `[${n},${k},${d}] log-density`, 1e-12);
    assert.deepEqual(Array.from(resp), Array.from(respRef), `[${n},${k},${d}] responsibilities`);
    assertSentinels(resp, 'resp');
    const gRef = [new Float32Array(n * d), new Float32Array(k * d), new Float32Array(k * d)] as const;
    ref.mixtureLogDensityBackward(z, means, logvars, respRef, 0.3, n, k, d, ...gRef);
    // Outputs start as garbage: the kernel overwrites them.
    const g = [view(n * d).fill(7), view(k * d).fill(7), view(k * d).fill(7)] as const;
    b.mixtureLogDensityBackward(z, means, logvars, resp, 0.3, n, k, d, ...g);
    g.forEach((x, i) => assert.deepEqual(Array.from(x), Array.from(gRef[i]), `[${n},${k},${d}] gradient ${i}`));
    const gz = view(n * d);
    b.mixtureLogDensityBackward(z, means, logvars, resp, 0.3, n, k, d, gz, null, null);
    assert.deepEqual(Array.from(gz), Array.from(gRef[0]), 'gz alone');
  }
  const f = (len: number): Float32Array => new Float32Array(len);
  assert.throws(() => b.mixtureLogDensity(f(5), f(6), f(6), f(2), 2, 2, 3, f(4)), /z has 5 elements/);
  assert.throws(() => b.mixtureLogDensity(f(6), f(6), f(5), f(4), 2, 2, 3, f(4)), /logvars has 5 elements/);
  assert.throws(() => b.mixtureLogDensity(f(6), f(6), f(6), f(3), 2, 2, 3, f(4)), /weights has 3 elements/);
  assert.throws(() => b.mixtureLogDensity(f(6), f(6), f(6), f(4), 2, 2, 3, f(3)), /resp has 3 elements/);
  assert.throws(() => b.mixtureLogDensityBackward(f(6), f(6), f(6), f(4), 1, 2, 2, 3, f(5), null, null), /gz has 5/);
  assert.throws(() => b.mixtureLogDensityBackward(f(6), f(6), f(6), f(4), 1, 2, 2, 3, null, null, f(5)), /gl has 5/);
});

// ------------------------------------------------------------------------------------------------------------
// synapseAdamStep: the sleep optimiser's five kernels in one pass. Each backend's fused kernel must equal that
// backend's five kernels bit for bit (the native one runs their very code, block by block, on any thread
// count); between backends, the five kernels' own tolerances apply (Adam's direction is float32 natively,
// double in the reference).

interface StepCase extends PathCase { m: Float32Array; v: Float32Array; importance: Float32Array }

/** pathCase's state and specials, Adam moments, and importance of every sign (NaN and ±Infinity included). */
function stepCase(n: number, seed: number): StepCase {
  const c = pathCase(n, seed, 1e-3, 1e-6);
  const r = rng(seed + 1);
  const m = randomView(n, r, -0.1, 0.1, 6);
  const v = randomView(n, r, 0, 0.01, 7);
  // β1·m + (1 − β1)·g nearly cancelling: one rounding of the sum (a fused multiply-add, as natively) or two
  // then differ in the float result for a good share of these.
  for (let j = 3; j < n; j += 8) m[j] = (-(0.1 * c.g[j]!) / 0.9) * (1 + (r() - 0.5) * 1e-6);
  const importance = view(n, 8);
  for (let j = 0; j < n; j++) {
    const k = j % 4;
    importance[j] = k === 0 ? -r() * 5 : k === 1 ? 0 : k === 2 ? r() * 1e-3 : r() * 1e4;
  }
  if (n > 20) {
    // A zero direction (-lr·0 + 0·0 is +0 in axpby), an infinite gradient, special importance.
    c.g[17] = 0; m[17] = 0; v[17] = 0;
    c.g[19] = Infinity;
    importance[13] = Number.NaN; importance[15] = Infinity; importance[16] = -0;
  }
  return { ...c, m, v, importance };
}

type StepOut = 'none' | 'g' | 'separate';
const STEP_ARRAYS = ['theta', 'prev', 'prevGrad', 'omega', 'lastChange', 'g', 'm', 'v'] as const;

/**
 * One step on copies of `c`'s arrays (views at odd offsets), fused (`b.synapseAdamStep`) or as the five kernels
 * it replaces; returns every array it may write, and the update when it is kept in a separate array.
 */
function runStep(
  b: Backend, c: StepCase, h: SynapseAdamHyper, withImportance: boolean, out: StepOut, fused: boolean,
): Map<string, Float32Array> {
  const a = new Map<string, Float32Array>(STEP_ARRAYS.map((name, k) => [name, copyView(c[name], 1 + k)]));
  const get = (name: string): Float32Array => must(a.get(name) ?? null);
  const n = c.theta.length;
  const importance = withImportance ? c.importance : null;
  const outArray = out === 'g' ? get('g') : out === 'separate' ? view(n, 9) : null;
  if (fused) {
    b.synapseAdamStep(get('theta'), get('prev'), get('prevGrad'), get('omega'), get('lastChange'), get('g'), get('m'),
      get('v'), importance, h, outArray);
  } else {
    const u = outArray ?? new Float32Array(n);
    b.pathIntegralAdvance(get('theta'), get('prev'), get('prevGrad'), get('omega'), get('lastChange'), get('g'), h.path);
    b.adamDirection(get('g'), get('m'), get('v'), h.adam, u);
    if (importance !== null) b.viscousScale(u, importance, h.c);
    b.axpby(-h.lr, u, 0, u, u);
    b.axpby(1, get('theta'), 1, u, get('theta'));
  }
  if (out === 'separate') a.set('out', must(outArray));
  return a;
}

/** Every combination of the step's options, with a label. */
function stepVariants(): { h: SynapseAdamHyper; withImportance: boolean; out: StepOut; label: string }[] {
  const variants = [];
  for (const pending of [true, false]) {
    for (const withImportance of [true, false]) {
      for (const out of ['none', 'g', 'separate'] as const) {
        const h = {
          path: { step: 16_777_217, rtol: 1e-3, atol: 1e-6, pending },
          adam: { beta1: 0.9, beta2: 0.999, eps: 1e-8, step: 7 },
          c: 1.7,
          lr: 1e-3,
        };
        variants.push({ h, withImportance, out, label: `pending=${pending} importance=${withImportance} out=${out}` });
      }
    }
  }
  return variants;
}

/** The fused kernel equals `b`'s five kernels bit for bit, and writes nothing outside its views. */
function assertStepMatchesChain(b: Backend, sizes: readonly number[], tag: string): void {
  for (const n of sizes) {
    const c = stepCase(n, n * 5 + 1);
    for (const { h, withImportance, out, label } of stepVariants()) {
      const want = runStep(b, c, h, withImportance, out, false);
      const got = runStep(b, c, h, withImportance, out, true);
      for (const [name, expected] of want) {
        const actual = must(got.get(name) ?? null);
        assertSentinels(actual, `${tag} n=${n} ${label} ${name}`);
        assertSameBits(actual, expected, `${tag} n=${n} ${label} ${name}`);
      }
    }
  }
}

test('synapseAdamStep (portable) equals the five portable kernels bit for bit', () => {
  assertStepMatchesChain(ref, [1, 15, 17, 4099], 'portable');
});

test('synapseAdamStep (native) equals the five native kernels bit for bit, 1-3 threads', { skip }, () => {
  const b = must(builtin);
  withThreadCounts(b, (threads) => assertStepMatchesChain(b, [1, 15, 17, 4099, 65_539], `native threads=${threads}`));
});

test('synapseAdamStep agrees with the portable reference (1 and 2 threads)', { skip }, () => {
  const b = must(builtin);
  const before = b.getThreads();
  try {
    for (const threads of [1, 2]) {
      b.setThreads(threads);
      for (const n of [1, 17, 4099, 65_539]) {
        const c = stepCase(n, n * 3 + threads);
        for (const { h, withImportance, out, label } of stepVariants()) {
          const want = runStep(ref, c, h, withImportance, out, true);
          const got = runStep(b, c, h, withImportance, out, true);
          const tag = `synapseAdamStep n=${n} ${label} threads=${threads}`;
          // The update: Adam's direction within 1e-5 (float32 natively), times lr; θ + u: the update's
          // tolerance, plus one float ulp of θ where the sum rounds the other way.
          const update = { rtol: 1e-5, atol: 1e-7 * h.lr };
          const u = must(runStep(ref, c, h, withImportance, 'separate', true).get('out') ?? null);
          for (const [name, expected] of want) {
            const tolerance = name === 'omega' ? FUSED_TOLERANCE
              : name === 'm' ? { rtol: 1e-6, atol: 1e-12 }
              : name === 'v' ? { rtol: 1e-6, atol: 1e-15 }
              : name === 'out' || (name === 'g' && out === 'g') ? update
              : name === 'theta' ? { rtol: 1, scale: thetaScale(expected, u, h.lr) }
              : { rtol: 0 };
            assertClose(must(got.get(name) ?? null), flush(expected), `${tag} ${name}`, tolerance);
          }
        }
      }
    }
  } finally {
    b.setThreads(before);
  }
});

/** Per element, the tolerance of θ after the step: 1e-5·|u| + 1e-7·lr for the update, one ulp of θ for the sum. */
function thetaScale(theta: Float32Array, u: Float32Array, lr: number): Float32Array {
  return theta.map((t, j) => 1e-5 * Math.abs(u[j]!) + 1e-7 * lr + 2 ** -23 * Math.abs(t));
}

// ------------------------------------------------------------------------------------------------------------
// Threading of the elementwise kernels

/** Bitwise equality (NaN payloads and signed zeros included), with the index of the first difference. */
function assertSameBits(actual: Float32Array, expected: Float32Array, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < e.length; i++) {
    if (a[i] !== e[i]) assert.fail(`${label}[${i}]: got ${actual[i]}, expected ${expected[i]} (bits differ)`);
  }
}

test('elementwise kernels: 1, 2 and 3 threads give bit-identical results', { skip }, () => {
  const b = must(builtin);
  const before = b.getThreads();
  // Large enough that every threaded kernel splits (the thresholds are in native/kernels.cc), odd so that the
  // tail is partial; views at odd offsets so that split points are not 64-byte aligned.
  const n = 200_003;
  const r = rng(2024);
  const x = unaryInput(n, 11, 'tanh');
  const pos = randomView(n, r, 0, 30, 1);
  const y = randomView(n, r, -3, 3, 2);
  const gy = randomView(n, r, -2, 2, 4);
  for (let i = 0; i < SPECIALS.length; i++) {
    y[(i * 7919) % n] = SPECIALS[i]!;
    gy[(i * 104729) % n] = SPECIALS[i]!;
  }
  y[n - 1] = 1e-40; // a subnormal in the tail (flushed whatever the thread)
  const sig = view(n);
  ref.unary('sigmoid', x, sig);
  const h = { beta1: 0.9, beta2: 0.999, eps: 1e-8, step: 7 };
  const m0 = randomView(n, r, -0.1, 0.1, 2);
  const v0 = randomView(n, r, 0, 0.01, 4);
  const shapes = [[517, 401], [3, 70_001], [131_075, 2]] as const;
  const mats = shapes.map(([rows, cols]) => ({
    rows, cols, x: randomView(rows * cols, r, -4, 4), v: randomView(cols, r, -4, 4, 1),
  }));

  /** Every threaded kernel's outputs, computed with `threads` threads. */
  function run(threads: number): Map<string, Float32Array> {
    b.setThreads(threads);
    assert.equal(b.getThreads(), threads);
    const outs = new Map<string, Float32Array>();
    const put = (label: string, v: Float32Array): void => {
      assertSentinels(v, label);
      outs.set(label, v);
    };
    for (const op of UNARY_OPS) {
      const out = view(n);
      b.unary(op, op === 'log' || op === 'sqrt' ? pos : x, out);
      put(`unary ${op}`, out);
    }
    const inPlace = copyView(x);
    b.unary('gelu', inPlace, inPlace);
    put('unary gelu in place', inPlace);
    for (const op of ['add', 'sub', 'mul', 'div'] as const) {
      const out = view(n);
      b.binary(op, x, y, out);
      put(`binary ${op}`, out);
    }
    for (const op of ['relu', 'sigmoid', 'tanh', 'gelu'] as const) {
      const gx = view(n);
      b.activationBackward(op, x, op === 'sigmoid' ? sig : y, gy, gx);
      put(`activationBackward ${op}`, gx);
    }
    const ax = view(n);
    b.axpby(-1e-3, x, 0.7, y, ax);
    put('axpby', ax);
    const axInPlace = copyView(y);
    b.axpby(1, x, 1, axInPlace, axInPlace);
    put('axpby out=y', axInPlace);
    for (const { rows, cols, x: mx, v } of mats) {
      const out = view(rows * cols);
      b.addRowVector(mx, v, rows, cols, out);
      put(`addRowVector ${rows}x${cols}`, out);
      const sums = view(cols);
      b.sumColumns(mx, rows, cols, sums);
      put(`sumColumns ${rows}x${cols}`, sums);
    }
    const m = copyView(m0);
    const v = copyView(v0);
    const dir = view(n);
    b.adamDirection(gy, m, v, h, dir);
    put('adam m', m);
    put('adam v', v);
    put('adam out', dir);
    const g2 = copyView(y);
    b.adamDirection(g2, copyView(m0), copyView(v0), h, g2);
    put('adam out=g', g2);
    outs.set('sum', Float32Array.of(b.sum(x), b.sum(y)));
    return outs;
  }

  try {
    const one = run(1);
    for (const threads of [2, 3]) {
      const many = run(threads);
      assert.deepEqual([...many.keys()], [...one.keys()]);
      for (const [label, expected] of one) assertSameBits(must(many.get(label) ?? null), expected, `${label} (${threads} threads)`);
    }
    // The threaded results are right, not merely consistent: spot-check against the reference.
    const ax = new Float32Array(n);
    ref.axpby(-1e-3, flush(x), 0.7, flush(y), ax);
    assertClose(must(one.get('axpby') ?? null), flush(ax), 'axpby (large)', { rtol: 2.5e-7, atol: 1e-37 });
    const { rows, cols, x: mx } = mats[1]!;
    const sums = new Float32Array(cols);
    ref.sumColumns(mx, rows, cols, sums);
    assertClose(must(one.get(`sumColumns ${rows}x${cols}`) ?? null), sums, 'sumColumns (large)', { rtol: 1e-7, atol: 1e-6 });
  } finally {
    b.setThreads(before);
  }
});

test('elementwise kernels: small arrays do not fork, so 2 threads cost no more per call than 1', { skip }, () => {
  const b = must(builtin);
  const before = b.getThreads();
  const x = new Float32Array(400).fill(0.5);
  const out = new Float32Array(400);
  /** Time of 2000 calls on 400 floats with `threads` threads, in ms. */
  const time = (threads: number): number => {
    b.setThreads(threads);
    const t0 = performance.now();
    for (let i = 0; i < 2000; i++) b.axpby(0.5, x, 0.5, out, out);
    return performance.now() - t0;
  };
  try {
    const best = [Infinity, Infinity];
    for (let round = 0; round < 9; round++) {
      for (const t of round % 2 === 0 ? [1, 2] : [2, 1]) best[t - 1] = Math.min(best[t - 1]!, time(t));
    }
    // Such a call takes ~0.3 us; a fork/join would add >= 1 us to each (measured ~5x slower when forced).
    const [one, two] = best as [number, number];
    assert.ok(two < 2 * one + 0.2, `2 threads: ${two.toFixed(2)} ms, 1 thread: ${one.toFixed(2)} ms per 2000 calls`);
  } finally {
    b.setThreads(before);
  }
});
