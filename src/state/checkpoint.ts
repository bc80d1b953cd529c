import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { z } from 'zod';
import type { State } from '../optim/index.js';

/**
 * Checkpoint files: explicit state (nested records of numbers and float32 arrays) plus a JSON fingerprint of
 * the configuration that produced it. Layout: 8-byte magic, uint32 header length, JSON header, padding to
 * 4 bytes, the float32 arrays back to back, then the SHA-256 of everything before it, so that a corrupted file
 * (one flipped byte in the weights) is refused instead of resumed. Written atomically (temp file, fsync,
 * rename), so a crash never leaves a half-written checkpoint under the real name.
 *
 * @example
 * saveCheckpoint('run.engram', { config: { hidden: [400, 400] }, state: learner.getState() });
 * const { state } = loadCheckpoint('run.engram', { hidden: [400, 400] });
 */

const MAGIC = Buffer.from('ENGRAM\u0000\u0002', 'latin1');
/** The first layout, without a checksum: refused with a message saying so. */
const MAGIC_V1 = Buffer.from('ENGRAM\u0000\u0001', 'latin1');
const VERSION = 2;
const DIGEST_BYTES = 32;

export class CheckpointError extends Error {
  readonly code = 'E_CHECKPOINT';
}

/** JSON stand-in for a float32 array stored in the binary part. */
type Encoded = number | null | { $f32: number; length: number } | Encoded[] | { [k: string]: Encoded };

const encodedSchema: z.ZodType<Encoded> = z.lazy(() =>
  z.union([
    z.number(),
    z.null(),
    z.object({ $f32: z.number().int().nonnegative(), length: z.number().int().nonnegative() }).strict(),
    z.array(encodedSchema),
    z.record(z.string(), encodedSchema),
  ]),
);

const headerSchema = z.object({
  version: z.literal(VERSION),
  config: z.record(z.string(), z.unknown()),
  state: encodedSchema,
});

export interface Checkpoint {
  /** The configuration that must match when loading (architecture, method, protocol…). */
  config: Record<string, unknown>;
  state: State;
}

export function saveCheckpoint(file: string, ckpt: Checkpoint): void {
  const arrays: Float32Array[] = [];
  const encode = (s: State): Encoded => {
    if (typeof s === 'number') return Number.isFinite(s) ? s : null;
    if (s instanceof Float32Array) {
      arrays.push(s);
      return { $f32: arrays.length - 1, length: s.length };
    }
    if (Array.isArray(s)) return (s as readonly State[]).map(encode);
    const out: { [k: string]: Encoded } = {};
    for (const [k, v] of Object.entries(s as { [k: string]: State })) out[k] = encode(v);
    return out;
  };
  const header = Buffer.from(JSON.stringify({ version: VERSION, config: ckpt.config, state: encode(ckpt.state) }), 'utf8');
  const pad = (4 - ((MAGIC.length + 4 + header.length) % 4)) % 4;
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length);

  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w');
  const hash = createHash('sha256');
  const put = (b: Uint8Array): void => {
    writeSync(fd, b);
    hash.update(b);
  };
  try {
    put(MAGIC);
    put(len);
    put(header);
    put(Buffer.alloc(pad));
    for (const a of arrays) put(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    writeSync(fd, hash.digest());
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

/**
 * Read a checkpoint; when `expectConfig` is given, every key in it must equal the stored value, otherwise a
 * CheckpointError names the first mismatch.
 */
export function loadCheckpoint(file: string, expectConfig?: Record<string, unknown>): Checkpoint {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw new CheckpointError(`cannot read checkpoint ${file}: ${(e as Error).message}`);
  }
  if (buf.length >= MAGIC_V1.length && buf.subarray(0, MAGIC_V1.length).equals(MAGIC_V1)) {
    throw new CheckpointError(`${file} is a checkpoint of an older layout (1, without a checksum); run it again to save it in this one`);
  }
  if (buf.length < MAGIC.length + 4 + DIGEST_BYTES || !buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new CheckpointError(`${file} is not an Engram checkpoint (bad magic bytes)`);
  }
  const body = buf.subarray(0, buf.length - DIGEST_BYTES);
  if (!createHash('sha256').update(body).digest().equals(buf.subarray(buf.length - DIGEST_BYTES))) {
    throw new CheckpointError(`${file} is corrupted (its SHA-256 checksum does not match its contents)`);
  }
  buf = body;
  const hlen = buf.readUInt32LE(MAGIC.length);
  const hstart = MAGIC.length + 4;
  if (hstart + hlen > buf.length) throw new CheckpointError(`${file} is truncated (header)`);
  let parsed: z.infer<typeof headerSchema>;
  try {
    parsed = headerSchema.parse(JSON.parse(buf.subarray(hstart, hstart + hlen).toString('utf8')));
  } catch (e) {
    throw new CheckpointError(`${file} has an invalid header: ${(e as Error).message.split('\n')[0]}`);
  }
  let offset = hstart + hlen;
  offset += (4 - (offset % 4)) % 4;
  const blobs: Float32Array[] = [];
  const decode = (e: Encoded): State => {
    if (e === null) return Number.NaN;
    if (typeof e === 'number') return e;
    if (Array.isArray(e)) return e.map(decode);
    if ('$f32' in e && typeof e.$f32 === 'number') {
      const len = e.length as number;
      if (e.$f32 !== blobs.length) throw new CheckpointError(`${file}: arrays out of order`);
      const bytes = len * 4;
      if (offset + bytes > buf.length) throw new CheckpointError(`${file} is truncated (array data)`);
      // Copy: the file buffer may not be 4-byte aligned.
      const a = new Float32Array(len);
      new Uint8Array(a.buffer).set(buf.subarray(offset, offset + bytes));
      offset += bytes;
      blobs.push(a);
      return a;
    }
    const out: { [k: string]: State } = {};
    for (const [k, v] of Object.entries(e)) out[k] = decode(v as Encoded);
    return out;
  };
  const state = decode(parsed.state);
  if (offset !== buf.length) throw new CheckpointError(`${file} has ${buf.length - offset} unexpected trailing bytes`);
  if (expectConfig !== undefined) {
    for (const [k, v] of Object.entries(expectConfig)) {
      const stored = JSON.stringify(parsed.config[k]);
      if (stored !== JSON.stringify(v)) {
        throw new CheckpointError(`${file} was saved with ${k}=${stored ?? 'unset'}, but this run has ${k}=${JSON.stringify(v)}`);
      }
    }
  }
  return { config: parsed.config, state };
}
