import { z } from 'zod';
import { add, backward, Rng, Tensor, zeroGrad } from '../../core/index.js';
import { logLikelihood, type ObservationModel } from '../../generative/likelihood.js';
import { Vae, type VaeConfig } from '../../generative/vae.js';
import { adam, optimizerStep, isStateRecord, type GradientTransformation, type State } from '../../optim/index.js';
import type { Batch, ProtocolName } from '../../protocols/types.js';
import type { Learner, LearnerSetup, LearnerState, LearnerTraits } from '../learner.js';
import { parseMethodOptions, positive, positiveInt, positiveIntList, type OptionContext, type ReportedOptions } from '../method-options.js';

/**
 * The generative classifier's `--set` options (unset ones take {@link genClassifierDefaults}): `hidden`, each
 * VAE's encoder layer sizes (the decoder mirrors them; `--set hidden=85,85`); `zDim`; `samples`, importance
 * samples per class and input at prediction; `lr`, the VAEs' Adam learning rate; `observation`, the likelihood
 * that scores p(x|z); `cache`, reuse the scores of unchanged classes (default true; results are identical).
 */
export const genClassifierOptionsSchema = z.object({
  hidden: positiveIntList().optional(),
  zDim: positiveInt().optional(),
  samples: positiveInt().optional(),
  lr: positive().optional(),
  observation: z.enum(['bernoulli', 'gaussian']).optional(),
  cache: z.boolean().default(true),
}).strict();

export type GenClassifierOptions = z.input<typeof genClassifierOptionsSchema>;
export type GenClassifierResolvedOptions = GenClassifierDefaults & { cache: boolean };

/**
 * The generative classifier's options validated, with every default decided for `ctx`.
 *
 * @example
 * resolveGenClassifierOptions({ zDim: 10 }, { protocol: 'split-mnist', scenario: 'class', stream: 'task-free', hidden: [400, 400] });
 * // { hidden: [85, 85], zDim: 10, samples: 50, lr: 0.001, observation: 'gaussian', cache: true }
 */
export function resolveGenClassifierOptions(given: Readonly<Record<string, unknown>>, ctx: OptionContext): GenClassifierResolvedOptions {
  const o = parseMethodOptions('gen-classifier', genClassifierOptionsSchema, given);
  const d = genClassifierDefaults(ctx.protocol);
  return {
    hidden: o.hidden ?? d.hidden,
    zDim: o.zDim ?? d.zDim,
    samples: o.samples ?? d.samples,
    lr: o.lr ?? d.lr,
    observation: o.observation ?? d.observation,
    cache: o.cache,
  };
}

export type GenClassifierDefaults = {
  hidden: number[];
  zDim: number;
  samples: number;
  lr: number;
  observation: ObservationModel;
};

/** The authors' defaults for a protocol (see {@link GenClassifierLearner} for their sources). */
export function genClassifierDefaults(protocol: ProtocolName): GenClassifierDefaults {
  const split = protocol === 'split-mnist';
  return {
    // param_values.py: fc_units_gc = 85; fc_lay_gc = 3 (splitMNIST) else 2, i.e. fc_lay_gc − 1 hidden layers.
    hidden: split ? [85, 85] : [85],
    // param_values.py: z_dim_gc = 5 (splitMNIST) else 20.
    zDim: split ? 5 : 20,
    // options.py: --eval-s, default 50.
    samples: 50,
    // compare.py / compare_all.py, "Generative Classifier": args.lr = 0.001.
    lr: 1e-3,
    // models/vae.py estimate_lls: log_Normal_standard(x, mean=x_recon).
    observation: 'gaussian',
  };
}

interface ClassModel {
  vae: Vae;
  optState: State;
  /** Learner-wide update count at this model's last step (cache validity). */
  version: number;
}

interface CachedScores {
  version: number;
  scores: Float64Array;
}

/** Cached scores kept at most (values), oldest blocks dropped first: 4M doubles = 32 MB. */
const CACHE_BUDGET = 4_000_000;
/** Seed offset of the importance-sample table (independent of the training stream's draws). */
const NOISE_SEED_OFFSET = 0x9e3779b1;

