import { z } from 'zod';
import { BufferArena, maskLogits, noGrad, Rng, Tensor, withArena } from '../../core/index.js';
import { biRGateProportion, StreamingLda, Vae } from '../../generative/index.js';
import { getBackend } from '../../kernels/index.js';
import type { State } from '../../optim/index.js';
import type { Batch } from '../../protocols/types.js';
import { argmaxRows } from '../../nn/index.js';
import { contextMask, KnownOutputs, rowMask } from '../heads/index.js';
import { namedParams, restoreNamedParams, type Learner, type LearnerSetup, type LearnerState, type LearnerTraits } from '../learner.js';
import { parseEngramOptions, type EngramOptions } from './options.js';
import { ShortTermMemory } from './short-term-memory.js';
import { afterSleep, afterWakeBatch, initialPolicy, planSleep, type PolicyState, type SleepPlan } from './policy.js';
import { Heads, runSleep, sleepBatch, sleepIterations, type SleepJob, type SleepOutcome, type SleepSettings } from './sleep.js';
import { SleepWorker } from './sleep-worker-client.js';
import { SurpriseMonitor } from './surprise.js';

/** One sleep as recorded in the result: when, on how many memory samples, how long and how well. */
export interface SleepRecord {
  batch: number;
  samples: number;
  iterations: number;
  loss: number;
  /** Share of the wake samples before this sleep that θ_S found surprising (NLL above `admitNll`). */
  surprisingShare: number;
  /** Whether a new dreamer was taken at this sleep (see `policy.ts`). */
  dreamerRefreshed: boolean;
  /** The statistical memory's temperature τ as the sleep starts (1 without it). */
  ldaTemperature: number;
}

/**
 * The Engram learner (DESIGN §1): wake and sleep.
 *
 * Wake, per batch: predictions come from the slow weights θ_S fused with the statistical memory (`lda`); the
 * surprise monitor scores each sample by its NLL under θ_S; samples θ_S does not explain yet (NLL > `admitNll`,
 * plus a trickle of the rest) enter the bounded short-term memory; the statistical memory learns the batch at
 * once. θ_S never changes while awake.
 *
 * Sleep, when the memory is full or on a schedule (never on a boundary signal): θ_S consolidates the memory
 * together with dreams of old knowledge from its own class-conditional generative pathway (`sleep.ts`), with
 * Adam. Then the memory is erased. With `asyncSleep` the consolidation runs in a worker thread: `predict` keeps
 * answering from the old θ_S, batches that arrive meanwhile are held and learned when the new θ_S is swapped in.
 */
export class EngramLearner implements Learner {
  readonly method = 'engram';
  readonly traits: LearnerTraits = { storesRawSamples: true, cumulativeStream: false };
  readonly options: EngramOptions;
  readonly model: Vae;
  readonly memory: ShortTermMemory;
  /** Surprise of the classifier: the NLL of each label under θ_S. */
  readonly surprise = new SurpriseMonitor();
  /** The statistical memory (`lda`), with the temperature that calibrates its posterior (learnt prequentially). */
  readonly lda: StreamingLda | null;
  readonly sleeps: SleepRecord[] = [];
  private readonly rng: Rng;
  /** Op buffers of a wake step, reused from batch to batch (nothing a wake step computes outlives it). */
  private readonly wakeArena = new BufferArena();
  /** Outputs met while awake (the outputs in play in class-IL). */
  private readonly wakeKnown: KnownOutputs;
  /** Classes θ_S has consolidated. */
  private known: number[] = [];
  private optState: State | null = null;
  /** The frozen θ_S that dreams between refreshes (see `dreamerRefresh`), with the classes it knew. */
  private dreamer: Snapshot | null = null;
  /** θ_S after the latest quiet (or calm) sleep, promoted to dreamer when the next episode begins (`policy.ts`). */
  private quietModel: Snapshot | null = null;
  private policy: PolicyState;
  private batches = 0;
  /** Wake batches since the last sleep (sleep pressure). */
  private sinceSleep = 0;
  private readonly classHeads: number[][];
  /** Batches that arrived during an asynchronous sleep, learned when it ends. */
  private readonly held: Batch[] = [];
  private inFlight: Promise<void> | null = null;
  private worker: SleepWorker | null = null;
  private sleepError: Error | null = null;

