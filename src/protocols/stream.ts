/**
 * The training stream: which context each sample comes from (see schedule.ts), sampled from per-context
 * shuffled cycling loaders, materialised into batches. Everything random comes from the seed, and every call
 * of `trainingStream` starts the same sequence afresh.
 */
import type { Rng } from '../core/rng.js';
import { writeImage, type CompiledTransform } from '../data/transforms.js';
import type { ResolvedProtocolConfig } from './config.js';
import { ShuffledCycler } from './sampler.js';
import { fuzzyPhase, fuzzyProbabilities } from './schedule.js';
import { deriveRng } from './seeds.js';
import type { Batch, ContextSpec, StreamStep } from './types.js';

/** What the stream needs from a built protocol. */
export interface StreamSource {
  config: ResolvedProtocolConfig;
  contexts: readonly ContextSpec[];
  /** Compiled input transform per context. */
  transforms: readonly CompiledTransform[];
  /** Training images (back to back) and labels. */
  images: Uint8Array;
  labels: Uint8Array;
  pixels: number;
  /** Target lookup per context (LabelSpace.table). */
  targets: readonly Int32Array[];
}

/**
 * Generate the whole stream (numContexts × itersPerContext steps), or its tail from iteration `from` on: the
 * same batches an uninterrupted stream yields there.
 *
 * @example
 * for (const step of trainingStream(src)) learner.train(step.batch);
 */
export function* trainingStream(src: StreamSource, from = 0): Generator<StreamStep, void, undefined> {
  const { config } = src;
  const n = config.numContexts;
  const iters = config.itersPerContext;
  const B = config.batchSize;
  const taskFree = config.stream === 'task-free';
  // The learner sees context ids in task-IL, and in boundaries streams (where it is told of each switch);
  // in class- / domain-IL task-free streams the context of a sample is exactly what it must not be told.
  const exposeContexts = config.scenario === 'task' || !taskFree;
  const loaderRng = deriveRng(config.seed, 'loader');
  const contextRng = deriveRng(config.seed, 'context-draws');
  const sampler = config.cumulative
    ? new CumulativeSampler(src.contexts, B, loaderRng)
    : taskFree ? new MixtureSampler(src, contextRng, loaderRng) : new ContextSampler(src.contexts, B, loaderRng);
  const ctx = new Int32Array(B);
  const img = new Int32Array(B);
  for (let iteration = 0; iteration < n * iters; iteration++) {
    const phase = taskFree ? fuzzyPhase(n, iters, iteration) : Math.floor(iteration / iters);
    sampler.draw(iteration, phase, ctx, img);
    // Resuming: earlier iterations are drawn (so every generator is where it was) but not materialised.
    if (iteration < from) continue;
    const batch = materialiseMixed(src, ctx, img, exposeContexts);
    const endsContext = !taskFree && iteration % iters === iters - 1 ? phase : null;
    yield { iteration, batch, endsContext, phase };
  }
}

/** Build a batch whose sample b is training image img[b] seen in context ctx[b]. */
function materialiseMixed(src: StreamSource, ctx: Int32Array, img: Int32Array, exposeContexts: boolean): Batch {
  const size = ctx.length;
  const x = new Float32Array(size * src.pixels);
  const y = new Int32Array(size);
  for (let b = 0; b < size; b++) {
    const t = ctx[b]!;
    const i = img[b]!;
    writeImage(src.transforms[t]!, src.images, i, x, b * src.pixels);
    y[b] = src.targets[t]![src.labels[i]!]!;
  }
  return { x, y, size, contexts: exposeContexts ? ctx.slice() : null };
}

/** Fills, for one iteration, each sample's context and training-image index. */
interface Sampler {
  draw(iteration: number, phase: number, ctx: Int32Array, img: Int32Array): void;
}

/** Boundaries stream: whole batches from the current context's loader (drop_last, like van de Ven's). */
class ContextSampler implements Sampler {
  private readonly loaders: ShuffledCycler[];
  private readonly pos: Int32Array;

