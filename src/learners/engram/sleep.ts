import {
  add, allocateUninitialised, backward, BufferArena, concatRows, crossEntropy, maskLogits, mse, noGrad, Rng, scale, sliceRows, softCrossEntropy, Tensor,
  withArena, zeroGrad,
} from '../../core/index.js';
import { oneHot, slicePass, Vae, type VaeConfig } from '../../generative/index.js';
import { getBackend } from '../../kernels/index.js';
import {
  applyUpdates, metaplastic, onlineImportance, scaleByAdam, scaleByLearningRate, synapseAdam, viscosity, withImportance,
  type GradientTransformation, type State, type SynapseChainState, type SynapseOptimizer, type SynapseStepper,
  type SynapseTransformation,
} from '../../optim/index.js';
import type { Scenario } from '../../protocols/types.js';
import { maskedSoftmax, rowMask } from '../heads/index.js';
import { accumulateGram, basisFrom, emptyBasis, projectOut, updateBasis, type Basis } from '../../subspace/index.js';

/** How one sleep consolidates (plain data: a sleep may run in a worker thread). */
export interface SleepSettings {
  scenario: Scenario;
  numOutputs: number;
  /** Task-IL: the outputs of each class's context (its head); unused otherwise. */
  classHeads: number[][];
  /** Rows drawn from the short-term memory per iteration, and passes over it. */
  batch: number;
  epochs: number;
  /** At most this many iterations (the pace cap: wake batches since the last sleep × `sleepPace`); 0 = no cap. */
  maxIterations: number;
  /** At least this many (sleep pressure: wake batches since the last sleep × `sleepPressure`), below the cap. */
  minIterations: number;
  dreamBatch: number;
  lr: number;
  temperature: number;
  fastDistill: number;
  /** Dream targets over every known class, or over the dreamer's classes only (0 for newer ones). */
  dreamTargets: 'head' | 'dreamer';
  /** Scale of the prior's standard deviations when dreaming. */
  dreamSpread: number;
  /** λ_h: weight of matching the dreamer's last hidden layer on dreams (squared distance summed over units). */
  dreamFeatures: number;
  /** Dream pixels drawn from their Bernoulli (binary) or left at its mean. */
  dreamPixels: 'sample' | 'mean';
  /** θ_S dreams the classes it has caught up with that the dreamer does not know and the memory lacks. */
  recentDreams: boolean;
  dreams: boolean;
  viscosity: number;
  metaplastic: number;
  xi: number;
  /** Project encoder updates off the dream bases (when they hold anything). */
  projection: boolean;
  projectionThreshold: number;
  projectionDreams: number;
  /** Recompute the dream bases after this sleep. */
  updateBases: boolean;
}

/** Everything a sleep reads: the slow weights, their synapse state, the short-term memory and the wake targets. */
export interface SleepJob {
  vae: VaeConfig;
  params: Float32Array[];
  gateMasks: Float32Array[];
  /** Synapse-optimiser state (Adam moments, Ω, anchors); null before the first sleep. */
  optState: State | null;
  /** Per encoder layer, the dream basis (dim × k, row-major; dim = fan-in + 1 for the bias). */
  bases: Float32Array[];
  stm: { x: Float32Array; y: Int32Array; n: number };
  /** The wake prediction (slow + fast path logits) on each memory row: θ_F's knowledge, to distil. */
  wakeLogits: Float32Array;
  /** Classes the slow weights had consolidated before this sleep. */
  known: number[];
  /** A frozen earlier θ_S that dreams, with the classes it knew; null: θ_S as the sleep starts dreams. */
  dreamer: { params: Float32Array[]; known: number[] } | null;
  /** Classes θ_S has caught up with (it explained all but a few of their samples in some wake). */
  caught: number[];
  rng: number[];
  settings: SleepSettings;
}

