import { BufferArena, maskLogits, noGrad, Rng, Tensor, withArena } from '../../core/index.js';
import { biRGateProportion, oneHot, Vae } from '../../generative/index.js';
import { getBackend } from '../../kernels/index.js';
import type { State } from '../../optim/index.js';
import type { Batch } from '../../protocols/types.js';
import { argmaxRows } from '../classifier.js';
import { contextMask, KnownOutputs, rowMask } from '../heads/index.js';
import { namedParams, restoreNamedParams, type Learner, type LearnerSetup, type LearnerState, type LearnerTraits } from '../learner.js';
import { FastHead } from './fast-head.js';
import { parseEngramOptions, type EngramOptions } from './options.js';
import { ShortTermMemory } from './short-term-memory.js';
import { Heads, runSleep, sleepIterations, type SleepJob, type SleepOutcome, type SleepSettings } from './sleep.js';
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
  /** Whether a new dreamer was taken at this sleep (see `dreamerRefresh`). */
  dreamerRefreshed: boolean;
}

/**
 * The Engram learner (DESIGN §1): wake and sleep.
 *
 * Wake, per batch: predictions come from the slow weights θ_S, plus the fast path on the outputs θ_S has not
 * consolidated (`serve`); the surprise monitor scores each sample by its NLL under θ_S; samples θ_S does not
 * explain yet (NLL > `admitNll`, plus a trickle of the rest) enter the bounded short-term memory; the fast head
 * θ_F learns the batch at once. θ_S never changes while awake.
 *
 * Sleep, when the memory is full or on a schedule (never on a boundary signal): θ_S consolidates the memory and
 * the fast path's predictions together with dreams of old knowledge from its own class-conditional generative
 * pathway (`sleep.ts`), through the synapse-state optimiser and the orthogonal projection. Then the memory is
 * erased and θ_F reset. With `asyncSleep` the consolidation runs in a worker thread: `predict` keeps answering
 * from the old θ_S, batches that arrive meanwhile are held and learned when the new θ_S is swapped in.
 */
export class EngramLearner implements Learner {
  readonly method = 'engram';
  readonly traits: LearnerTraits = { storesRawSamples: true, cumulativeStream: false };
  readonly options: EngramOptions;
  readonly model: Vae;
  readonly memory: ShortTermMemory;
  /** Surprise of the classifier (NLL of the label) and of the generative pathway (reconstruction NLL per pixel). */
  readonly surprise = new SurpriseMonitor();
  readonly reconSurprise = new SurpriseMonitor();
  readonly fast: FastHead;
  readonly sleeps: SleepRecord[] = [];
  private readonly rng: Rng;
  /** Op buffers of a wake step, reused from batch to batch (nothing a wake step computes outlives it). */
  private readonly wakeArena = new BufferArena();
  /** Outputs met while awake (the fast path's softmax in class-IL). */
  private readonly wakeKnown: KnownOutputs;
  /** Classes θ_S has consolidated. */
  private known: number[] = [];
  private optState: State | null = null;
  /** The frozen θ_S that dreams between refreshes (see `dreamerRefresh`), with the classes it knew. */
  private dreamer: Snapshot | null = null;
  /**
   * `episode` refresh: θ_S after the latest quiet sleep (or, while none has been quiet since the last refresh,
   * the calmest; see `calmRate`), promoted to dreamer when the next episode begins.
   */
  private quietModel: Snapshot | null = null;
  /** The surprise of the wake before the sleep `quietModel` was taken after. */
  private quietSurprise = 0;
  /**
   * Classes θ_S has caught up with (see `recentDreams`): in some wake since it consolidated them, it found fewer
   * than `episodeRate` of their samples surprising. Judged per class, as a quiet sleep is for the whole stream:
   * the whole stream's share can hover at `quietRate` for thousands of batches, with no sleep quiet.
   */
  private caught: number[] = [];
  /** Per class, wake samples since the last sleep, and how many of them θ_S found surprising. */
  private readonly classSeen: Float64Array;
  private readonly classSurprising: Float64Array;
  private bases: Float32Array[] = [];
  private batches = 0;
  /** Samples of each output consolidated by sleep so far (familiarity). */
  private readonly consolidated: Float64Array;
  private sinceSleep = 0;
  /** Wake samples since the last sleep, and how many of them θ_S found surprising. */
  private seenSinceSleep = 0;
  private surprisingSinceSleep = 0;
  /**
   * The surprising share of the last few wake batches (a moving average, rate 0.1 per batch): a burst of new
   * data just before a sleep is diluted in the share over a long wake, not in this.
   */
  private recentSurprising = 0;
  private readonly classHeads: number[][];
  /** Batches that arrived during an asynchronous sleep, learned when it ends. */
  private readonly held: Batch[] = [];
  private inFlight: Promise<void> | null = null;
  private worker: SleepWorker | null = null;
  private sleepError: Error | null = null;