  constructor(private readonly contexts: readonly ContextSpec[], batchSize: number, rng: Rng) {
    this.loaders = contexts.map((c) => new ShuffledCycler(c.trainIndices.length, rng));
    this.pos = new Int32Array(batchSize);
  }

  draw(_iteration: number, phase: number, ctx: Int32Array, img: Int32Array): void {
    this.loaders[phase]!.nextBatch(this.pos);
    const pool = this.contexts[phase]!.trainIndices;
    ctx.fill(phase);
    for (let b = 0; b < this.pos.length; b++) img[b] = pool[this.pos[b]!]!;
  }
}

/**
 * Task-free stream: every sample draws its context from the iteration's fuzzy-boundary distribution, then
 * takes the next item of that context's own shuffled loader (van de Ven's DataStream with per-sample labels:
 * one DataLoader(batch_size=1, shuffle=True) per context).
 */
class MixtureSampler implements Sampler {
  private readonly loaders: ShuffledCycler[];
  private readonly probs: Float64Array;

  constructor(private readonly src: StreamSource, private readonly contextRng: Rng, loaderRng: Rng) {
    this.loaders = src.contexts.map((c) => new ShuffledCycler(c.trainIndices.length, loaderRng));
    this.probs = new Float64Array(src.contexts.length);
  }

  draw(iteration: number, _phase: number, ctx: Int32Array, img: Int32Array): void {
    const { numContexts: n, itersPerContext, fuzziness } = this.src.config;
    const p = this.probs;
    fuzzyProbabilities(n, itersPerContext, fuzziness, iteration, p);
    let total = 0;
    for (let k = 0; k < n; k++) total += p[k]!;
    for (let b = 0; b < ctx.length; b++) {
      // Inverse-CDF draw, as Python's random.choices(range(n), weights) does.
      let u = this.contextRng.uniform() * total;
      let t = 0;
      while (t < n - 1 && (u -= p[t]!) >= 0) t++;
      // Skip zero-probability contexts that rounding could land on at the end of the scan.
      while (p[t] === 0 && t > 0) t--;
      ctx[b] = t;
      img[b] = this.src.contexts[t]!.trainIndices[this.loaders[t]!.next()]!;
    }
  }
}

/**
 * Cumulative stream (the `joint` upper bound): whole batches from one loader over the union of the training
 * data of contexts 0..phase (van de Ven's "cummulative" baseline: a DataLoader over ConcatDataset of the
 * contexts so far), rebuilt when the phase advances.
 */
class CumulativeSampler implements Sampler {
  private phase = -1;
  private loader: ShuffledCycler | null = null;
  /** Union as (context, image) pairs. */
  private unionCtx = new Int32Array(0);
  private unionImg = new Int32Array(0);
  private readonly pos: Int32Array;

  constructor(private readonly contexts: readonly ContextSpec[], batchSize: number, private readonly rng: Rng) {
    this.pos = new Int32Array(batchSize);
  }

  draw(_iteration: number, phase: number, ctx: Int32Array, img: Int32Array): void {
    if (phase !== this.phase) this.rebuild(phase);
    this.loader!.nextBatch(this.pos);
    for (let b = 0; b < this.pos.length; b++) {
      ctx[b] = this.unionCtx[this.pos[b]!]!;
      img[b] = this.unionImg[this.pos[b]!]!;
    }
  }

  private rebuild(phase: number): void {
    const parts = this.contexts.slice(0, phase + 1);
    const size = parts.reduce((a, c) => a + c.trainIndices.length, 0);
    this.unionCtx = new Int32Array(size);
    this.unionImg = new Int32Array(size);
    let o = 0;
    for (const c of parts) {
      this.unionCtx.fill(c.index, o, o + c.trainIndices.length);
      this.unionImg.set(c.trainIndices, o);
      o += c.trainIndices.length;
    }
    this.loader = new ShuffledCycler(size, this.rng);
    this.phase = phase;
  }
}
