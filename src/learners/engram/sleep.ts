import {
  add, allocateUninitialised, backward, BufferArena, concatRows, crossEntropy, maskLogits, mse, noGrad, Rng, scale, sliceRows, softCrossEntropy, Tensor,
  withArena, zeroGrad,
} from '../../core/index.js';
import { oneHot, slicePass, Vae, type VaeConfig } from '../../generative/index.js';
import { adam, applyUpdates, type State } from '../../optim/index.js';
import type { Scenario } from '../../protocols/types.js';
import { maskedSoftmax, rowMask } from '../heads/index.js';

/** Distillation temperature for dreams and for the memory rows' pre-sleep predictions. */
export const TEMPERATURE = 2;
/** Dreams draw z from their class's prior mode with its standard deviations times this (reaching past the typical sample). */
export const DREAM_SPREAD = 1.25;

/** How one sleep consolidates (plain data: a sleep may run in a worker thread). */
export interface SleepSettings {
  scenario: Scenario;
  numOutputs: number;
  /** Task-IL: the outputs of each class's context (its head); unused otherwise. */
  classHeads: number[][];
  /** Rows drawn from the short-term memory per iteration, and dreams per iteration (`sleepBatch`). */
  batch: number;
  /** Passes over the short-term memory. */
  epochs: number;
  /** At least this many iterations (sleep pressure: wake batches since the last sleep × `sleepPressure`). */
  minIterations: number;
  lr: number;
  /** λ_h: weight of matching the dreamer's last hidden layer on dreams (squared distance summed over units). */
  dreamFeatures: number;
  dreams: boolean;
}

/** Everything a sleep reads: the slow weights, Adam's state, the short-term memory and θ_S's logits on it. */
export interface SleepJob {
  vae: VaeConfig;
  params: Float32Array[];
  gateMasks: Float32Array[];
  /** Adam's state (step and moments), carried from sleep to sleep; null before the first sleep. */
  optState: State | null;
  stm: { x: Float32Array; y: Int32Array; n: number };
  /** θ_S's logits on each memory row as the sleep starts: what it already made of them, to keep (as LwF does). */
  stmLogits: Float32Array;
  /** Classes the slow weights had consolidated before this sleep. */
  known: number[];
  /** A frozen earlier θ_S that dreams, with the classes it knew; null: θ_S as the sleep starts dreams. */
  dreamer: { params: Float32Array[]; known: number[] } | null;
  rng: number[];
  settings: SleepSettings;
}

export interface SleepOutcome {
  params: Float32Array[];
  optState: State;
  known: number[];
  rng: number[];
  iterations: number;
  /** Mean sleep loss over the iterations. */
  loss: number;
}

/**
 * Memory rows (and as many dreams) per sleep iteration: half the stream's batch, so that a sleep step costs one
 * wake batch of rows. Halving it from the whole batch at the same iteration count left validation accuracy
 * where it was (MNIST −0.3, Fashion-MNIST +0.4 points) and cut the sleep's time by about 40 %.
 */
export function sleepBatch(streamBatch: number): number {
  return Math.max(1, Math.ceil(streamBatch / 2));
}

/** Iterations a sleep runs: ⌈epochs·|STM| / batch⌉, raised to `minIterations` (sleep pressure), at least one. */
export function sleepIterations(n: number, s: { epochs: number; batch: number; minIterations?: number }): number {
  return Math.max(1, Math.ceil((s.epochs * n) / s.batch), s.minIterations ?? 0);
}

