/**
 * Building the context sequence of a protocol: which classes and input transform each context has, and its
 * train / validation / test indices. Mirrors van de Ven's `get_context_set` (data/load.py).
 */
import type { MnistData } from '../data/mnist.js';
import { ProtocolConfigError, type ResolvedProtocolConfig } from './config.js';
import { stratifiedHoldout, type Holdout } from './holdout.js';
import { deriveRng } from './seeds.js';
import type { ContextSpec, InputTransform } from './types.js';

const CLASSES = 10;
const ALL_CLASSES = Array.from({ length: CLASSES }, (_, c) => c);

/**
 * Classes of each split-MNIST context: consecutive slices of `classOrder` (⌊10 / numContexts⌋ classes each;
 * leftover classes are unused, as in van de Ven's code).
 *
 * van de Ven relabels class y as p[y] for a random permutation p and gives context t the new labels
 * {2t, 2t+1}; `classOrder` is p's inverse (classOrder[p[y]] = y), so the class-IL target of a class is its
 * position in classOrder.
 *
 * @example
 * splitClasses([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 5); // [[0,1],[2,3],[4,5],[6,7],[8,9]]
 */
export function splitClasses(classOrder: readonly number[], numContexts: number): number[][] {
  const per = Math.floor(CLASSES / numContexts);
  return Array.from({ length: numContexts }, (_, t) => classOrder.slice(t * per, (t + 1) * per));
}

/**
 * One pixel permutation per context, drawn in order from the seed (so context t's permutation does not depend
 * on how many contexts follow). With `identityFirst`, context 0 keeps the original images (van de Ven does
 * this only for seed 0; the permutations of the other contexts are unchanged by it).
 * Semantics as van de Ven's `permutate_image_pixels`: new pixel j = old pixel perm[j].
 */
export function permutedTransforms(numContexts: number, pixels: number, seed: number, identityFirst: boolean): InputTransform[] {
  const rng = deriveRng(seed, 'permutations');
  return Array.from({ length: numContexts }, (_, t): InputTransform => {
    const perm = rng.permutation(pixels);
    return t === 0 && identityFirst ? { kind: 'none' } : { kind: 'permute', perm };
  });
}

/**
 * Rotation angles for rotated MNIST: context t is rotated by t·180°/numContexts (0°, 18°, …, 162° for 10).
 * Why: evenly spaced angles are seed-independent and comparable across runs, start from the original images
 * like van de Ven's stability-gap example (rotations [0, 80, 160]), and stay below 180°, where digits like 6
 * and 9 would swap meaning. Published variants draw random angles in [0, 180) (Lopez-Paz & Ranzato, 2017);
 * evenly spaced ones keep consecutive contexts equally far apart.
 */
export function rotationAngles(numContexts: number): number[] {
  return Array.from({ length: numContexts }, (_, t) => (t * 180) / numContexts);
}

/** The contexts of `config` over `data`, with validation samples held out (see `buildHoldouts`). */
export function buildContexts(config: ResolvedProtocolConfig, data: MnistData): ContextSpec[] {
  const n = config.numContexts;
  let plans: { classes: number[]; transform: InputTransform }[];
  switch (config.protocol) {
    case 'split-mnist':
      plans = splitClasses(config.classOrder ?? ALL_CLASSES, n).map((classes) => ({ classes, transform: { kind: 'none' } }));
      break;
    case 'permuted-mnist':
      plans = permutedTransforms(n, data.pixels, config.seed, config.identityFirstContext)
        .map((transform) => ({ classes: [...ALL_CLASSES], transform }));
      break;
    case 'rotated-mnist':
      plans = rotationAngles(n).map((degrees) => ({ classes: [...ALL_CLASSES], transform: { kind: 'rotate', degrees } }));
      break;
    case 'iid':
      // Every class at once, the images as they are: the i.i.d. reference a learning rule is checked on.
      plans = [{ classes: [...ALL_CLASSES], transform: { kind: 'none' } }];
      break;
  }
  const holdouts = buildHoldouts(config, data, plans.map((p) => p.classes));
  return plans.map((plan, index) => ({
    index,
    classes: plan.classes,
    transform: plan.transform,
    trainIndices: holdouts[index]!.train,
    valIndices: holdouts[index]!.held,
    testIndices: indicesWithLabels(data.test.labels, data.test.count, plan.classes),
  }));
}

/**
 * Validation hold-outs, `valPerContext` per context, stratified by class. Split MNIST: each context holds out
 * from its own classes' images. Permuted / rotated MNIST: every context shares the one training set, so one
 * hold-out is drawn and used by all contexts; otherwise an image validated in one context would be trained on
 * (differently transformed, for small rotations nearly identical) in another.
 */
function buildHoldouts(config: ResolvedProtocolConfig, data: MnistData, classes: number[][]): Holdout[] {
  const rng = deriveRng(config.seed, 'validation');
  const { labels, count } = data.train;
  const check = (pool: Int32Array, t: number): void => {
    const left = pool.length - config.valPerContext;
    if (left < config.batchSize) {
      throw new ProtocolConfigError(
        `context ${t + 1} has ${pool.length} training images: holding out --val-per-context ${config.valPerContext} leaves ` +
          `${Math.max(0, left)}, fewer than --batch ${config.batchSize}`,
      );
    }
  };
  if (config.protocol === 'split-mnist') {
    return classes.map((cls, t) => {
      const pool = indicesWithLabels(labels, count, cls);
      check(pool, t);
      return stratifiedHoldout(pool, labels, config.valPerContext, rng);
    });
  }
  const pool = indicesWithLabels(labels, count, ALL_CLASSES);
  check(pool, 0);
  const shared = stratifiedHoldout(pool, labels, config.valPerContext, rng);
  return classes.map(() => ({ train: shared.train.slice(), held: shared.held.slice() }));
}

/** Ascending indices i < count with labels[i] in `classes`. */
export function indicesWithLabels(labels: Uint8Array, count: number, classes: readonly number[]): Int32Array {
  const want = new Uint8Array(256);
  for (const c of classes) want[c] = 1;
  let n = 0;
  for (let i = 0; i < count; i++) n += want[labels[i]!]!;
  const out = new Int32Array(n);
  for (let i = 0, k = 0; i < count; i++) if (want[labels[i]!] === 1) out[k++] = i;
  return out;
}