  constructor(readonly setup: LearnerSetup, options: Record<string, unknown> = {}) {
    this.options = parseEngramOptions(options);
    const o = this.options;
    this.rng = new Rng(setup.seed);
    const proportion = o.gateProportion ?? (setup.scenario === 'class' ? biRGateProportion(setup.protocol, setup.scenario) : 0);
    this.model = new Vae({
      inputSize: setup.inputSize, hidden: setup.hidden, zDim: o.zDim, classes: setup.numOutputs,
      prior: 'mixture', modes: setup.numOutputs, gates: proportion > 0 ? { count: setup.numOutputs, proportion } : null,
    }, this.rng);
    this.memory = new ShortTermMemory(o.stmCapacity, setup.inputSize);
    this.consolidated = new Float64Array(setup.numOutputs);
    this.classSeen = new Float64Array(setup.numOutputs);
    this.classSurprising = new Float64Array(setup.numOutputs);
    this.fast = new FastHead(setup.hidden.at(-1)!, setup.numOutputs, o.fastLr);
    this.wakeKnown = new KnownOutputs(setup.scenario, setup.numOutputs, setup.activeOutputs);
    this.classHeads = Array.from({ length: setup.numOutputs }, () => [] as number[]);
    for (let c = 0; c < setup.numContexts; c++) {
      const outs = setup.activeOutputs(c);
      if (outs !== null) for (const k of outs) this.classHeads[k] = outs;
    }
  }

