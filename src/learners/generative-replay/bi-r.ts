import { z } from 'zod';
import {
  add, backward, BufferArena, concatRows, crossEntropy, maskLogits, noGrad, Rng, scale, sliceRows, Tensor, withArena,
  zeroGrad,
} from '../../core/index.js';
import { biRGateProportion, oneHot, slicePass, Vae } from '../../generative/index.js';
import { adam, optimizerStep, type GradientTransformation, type State } from '../../optim/index.js';
import type { Batch } from '../../protocols/types.js';
import { argmaxRows } from '../../nn/index.js';
import { namedParams, restoreNamedParams, type Learner, type LearnerSetup, type LearnerState, type LearnerTraits } from '../learner.js';
import { contextMask, headsFromState, headsToState, KnownOutputs, softTargets, type ReplayHead } from '../heads/index.js';
import { replayLoss } from '../distillation/replay-loss.js';
import { parseMethodOptions, positive, positiveInt, refuseOutsideTaskFree, type OptionContext, type ReportedOptions } from '../method-options.js';
import { TASK_FREE_UPDATE_EVERY } from '../task-free.js';

/**
 * BI-R's `--set` options: `temperature` of the distillation (options.py `--temp`, default 2.); `zDim`, the
 * latent size (options.py `--z-dim`, default 100); `gateProportion`, the share of decoder units each gate
 * switches off (`dg_prop`; default {@link biRGateProportion}); `snapshotEvery`, task-free streams only:
 * iterations between teacher snapshots (default {@link TASK_FREE_UPDATE_EVERY}).
 */
export const biROptionsSchema = z.object({
  temperature: positive().default(2),
  zDim: positiveInt().default(100),
  gateProportion: z.number({ error: 'must be a number' }).min(0, 'must be ≥ 0').lt(1, 'must be below 1').optional(),
  snapshotEvery: positiveInt().default(TASK_FREE_UPDATE_EVERY),
}).strict();

export type BiROptions = z.input<typeof biROptionsSchema>;

/** BI-R's options with every default decided (`snapshotEvery` in task-free streams only). */
export type BiRResolvedOptions = {
  temperature: number;
  zDim: number;
  gateProportion: number;
  snapshotEvery?: number;
};

/**
 * BI-R's options validated, with every default decided for `ctx`.
 *
 * @example
 * resolveBiROptions({}, { protocol: 'split-mnist', scenario: 'class', stream: 'boundaries', hidden: [400, 400] });
 * // { temperature: 2, zDim: 100, gateProportion: 0.1 }
 */
export function resolveBiROptions(given: Readonly<Record<string, unknown>>, ctx: OptionContext): BiRResolvedOptions {
  const o = parseMethodOptions('bi-r', biROptionsSchema, given);
  refuseOutsideTaskFree('bi-r', given, ctx, 'snapshotEvery');
  return {
    temperature: o.temperature,
    zDim: o.zDim,
    gateProportion: o.gateProportion ?? biRGateProportion(ctx.protocol, ctx.scenario),
    ...(ctx.stream === 'task-free' ? { snapshotEvery: o.snapshotEvery } : {}),
  };
}

/**
 * Brain-inspired replay (van de Ven, Siegelmann & Tolias 2020; `--brain-inspired` in GMvandeVen/continual-
 * learning, `models/cond_vae.py` and `train/train_task_based.py`). One network is classifier and generator:
 *
 * - replay through feedback: the VAE's encoder is the classifier's hidden layers, the classifier a head on them;
 * - conditional replay: a learned mixture prior with one mode per class; current samples are pulled to their
 *   class's mode, replayed samples to the teacher's class probabilities over the modes;
 * - gating: each decoder hidden layer has a fixed random mask per class (per context in domain-IL) switching
 *   off `dg_prop` of its units, selected by the label (current data) or the teacher's softened prediction
 *   (replay); with dg_prop 0 there are no gates;
 * - distillation: replayed samples carry the teacher's soft targets (T = 2);
 * - internal replay (of the frozen convolutional layers' output) does not apply: this MLP has none, as in the
 *   reference's MNIST protocols.
 *
 * Loss per step: (1/t)·[recon + variational + CE](current) + (1 − 1/t)·[recon + variational + T²·KD](replay),
 * reconstruction and variational terms per pixel; one Adam optimiser for everything. Each context end (every
 * `snapshotEvery` iterations in task-free streams) freezes a copy as the teacher. Stores no raw data.
 */
