import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../harness/index.js';
import { firstDifference, optionDifferences, readRecordedRun } from './reproduce.js';

test('firstDifference: null for identical matrices, else the first differing entry or shape', () => {
  assert.equal(firstDifference([[0.5, 0.25], [0.75, 1]], [[0.5, 0.25], [0.75, 1]]), null);
  assert.match(firstDifference([[0.5, 0.25], [0.75, 1]], [[0.5, 0.25], [0.7, 0.9]]) ?? '', /^R\[2\]\[1\] .* is 0\.75 recorded, 0\.7 now$/);
  assert.match(firstDifference([[1]], [[1], [1]]) ?? '', /1 rows recorded, 2 now/);
  assert.match(firstDifference([[1, 1]], [[1]]) ?? '', /row 1: 2 entries recorded, 1 now/);
});

test('optionDifferences lists what the code resolves differently, keys sorted', () => {
  assert.deepEqual(optionDifferences({ a: 1, b: [1, 2] }, { a: 1, b: [1, 2] }), []);
  assert.deepEqual(optionDifferences({ lambda: 5 }, { lambda: 5, fisherLabels: 'all' }), ['fisherLabels: unset → "all"']);
  assert.deepEqual(optionDifferences({ z: 1, a: true }, { z: 2, a: false }), ['a: true → false', 'z: 1 → 2']);
  // A list typed on the command line and the array it resolves to are the same option.
  assert.deepEqual(optionDifferences({ thresholds: '0.97, 0.99' }, { thresholds: [0.97, 0.99] }), []);
});

test('a result file from before bias, padding or fuzziness were recorded gets the values its code used', () => {
  const dir = mkdtempSync(join(tmpdir(), 'engram-repro-'));
  const write = (cfg: Record<string, unknown>): string => {
    const f = join(dir, `${String(cfg['stream'])}.json`);
    const { fuzziness: _f, bias: _b, padding: _p, ...old } = cfg;
    writeFileSync(f, JSON.stringify({ accuracyMatrix: [[1]], config: old }));
    return f;
  };
  const tf = readRecordedRun(write(resolveConfig({ protocol: 'split-mnist', stream: 'task-free', iters: 1000 })));
  assert.equal(tf.config.fuzziness, 250);
  assert.equal(tf.config.bias, true);
  assert.equal(tf.config.padding, 0);
  assert.equal(tf.hasProvenance, false);
  assert.equal(readRecordedRun(write(resolveConfig({ protocol: 'split-mnist' }))).config.fuzziness, null);
});
