import { backward, crossEntropy, noGrad, Rng, Tensor, zeroGrad } from '../core/index.js';
import type { MnistData } from '../data/index.js';
import { argmaxRows, Mlp } from '../nn/index.js';
import { adam, optimizerStep } from '../optim/index.js';
import { GenerativePc } from './generative.js';

/** What {@link dreamReport} trains and draws. */
export interface DreamReportOptions {
  /** PC steps of the generative network (batches of 128 training images). */
  iters: number;
  /** Backprop steps of the classifier that labels the dreams. */
  classifierIters: number;
  /** Dreams drawn per class (labelled), and how many of them the grid shows. */
  perClass: number;
  shownPerClass: number;
  temperature: number;
  seed: number;
}

export const defaultDreamReportOptions: DreamReportOptions = {
  iters: 3000, classifierIters: 3000, perClass: 100, shownPerClass: 8, temperature: 1, seed: 1,
};

/** The generative network's shape (class → 128 → 256 → pixels) and learning rate. */
const GENERATOR = { hidden: [128, 256], activation: 'gelu', lr: 1e-3 } as const;
/** The labelling classifier: the i.i.d. parity network (784-128-128-128-10 GELU), trained by backprop. */
const CLASSIFIER_HIDDEN = [128, 128, 128];
const BATCH = 128;

export interface DreamReport {
  options: DreamReportOptions;
  generator: { hidden: number[]; activation: string; lr: number; spread: number[] };
  /** Share of the dreams the classifier gives the clamped class, over all and per class. */
  labelledAsClamped: number;
  labelledAsClampedPerClass: number[];
  /** The classifier's accuracy on the test images (how far its labels can be trusted). */
  classifierTestAccuracy: number;
  /** Mean per-pixel standard deviation among a class's dreams (0: every dream of a class is the same image). */
  withinClassPixelSd: number;
  /** The shown dreams, class by class (shownPerClass × pixels each), intensities in [0, 1]. */
  shown: Float32Array;
}

/**
 * Trains a generative PC network ({@link GenerativePc}) on the training images, dreams `perClass` images of
 * every class at the given temperature, and has a backprop classifier trained on the same images label them.
 * `progress` is called every 500 steps.
 */
export function dreamReport(data: MnistData, options: DreamReportOptions, progress: (line: string) => void = () => {}): DreamReport {
  const D = data.pixels;
  const K = 10;
  const rng = new Rng(options.seed);
  const x = new Float32Array(BATCH * D);
  const y = new Int32Array(BATCH);
  const drawBatch = (): void => {
    for (let r = 0; r < BATCH; r++) {
      const i = rng.int(data.train.count);
      y[r] = data.train.labels[i]!;
      for (let j = 0; j < D; j++) x[r * D + j] = data.train.images[i * D + j]! / 255;
    }
  };

  const generator = new GenerativePc(K, D, { ...GENERATOR, hidden: [...GENERATOR.hidden] }, rng);
  for (let it = 1; it <= options.iters; it++) {
    drawBatch();
    const bce = generator.learn(x, y, BATCH);
    if (it % 500 === 0) progress(`generator ${it}/${options.iters}: top-down prediction's BCE ${bce.toFixed(1)} per image`);
  }

  const classifier = new Mlp([D, ...CLASSIFIER_HIDDEN, K], 'gelu', new Rng(options.seed + 1));
  const params = classifier.parameters();
  const opt = adam(1e-3);
  let optState = opt.init(params.map((p) => p.data));
  for (let it = 1; it <= options.classifierIters; it++) {
    drawBatch();
    zeroGrad(params);
    backward(crossEntropy(classifier.forward(Tensor.from(x, [BATCH, D])), y));
    optState = optimizerStep(opt, optState, params)[1];
    if (it % 500 === 0) progress(`classifier ${it}/${options.classifierIters}`);
  }
  const predict = (images: Float32Array, count: number): Int32Array =>
    argmaxRows(noGrad(() => classifier.forward(Tensor.from(images, [count, D]))).data, count, K);
  const testPred = predict(Float32Array.from(data.test.images, (v) => v / 255), data.test.count);
  let right = 0;
  for (let i = 0; i < data.test.count; i++) if (testPred[i] === data.test.labels[i]) right++;

  const n = options.perClass * K;
  const labels = Int32Array.from({ length: n }, (_, i) => Math.floor(i / options.perClass));
  const dreams = generator.dream(labels, options.temperature, new Rng(options.seed + 2));
  const pred = predict(dreams, n);
  const perClass = Array.from({ length: K }, () => 0);
  for (let i = 0; i < n; i++) if (pred[i] === labels[i]) perClass[labels[i]!]!++;

  let sd = 0;
  for (let c = 0; c < K; c++) {
    for (let j = 0; j < D; j++) {
      let m = 0, m2 = 0;
      for (let k = 0; k < options.perClass; k++) {
        const v = dreams[(c * options.perClass + k) * D + j]!;
        m += v;
        m2 += v * v;
      }
      m /= options.perClass;
      sd += Math.sqrt(Math.max(0, m2 / options.perClass - m * m));
    }
  }
  const shown = new Float32Array(K * options.shownPerClass * D);
  for (let c = 0; c < K; c++) {
    const from = c * options.perClass * D;
    shown.set(dreams.subarray(from, from + options.shownPerClass * D), c * options.shownPerClass * D);
  }
  return {
    options,
    generator: { hidden: [...GENERATOR.hidden], activation: GENERATOR.activation, lr: GENERATOR.lr, spread: [...generator.dreamSpread()] },
    labelledAsClamped: perClass.reduce((s, v) => s + v, 0) / n,
    labelledAsClampedPerClass: perClass.map((v) => v / options.perClass),
    classifierTestAccuracy: right / data.test.count,
    withinClassPixelSd: sd / (K * D),
    shown,
  };
}

/**
 * A grid of images as SVG: one row per group of `cols` images (side × side pixels, intensities in [0, 1]),
 * dark ink on white, each pixel a square of `scale` units (pixels below 0.05 are left white).
 */
export function imageGridSvg(images: Float32Array, side: number, cols: number, scale = 3): string {
  const per = side * side;
  const count = Math.floor(images.length / per);
  const rows = Math.ceil(count / cols);
  const gap = 2 * scale;
  const cell = side * scale + gap;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${cols * cell + gap}" height="${rows * cell + gap}" shape-rendering="crispEdges">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
  ];
  for (let k = 0; k < count; k++) {
    const ox = gap + (k % cols) * cell;
    const oy = gap + Math.floor(k / cols) * cell;
    for (let p = 0; p < per; p++) {
      const v = images[k * per + p]!;
      if (!(v >= 0.05)) continue;
      const level = Math.round(255 * (1 - Math.min(1, v)));
      const hex = level.toString(16).padStart(2, '0');
      parts.push(`<rect x="${ox + (p % side) * scale}" y="${oy + Math.floor(p / side) * scale}" width="${scale}" height="${scale}" fill="#${hex}${hex}${hex}"/>`);
    }
  }
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
