import test from 'node:test';
import assert from 'node:assert/strict';
import { compileTransform, isPermutation, materialise, writeImage } from './transforms.js';

const R = 28;
const N = R * R;

/** Two test images: every byte value in image 0, a single bright pixel at (row 0, col 27) in image 1. */
function images(): Uint8Array {
  const im = new Uint8Array(2 * N);
  for (let j = 0; j < N; j++) im[j] = j & 255;
  im[N + 27] = 200;
  return im;
}

test('none: bytes / 255 exactly, as float32', () => {
  const im = images();
  const x = materialise(compileTransform({ kind: 'none' }, R, R), im, new Int32Array([0]));
  for (let j = 0; j < N; j++) assert.equal(x[j], Math.fround((j & 255) / 255));
  assert.equal(x[255], 1);
  assert.equal(x[0], 0);
});

test('permute: new pixel j = old pixel perm[j] (van de Ven semantics)', () => {
  const im = images();
  const perm = new Int32Array(N).map((_, j) => (j * 5 + 3) % N); // 5 is coprime with 784
  assert.ok(isPermutation(perm, N));
  const x = materialise(compileTransform({ kind: 'permute', perm }, R, R), im, new Int32Array([0, 1]));
  for (let j = 0; j < N; j++) assert.equal(x[j], Math.fround(im[perm[j]!]! / 255));
  const bright = x.subarray(N).findIndex((v) => v > 0);
  assert.equal(perm[bright], 27);
});

test('permute rejects a non-permutation', () => {
  const bad = new Int32Array(N);
  assert.throws(() => compileTransform({ kind: 'permute', perm: bad }, R, R), RangeError);
  assert.equal(isPermutation(new Int32Array([0, 2, 1]), 3), true);
  assert.equal(isPermutation(new Int32Array([0, 2, 2]), 3), false);
});

test('rotation by 0° and 360° is the identity, exactly', () => {
  const im = images();
  const ident = materialise(compileTransform({ kind: 'none' }, R, R), im, new Int32Array([0, 1]));
  for (const degrees of [0, 360]) {
    const ct = compileTransform({ kind: 'rotate', degrees }, R, R);
    assert.equal(ct.kind, 'gather', 'whole-pixel rotations compile to a gather');
    assert.deepEqual(materialise(ct, im, new Int32Array([0, 1])), ident);
  }
});

test('rotation by 90° (counter-clockwise) moves the top-right pixel to the top-left', () => {
  const im = images();
  const x = materialise(compileTransform({ kind: 'rotate', degrees: 90 }, R, R), im, new Int32Array([1]));
  assert.equal(x[0], Math.fround(200 / 255));
  assert.equal(x.filter((v) => v !== 0).length, 1);
  // Generally, input (r, c) lands at (27 - c, r); four quarter turns are the identity.
  const y = materialise(compileTransform({ kind: 'rotate', degrees: -90 }, R, R), im, new Int32Array([1]));
  assert.equal(y[27 * R + 27], Math.fround(200 / 255), '-90° (clockwise) sends top-right to bottom-right');
});

test('rotation by 45°: bilinear, zero fill at the corners, centre preserved, cached per angle', () => {
  const im = new Uint8Array(N).fill(100);
  const ct = compileTransform({ kind: 'rotate', degrees: 45 }, R, R);
  assert.equal(ct.kind, 'bilinear');
  assert.equal(compileTransform({ kind: 'rotate', degrees: 45 }, R, R), ct);
  const x = materialise(ct, im, new Int32Array([0]));
  assert.equal(x[0], 0, 'the corner samples outside the image');
  const centre = x[14 * R + 14]!;
  assert.ok(Math.abs(centre - 100 / 255) < 1e-6, `centre ${centre}`);
  for (const v of x) assert.ok(v >= 0 && v <= 100 / 255 + 1e-6);
});

test('writeImage writes at an offset and leaves the rest alone', () => {
  const im = images();
  const out = new Float32Array(3 * N).fill(-1);
  writeImage(compileTransform({ kind: 'none' }, R, R), im, 0, out, N);
  assert.equal(out[N - 1], -1);
  assert.equal(out[N + 255], 1);
  assert.equal(out[2 * N], -1);
});

test('batch of 128 is fast (none / permute well under a millisecond each on an idle core)', () => {
  const count = 1000;
  const im = new Uint8Array(count * N).map((_, i) => (i * 13) & 255);
  const idx = new Int32Array(128).map((_, i) => (i * 37) % count);
  const perm = new Int32Array(N).map((_, j) => N - 1 - j);
  for (const t of [{ kind: 'none' } as const, { kind: 'permute', perm } as const]) {
    const ct = compileTransform(t, R, R);
    for (let w = 0; w < 50; w++) materialise(ct, im, idx);
    const reps = 200;
    // CPU time, not wall time, so that other processes on the machine do not fail it; typical is ~0.3 ms.
    const c0 = process.cpuUsage();
    for (let w = 0; w < reps; w++) materialise(ct, im, idx);
    const cpu = process.cpuUsage(c0);
    const ms = (cpu.user + cpu.system) / 1000 / reps;
    assert.ok(ms < 3, `${t.kind}: ${ms.toFixed(3)} ms of CPU per batch`);
  }
});