/**
 * The generative classifier of van de Ven, Li & Tolias (2021), "Class-incremental learning with generative
 * classifiers" (CVPR-W), as in GMvandeVen/continual-learning (`models/generative_classifier.py`,
 * `train/train_task_based.py` `train_gen_classifier`, `models/vae.py` `estimate_lls`):
 *
 * - one small VAE per class (standard prior, Bernoulli decoder trained with BCE + KL, both per pixel), trained
 *   only on that class's samples with its own Adam;
 * - classification by Bayes' rule with a uniform prior over the classes seen so far:
 *   ŷ = argmax_c log p(x|c), log p(x|c) ≈ log (1/S) Σ_s p(x|z_s)·p(z_s)/q(z_s|x), z_s ~ q(z|x), S samples.
 *
 * Published defaults (their `params/param_values.py` `set_default_values`, `params/options.py`, and the
 * "Generative Classifier" block of `compare.py` / `compare_all.py`, which sets `fc_units = fc_units_gc`,
 * `fc_lay = fc_lay_gc`, `z_dim = z_dim_gc`, `lr = 0.001`, `iters = iters / classes_per_context`):
 *
 * - `--fc-units-gc` 85; `--fc-lay-gc` 3 for splitMNIST, 2 otherwise. `fc_lay` counts the fully connected layers
 *   including the one to z (models/vae.py: `fcE = MLP(layers=fc_layers-1)`, then `toZ`), so the encoder is
 *   784-85-85 → z for Split MNIST and 784-85 → z otherwise; the decoder mirrors it with a sigmoid output;
 * - `--z-dim-gc` 5 for splitMNIST, 20 otherwise;
 * - `--eval-s` 50 importance samples;
 * - Adam, lr 0.001 (`args.lr = 0.001` in compare.py, whatever the protocol), betas (0.9, 0.999) (main.py);
 * - likelihood: `estimate_lls` scores p(x|z) as a unit-variance Gaussian around the decoder's sigmoid output
 *   (`log_Normal_standard(x=x, mean=x_recon)`), not the Bernoulli it is trained with; we do the same (option
 *   `observation`).
 *
 * Their rotated MNIST does not exist; it takes the permMNIST values (the `else` branches).
 *
 * Training in our stream. The authors train class by class: `iters / classes_per_context` = 2000 / 2 = 1000
 * iterations of batch 128 per class on Split MNIST (128,000 samples per class), 5000 / 10 = 500 × 128 (64,000)
 * on Permuted MNIST. Our stream hands mixed batches of the current context's classes, so each `observe` splits
 * the batch by label and takes one Adam step on each present class's VAE with that class's rows (a class's VAE
 * is created when the class is first seen). On Split MNIST that is 2000 steps of ~64 rows per class — the same
 * 128,000 samples per class in twice as many steps of half the batch; on Permuted MNIST 5000 steps of ~12.8
 * rows (again the same 64,000 samples). No boundaries are needed (each class's model only ever sees its own
 * class), so task-free streams work unchanged. No raw samples are stored.
 *
 * The run's `--hidden` and `--lr` (the discriminative networks' settings) are not used (the CLI refuses them):
 * the method has its own, `--set hidden=…` and `--set lr=…`.
 *
 * Scenarios: the method is published for class-IL. In task-IL the argmax runs over the context's own classes
 * (its active outputs) among those seen. In domain-IL the scenario's labels (e.g. first / second digit of a
 * Split MNIST context) are taken as the classes: one VAE per label, trained on that label across all
 * contexts, so these VAEs do forget earlier contexts.
 *
 * Prediction is deterministic: the importance samples use a fixed table of standard-normal draws (seeded from
 * the run's seed; the same draws for every class, i.e. common random numbers), so the same parameters and
 * inputs always give the same labels. The scores of a class whose VAE has not changed since a block of inputs
 * was last scored are reused (a cache keyed by a 64-bit hash of the block's pixels and by the VAE's update
 * count): old classes' VAEs are frozen in class-IL, so the repeated evaluations of the online curve only pay
 * for the classes still being trained. Results are identical with or without the cache.
 */
export class GenClassifierLearner implements Learner {
  readonly method = 'gen-classifier';
  readonly traits: LearnerTraits = { storesRawSamples: false, cumulativeStream: false };
  readonly rng: Rng;
  readonly config: GenClassifierResolvedOptions;
  private readonly vaeConfig: VaeConfig;
  private readonly opt: GradientTransformation;
  /** label → its class's VAE and optimiser state. */
  private readonly models = new Map<number, ClassModel>();
  private clock = 0;
  private readonly noise: NoiseTable;
  /** Block key (hash of pixels and row count) → label → scores. Map order = age. */
  private readonly cache = new Map<string, Map<number, CachedScores>>();
  private cached = 0;

  constructor(readonly setup: LearnerSetup, options: GenClassifierOptions = {}) {
    this.config = resolveGenClassifierOptions(options, setup);
    this.rng = new Rng(setup.seed);
    this.vaeConfig = {
      inputSize: setup.inputSize, hidden: this.config.hidden, zDim: this.config.zDim, classes: 0,
      prior: 'standard', modes: 0, gates: null,
    };
    this.opt = adam(this.config.lr);
    this.noise = new NoiseTable((setup.seed + NOISE_SEED_OFFSET) >>> 0);
  }

  resolvedOptions(): ReportedOptions {
    return { ...this.config, hidden: [...this.config.hidden] };
  }