  /** Wake: predict-and-learn into the fast path, score surprise, admit to memory; sleep when the policy says. */
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
    const { hidden, slow } = noGrad(() => {
      const h = this.model.features(Tensor.from(batch.x, [n, this.setup.inputSize]));
      return { hidden: h, slow: this.model.classify(h) };
    });
    // Surprise: NLL of each label under the slow weights, over the outputs in play (class-IL: the classes met
    // so far, a new one included; task-IL: the row's head).
    const mask = this.wakeMask(batch);
    const z = mask === null ? slow : maskLogits(slow, mask);
    const logp = new Float32Array(n * K);
    getBackend().logSoftmax(z.data, n, K, logp);
    const nll = new Float32Array(n);
    const o = this.options;
    let surprising = 0;
    for (let r = 0; r < n; r++) {
      const y = batch.y[r]!;
      nll[r] = -logp[r * K + y]!;
      this.classSeen[y]!++;
      if (nll[r]! > o.admitNll) {
        surprising++;
        this.classSurprising[y]!++;
      }
    }
    this.surprisingSinceSleep += surprising;
    this.seenSinceSleep += n;
    this.recentSurprising += RECENT_RATE * (surprising / n - this.recentSurprising);
    this.surprise.observe(nll);
    const recon = o.admitRecon > 0 ? this.reconstructionError(hidden, batch) : null;
    if (recon !== null) this.reconSurprise.observe(recon);
    for (let r = 0; r < n; r++) {
      if (this.memory.full) break;
      const y = batch.y[r]!;
      const surprising = nll[r]! > o.admitNll || (recon !== null && recon[r]! > o.admitRecon);
      const chance = Math.max(o.admitRate, o.familiarity > 0 ? o.familiarity / Math.max(1, this.consolidated[y]!) : 0);
      if (surprising || this.rng.uniform() < chance) this.memory.add(batch.x, r, y);
    }
    return this.fast.learn(slow, hidden, batch.y, mask);
  }

  /**
   * Generative surprise: per sample, the Bernoulli NLL per pixel of x under the slow decoder from the encoder's
   * mean (gated by the label), i.e. how badly θ_S could dream this sample. A class the classifier already
   * separates may still be one the generative pathway cannot yet replay, and so must still reach sleep.
   */
  private reconstructionError(hidden: Tensor, batch: Batch): Float32Array {
    const n = batch.size;
    const d = this.setup.inputSize;
    const gate = this.model.config.gates === null ? null : oneHot(batch.y, this.setup.numOutputs);
    const logits = noGrad(() => this.model.decode(this.model.toMean.forward(hidden), gate)).data;
    const out = new Float32Array(n);
    for (let r = 0; r < n; r++) {
      let s = 0;
      for (let j = r * d; j < (r + 1) * d; j++) {
        const l = logits[j]!;
        s += Math.max(l, 0) - batch.x[j]! * l + Math.log1p(Math.exp(-Math.abs(l)));
      }
      out[r] = s / d;
    }
    return out;
  }

  private wakeMask(batch: Batch): Uint8Array | null {
    const K = this.setup.numOutputs;
    if (this.setup.scenario === 'class') return rowMask(this.wakeKnown.studentOutputs(), batch.size, K);
    if (this.setup.scenario === 'task' && batch.contexts !== null) return contextMask(batch.contexts, K, this.setup.activeOutputs);
    return null;
  }

  /** The sleep policy: memory full, or the schedule with something to consolidate. */
  shouldSleep(): boolean {
    return this.memory.full || (this.sinceSleep >= this.options.sleepEvery && this.memory.size > 0);
  }

  /** Consolidate now, on this thread (or, with `asyncSleep`, start it in a worker and return). */
  sleep(): void {
    if (this.memory.size === 0 || this.inFlight !== null) return;
    const job = this.sleepJob();
    if (this.options.asyncSleep) {
      // A failed background sleep surfaces at the next observe, not as an unhandled rejection.
      this.sleepAsync(job).catch((e: unknown) => {
        this.sleepError = e instanceof Error ? e : new Error(String(e));
      });
      return;
    }
    this.finishSleep(runSleep(job), job);
  }

  /**
   * Consolidate in a worker thread. Until it resolves, `predict` answers from the old θ_S and the fast path,
   * and `observe` holds what arrives; then the new θ_S is swapped in at once and the held batches are learned.
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
    const share = this.seenSinceSleep === 0 ? 0 : this.surprisingSinceSleep / this.seenSinceSleep;
    // A learning episode begins: the last quiet θ_S before it (caught up with everything before) dreams until
    // the next one, as BI-R's copy of the model at the end of a context does, found here by surprise alone.
    const surprise = Math.max(share, this.recentSurprising);
    const promote = o.dreamerRefresh === 'episode' && surprise >= o.episodeRate && this.quietModel !== null;
    if (promote) {
      this.dreamer = this.quietModel;
      this.quietModel = null;
    }
    const quiet = surprise < o.quietRate;
    const epochs = quiet && o.quietEpochs > 0 ? o.quietEpochs : o.sleepEpochs;
    const stm = this.memory.contents();
    const wakeLogits = noGrad(() => {
      const h = this.model.features(Tensor.from(stm.x, [stm.n, this.setup.inputSize]));
      return this.fast.combine(this.model.classify(h), h).data.slice();
    });
    const dreamer = o.dreamerRefresh === 'episode' || o.dreamerEvery > 1 ? this.dreamer : null;
    let pressure = o.sleepPressure * this.sinceSleep;
    // Scaled only where it binds: below the passes it changes nothing, and the scaling costs a forward pass.
    if (o.pressureOn === 'unknown' && o.dreams && Math.ceil(pressure) > sleepIterations(stm.n, { epochs, batch: o.sleepBatch })) {
      pressure *= this.unknownToDreamer(stm, dreamer);
    }
    const settings: SleepSettings = {
      scenario: this.setup.scenario, numOutputs: this.setup.numOutputs, classHeads: this.classHeads,
      batch: o.sleepBatch, epochs, maxIterations: Math.ceil(o.sleepPace * this.sinceSleep),
      minIterations: Math.ceil(pressure), dreamBatch: o.dreamBatch, lr: o.lr, temperature: o.temperature,
      fastDistill: o.fastDistill, dreamTargets: o.dreamTargets, dreamSpread: o.dreamSpread, dreamFeatures: o.dreamFeatures, dreamPixels: o.dreamPixels, recentDreams: o.recentDreams, dreams: o.dreams, viscosity: o.viscosity, metaplastic: o.metaplastic, xi: o.xi,
      projection: o.projection, projectionThreshold: o.projectionThreshold, projectionDreams: o.projectionDreams,
      updateBases: (this.sleeps.length + 1) % o.projectEvery === 0,
    };
    return {
      vae: this.model.config, params: this.model.parameters().map((p) => p.data.slice()), gateMasks: this.model.gateMasks,
      optState: this.optState, bases: this.bases, stm, wakeLogits, known: this.known, rng: this.rng.getState(), settings,
      dreamer,
      caught: this.caught, surprisingShare: share, surprise, dreamerRefreshed: promote, quiet,
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
    this.bases = out.bases;
    this.known = out.known;
    this.rng.setState(out.rng);
    for (const y of this.memory.labels()) this.consolidated[y]!++;
    this.memory.clear();
    this.fast.reset();
    this.sinceSleep = 0;
    this.seenSinceSleep = 0;
    this.surprisingSinceSleep = 0;
    const o = this.options;
    const snapshot = (): Snapshot => ({ params: out.params.map((p) => p.slice()), known: [...out.known] });
    let refreshed = job.dreamerRefreshed;
    if (o.dreamerRefresh === 'episode') {
      // A quiet θ_S replaces any; a calm one only a calm one less calm, or none.
      const calm = job.surprise < o.calmRate
        && (this.quietModel === null || (this.quietSurprise >= o.quietRate && job.surprise <= this.quietSurprise));
      if (job.quiet || calm) {
        this.quietModel = snapshot();
        this.quietSurprise = Math.fround(job.surprise); // as saved (a Float32Array), so a resumed run compares alike
      }
    }
    // Judged on the wake before this sleep, so only for classes θ_S had consolidated then.
    for (const c of job.known) {
      const seen = this.classSeen[c]!;
      // At least 1/episodeRate samples: enough for the share to be judged at all.
      if (seen * o.episodeRate >= 1 && this.classSurprising[c]! < o.episodeRate * seen && !this.caught.includes(c)) this.caught.push(c);
    }
    this.caught.sort((a, b) => a - b);
    this.classSeen.fill(0);
    this.classSurprising.fill(0);
    if (o.dreamerRefresh === 'schedule' && o.dreamerEvery > 1 && (this.sleeps.length + 1) % o.dreamerEvery === 0) {
      this.dreamer = snapshot();
      refreshed = true;
    }
    this.sleeps.push({
      batch: this.batches, samples: job.stm.n, iterations: out.iterations, loss: out.loss,
      surprisingShare: job.surprisingShare, dreamerRefreshed: refreshed,
    });
  }

  /** The stream has ended: consolidate what is left, so that no raw sample outlives the run. */
  finish(): void {
    this.sleep();
  }

  predict(x: Float32Array, n: number, contexts: Int32Array | null): Int32Array {
    const K = this.setup.numOutputs;
    let logits = noGrad(() => {
      const h = this.model.features(Tensor.from(x, [n, this.setup.inputSize]));
      const slow = this.model.classify(h);
      if (this.options.serve === 'slow') return slow;
      const both = this.fast.combine(slow, h);
      if (this.options.serve === 'new') {
        // θ_S's consolidated outputs answer from θ_S alone.
        for (let r = 0; r < n; r++) for (const k of this.known) both.data[r * K + k] = slow.data[r * K + k]!;
      }
      return both;
    });
    // Class-IL: the classes met so far (θ_S's consolidated classes are among them: they came from wake).
    if (this.setup.scenario === 'class') {
      const outs = this.wakeKnown.studentOutputs();
      if (outs.length > 0) logits = maskLogits(logits, rowMask(outs, n, K));
    }
    if (contexts !== null && this.setup.scenario === 'task') logits = maskLogits(logits, contextMask(contexts, K, this.setup.activeOutputs));
    return argmaxRows(logits.data, n, K);
  }

  /** A copy of the options this learner runs with, defaults included (the result's `config.methodOptions`). */
  resolvedOptions(): EngramOptions {
    return { ...this.options };
  }

  storedRawSamples(): number {
    return this.memory.size + this.held.reduce((s, b) => s + b.size, 0);
  }

  parameterCount(): number {
    return this.model.parameterCount() + this.fast.weight.size + this.fast.bias.size;
  }

  series(): Record<string, number[][]> {
    return {
      surprise: this.surprise.series.map((p) => [p.batch, p.nll, p.z]),
      reconstructionSurprise: this.reconSurprise.series.map((p) => [p.batch, p.nll, p.z]),
      sleeps: this.sleeps.map(sleepRow),
    };
  }

  getState(): LearnerState {
    if (this.inFlight !== null) throw new Error('cannot save the Engram learner while it sleeps; await learner.sleeping first');
    return {
      method: this.method,
      params: namedParams(this.model.parameterNames(), this.model.parameters()),
      optimizer: this.optState ?? {},
      rng: this.rng.getState(),
      extra: {
        gateMasks: this.model.gateMasks,
        bases: this.bases,
        known: Float32Array.from(this.known),
        dreamer: snapshotState(this.dreamer),
        quietModel: snapshotState(this.quietModel),
        caught: Float32Array.from(this.caught),
        classWake: Float32Array.from([...this.classSeen, ...this.classSurprising]),
        wakeKnown: this.wakeKnown.getState(),
        memory: this.memory.getState(),
        fast: this.fast.getState(),
        surprise: this.surprise.getState(),
        reconSurprise: this.reconSurprise.getState(),
        sleeps: new Float32Array(this.sleeps.flatMap(sleepRow)),
        counters: new Float32Array([
          this.batches, this.sinceSleep, this.optState === null ? 0 : 1, this.seenSinceSleep, this.surprisingSinceSleep,
          this.recentSurprising, this.quietSurprise,
        ]),
        consolidated: Float32Array.from(this.consolidated),
      },
    };
  }

  setState(state: LearnerState): void {
    restoreNamedParams(this.model.parameterNames(), this.model.parameters(), state.params);
    this.rng.setState(state.rng);
    const e = state.extra as {
      gateMasks: Float32Array[]; bases: Float32Array[]; known: Float32Array; wakeKnown: { classes: Float32Array; contexts: Float32Array };
      memory: State; fast: State; surprise: State; reconSurprise: State; sleeps: Float32Array; counters: Float32Array;
      dreamer: SnapshotState; quietModel: SnapshotState; consolidated: Float32Array; caught?: Float32Array; classWake?: Float32Array;
    };
    this.consolidated.set(e.consolidated);
    this.dreamer = snapshotFrom(e.dreamer);
    this.quietModel = snapshotFrom(e.quietModel);
    // Absent in states saved before recentDreams.
    this.caught = Array.from(e.caught ?? []);
    const K = this.setup.numOutputs;
    this.classSeen.set(e.classWake?.subarray(0, K) ?? new Float32Array(K));
    this.classSurprising.set(e.classWake?.subarray(K, 2 * K) ?? new Float32Array(K));
    this.model.gateMasks.forEach((m, i) => m.set(e.gateMasks[i]!));
    this.bases = e.bases.map((b) => b.slice());
    this.known = Array.from(e.known);
    this.wakeKnown.setState(e.wakeKnown);
    this.memory.setState(e.memory);
    this.fast.setState(e.fast);
    this.surprise.setState(e.surprise);
    this.reconSurprise.setState(e.reconSurprise);
    this.sleeps.length = 0;
    for (let i = 0; i + 5 < e.sleeps.length; i += 6) {
      this.sleeps.push({
        batch: e.sleeps[i]!, samples: e.sleeps[i + 1]!, iterations: e.sleeps[i + 2]!, loss: e.sleeps[i + 3]!,
        surprisingShare: e.sleeps[i + 4]!, dreamerRefreshed: e.sleeps[i + 5] === 1,
      });
    }
    // (No quietSurprise in states saved before calmRate.)
    const [batches, sinceSleep, hasOpt, seen, surprising, recent, quietSurprise = 0] = Array.from(e.counters);
    this.batches = batches!;
    this.sinceSleep = sinceSleep!;
    this.seenSinceSleep = seen!;
    this.surprisingSinceSleep = surprising!;
    this.recentSurprising = recent!;
    this.quietSurprise = quietSurprise;
    this.optState = hasOpt === 1 ? state.optimizer : null;
  }

  /** Stop the sleep worker (a long-running process calls this when done). */
  async close(): Promise<void> {
    if (this.inFlight !== null) await this.inFlight;
    await this.worker?.close();
    this.worker = null;
  }
}

