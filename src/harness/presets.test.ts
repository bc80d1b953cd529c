import test from 'node:test';
import assert from 'node:assert/strict';
import { resolveConfig } from './resolve-config.js';
import { itersForEpochs, methodPreset, trainSamplesPerContext } from './presets.js';

test('gpm on permuted MNIST runs the GPM paper\'s protocol by default', () => {
  const c = resolveConfig({ protocol: 'permuted-mnist', method: 'gpm' });
  assert.deepEqual(c.hidden, [100, 100]);
  assert.equal(c.bias, false);
  assert.equal(c.activation, 'relu');
  assert.equal(c.optimizer, 'sgd');
  assert.equal(c.lr, 0.01);
  assert.equal(c.momentum, 0);
  assert.equal(c.batch, 10);
  assert.equal(c.contexts, 10);
  // 5 epochs of 60 000 − 500 validation images, batches of 10.
  assert.equal(c.valPerContext, 500);
  assert.equal(c.iters, 5 * 59_500 / 10);
  assert.equal(c.scenario, 'domain');
});

test('user options beat the preset; epochs follow the resolved batch and validation size', () => {
  const c = resolveConfig({ protocol: 'permuted-mnist', method: 'gpm', lr: 0.05, bias: true, hidden: [50], batch: 20, valPerContext: 6000 });
  assert.equal(c.lr, 0.05);
  assert.equal(c.bias, true);
  assert.deepEqual(c.hidden, [50]);
  assert.equal(c.optimizer, 'sgd');
  assert.equal(c.iters, 5 * 54_000 / 20);
  assert.equal(resolveConfig({ protocol: 'permuted-mnist', method: 'gpm', iters: 123 }).iters, 123);
});

test('without a preset the protocol defaults stand (other methods, other protocols)', () => {
  const naive = resolveConfig({ protocol: 'permuted-mnist', method: 'naive' });
  assert.deepEqual(naive.hidden, [1000, 1000]);
  assert.equal(naive.bias, true);
  assert.equal(naive.iters, 5000);
  assert.equal(naive.optimizer, 'adam');
  const split = resolveConfig({ protocol: 'split-mnist', method: 'gpm' });
  assert.deepEqual(split.hidden, [400, 400]);
  assert.equal(split.iters, 2000);
  assert.equal(split.bias, true);
  assert.equal(methodPreset('naive', 'permuted-mnist'), null);
  assert.equal(methodPreset('gpm', 'rotated-mnist'), null);
  assert.equal(trainSamplesPerContext('split-mnist', 500), null);
  assert.equal(itersForEpochs(1, 'split-mnist', 500, 10), null);
  assert.equal(itersForEpochs(1, 'permuted-mnist', 0, 7), Math.ceil(60_000 / 7));
  assert.throws(() => resolveConfig({ protocol: 'permuted-mnist', method: 'gpm', batch: -1 }));
});

test('padding: permuted MNIST pads to 32×32 as van de Ven\'s MNIST32, GPM\'s preset and Split MNIST do not', () => {
  assert.equal(resolveConfig({ protocol: 'permuted-mnist', method: 'ewc' }).padding, 2);
  assert.equal(resolveConfig({ protocol: 'permuted-mnist', method: 'gpm' }).padding, 0);
  assert.equal(resolveConfig({ protocol: 'split-mnist', method: 'ewc' }).padding, 0);
  assert.equal(resolveConfig({ protocol: 'permuted-mnist', method: 'si', padding: 0 }).padding, 0);
});