export interface SleepOutcome {
  params: Float32Array[];
  optState: State;
  bases: Float32Array[];
  known: number[];
  rng: number[];
  iterations: number;
  /** Mean sleep loss over the iterations. */
  loss: number;
}

/**
 * Iterations a sleep runs: ⌈epochs·|STM| / batch⌉, raised to `minIterations` (sleep pressure), then at most
 * `maxIterations` (when set), at least one.
 */
export function sleepIterations(
  n: number, s: Pick<SleepSettings, 'epochs' | 'batch'> & { maxIterations?: number; minIterations?: number },
): number {
  const full = Math.max(Math.ceil((s.epochs * n) / s.batch), s.minIterations ?? 0);
  return Math.max(1, s.maxIterations !== undefined && s.maxIterations > 0 ? Math.min(full, s.maxIterations) : full);
}

/**
 * One sleep (DESIGN §1, P3): the slow weights θ_S learn the short-term memory (its labels, and the wake
 * prediction of slow + fast path by distillation) together with dreams of old knowledge — inputs the frozen
 * pre-sleep model generates from its class-conditional pathway, labelled with its own soft targets — through
 * the synapse-state optimiser, with encoder updates projected off the bases of earlier dreams. The loss per
 * iteration, with w the share of the known classes the memory holds (class-IL: its label perplexity over the
 * number of known classes, BI-R's 1/t without contexts, so that a trickle of old samples does not silence the
 * dreams; ½ otherwise):
 *
 *   w·[recon + variational + CE + λ_F·T²·KD(wake ‖ θ_S)](memory)
 *     + (1 − w)·[recon + variational + T²·KD(dreamer ‖ θ_S) + λ_h·‖h_S − h_dreamer‖²](dreams)
 *
 * h being the encoder's last hidden layer (the classifier's features). With recent classes (`recentClasses`),
 * θ_S as the sleep starts dreams those, labels them over every class it knows, and takes their share of the dreams.
 *
 * Pure with respect to its input: the same job gives the same outcome, on any thread.
 */