export class BiRLearner implements Learner {
  readonly method = 'bi-r';
  readonly traits: LearnerTraits = { storesRawSamples: false, cumulativeStream: false };
  readonly model: Vae;
  readonly rng: Rng;
  private readonly opt: GradientTransformation;
  private optState: State;
  private teacher: { model: Vae; heads: ReplayHead[] } | null = null;
  private readonly known: KnownOutputs;
  private snapshots = 0;
  private steps = 0;
  private readonly options: BiRResolvedOptions;
  private readonly temperature: number;
  /** Task-free streams: iterations between teacher snapshots (null: at boundaries). */
  private readonly snapshotEvery: number | null;
  /** Gates select by context in domain-IL (the label says nothing about the context there), else by class. */
  private readonly gateByContext: boolean;
  /** Op buffers recycled from step to step (core/arena.ts). */
  private readonly arena = new BufferArena();

  constructor(readonly setup: LearnerSetup, opts: BiROptions = {}) {
    this.rng = new Rng(setup.seed);
    this.options = resolveBiROptions(opts, setup);
    this.temperature = this.options.temperature;
    this.snapshotEvery = this.options.snapshotEvery ?? null;
    const proportion = this.options.gateProportion;
    this.gateByContext = setup.scenario === 'domain';
    const gateCount = this.gateByContext ? setup.numContexts : setup.numOutputs;
    this.model = new Vae({
      inputSize: setup.inputSize, hidden: setup.hidden, zDim: this.options.zDim, classes: setup.numOutputs,
      prior: 'mixture', modes: setup.numOutputs, gates: proportion > 0 ? { count: gateCount, proportion } : null,
    }, this.rng);
    this.opt = adam(setup.lr);
    this.optState = this.opt.init(this.model.parameters().map((p) => p.data));
    this.known = new KnownOutputs(setup.scenario, setup.numOutputs, setup.activeOutputs);
  }

  private get currentWeight(): number {
    return 1 / (this.snapshots + 1);
  }

  observe(batch: Batch): number {
    return withArena(this.arena, () => this.train(batch));
  }

  private train(batch: Batch): number {
    this.known.see(batch);
    const params = this.model.parameters();
    zeroGrad(params);
    const loss = this.loss(batch);
    backward(loss);
    this.optState = optimizerStep(this.opt, this.optState, params)[1];
    this.steps++;
    if (this.snapshotEvery !== null && this.steps % this.snapshotEvery === 0) this.snapshot();
    return loss.item();
  }

  private loss(batch: Batch): Tensor {
    const m = this.model;
    const n = batch.size;
    const d = this.setup.inputSize;
    const K = this.setup.numOutputs;
    const x = Tensor.from(batch.x, [n, d]);
    const labels = oneHot(batch.y, K);
    const replay = this.teacher === null ? null : this.dream(n);
    const rows = replay === null ? n : n + replay.rows;
    const input = replay === null ? x : concatRows([x, Tensor.from(replay.x, [replay.rows, d])]);
    // Gate inputs and mode weights for current rows (labels) and replayed rows (teacher's soft predictions).
    const gate = this.gateInput(batch, labels, replay);
    const pass = m.forward(input, this.rng, gate);
    const cur = replay === null ? pass : slicePass(pass, 0, n);
    const logits = m.classify(pass.hidden);
    const curLogits = this.known.maskCurrent(sliceRows(logits, 0, n), batch);
    const current = add(add(m.reconstructionLoss(cur, x), m.variationalLoss(cur, labels)), crossEntropy(curLogits, batch.y));
    if (replay === null) return current;
    const rep = slicePass(pass, n, rows);
    const repX = Tensor.from(replay.x, [replay.rows, d]);
    let replayTerm = add(m.reconstructionLoss(rep, repX), m.variationalLoss(rep, replay.probs));
    // Distillation per head, on that head's rows.
    const repLogits = sliceRows(logits, n, rows);
    let kd: Tensor | null = null;
    for (const [h, head] of replay.heads.entries()) {
      const [a, b] = replay.headRows[h]!;
      const term = replayLoss(sliceRows(repLogits, a, b), replay.teacherLogits.subarray(a * K, b * K), [head], true, this.temperature);
      kd = kd === null ? term : add(kd, term);
    }
    replayTerm = add(replayTerm, replay.heads.length === 1 ? kd! : scale(kd!, 1 / replay.heads.length));
    const w = this.currentWeight;
    return add(scale(current, w), scale(replayTerm, 1 - w));
  }

