import { z } from 'zod';
import { noGrad, Tensor } from '../../core/index.js';
import type { Mlp } from '../../nn/index.js';
import type { Batch } from '../../protocols/types.js';
import type { LearnerSetup } from '../learner.js';
import { nonNegative, parseMethodOptions, positiveInt, refuseOutsideTaskFree, type OptionContext, type ReportedOptions } from '../method-options.js';
import { TASK_FREE_UPDATE_EVERY } from '../task-free.js';
import { importanceSamples, masLambda } from './defaults.js';
import { forwardKeep, logitsOf, type MlpActivations, type PerSampleStats } from './per-sample.js';
import { WindowedImportanceLearner } from './windowed.js';

/**
 * MAS's `--set` options:
 * - `lambda`: λ in L = L_CE + λ·Σ Ω (θ − θ*)² (default: Hsu et al. 2018's `--reg_coef`, rescaled; see `masLambda`);
 * - `samples`: samples per importance estimate (default: as EWC's Fisher, ≈ a context for Split MNIST, 1000 otherwise);
 * - `consolidateEvery`: task-free streams only, iterations between consolidations (default {@link TASK_FREE_UPDATE_EVERY}).
 */
export const masOptionsSchema = z.object({
  lambda: nonNegative().optional(),
  samples: positiveInt().optional(),
  consolidateEvery: positiveInt().default(TASK_FREE_UPDATE_EVERY),
}).strict();

export type MasOptions = z.input<typeof masOptionsSchema>;

/** MAS's options with every default decided (`consolidateEvery` in task-free streams only). */
export type MasResolvedOptions = {
  lambda: number;
  samples: number;
  consolidateEvery?: number;
};

/**
 * MAS's options validated, with every default decided for `ctx`.
 *
 * @example
 * resolveMasOptions({}, { protocol: 'split-mnist', scenario: 'class', stream: 'boundaries', hidden: [400, 400] });
 * // { lambda: 0.1, samples: 12000 }
 */
export function resolveMasOptions(given: Readonly<Record<string, unknown>>, ctx: OptionContext): MasResolvedOptions {
  const o = parseMethodOptions('mas', masOptionsSchema, given);
  refuseOutsideTaskFree('mas', given, ctx, 'consolidateEvery');
  return {
    lambda: o.lambda ?? masLambda(ctx.protocol, ctx.scenario),
    samples: o.samples ?? importanceSamples(ctx.protocol),
    ...(ctx.stream === 'task-free' ? { consolidateEvery: o.consolidateEvery } : {}),
  };
}

/**
 * Memory Aware Synapses (Aljundi et al. 2018): the importance of a parameter is the mean over samples of the
 * magnitude of the per-sample gradient of the squared L2 norm of the network's output, Ω = mean_k
 * |∂‖f(x_k)‖²/∂θ|, with f the logits (in task-IL, of the sample's head only). It needs no labels. Importances
 * of successive contexts are summed and the anchor is the newest θ*; the loss is L_CE + λ·Σ Ω (θ − θ*)².
 * Importance is gathered over the last batches before each consolidation (see
 * {@link WindowedImportanceLearner}): no raw data is kept.
 *
 * @example
 * const learner = new MasLearner(setup, { lambda: 1 });
 */
export class MasLearner extends WindowedImportanceLearner {
  readonly lambda: number;
  private readonly options: MasResolvedOptions;

  constructor(setup: LearnerSetup, opts: MasOptions = {}) {
    const o = resolveMasOptions(opts, setup);
    super('mas', setup, o.consolidateEvery ?? null, o.samples);
    this.options = o;
    this.lambda = o.lambda;
  }

  override resolvedOptions(): ReportedOptions {
    return { ...this.options };
  }

  protected scale(): number {
    return 2 * this.lambda;
  }

  protected gather(batch: Batch): void {
    const acts = forwardKeep(this.net, batch.x, batch.size);
    const n = batch.size;
    const logits = noGrad(() => this.masked(Tensor.from(logitsOf(acts), [n, this.setup.numOutputs]), batch.contexts)).data;
    accumulateOutputSensitivity(this.net, acts, logits, this.stats);
  }

  protected consolidate(): void {
    this.penalty.accumulate(this.takeMean(), this.paramData());
  }
}

/**
 * Add Σ_i |∂‖f(x_i)‖²/∂θ| to `stats`, where f(x_i) are the rows of `logits` (−∞ marks outputs outside a sample's
 * head, which are left out of the norm). The gradient of ‖f‖² with respect to f is 2f.
 *
 * @example
 * accumulateOutputSensitivity(net, acts, logits, stats);
 */
export function accumulateOutputSensitivity(net: Mlp, acts: MlpActivations, logits: Float32Array, stats: PerSampleStats): void {
  const g = new Float32Array(logits.length);
  for (let j = 0; j < g.length; j++) g[j] = logits[j] === -Infinity ? 0 : 2 * logits[j]!;
  stats.accumulate(net, acts, g, 'abs');
}