export function runSleep(job: SleepJob): SleepOutcome {
  const s = job.settings;
  const rng = new Rng(0);
  rng.setState(job.rng);
  const model = new Vae(job.vae, null); // blank: the job's parameters and gate masks go in next
  model.parameters().forEach((p, i) => p.data.set(job.params[i]!));
  model.gateMasks.forEach((m, i) => m.set(job.gateMasks[i]!));
  // The dreamer: a frozen copy of θ_S taken at an earlier sleep (job.dreamer), or θ_S as this sleep starts.
  const dreamKnown = job.dreamer?.known ?? job.known;
  const dreamer = !s.dreams || dreamKnown.length === 0 ? null
    : { model: job.dreamer !== null ? model.clone(job.dreamer.params) : model.clone(), known: dreamKnown };
  const params = model.parameters();
  const data = params.map((p) => p.data);
  const opt = sleepOptimizer(s);
  let optState = (job.optState ?? opt.init(data)) as SynapseChainState;
  const layers = encoderLayers(model);
  const bases = layers.map((l, i) => (job.bases[i] !== undefined && job.bases[i]!.length > 0 ? basisFrom(l.dim, job.bases[i]!) : emptyBasis(l.dim)));
  const project = s.projection ? projectOff(layers, bases) : null;
  let projState: Record<string, never> = {};

  const { stm } = job;
  const memoryClasses = [...new Set(stm.y)].sort((a, b) => a - b);
  const known = [...new Set([...job.known, ...memoryClasses])].sort((a, b) => a - b);
  const heads = new Heads(s, known);
  // Recent classes are dreamt by θ_S as this sleep starts, beside the dreamer's.
  const recent = dreamer === null || !s.recentDreams ? [] : recentClasses(job.caught, dreamer.known, job.known, stm.y, known.length);
  const recentDreamer = recent.length === 0 ? null : { model: model.clone(), known: recent, labels: job.known };
  const w = !dreamer ? 1 : s.scenario === 'class' ? Math.min(1, effectiveClasses(stm.y) / known.length) : 0.5;
  const iterations = sleepIterations(stm.n, s);
  const arena = new BufferArena();
  const order = new Int32Array(stm.n);
  let cursor = stm.n;
  let total = 0;
  for (let it = 0; it < iterations; it++) {
    total += withArena(arena, () => {
      // Memory rows: a fresh shuffle each pass.
      const b = Math.min(s.batch, stm.n);
      const rows = new Int32Array(b);
      for (let r = 0; r < b; r++) {
        if (cursor >= stm.n) {
          for (let i = 0; i < stm.n; i++) order[i] = i;
          for (let i = stm.n - 1; i > 0; i--) {
            const j = rng.int(i + 1);
            [order[i], order[j]] = [order[j]!, order[i]!];
          }
          cursor = 0;
        }
        rows[r] = order[cursor++]!;
      }
      zeroGrad(params);
      const loss = sleepLoss(model, dreamer, recentDreamer, job, rows, heads, w, rng);
      backward(loss);
      const grads = params.map((p) => p.grad ?? new Float32Array(p.size));
      if (project === null && opt.step !== undefined) {
        optState = opt.step(data, grads, optState); // the same numbers as below, in one pass over memory
      } else {
        let [updates, next] = opt.update(grads, optState, data);
        optState = next;
        if (project !== null) [updates, projState] = project.update(updates, projState, data);
        applyUpdates(data, updates);
      }
      return loss.item();
    });
  }
  optState = opt.consolidate(optState, data);
  let outBases = bases;
  if (s.projection && s.updateBases && known.length > 0) outBases = dreamBases(model, layers, bases, known, s, rng);
  return {
    params: params.map((p) => p.data.slice()),
    optState,
    bases: outBases.map((b) => b.data),
    known,
    rng: rng.getState(),
    iterations,
    loss: total / iterations,
  };
}

/**
 * The classes θ_S itself dreams in a sleep: those it has caught up with (`caught`: in some wake it explained
 * all but a few of their samples, after sleeping on them) that the dreamer, taken earlier, never knew, and
 * that the memory lacks (fewer rows than half an even share over the `classes` in play). The dreamer gives such a
 * class no mass, so without these dreams nothing holds it once its data stop coming; a class the memory holds is
 * learnt from its real samples instead.
 */
export function recentClasses(
  caught: readonly number[], dreamerKnown: readonly number[], known: readonly number[], labels: Int32Array, classes: number,
): number[] {
  const counts = new Map<number, number>();
  for (const y of labels) counts.set(y, (counts.get(y) ?? 0) + 1);
  return caught.filter((c) => !dreamerKnown.includes(c) && known.includes(c) && (counts.get(c) ?? 0) < (0.5 * labels.length) / classes);
}

