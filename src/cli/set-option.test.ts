import test from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from 'commander';
import { setOption, typedOptionValue } from './set-option.js';

test('--set values: numbers and booleans are typed, the rest stays text', () => {
  assert.equal(typedOptionValue('0.5'), 0.5);
  assert.equal(typedOptionValue('1e-3'), 1e-3);
  assert.equal(typedOptionValue('true'), true);
  assert.equal(typedOptionValue('false'), false);
  assert.equal(typedOptionValue('dreamer'), 'dreamer');
  assert.equal(typedOptionValue(''), '');
  assert.equal(typedOptionValue('Infinity'), 'Infinity');
});

test('--set is repeatable, the last value of a key wins, and a malformed pair is a usage error', () => {
  const opts = setOption('quietEpochs=0', setOption('sleepEpochs=24', setOption('quietEpochs=8')));
  assert.deepEqual(opts, { quietEpochs: 0, sleepEpochs: 24 });
  assert.throws(() => setOption('sleepEpochs'), InvalidArgumentError);
  assert.throws(() => setOption('=3'), InvalidArgumentError);
});