/** A sleep's job with what the record of it needs: the wake's surprising share, and whether a dreamer was promoted. */
type PlannedSleep = SleepJob & {
  surprisingShare: number; surprise: number; dreamerRefreshed: boolean; quiet: boolean;
};

/** Weight of each wake batch in the recent surprising share (about the last ten batches). */
const RECENT_RATE = 0.1;

/** A sleep as one row of numbers: the result's `series.sleeps` and the saved state use the same layout. */
function sleepRow(s: SleepRecord): number[] {
  return [s.batch, s.samples, s.iterations, s.loss, s.surprisingShare, s.dreamerRefreshed ? 1 : 0];
}

/** A frozen copy of θ_S with the classes it had consolidated. */
interface Snapshot {
  params: Float32Array[];
  known: number[];
}

type SnapshotState = { params?: Float32Array[]; known?: Float32Array };

function snapshotState(s: Snapshot | null): SnapshotState {
  return s === null ? {} : { params: s.params, known: Float32Array.from(s.known) };
}

function snapshotFrom(s: SnapshotState): Snapshot | null {
  return s.params === undefined || s.known === undefined ? null : { params: s.params.map((p) => p.slice()), known: Array.from(s.known) };
}

function copyBatch(b: Batch): Batch {
  return { ...b, x: b.x.slice(), y: b.y.slice(), contexts: b.contexts === null ? null : b.contexts.slice() };
}