  /**
   * Dreams of the teacher: per head (one outside task-IL), inputs generated from the modes of the head's
   * classes (uniformly), with the teacher's logits and softened class probabilities over the head.
   */
  private dream(n: number): {
    x: Float32Array; rows: number; teacherLogits: Float32Array; probs: Float32Array; heads: ReplayHead[];
    headRows: [number, number][]; contexts: Int32Array;
  } {
    const t = this.teacher!;
    const heads = this.known.widen(t.heads);
    const K = this.setup.numOutputs;
    const d = this.setup.inputSize;
    const per = Math.ceil(n / heads.length);
    const parts: Float32Array[] = [];
    const headRows: [number, number][] = [];
    const contexts = new Int32Array(per * heads.length);
    const gates = t.model.config.gates;
    let rows = 0;
    for (const head of heads) {
      const probs = new Array<number>(K).fill(0);
      for (const c of head.teacher) probs[c] = 1;
      // Domain-IL: the modes are the shared labels (every one allowed), and each dream is gated by a context
      // drawn among the earlier ones (the reference's `allowed_domains`).
      let gate: Float32Array | null = null;
      if (this.gateByContext && gates !== null) {
        for (let r = rows; r < rows + per; r++) contexts[r] = this.rng.int(this.snapshots);
        gate = oneHot(contexts.subarray(rows, rows + per), gates.count);
      }
      const { x } = t.model.sample(per, this.rng, this.gateByContext ? null : probs, gate);
      parts.push(x);
      headRows.push([rows, rows + per]);
      rows += per;
    }
    const x = new Float32Array(rows * d);
    parts.forEach((p, i) => x.set(p, i * per * d));
    const teacherLogits = noGrad(() => t.model.classify(t.model.features(Tensor.from(x, [rows, d])))).data;
    const probs = new Float32Array(rows * K);
    heads.forEach((head, h) => {
      const [a, b] = headRows[h]!;
      probs.set(softTargets(teacherLogits.subarray(a * K, b * K), head.teacher, b - a, K, this.temperature), a * K);
    });
    return { x, rows, teacherLogits, probs, heads, headRows, contexts };
  }

  /** The decoder's gate input per row: labels / soft predictions (class gates) or contexts (context gates). */
  private gateInput(batch: Batch, labels: Float32Array, replay: ReturnType<BiRLearner['dream']> | null): Float32Array | null {
    const gates = this.model.config.gates;
    if (gates === null) return null;
    let cur: Float32Array;
    let rep: Float32Array | null = null;
    if (this.gateByContext) {
      const ctx = batch.contexts ?? new Int32Array(batch.size).fill(Math.min(this.snapshots, gates.count - 1));
      cur = oneHot(ctx, gates.count);
      if (replay !== null) rep = oneHot(replay.contexts, gates.count);
    } else {
      cur = labels;
      if (replay !== null) rep = replay.probs;
    }
    if (rep === null) return cur;
    const out = new Float32Array(cur.length + rep.length);
    out.set(cur);
    out.set(rep, cur.length);
    return out;
  }

  predict(x: Float32Array, n: number, contexts: Int32Array | null): Int32Array {
    const K = this.setup.numOutputs;
    let logits = noGrad(() => this.model.classify(this.model.features(Tensor.from(x, [n, this.setup.inputSize]))));
    if (contexts !== null && this.setup.scenario === 'task') logits = maskLogits(logits, contextMask(contexts, K, this.setup.activeOutputs));
    return argmaxRows(logits.data, n, K);
  }

  onBoundary(): void {
    this.snapshot();
  }

  private snapshot(): void {
    this.teacher = { model: this.model.clone(), heads: this.known.heads() };
    this.snapshots++;
  }

  resolvedOptions(): ReportedOptions {
    return { ...this.options };
  }

  storedRawSamples(): number {
    return 0;
  }

  parameterCount(): number {
    return this.model.parameterCount();
  }

  getState(): LearnerState {
    const params = namedParams(this.model.parameterNames(), this.model.parameters());
    return {
      method: this.method, params, optimizer: this.optState, rng: this.rng.getState(),
      extra: {
        gateMasks: this.model.gateMasks,
        teacher: this.teacher === null ? {} : {
          params: this.teacher.model.parameters().map((p) => p.data),
          heads: headsToState(this.teacher.heads),
        },
        known: this.known.getState(),
        snapshots: this.snapshots,
        steps: this.steps,
      },
    };
  }

  setState(state: LearnerState): void {
    restoreNamedParams(this.model.parameterNames(), this.model.parameters(), state.params);
    this.optState = state.optimizer;
    this.rng.setState(state.rng);
    const e = state.extra as {
      gateMasks: Float32Array[]; known: { classes: Float32Array; contexts: Float32Array }; snapshots: number; steps: number;
      teacher: { params?: Float32Array[]; heads?: Float32Array[] };
    };
    this.model.gateMasks.forEach((m, i) => m.set(e.gateMasks[i]!));
    this.known.setState(e.known);
    this.snapshots = e.snapshots;
    this.steps = e.steps;
    if (e.teacher.params !== undefined) {
      this.teacher = { model: this.model.clone(e.teacher.params), heads: headsFromState(e.teacher.heads!) };
    } else {
      this.teacher = null;
    }
  }
}