  /**
   * `runtime.asyncSleep`: consolidate in a worker thread (the learner keeps answering meanwhile) instead of on the
   * caller's thread; a property of how the learner is run, not of what it learns.
   */
  constructor(readonly setup: LearnerSetup, options: Record<string, unknown> = {}, readonly runtime: { asyncSleep?: boolean } = {}) {
    this.options = parseEngramOptions(options);
    const o = this.options;
    this.rng = new Rng(setup.seed);
    const proportion = setup.scenario === 'class' ? biRGateProportion(setup.protocol, setup.scenario) : 0;
    this.model = new Vae({
      inputSize: setup.inputSize, hidden: setup.hidden, zDim: Z_DIM, classes: setup.numOutputs,
      prior: 'mixture', modes: setup.numOutputs, gates: proportion > 0 ? { count: setup.numOutputs, proportion } : null,
    }, this.rng);
    this.memory = new ShortTermMemory(o.stmCapacity, setup.inputSize);
    this.policy = initialPolicy();
    this.lda = o.lda ? new StreamingLda(setup.inputSize, setup.numOutputs, { count: LDA_FEATURES, seed: this.rng.int(2 ** 31) }) : null;
    this.wakeKnown = new KnownOutputs(setup.scenario, setup.numOutputs, setup.activeOutputs);
    this.classHeads = Array.from({ length: setup.numOutputs }, () => [] as number[]);
    for (let c = 0; c < setup.numContexts; c++) {
      const outs = setup.activeOutputs(c);
      if (outs !== null) for (const k of outs) this.classHeads[k] = outs;
    }
  }

  /**
   * Wake: score surprise, admit to memory, learn the statistical memory; sleep when the policy says. Returns the
   * batch's mean NLL under θ_S before anything was learnt from it (the prequential loss).
   */
  observe(batch: Batch): number {
    if (this.sleepError !== null) {
      const e = this.sleepError;
      this.sleepError = null;
      throw e;
    }
    if (this.inFlight !== null) {
      this.held.push(copyBatch(batch));
      return Number.NaN;
    }
    const loss = withArena(this.wakeArena, () => this.wake(batch));
    if (this.shouldSleep()) this.sleep();
    return loss;
  }

  private wake(batch: Batch): number {
    const n = batch.size;
    const K = this.setup.numOutputs;
    this.wakeKnown.see(batch);
    this.batches++;
    this.sinceSleep++;
    const slow = noGrad(() => this.model.classify(this.model.features(Tensor.from(batch.x, [n, this.setup.inputSize]))));
    // Surprise: NLL of each label under the slow weights, over the outputs in play (class-IL: the classes met
    // so far, a new one included; task-IL: the row's head).
    const mask = this.wakeMask(batch);
    const z = mask === null ? slow : maskLogits(slow, mask);
    const logp = new Float32Array(n * K);
    getBackend().logSoftmax(z.data, n, K, logp);
    const nll = new Float32Array(n);
    const surprising = new Uint8Array(n);
    const o = this.options;
    for (let r = 0; r < n; r++) {
      nll[r] = -logp[r * K + batch.y[r]!]!;
      if (nll[r]! > o.admitNll) surprising[r] = 1;
    }
    this.policy = afterWakeBatch(this.policy, surprising);
    this.surprise.observe(nll);
    for (let r = 0; r < n; r++) {
      if (this.memory.full) break;
      if (surprising[r] === 1 || this.rng.uniform() < o.admitRate) this.memory.add(batch.x, r, batch.y[r]!);
    }
    this.lda?.observe(batch.x, batch.y, n, mask);
    let total = 0;
    for (let r = 0; r < n; r++) total += nll[r]!;
    return total / n;
  }

