import { z } from 'zod';
import { noGrad, Tensor, type Rng } from '../../core/index.js';
import type { Mlp } from '../../nn/index.js';
import type { Batch } from '../../protocols/types.js';
import { maskedSoftmax } from '../heads/index.js';
import type { LearnerSetup } from '../learner.js';
import { nonNegative, parseMethodOptions, positiveInt, refuseOutsideTaskFree, type OptionContext, type ReportedOptions } from '../method-options.js';
import { TASK_FREE_UPDATE_EVERY } from '../task-free.js';
import { EWC_GAMMA, ewcLambda, importanceSamples } from './defaults.js';
import { forwardKeep, logitsOf, type MlpActivations, type PerSampleStats } from './per-sample.js';
import { WindowedImportanceLearner } from './windowed.js';

const fisherLabelNames = ['all', 'sample', 'pred', 'true'] as const;

/**
 * Which label's log-likelihood gradient enters the Fisher (van de Ven's `--fisher-labels`):
 * - `all` (their default): every label, weighted by the model's predicted probability — the exact Fisher
 *   E_{y~p(y|x)}[(∇ log p(y|x))²] of the model's predictive distribution;
 * - `sample`: one label drawn from p(y|x) (a one-sample estimate of the above);
 * - `pred`: the most probable label;
 * - `true`: the data's label (the "empirical Fisher").
 */
export type FisherLabels = (typeof fisherLabelNames)[number];

/**
 * EWC's `--set` options (offline EWC; online EWC adds `gamma`):
 * - `lambda`: λ in L = L_CE + λ·½ Σ F (θ − θ*)² (default: van de Ven's `ewc_lambda` for the protocol and scenario);
 * - `fisherSamples`: samples per Fisher estimate (default: a full context for Split MNIST ≈ 12,000; 1000 otherwise);
 * - `fisherLabels`: labels of the Fisher (default `all`, van de Ven's default);
 * - `consolidateEvery`: task-free streams only, iterations between consolidations (default {@link TASK_FREE_UPDATE_EVERY});
 * - `gamma` (online EWC): decay γ of the running Fisher (default 1, van de Ven's `--gamma`).
 */
export const ewcOptionsSchema = z.object({
  lambda: nonNegative().optional(),
  fisherSamples: positiveInt().optional(),
  fisherLabels: z.enum(fisherLabelNames).default('all'),
  consolidateEvery: positiveInt().default(TASK_FREE_UPDATE_EVERY),
}).strict();
export const ewcOnlineOptionsSchema = ewcOptionsSchema.extend({ gamma: nonNegative().max(1, 'must be ≤ 1 (it is a decay)').default(EWC_GAMMA) }).strict();

/** EWC's options with every default decided; `gamma` for online EWC, `consolidateEvery` in task-free streams only. */
export type EwcResolvedOptions = {
  lambda: number;
  fisherSamples: number;
  fisherLabels: FisherLabels;
  gamma?: number;
  consolidateEvery?: number;
};

/** What the constructor takes: the `--set` options, typed, and whether this is online EWC. */
export type EwcOptions = z.input<typeof ewcOnlineOptionsSchema> & { online?: boolean };

/**
 * EWC's options (`online`: online EWC's, with `gamma`) validated, with every default decided for `ctx`.
 *
 * @example
 * resolveEwcOptions({}, { protocol: 'split-mnist', scenario: 'task', stream: 'boundaries', hidden: [400, 400] }, false);
 * // { lambda: 1e5, fisherSamples: 12000, fisherLabels: 'all' }
 */
export function resolveEwcOptions(given: Readonly<Record<string, unknown>>, ctx: OptionContext, online: boolean): EwcResolvedOptions {
  const method = online ? 'ewc-online' : 'ewc';
  if (!online) parseMethodOptions(method, ewcOptionsSchema, given); // refuses gamma, online EWC's option
  const o = parseMethodOptions(method, ewcOnlineOptionsSchema, given);
  refuseOutsideTaskFree(method, given, ctx, 'consolidateEvery');
  return {
    lambda: o.lambda ?? ewcLambda(ctx.protocol, ctx.scenario),
    fisherSamples: o.fisherSamples ?? importanceSamples(ctx.protocol),
    fisherLabels: o.fisherLabels,
    ...(online ? { gamma: o.gamma } : {}),
    ...(ctx.stream === 'task-free' ? { consolidateEvery: o.consolidateEvery } : {}),
  };
}

