import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';

const dir = mkdtempSync(join(tmpdir(), 'engram-ckpt-'));

test('round trip keeps every array, number and nesting, and leaves no temp file', () => {
  const file = join(dir, 'a.engram');
  const state = {
    params: { w: new Float32Array([1.5, -2, 3e-8]), b: new Float32Array(0) },
    optimizer: [{ step: 7, m: [new Float32Array([0.25])] }, {}],
    rng: [1, 2, 3, 4, Number.NaN],
  };
  saveCheckpoint(file, { config: { hidden: [400, 400], method: 'naive' }, state });
  const { config, state: back } = loadCheckpoint(file, { hidden: [400, 400] });
  assert.deepEqual(config, { hidden: [400, 400], method: 'naive' });
  assert.deepEqual(back, state);
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp')), []);
});

test('a different configuration is refused with the key named', () => {
  const file = join(dir, 'b.engram');
  saveCheckpoint(file, { config: { hidden: [400, 400] }, state: { x: 1 } });
  assert.throws(() => loadCheckpoint(file, { hidden: [100] }), /saved with hidden=\[400,400\], but this run has hidden=\[100\]/);
});

test('corrupt, truncated and foreign files give clear errors', () => {
  const file = join(dir, 'c.engram');
  saveCheckpoint(file, { config: {}, state: { w: new Float32Array(100) } });
  const bytes = readFileSync(file);
  writeFileSync(join(dir, 'trunc.engram'), bytes.subarray(0, bytes.length - 7));
  assert.throws(() => loadCheckpoint(join(dir, 'trunc.engram')), /corrupted \(its SHA-256 checksum does not match/);
  writeFileSync(join(dir, 'foreign.engram'), 'hello world, not a checkpoint');
  assert.throws(() => loadCheckpoint(join(dir, 'foreign.engram')), /not an Engram checkpoint/);
  assert.throws(() => loadCheckpoint(join(dir, 'missing.engram')), /cannot read checkpoint/);
  const bad = Buffer.from(bytes);
  bad.write('{"version":9', 12, 'utf8');
  writeFileSync(join(dir, 'header.engram'), bad);
  assert.throws(() => loadCheckpoint(join(dir, 'header.engram')), /corrupted/);
  // One flipped bit in the weights: refused, not resumed.
  const flipped = Buffer.from(bytes);
  flipped[bytes.length - 40]! ^= 0x01;
  writeFileSync(join(dir, 'flipped.engram'), flipped);
  assert.throws(() => loadCheckpoint(join(dir, 'flipped.engram')), /flipped\.engram is corrupted/);
  // The first layout (no checksum) says so.
  const v1 = Buffer.from(bytes);
  v1[7] = 1;
  writeFileSync(join(dir, 'v1.engram'), v1);
  assert.throws(() => loadCheckpoint(join(dir, 'v1.engram')), /older layout \(1, without a checksum\)/);
});

test('saving over an existing checkpoint replaces it whole', () => {
  const file = join(dir, 'd.engram');
  saveCheckpoint(file, { config: { v: 1 }, state: { w: new Float32Array(1000).fill(1) } });
  saveCheckpoint(file, { config: { v: 2 }, state: { w: new Float32Array([5]) } });
  const { config, state } = loadCheckpoint(file);
  assert.deepEqual(config, { v: 2 });
  assert.deepEqual(state, { w: new Float32Array([5]) });
});