  /** Labels that have a model, ascending. */
  classes(): number[] {
    return [...this.models.keys()].sort((a, b) => a - b);
  }

  observe(batch: Batch): number {
    const d = this.setup.inputSize;
    const rowsOf = new Map<number, number[]>();
    for (let r = 0; r < batch.size; r++) {
      const y = batch.y[r]!;
      let rows = rowsOf.get(y);
      if (rows === undefined) rowsOf.set(y, (rows = []));
      rows.push(r);
    }
    let total = 0;
    for (const label of [...rowsOf.keys()].sort((a, b) => a - b)) {
      const rows = rowsOf.get(label)!;
      const x = new Float32Array(rows.length * d);
      rows.forEach((r, i) => x.set(batch.x.subarray(r * d, r * d + d), i * d));
      total += this.step(this.modelFor(label), x, rows.length) * rows.length;
    }
    return batch.size === 0 ? 0 : total / batch.size;
  }

  private modelFor(label: number): ClassModel {
    let m = this.models.get(label);
    if (m === undefined) {
      const vae = new Vae(this.vaeConfig, this.rng);
      m = { vae, optState: this.opt.init(vae.parameters().map((p) => p.data)), version: 0 };
      this.models.set(label, m);
    }
    return m;
  }

  /** One Adam step of a class's VAE on its rows: BCE + KL per pixel (models/vae.py `train_a_batch`). */
  private step(m: ClassModel, data: Float32Array, n: number): number {
    const params = m.vae.parameters();
    zeroGrad(params);
    const x = Tensor.from(data, [n, this.setup.inputSize]);
    const pass = m.vae.forward(x, this.rng, null);
    const loss = add(m.vae.reconstructionLoss(pass, x), m.vae.variationalLoss(pass, null));
    backward(loss);
    m.optState = optimizerStep(this.opt, m.optState, params)[1];
    m.version = ++this.clock;
    return loss.item();
  }

  predict(x: Float32Array, n: number, contexts: Int32Array | null): Int32Array {
    const out = new Int32Array(n);
    if (n === 0) return out;
    if (contexts === null) {
      this.predictRows(x, n, this.classes(), null, out, null);
      return out;
    }
    // Task-IL: rows grouped by context, each scored only by its context's classes.
    const groups = new Map<number, number[]>();
    for (let r = 0; r < n; r++) {
      const c = contexts[r]!;
      let g = groups.get(c);
      if (g === undefined) groups.set(c, (g = []));
      g.push(r);
    }
    const d = this.setup.inputSize;
    for (const [context, rows] of groups) {
      const active = this.setup.activeOutputs(context);
      const candidates = active === null ? this.classes() : active.filter((c) => this.models.has(c));
      const fallback = active?.[0] ?? 0;
      if (rows.length === n) {
        this.predictRows(x, n, candidates, null, out, fallback);
      } else {
        const sub = new Float32Array(rows.length * d);
        rows.forEach((r, i) => sub.set(x.subarray(r * d, r * d + d), i * d));
        this.predictRows(sub, rows.length, candidates, rows, out, fallback);
      }
    }
    return out;
  }

  /** argmax over `candidates` of each row's log-likelihood, written to out[rows[i]] (or out[i]). */
  private predictRows(
    x: Float32Array, n: number, candidates: readonly number[], rows: readonly number[] | null, out: Int32Array,
    fallback: number | null,
  ): void {
    const best = new Float64Array(n).fill(-Infinity);
    const label = new Int32Array(n).fill(fallback ?? candidates[0] ?? 0);
    const key = this.config.cache && candidates.length > 0 ? blockKey(x, n * this.setup.inputSize) : null;
    for (const c of candidates) {
      const scores = this.scores(c, x, n, key);
      for (let i = 0; i < n; i++) {
        // Strictly greater: ties (and NaN) keep the earlier (smaller) label.
        if (scores[i]! > best[i]!) {
          best[i] = scores[i]!;
          label[i] = c;
        }
      }
    }
    for (let i = 0; i < n; i++) out[rows === null ? i : rows[i]!] = label[i]!;
  }

  /** log p(x|c) of each row, from the cache when class c's VAE has not changed since. */
  private scores(c: number, x: Float32Array, n: number, key: string | null): Float64Array {
    const m = this.models.get(c)!;
    let entry = key === null ? undefined : this.cache.get(key);
    const hit = entry?.get(c);
    if (hit !== undefined && hit.version === m.version) {
      // Refresh the block's age.
      this.cache.delete(key!);
      this.cache.set(key!, entry!);
      return hit.scores;
    }
    const S = this.config.samples;
    const noise = this.noise.get(n * S * this.config.zDim);
    const scores = logLikelihood(m.vae, x, n, S, this.rng, { observation: this.config.observation, noise });
    if (key !== null) {
      if (entry === undefined) {
        entry = new Map();
        this.cache.set(key, entry);
      }
      if (hit === undefined) this.cached += n;
      entry.set(c, { version: m.version, scores });
      this.evict(key);
    }
    return scores;
  }