  private wakeMask(batch: Batch): Uint8Array | null {
    const K = this.setup.numOutputs;
    if (this.setup.scenario === 'class') return rowMask(this.wakeKnown.studentOutputs(), batch.size, K);
    if (this.setup.scenario === 'task' && batch.contexts !== null) return contextMask(batch.contexts, K, this.setup.activeOutputs);
    return null;
  }

  /** Sleep when the short-term memory is full. */
  shouldSleep(): boolean {
    return this.memory.full;
  }

  /** Consolidate now, on this thread (or, with `asyncSleep`, start it in a worker and return). */
  sleep(): void {
    if (this.memory.size === 0 || this.inFlight !== null) return;
    const job = this.sleepJob();
    if (this.runtime.asyncSleep === true) {
      // A failed background sleep surfaces at the next observe, not as an unhandled rejection.
      this.sleepAsync(job).catch((e: unknown) => {
        this.sleepError = e instanceof Error ? e : new Error(String(e));
      });
      return;
    }
    this.finishSleep(runSleep(job), job);
  }

  /**
   * Consolidate in a worker thread. Until it resolves, `predict` answers from the old θ_S (and the
   * statistical memory), and `observe` holds what arrives; then the new θ_S is swapped in at once and the held batches are learned.
   */
  sleepAsync(job: PlannedSleep = this.sleepJob()): Promise<void> {
    if (this.inFlight !== null) return this.inFlight;
    this.worker ??= new SleepWorker();
    this.inFlight = this.worker.run(job).then((outcome) => {
      this.inFlight = null;
      this.finishSleep(outcome, job);
      const held = this.held.splice(0);
      for (const b of held) this.observe(b);
    }, (err: unknown) => {
      this.inFlight = null;
      throw err;
    });
    return this.inFlight;
  }

  /** A sleep in progress (asynchronous), if any. */
  get sleeping(): Promise<void> | null {
    return this.inFlight;
  }

  private sleepJob(): PlannedSleep {
    const o = this.options;
    // A learning episode begins: the last quiet θ_S before it (caught up with everything before) dreams until
    // the next one, as BI-R's copy of the model at the end of a context does, found here by surprise alone.
    const plan = planSleep(this.policy, o);
    if (plan.promote) {
      this.dreamer = this.quietModel;
      this.quietModel = null;
    }
    const stm = this.memory.contents();
    const stmLogits = noGrad(() => {
      return this.model.classify(this.model.features(Tensor.from(stm.x, [stm.n, this.setup.inputSize]))).data.slice();
    });
    const dreamer = this.dreamer;
    let pressure = o.sleepPressure * this.sinceSleep;
    // Scaled only where it binds: below the passes it changes nothing, and the scaling costs a forward pass.
    if (o.dreams && Math.ceil(pressure) > sleepIterations(stm.n, { epochs: o.sleepEpochs, batch: sleepBatch(this.setup.batchSize) })) {
      pressure *= this.unknownToDreamer(stm, dreamer);
    }
    const settings: SleepSettings = {
      scenario: this.setup.scenario, numOutputs: this.setup.numOutputs, classHeads: this.classHeads,
      batch: sleepBatch(this.setup.batchSize), epochs: o.sleepEpochs, minIterations: Math.ceil(pressure), lr: o.lr, dreamFeatures: o.dreamFeatures,
      dreams: o.dreams,
    };
    return {
      vae: this.model.config, params: this.model.parameters().map((p) => p.data.slice()), gateMasks: this.model.gateMasks,
      optState: this.optState, stm, stmLogits, known: this.known, rng: this.rng.getState(), settings,
      dreamer, plan,
    };
  }