/**
 * One sleep (DESIGN §1, P3): the slow weights θ_S learn the short-term memory (its labels, and θ_S's own
 * pre-sleep prediction on its rows by distillation) together with dreams of old knowledge — inputs the frozen
 * pre-sleep model generates from its class-conditional pathway, labelled with its own soft targets — with Adam,
 * its moments carried from sleep to sleep. The loss per
 * iteration, with w the share of the known classes the memory holds (class-IL: its label perplexity over the
 * number of known classes, BI-R's 1/t without contexts, so that a trickle of old samples does not silence the
 * dreams; ½ otherwise):
 *
 *   w·[recon + variational + CE + T²·KD(pre-sleep θ_S ‖ θ_S)](memory)
 *     + (1 − w)·[recon + variational + T²·KD(dreamer ‖ θ_S) + λ_h·‖h_S − h_dreamer‖²](dreams)
 *
 * h being the encoder's last hidden layer (the classifier's features).
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
  let optState = (job.optState ?? opt.init(data)) as ReturnType<typeof opt.init>;

  const { stm } = job;
  const memoryClasses = [...new Set(stm.y)].sort((a, b) => a - b);
  const known = [...new Set([...job.known, ...memoryClasses])].sort((a, b) => a - b);
  const heads = new Heads(s, known);
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
      const loss = sleepLoss(model, dreamer, job, rows, heads, w, rng);
      backward(loss);
      const grads = params.map((p) => p.grad ?? new Float32Array(p.size));
      let updates: Float32Array[];
      [updates, optState] = opt.update(grads, optState, data);
      applyUpdates(data, updates);
      return loss.item();
    });
  }
  return {
    params: params.map((p) => p.data.slice()),
    optState,
    known,
    rng: rng.getState(),
    iterations,
    loss: total / iterations,
  };
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

/** The optimiser of sleep: Adam at the sleep's learning rate. */
export function sleepOptimizer(s: Pick<SleepSettings, 'lr'>): ReturnType<typeof adam> {
  return adam(s.lr);
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

/** A model that dreams in a sleep, with the classes it dreams. */
interface DreamSource {
  model: Vae;
  known: number[];
}

function sleepLoss(
  model: Vae, dreamer: DreamSource | null, job: SleepJob, rows: Int32Array, heads: Heads, w: number, rng: Rng,
): Tensor {
  const s = job.settings;
  const d = job.vae.inputSize;
  const K = s.numOutputs;
  const T = TEMPERATURE;
  const n = rows.length;
  // Every row of x and wake is written below: arena buffers, reused from step to step.
  const x = allocateUninitialised(n * d);
  const y = new Int32Array(n);
  const wake = allocateUninitialised(n * K);
  for (let r = 0; r < n; r++) {
    const i = rows[r]!;
    x.set(job.stm.x.subarray(i * d, (i + 1) * d), r * d);
    y[r] = job.stm.y[i]!;
    wake.set(job.stmLogits.subarray(i * K, (i + 1) * K), r * K);
  }
  const labels = oneHot(y, K);
  const curMask = heads.mask(y);
  const dream = dreamer === null ? null : drawDreams(dreamer.model, s.batch, heads, dreamer.known, rng);
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
  // θ_S's pre-sleep prediction on the memory's rows, distilled back: what it made of them is not overwritten wholesale.
  const targets = Tensor.from(maskedSoftmax(wake, curMask, n, K, T), [n, K]);
  current = add(current, scale(softCrossEntropy(curLogits, targets, T), T * T));
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

/**
 * Dreams of the frozen pre-sleep model: classes drawn uniformly among those it had consolidated, inputs from
 * the class's prior mode (standard deviations × `DREAM_SPREAD`) through the (gated) decoder, each pixel then
 * drawn from its Bernoulli (binary images, as real digits nearly are: with the decoder's grey means, every old
 * class would look smooth and every new one crisp, a cue the sleeping model learns), labelled with the dreamer's
 * softened predictions within the head over the dreamt classes; newer classes get no
 * mass (as BI-R's zero-padded targets), so the sleeping model learns that a dream of an old class is not a
 * newer one, which the dreamer's untrained output units cannot teach. Also returns the dreamer's last hidden
 * layer on the dreams (the features λ_h holds the sleeping model to).
 */
export function drawDreams(
  dreamer: Vae, n: number, heads: Heads, known: readonly number[], rng: Rng,
): { x: Float32Array; rows: number; probs: Float32Array; mask: Uint8Array; features: Float32Array } {
  const K = dreamer.config.classes;
  const probs0 = new Array<number>(dreamer.config.modes).fill(0);
  for (const c of known) probs0[c] = 1;
  const { x, classes } = dreamer.sample(n, rng, probs0, null, DREAM_SPREAD);
  for (let i = 0; i < x.length; i++) x[i] = rng.uniform() < x[i]! ? 1 : 0;
  const mask = heads.mask(classes!);
  const knew = rowMask(known, n, K);
  const targetMask = mask.map((m, i) => m & knew[i]!);
  const [h, z] = noGrad(() => {
    const features = dreamer.features(Tensor.from(x, [n, dreamer.config.inputSize]));
    return [features.data, dreamer.classify(features).data];
  });
  return { x, rows: n, probs: maskedSoftmax(z, targetMask, n, K, TEMPERATURE), mask, features: h };
}
