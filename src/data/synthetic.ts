/**
 * Small synthetic data sets in MNIST's layout, so that tests (here and in the harness) can exercise the full
 * loading and protocol path in milliseconds instead of reading the real 55 MB.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeIdx } from './idx.js';
import { MNIST_CLASSES, MNIST_COLS, MNIST_FILES, MNIST_ROWS } from './mnist.js';

export interface SyntheticMnistOptions {
  /** Training images per class (default 60). */
  trainPerClass?: number;
  /** Test images per class (default 10). */
  testPerClass?: number;
  /** Write `.gz` files (default false). */
  gzip?: boolean;
}

/**
 * Write four IDX files in MNIST's layout to `dir` (created if needed). Labels cycle 0,1,…,9,0,1,… so every
 * class is equally frequent; pixels follow `syntheticPixel`, which makes each image distinct and lets tests
 * recover an image's index from a batch row.
 *
 * @example
 * writeSyntheticMnist('/tmp/mnist-small', { trainPerClass: 20 });
 * loadMnist('/tmp/mnist-small').train.count; // 200
 */
export function writeSyntheticMnist(dir: string, opts: SyntheticMnistOptions = {}): void {
  mkdirSync(dir, { recursive: true });
  const gzip = opts.gzip ?? false;
  const suffix = gzip ? '.gz' : '';
  const splits: [number, string, string][] = [
    [(opts.trainPerClass ?? 60) * MNIST_CLASSES, MNIST_FILES.trainImages, MNIST_FILES.trainLabels],
    [(opts.testPerClass ?? 10) * MNIST_CLASSES, MNIST_FILES.testImages, MNIST_FILES.testLabels],
  ];
  const pixels = MNIST_ROWS * MNIST_COLS;
  for (const [count, imagesName, labelsName] of splits) {
    const labels = new Uint8Array(count);
    const images = new Uint8Array(count * pixels);
    for (let i = 0; i < count; i++) {
      labels[i] = i % MNIST_CLASSES;
      for (let j = 0; j < pixels; j++) images[i * pixels + j] = syntheticPixel(i, j, labels[i]!);
    }
    writeIdx(join(dir, imagesName + suffix), [count, MNIST_ROWS, MNIST_COLS], images, { gzip });
    writeIdx(join(dir, labelsName + suffix), [count], labels, { gzip });
  }
}

/**
 * Pixel `j` of image `i` (with label `label`) in a data set written by `writeSyntheticMnist`. Pixels 0 and 1
 * hold the image index (low and high byte) and pixel 2 holds 25·label, so a test can tell from an
 * (untransformed) batch row which image it is; the rest is a pattern that differs between images.
 */
export function syntheticPixel(i: number, j: number, label: number): number {
  if (j === 0) return i & 255;
  if (j === 1) return (i >> 8) & 255;
  if (j === 2) return 25 * label;
  return (7 * i + 3 * j + 31 * label) & 255;
}

/** The image index `syntheticPixel` encoded in pixels 0 and 1 of `x[offset ..]` (float32 in [0, 1]). */
export function syntheticImageIndex(x: Float32Array, offset: number): number {
  return Math.round(x[offset]! * 255) + 256 * Math.round(x[offset + 1]! * 255);
}