  /**
   * Share of the memory's rows the sleep's frozen dreamer does not know: of a class it never learnt, or with an
   * NLL of the label above `admitNll` over the outputs the row's loss uses among its classes (class-IL: its
   * classes; task-IL: the row's head; domain-IL: every output). All of them while no dreamer is frozen: θ_S
   * dreaming itself rehearses only what it holds so far, and the first classes' quiet stretch is where it
   * consolidates them.
   */
  private unknownToDreamer(stm: { x: Float32Array; y: Int32Array; n: number }, dreamer: Snapshot | null): number {
    if (dreamer === null || dreamer.known.length === 0 || stm.n === 0) return 1;
    const K = this.setup.numOutputs;
    const model = this.model.clone(dreamer.params);
    // The outputs each row's sleep loss uses, as the sleep's Heads give them, restricted to the dreamer's classes.
    const mask = new Heads({ scenario: this.setup.scenario, numOutputs: K, classHeads: this.classHeads }, dreamer.known).mask(stm.y);
    const z = noGrad(() => maskLogits(model.classify(model.features(Tensor.from(stm.x, [stm.n, this.setup.inputSize]))), mask)).data;
    const logp = new Float32Array(stm.n * K);
    getBackend().logSoftmax(z, stm.n, K, logp);
    let unknown = 0;
    for (let r = 0; r < stm.n; r++) {
      const y = stm.y[r]!;
      if (!dreamer.known.includes(y) || -logp[r * K + y]! > this.options.admitNll) unknown++;
    }
    return unknown / stm.n;
  }

  private finishSleep(out: SleepOutcome, job: PlannedSleep): void {
    this.model.parameters().forEach((p, i) => p.data.set(out.params[i]!));
    this.optState = out.optState;
    this.rng.setState(out.rng);
    this.memory.clear();
    this.sinceSleep = 0;
    const { state, keepAsQuiet } = afterSleep(this.policy, job.plan, this.options);
    this.policy = state;
    if (keepAsQuiet) this.quietModel = { params: out.params.map((p) => p.slice()), known: [...out.known] };
    this.known = out.known;
    this.sleeps.push({
      batch: this.batches, samples: job.stm.n, iterations: out.iterations, loss: out.loss,
      surprisingShare: job.plan.share, dreamerRefreshed: job.plan.promote, ldaTemperature: Math.fround(this.lda?.temperature ?? 1),
    });
  }

  /** The stream has ended: consolidate what is left, so that no raw sample outlives the run. */
  finish(): void {
    this.sleep();
  }

  predict(x: Float32Array, n: number, contexts: Int32Array | null): Int32Array {
    const K = this.setup.numOutputs;
    let logits = noGrad(() => this.model.classify(this.model.features(Tensor.from(x, [n, this.setup.inputSize]))));
    // Class-IL: the classes met so far (θ_S's consolidated classes are among them: they came from wake).
    if (this.setup.scenario === 'class') {
      const outs = this.wakeKnown.studentOutputs();
      if (outs.length > 0) logits = maskLogits(logits, rowMask(outs, n, K));
    }
    if (contexts !== null && this.setup.scenario === 'task') logits = maskLogits(logits, contextMask(contexts, K, this.setup.activeOutputs));
    if (this.lda !== null && this.lda.seen().length > 0) return argmaxRows(this.fuseLda(logits.data, x, n), n, K);
    return argmaxRows(logits.data, n, K);
  }

  /** A copy of the options this learner runs with, defaults included (the result's `config.methodOptions`). */
  resolvedOptions(): EngramOptions {
    return { ...this.options };
  }

