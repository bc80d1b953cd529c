import test from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from './rng.js';

test('fillNormal gives the values of as many normal() calls, in order, and leaves the same spare', () => {
  // Odd and even lengths, starting with and without a spare from an earlier call.
  for (const [lead, len] of [[0, 7], [1, 7], [0, 8], [1, 8], [1, 1], [0, 0]] as const) {
    const a = new Rng(11);
    const b = new Rng(11);
    for (let i = 0; i < lead; i++) assert.equal(a.normal(), b.normal());
    const one = Array.from({ length: len }, () => Math.fround(a.normal()));
    const bulk = Array.from(b.fillNormal(new Float32Array(len)));
    assert.deepEqual(bulk, one, `lead ${lead}, length ${len}`);
    assert.deepEqual(b.getState(), a.getState());
    assert.equal(b.normal(), a.normal());
  }
  const wide = new Rng(3).fillNormal(new Float64Array(5));
  const narrow = new Rng(3).fillNormal(new Float32Array(5));
  assert.deepEqual(Array.from(narrow), Array.from(wide, Math.fround));
  assert.notEqual(wide[0], Math.fround(wide[0]!)); // a Float64Array keeps full precision
});
