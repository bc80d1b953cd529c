import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { EngramDataError } from './errors.js';
import { encodeIdx, parseIdx, readIdx, writeIdx } from './idx.js';

const dir = mkdtempSync(join(tmpdir(), 'engram-idx-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const DATA = new Uint8Array(2 * 3 * 4).map((_, i) => (i * 11) & 255);

/** Assert that reading `path` throws an E_DATA error whose one-line message names the file and matches `re`. */
function assertDataError(path: string, re: RegExp): void {
  assert.throws(() => readIdx(path), (e: unknown) => {
    assert.ok(e instanceof EngramDataError);
    assert.equal(e.code, 'E_DATA');
    assert.equal(e.path, path);
    assert.ok(e.message.startsWith(path), e.message);
    assert.ok(!e.message.includes('\n'), 'one line');
    assert.match(e.message, re);
    return true;
  });
}

test('reads a plain IDX file', () => {
  const p = join(dir, 'plain-idx3-ubyte');
  writeIdx(p, [2, 3, 4], DATA);
  const r = readIdx(p);
  assert.deepEqual(r.dims, [2, 3, 4]);
  assert.deepEqual([...r.data], [...DATA]);
});

test('reads a gzipped IDX file, detected by magic bytes not by name', () => {
  const p = join(dir, 'zipped-without-suffix');
  writeIdx(p, [2, 3, 4], DATA, { gzip: true });
  const r = readIdx(p);
  assert.deepEqual(r.dims, [2, 3, 4]);
  assert.deepEqual([...r.data], [...DATA]);
});

test('a 1-d label file', () => {
  const r = parseIdx(encodeIdx([3], new Uint8Array([7, 2, 1])), 'inline');
  assert.deepEqual(r.dims, [3]);
  assert.deepEqual([...r.data], [7, 2, 1]);
});

test('missing file', () => {
  assertDataError(join(dir, 'nope-idx1-ubyte'), /file not found/);
});

test('wrong magic bytes', () => {
  const p = join(dir, 'bad-magic');
  const bytes = encodeIdx([2, 3, 4], DATA);
  bytes[0] = 0x42;
  writeFileSync(p, bytes);
  assertDataError(p, /not an IDX file.*0x42/);
});

test('unsupported type byte', () => {
  const p = join(dir, 'float-idx');
  const bytes = encodeIdx([2, 3, 4], DATA);
  bytes[2] = 0x0d;
  writeFileSync(p, bytes);
  assertDataError(p, /unsupported IDX type 0x0d \(float32\)/);
});

test('truncated payload (plain and gzipped)', () => {
  const bytes = encodeIdx([2, 3, 4], DATA);
  const p = join(dir, 'truncated');
  writeFileSync(p, bytes.subarray(0, bytes.length - 5));
  assertDataError(p, /truncated: dims \[2×3×4\] need 24 data bytes, file has 19/);
  const pz = join(dir, 'truncated.gz');
  writeFileSync(pz, gzipSync(bytes.subarray(0, bytes.length - 1)));
  assertDataError(pz, /truncated/);
});

test('truncated header', () => {
  const p = join(dir, 'short-header');
  writeFileSync(p, encodeIdx([2, 3, 4], DATA).subarray(0, 9));
  assertDataError(p, /truncated IDX header/);
  const p2 = join(dir, 'tiny');
  writeFileSync(p2, new Uint8Array([0, 0]));
  assertDataError(p2, /truncated IDX header/);
});

test('dims that do not match the payload (wrong count, trailing bytes)', () => {
  const p = join(dir, 'wrong-count');
  const bytes = encodeIdx([2, 3, 4], DATA);
  bytes[7] = 3; // first dim says 3 items, payload holds 2
  writeFileSync(p, bytes);
  assertDataError(p, /need 36 data bytes, file has 24/);
  const p2 = join(dir, 'trailing');
  writeFileSync(p2, Buffer.concat([encodeIdx([2, 3, 4], DATA), new Uint8Array(3)]));
  assertDataError(p2, /trailing bytes/);
});

test('corrupt gzip stream', () => {
  const p = join(dir, 'corrupt.gz');
  const z = gzipSync(encodeIdx([2, 3, 4], DATA));
  z.fill(0xff, 12, 20);
  writeFileSync(p, z);
  assertDataError(p, /corrupt gzip data/);
});

test('encodeIdx rejects data that does not fit the dims', () => {
  assert.throws(() => encodeIdx([2, 2], new Uint8Array(3)), RangeError);
});