  /**
   * β·log softmax(network) + log softmax(z_LDA/τ), over the outputs the network's logits leave in play (β =
   * {@link NET_WEIGHT}).
   */
  private fuseLda(net: Float32Array, x: Float32Array, n: number): Float32Array {
    const K = this.setup.numOutputs;
    const b = getBackend();
    const tau = this.lda!.temperature;
    const z = this.lda!.logits(x, n);
    for (let i = 0; i < z.length; i++) z[i] = net[i] === -Infinity ? -Infinity : z[i]! / tau;
    const a = new Float32Array(n * K);
    const c = new Float32Array(n * K);
    b.logSoftmax(net, n, K, a);
    b.logSoftmax(z, n, K, c);
    // A class the LDA has not seen (every logit -Infinity in a row) leaves the network's answer alone.
    for (let r = 0; r < n; r++) {
      let any = false;
      for (let k = 0; k < K; k++) if (Number.isFinite(c[r * K + k]!)) any = true;
      if (any) for (let k = 0; k < K; k++) a[r * K + k] = NET_WEIGHT * a[r * K + k]! + c[r * K + k]!;
    }
    return a;
  }

  storedRawSamples(): number {
    return this.memory.size + this.held.reduce((s, b) => s + b.size, 0);
  }

  parameterCount(): number {
    return this.model.parameterCount() + (this.lda?.size ?? 0);
  }

  series(): Record<string, number[][]> {
    return {
      surprise: this.surprise.series.map((p) => [p.batch, p.nll, p.z]),
      sleeps: this.sleeps.map(sleepRow),
    };
  }

  getState(): LearnerState {
    if (this.inFlight !== null) throw new Error('cannot save the Engram learner while it sleeps; await learner.sleeping first');
    const p = this.policy;
    const extra: Record<string, State> = {
      version: STATE_VERSION,
      gateMasks: this.model.gateMasks,
      known: Float32Array.from(this.known),
      dreamer: snapshotState(this.dreamer),
      quietModel: snapshotState(this.quietModel),
      policy: {
        counts: Float32Array.of(p.seen, p.surprising, p.recent, p.holdsQuiet ? 1 : 0, p.quietSurprise),
      },
      wakeKnown: this.wakeKnown.getState(),
      memory: this.memory.getState(),
      surprise: this.surprise.getState(),
      sleeps: new Float32Array(this.sleeps.flatMap(sleepRow)),
      counters: Float32Array.of(this.batches, this.sinceSleep, this.optState === null ? 0 : 1),
    };
    if (this.lda !== null) {
      extra['lda'] = { ...this.lda.getState() };
    }
    return {
      method: this.method,
      params: namedParams(this.model.parameterNames(), this.model.parameters()),
      optimizer: this.optState ?? {},
      rng: this.rng.getState(),
      extra,
    };
  }