  /** Drop the oldest blocks (never `keep`) while the cache holds more than its budget. */
  private evict(keep: string): void {
    for (const [k, entry] of this.cache) {
      if (this.cached <= CACHE_BUDGET) return;
      if (k === keep) continue;
      for (const e of entry.values()) this.cached -= e.scores.length;
      this.cache.delete(k);
    }
  }

  private clearCache(): void {
    this.cache.clear();
    this.cached = 0;
  }

  storedRawSamples(): number {
    return 0;
  }

  parameterCount(): number {
    let total = 0;
    for (const m of this.models.values()) total += m.vae.parameterCount();
    return total;
  }

  getState(): LearnerState {
    const params: Record<string, Float32Array> = {};
    const optimizer: Record<string, State> = {};
    const labels = this.classes();
    for (const c of labels) {
      const m = this.models.get(c)!;
      const names = m.vae.parameterNames();
      m.vae.parameters().forEach((p, i) => (params[`class${c}.${names[i]!}`] = p.data));
      optimizer[`class${c}`] = m.optState;
    }
    return { method: this.method, params, optimizer, rng: this.rng.getState(), extra: { classes: labels } };
  }

  setState(state: LearnerState): void {
    const { extra, optimizer } = state;
    if (!isStateRecord(extra) || !Array.isArray(extra['classes']) || !isStateRecord(optimizer)) {
      throw new Error('gen-classifier state lacks its classes or optimiser states');
    }
    const labels = extra['classes'] as State[];
    if (!labels.every((c): c is number => typeof c === 'number' && Number.isInteger(c) && c >= 0)) {
      throw new Error('gen-classifier state has invalid class labels');
    }
    const restored = new Map<number, ClassModel>();
    for (const c of labels) {
      const vae = new Vae(this.vaeConfig, new Rng(0));
      const names = vae.parameterNames();
      vae.parameters().forEach((p, i) => {
        const src = state.params[`class${c}.${names[i]!}`];
        if (src === undefined || src.length !== p.size) {
          throw new Error(`checkpoint parameter class${c}.${names[i]} is missing or has the wrong size`);
        }
        p.data.set(src);
      });
      const optState = optimizer[`class${c}`];
      if (optState === undefined) throw new Error(`checkpoint lacks the optimiser state of class ${c}`);
      restored.set(c, { vae, optState: copyState(optState), version: 0 });
    }
    this.models.clear();
    for (const [c, m] of restored) this.models.set(c, m);
    this.clock = 0;
    this.clearCache();
    this.rng.setState(state.rng);
  }
}

/** A deep copy (the optimiser updates its moments in place; the caller may still hold the state it passed). */
function copyState(s: State): State {
  if (typeof s === 'number') return s;
  if (s instanceof Float32Array) return s.slice();
  if (Array.isArray(s)) return s.map(copyState);
  const out: Record<string, State> = {};
  for (const [k, v] of Object.entries(s)) out[k] = copyState(v);
  return out;
}

/**
 * Standard-normal draws, the same sequence for a given seed however far it is extended, so that prediction
 * depends on nothing but the parameters and the inputs.
 */
class NoiseTable {
  private readonly rng: Rng;
  private data = new Float32Array(0);
  private filled = 0;

  constructor(seed: number) {
    this.rng = new Rng(seed);
  }

  get(count: number): Float32Array {
    if (count > this.data.length) {
      const next = new Float32Array(Math.max(count, 2 * this.data.length));
      next.set(this.data.subarray(0, this.filled));
      this.data = next;
    }
    while (this.filled < count) this.data[this.filled++] = this.rng.normal();
    return this.data.subarray(0, count);
  }
}

/** Two independent 32-bit hashes (multiply–xorshift) of the block's float bits, with its length: the cache key. */
function blockKey(x: Float32Array, len: number): string {
  const u = new Uint32Array(x.buffer, x.byteOffset, len);
  let h1 = 0x811c9dc5 ^ len;
  let h2 = 0x2545f491 ^ Math.imul(len, 0x9e3779b1);
  for (let i = 0; i < len; i++) {
    const v = u[i]!;
    h1 = Math.imul(h1 ^ v, 0x01000193);
    h1 ^= h1 >>> 15;
    h2 = Math.imul(h2 + v, 0x85ebca6b);
    h2 ^= h2 >>> 13;
  }
  return `${len}:${(h1 >>> 0).toString(16)}:${(h2 >>> 0).toString(16)}`;
}