/**
 * Elastic weight consolidation (Kirkpatrick et al. 2017), as in van de Ven's code (`models/cl/
 * continual_learner.py`, `estimate_fisher` / `ewc_loss`): after each context, the diagonal Fisher F of the
 * model's predictive distribution on that context's data (per-sample gradients, batch size 1 in their code;
 * exact per-sample gradients for a whole batch here) and the parameters θ* are stored, and training minimises
 * L_CE + λ·½ Σ_k Σ_i F_k,i (θ_i − θ*_k,i)². In task-IL the softmax is over the context's head only.
 *
 * Offline EWC (`ewc`, their `--ewc`) keeps one term per context; their sum is itself one diagonal quadratic
 * (ΣF_k)(θ − θ̄*)² + const, θ̄* the F-weighted mean of the anchors, so one importance and one anchor array hold
 * all of them exactly (the gradient is the same; memory and cost stay O(params) however many contexts).
 * Online EWC (`ewc-online`, Schwarz et al. 2018; their Fisher options without `--offline`) keeps a running
 * F ← F_new + γF, anchored at the newest θ*, and penalises with γF as their `ewc_loss` does.
 *
 * The Fisher is gathered over the last ⌈fisherSamples/batch⌉ batches before each consolidation (see
 * {@link WindowedImportanceLearner}): no raw data is kept.
 *
 * @example
 * const learner = new EwcLearner(setup, { lambda: 1e5 });
 */
export class EwcLearner extends WindowedImportanceLearner {
  readonly lambda: number;
  readonly online: boolean;
  readonly gamma: number;
  readonly fisherLabels: FisherLabels;
  private readonly options: EwcResolvedOptions;

  constructor(setup: LearnerSetup, opts: EwcOptions = {}) {
    const { online = false, ...given } = opts;
    const o = resolveEwcOptions(given, setup, online);
    super(online ? 'ewc-online' : 'ewc', setup, o.consolidateEvery ?? null, o.fisherSamples);
    this.options = o;
    this.online = online;
    this.lambda = o.lambda;
    this.gamma = o.gamma ?? EWC_GAMMA;
    this.fisherLabels = o.fisherLabels;
  }

  override resolvedOptions(): ReportedOptions {
    return { ...this.options };
  }

  protected scale(): number {
    return this.online ? this.lambda * this.gamma : this.lambda;
  }

  protected gather(batch: Batch): void {
    const acts = forwardKeep(this.net, batch.x, batch.size);
    const n = batch.size;
    const logits = noGrad(() => this.masked(Tensor.from(logitsOf(acts), [n, this.setup.numOutputs]), batch.contexts)).data;
    accumulateFisher(this.net, acts, logits, this.fisherLabels, batch.y, this.rng, this.stats);
  }

  protected consolidate(): void {
    const fisher = this.takeMean();
    if (this.online) this.penalty.accumulate(fisher, this.paramData(), this.gamma);
    else this.penalty.addQuadratic(fisher, this.paramData());
  }
}

/**
 * Add Σ_i of the squared per-sample gradients of −log p(label | x_i) to `stats` (Σ_i E_{label}[…] for `all`).
 * `logits` are the (masked: −∞ outside a sample's head) logits of `acts`, n×K. For one label per sample the
 * output gradient is p_i − e_label; for `all`, one backward sweep per class c with rows √p_ic·(p_i − e_c), and
 * one GEMM per layer for all classes together.
 *
 * @example
 * accumulateFisher(net, forwardKeep(net, x, n), logits, 'all', y, rng, stats);
 */
export function accumulateFisher(
  net: Mlp, acts: MlpActivations, logits: Float32Array, labels: FisherLabels, y: Int32Array, rng: Rng,
  stats: PerSampleStats,
): void {
  const n = acts.n;
  const K = logits.length / n;
  const p = maskedSoftmax(logits, null, n, K, 1); // -Infinity: outputs the sample's head does not own
  if (labels === 'all') {
    const grads: Float32Array[] = [];
    for (let c = 0; c < K; c++) {
      let any = false;
      for (let i = 0; i < n && !any; i++) any = p[i * K + c]! > 0;
      if (!any) continue; // an output no sample's head owns: zero weight everywhere
      const g = new Float32Array(n * K);
      for (let i = 0; i < n; i++) {
        const w = Math.sqrt(p[i * K + c]!);
        if (w === 0) continue;
        for (let k = 0; k < K; k++) g[i * K + k] = w * (p[i * K + k]! - (k === c ? 1 : 0));
      }
      grads.push(g);
    }
    stats.accumulate(net, acts, grads, 'square');
    return;
  }
  const g = new Float32Array(n * K);
  for (let i = 0; i < n; i++) {
    const label = pickLabel(labels, p, i, K, y, rng);
    for (let k = 0; k < K; k++) g[i * K + k] = p[i * K + k]! - (k === label ? 1 : 0);
  }
  stats.accumulate(net, acts, g, 'square');
}

function pickLabel(labels: Exclude<FisherLabels, 'all'>, p: Float32Array, i: number, K: number, y: Int32Array, rng: Rng): number {
  if (labels === 'true') return y[i]!;
  if (labels === 'pred') {
    let best = 0;
    for (let k = 1; k < K; k++) if (p[i * K + k]! > p[i * K + best]!) best = k;
    return best;
  }
  const u = rng.uniform();
  let s = 0;
  let last = 0;
  for (let k = 0; k < K; k++) {
    if (p[i * K + k]! <= 0) continue;
    last = k;
    s += p[i * K + k]!;
    if (u < s) return k;
  }
  return last;
}