  setState(state: LearnerState): void {
    const parsed = savedExtraSchema.safeParse(state.extra);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`not an Engram state of version ${STATE_VERSION}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim());
    }
    const e = parsed.data;
    if ((e.lda === undefined) !== (this.lda === null)) throw new Error(`checkpoint was saved with lda=${e.lda !== undefined}; this learner has lda=${this.lda !== null}`);
    restoreNamedParams(this.model.parameterNames(), this.model.parameters(), state.params);
    this.rng.setState(state.rng);
    this.model.gateMasks.forEach((m, i) => m.set(e.gateMasks[i]!));
    this.known = Array.from(e.known);
    this.dreamer = snapshotFrom(e.dreamer);
    this.quietModel = snapshotFrom(e.quietModel);
    const [seen, surprising, recent, holds, quietSurprise] = Array.from(e.policy.counts);
    this.policy = {
      seen: seen!, surprising: surprising!, recent: recent!, holdsQuiet: holds === 1, quietSurprise: quietSurprise!,
    };
    this.wakeKnown.setState(e.wakeKnown);
    this.memory.setState(e.memory);
    this.surprise.setState(e.surprise);
    this.sleeps.length = 0;
    for (let i = 0; i + SLEEP_ROW - 1 < e.sleeps.length; i += SLEEP_ROW) {
      this.sleeps.push({
        batch: e.sleeps[i]!, samples: e.sleeps[i + 1]!, iterations: e.sleeps[i + 2]!, loss: e.sleeps[i + 3]!,
        surprisingShare: e.sleeps[i + 4]!, dreamerRefreshed: e.sleeps[i + 5] === 1, ldaTemperature: e.sleeps[i + 6]!,
      });
    }
    const [batches, sinceSleep, hasOpt] = Array.from(e.counters);
    this.batches = batches!;
    this.sinceSleep = sinceSleep!;
    this.optState = hasOpt === 1 ? state.optimizer : null;
    if (this.lda !== null) this.lda.setState(e.lda!);
  }

  /** Stop the sleep worker (a long-running process calls this when done). */
  async close(): Promise<void> {
    if (this.inFlight !== null) await this.inFlight;
    await this.worker?.close();
    this.worker = null;
  }
}

/** A sleep's job with what the record of it needs: the wake's surprising share, and whether a dreamer was promoted. */
type PlannedSleep = SleepJob & { plan: SleepPlan };

/**
 * β, the network's weight in the fused posterior p_LDA · p_net^β. The LDA's temperature is calibrated on the
 * stream; the network's cannot be, because the stream shows only the classes it has just learnt, never those it
 * is forgetting. Below 1 the network's overconfident recency bias in class-IL cannot override a calibrated
 * memory that does not forget (validation split, tuning seed: see docs/ENGRAM.md).
 */
const NET_WEIGHT = 0.25;

/** Random features the statistical memory's Gaussians live on. */
const LDA_FEATURES = 1000;

/** Latent size of the generative pathway. */
const Z_DIM = 100;

/** A sleep as one row of numbers: the result's `series.sleeps` and the saved state use the same layout. */
function sleepRow(s: SleepRecord): number[] {
  return [s.batch, s.samples, s.iterations, s.loss, s.surprisingShare, s.dreamerRefreshed ? 1 : 0, s.ldaTemperature];
}
const SLEEP_ROW = 7;

/** A frozen copy of θ_S with the classes it had consolidated. */
interface Snapshot {
  params: Float32Array[];
  known: number[];
}

/** A snapshot as saved: no parameters for none. */
type SnapshotState = { params: Float32Array[]; known: Float32Array };

function snapshotState(s: Snapshot | null): SnapshotState {
  return s === null ? { params: [], known: new Float32Array(0) } : { params: s.params, known: Float32Array.from(s.known) };
}

function snapshotFrom(s: SnapshotState): Snapshot | null {
  return s.params.length === 0 ? null : { params: s.params.map((p) => p.slice()), known: Array.from(s.known) };
}

/** Version of the Engram state layout (`extra` of the saved state); a state of another version is refused. */
const STATE_VERSION = 6;

const f32 = z.custom<Float32Array>((v) => v instanceof Float32Array, 'expected a Float32Array');
const anyState = z.custom<State>((v) => v !== undefined);
const snapshotSchema = z.object({ params: z.array(f32), known: f32 });
/** The saved `extra` of an Engram learner: every piece of its state by name. */
const savedExtraSchema = z.object({
  version: z.literal(STATE_VERSION),
  gateMasks: z.array(f32),
  known: f32,
  dreamer: snapshotSchema,
  quietModel: snapshotSchema,
  policy: z.object({ counts: f32.refine((a) => a.length === 5) }),
  wakeKnown: z.object({ classes: f32, contexts: f32 }),
  memory: anyState,
  surprise: anyState,
  sleeps: f32,
  counters: f32.refine((a) => a.length === 3),
  lda: z.object({ counts: f32, means: f32, scatter: f32, weights: f32, pending: f32, preconditioner: f32, counters: f32 }).optional(),
});

function copyBatch(b: Batch): Batch {
  return { ...b, x: b.x.slice(), y: b.y.slice(), contexts: b.contexts === null ? null : b.contexts.slice() };
}