/** exp(entropy) of a label multiset: how many classes it effectively holds (2 for a 50/50 pair). */
export function effectiveClasses(labels: Int32Array): number {
  const counts = new Map<number, number>();
  for (const y of labels) counts.set(y, (counts.get(y) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) {
    const p = c / labels.length;
    h -= p * Math.log(p);
  }
  return Math.exp(h);
}

/**
 * The synapse-state optimiser of sleep: Adam's direction, viscosity, learning rate, metaplastic attenuation.
 * Without metaplasticity it is `synapseAdam`, the same chain with a fused in-place `step`.
 */
export function sleepOptimizer(
  s: Pick<SleepSettings, 'xi' | 'viscosity' | 'metaplastic' | 'lr'>,
): SynapseOptimizer & Partial<SynapseStepper> {
  if (s.metaplastic === 0) return synapseAdam({ xi: s.xi, c: s.viscosity, lr: s.lr });
  const ts: SynapseTransformation[] = [scaleByAdam()];
  if (s.viscosity > 0) ts.push(viscosity({ c: s.viscosity }));
  ts.push(scaleByLearningRate(s.lr));
  if (s.metaplastic > 0) ts.push(metaplastic({ m: s.metaplastic }));
  return withImportance(onlineImportance({ xi: s.xi }), ...ts);
}

/** An encoder layer as the projection sees it: its weight (and bias) index among the parameters. */
export interface ProjectedLayer {
  weight: number;
  bias: number | null;
  /** Input dimension: fan-in, + 1 with a bias. */
  dim: number;
  out: number;
}

export function encoderLayers(model: Vae): ProjectedLayer[] {
  const params = model.parameters();
  return model.encoder.map((l) => ({
    weight: params.indexOf(l.weight),
    bias: l.bias === null ? null : params.indexOf(l.bias),
    dim: l.inSize + (l.bias === null ? 0 : 1),
    out: l.outSize,
  }));
}

/**
 * GPM's projection as a transformation of the final updates: each listed layer's update (weight and bias
 * stacked as a dim × out matrix) loses its components inside span(M), so inputs in the protected subspace see
 * no change. Placed last, after Adam's per-coordinate scaling, so the applied step is orthogonal.
 */
export function projectOff(layers: readonly ProjectedLayer[], bases: readonly Basis[]): GradientTransformation<Record<string, never>> {
  const largest = Math.max(0, ...layers.map((l) => l.dim * l.out));
  const stacked = new Float32Array(largest);
  const scratch = new Float32Array(largest);
  return {
    init: () => ({}),
    update(updates, state) {
      layers.forEach((l, i) => {
        const basis = bases[i]!;
        if (basis.k === 0) return;
        const uw = updates[l.weight]!;
        if (l.bias === null) {
          projectOut(basis, uw, l.out, scratch);
          return;
        }
        const ub = updates[l.bias]!;
        const g = stacked.subarray(0, uw.length + ub.length);
        g.set(uw);
        g.set(ub, uw.length);
        projectOut(basis, g, l.out, scratch);
        uw.set(g.subarray(0, uw.length));
        ub.set(g.subarray(uw.length));
      });
      return [updates, state];
    },
  };
}

/** Output units each row's loss may use, by the row's class. */
export class Heads {
  constructor(private readonly s: Pick<SleepSettings, 'scenario' | 'numOutputs' | 'classHeads'>, private readonly known: readonly number[]) {}

  of(c: number): readonly number[] {
    if (this.s.scenario === 'class') return this.known;
    if (this.s.scenario === 'task') return this.s.classHeads[c] ?? this.known;
    return Array.from({ length: this.s.numOutputs }, (_, i) => i);
  }

  mask(classes: Int32Array): Uint8Array {
    const K = this.s.numOutputs;
    const m = new Uint8Array(classes.length * K);
    for (let r = 0; r < classes.length; r++) for (const o of this.of(classes[r]!)) m[r * K + o] = 1;
    return m;
  }
}

/** softmax(z/T) within each row's head, zero elsewhere. */
function headSoftTargets(z: Float32Array, mask: Uint8Array, rows: number, K: number, T: number): Float32Array {
  return maskedSoftmax(z, mask, rows, K, T);
}

/** A model that dreams in a sleep: the classes it dreams, and (when not those) the classes its targets cover. */
interface DreamSource {
  model: Vae;
  known: number[];
  labels?: number[];
}

function sleepLoss(
  model: Vae, dreamer: DreamSource | null, recent: DreamSource | null, job: SleepJob, rows: Int32Array, heads: Heads, w: number, rng: Rng,
): Tensor {
  const s = job.settings;
  const d = job.vae.inputSize;
  const K = s.numOutputs;
  const T = s.temperature;
  const n = rows.length;
  // Every row of x and wake is written below: arena buffers, reused from step to step.
  const x = allocateUninitialised(n * d);
  const y = new Int32Array(n);
  const wake = allocateUninitialised(n * K);
  for (let r = 0; r < n; r++) {
    const i = rows[r]!;
    x.set(job.stm.x.subarray(i * d, (i + 1) * d), r * d);
    y[r] = job.stm.y[i]!;
    wake.set(job.wakeLogits.subarray(i * K, (i + 1) * K), r * K);
  }
  const labels = oneHot(y, K);
  const curMask = heads.mask(y);
  const dream = dreamer === null ? null : dreamBatch(dreamer, recent, s, heads, rng);
  const total = dream === null ? n : n + dream.rows;
  const xCur = Tensor.from(x, [n, d]);
  const input = dream === null ? xCur : concatRows([xCur, Tensor.from(dream.x, [dream.rows, d])]);
  let gate: Float32Array | null = null;
  if (model.config.gates !== null) {
    gate = new Float32Array(total * K);
    gate.set(labels);
    if (dream !== null) gate.set(dream.probs, n * K);
  }
  const pass = model.forward(input, rng, gate);
  const logits = model.classify(pass.hidden);
  const cur = dream === null ? pass : slicePass(pass, 0, n);
  const curLogits = maskLogits(dream === null ? logits : sliceRows(logits, 0, n), curMask);
  let current = add(add(model.reconstructionLoss(cur, xCur), model.variationalLoss(cur, labels)), crossEntropy(curLogits, y));
  if (s.fastDistill > 0) {
    const targets = Tensor.from(headSoftTargets(wake, curMask, n, K, T), [n, K]);
    current = add(current, scale(softCrossEntropy(curLogits, targets, T), s.fastDistill * T * T));
  }
  if (dream === null) return current;
  const rep = slicePass(pass, n, total);
  const repLogits = maskLogits(sliceRows(logits, n, total), dream.mask);
  const kd = scale(softCrossEntropy(repLogits, Tensor.from(dream.probs, [dream.rows, K]), T), T * T);
  let replay = add(add(model.reconstructionLoss(rep, Tensor.from(dream.x, [dream.rows, d])), model.variationalLoss(rep, dream.probs)), kd);
  if (s.dreamFeatures > 0) {
    const h = sliceRows(pass.hidden, n, total);
    replay = add(replay, scale(mse(h, Tensor.from(dream.features, h.shape)), s.dreamFeatures * h.shape[1]!));
  }
  return add(scale(current, w), scale(replay, 1 - w));
}

type Dreams = ReturnType<typeof drawDreams>;

/**
 * A sleep iteration's dreams: the dreamer's, and with recent classes a share of the batch by their number dreamt
 * by θ_S as the sleep started (at least one row).
 */
function dreamBatch(dreamer: DreamSource, recent: DreamSource | null, s: SleepSettings, heads: Heads, rng: Rng): Dreams {
  const opts = { targets: s.dreamTargets, spread: s.dreamSpread, pixels: s.dreamPixels };
  if (recent === null) return drawDreams(dreamer.model, s.dreamBatch, heads, dreamer.known, s.temperature, rng, opts);
  const n = Math.max(1, Math.round((s.dreamBatch * recent.known.length) / (recent.known.length + dreamer.known.length)));
  const old = drawDreams(dreamer.model, s.dreamBatch - n, heads, dreamer.known, s.temperature, rng, opts);
  const fresh = drawDreams(recent.model, n, heads, recent.known, s.temperature, rng, { ...opts, labels: recent.labels ?? recent.known });
  // The float rows come from the step's arena (a sleep step allocates nothing the garbage collector must chase).
  const join = (a: Float32Array, b: Float32Array): Float32Array => {
    const out = allocateUninitialised(a.length + b.length);
    out.set(a);
    out.set(b, a.length);
    return out;
  };
  const mask = new Uint8Array(old.mask.length + fresh.mask.length);
  mask.set(old.mask);
  mask.set(fresh.mask, old.mask.length);
  return {
    x: join(old.x, fresh.x), rows: old.rows + fresh.rows, probs: join(old.probs, fresh.probs), mask,
    features: join(old.features, fresh.features),
  };
}

/**
 * Dreams of the frozen pre-sleep model: classes drawn uniformly among those it had consolidated, inputs from
 * the class's prior mode (standard deviations × `spread`) through the (gated) decoder, each pixel then drawn
 * from its Bernoulli (`pixels=sample`; `mean` keeps the decoder's probabilities), labelled with its
 * softened predictions within the head. `targets=dreamer` gives the classes outside `labels` (by default the
 * dreamt classes, all the dreamer ever learnt) no mass (as BI-R's zero-padded targets): the sleeping model learns that a dream of an old class is not a newer one,
 * which the dreamer's untrained output units cannot teach. Also returns the dreamer's last hidden layer on the
 * dreams (the features λ_h holds the sleeping model to).
 */
export function drawDreams(
  dreamer: Vae, n: number, heads: Heads, known: readonly number[], T: number, rng: Rng,
  { targets, spread, pixels, labels = known }: {
    targets: SleepSettings['dreamTargets']; spread: number; pixels: SleepSettings['dreamPixels']; labels?: readonly number[];
  },
): { x: Float32Array; rows: number; probs: Float32Array; mask: Uint8Array; features: Float32Array } {
  const K = dreamer.config.classes;
  const probs0 = new Array<number>(dreamer.config.modes).fill(0);
  for (const c of known) probs0[c] = 1;
  const { x, classes } = dreamer.sample(n, rng, probs0, null, spread);
  if (pixels === 'sample') for (let i = 0; i < x.length; i++) x[i] = rng.uniform() < x[i]! ? 1 : 0;
  const mask = heads.mask(classes!);
  let targetMask = mask;
  if (targets === 'dreamer') {
    const knew = rowMask(labels, n, K);
    targetMask = mask.map((m, i) => m & knew[i]!);
  }
  const [h, z] = noGrad(() => {
    const features = dreamer.features(Tensor.from(x, [n, dreamer.config.inputSize]));
    return [features.data, dreamer.classify(features).data];
  });
  return { x, rows: n, probs: headSoftTargets(z, targetMask, n, K, T), mask, features: h };
}

/** Grow each encoder layer's basis from its inputs on dreams of every known class (no stored data). */
function dreamBases(model: Vae, layers: ProjectedLayer[], bases: Basis[], known: number[], s: SleepSettings, rng: Rng): Basis[] {
  const per = s.projectionDreams;
  const n = per * known.length;
  const probs = new Array<number>(model.config.modes).fill(0);
  for (const c of known) probs[c] = 1;
  const { x } = model.sample(n, rng, probs);
  const inputs: Float32Array[] = [x];
  noGrad(() => {
    let h = Tensor.from(x, [n, model.config.inputSize]);
    for (let l = 0; l + 1 < model.encoder.length; l++) {
      h = model.encoder[l]!.forward(h);
      const a = new Float32Array(h.size);
      getBackend().unary('relu', h.data, a);
      inputs.push(a);
      h = Tensor.from(a, h.shape);
    }
  });
  return layers.map((l, i) => {
    const fanIn = l.bias === null ? l.dim : l.dim - 1;
    const a = inputs[i]!;
    const aug = l.bias === null ? a : new Float32Array(n * l.dim);
    if (l.bias !== null) {
      for (let r = 0; r < n; r++) {
        aug.set(a.subarray(r * fanIn, (r + 1) * fanIn), r * l.dim);
        aug[r * l.dim + fanIn] = 1;
      }
    }
    const gram = new Float32Array(l.dim * l.dim);
    accumulateGram(gram, aug, n, l.dim);
    return updateBasis(bases[i]!, gram, s.projectionThreshold).basis;
  });
}
