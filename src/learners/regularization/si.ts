import { z } from 'zod';
import type { Tensor } from '../../core/index.js';
import { getBackend } from '../../kernels/index.js';
import type { State } from '../../optim/index.js';
import type { Batch } from '../../protocols/types.js';
import type { LearnerSetup } from '../learner.js';
import { nonNegative, parseMethodOptions, positiveInt, refuseOutsideTaskFree, type OptionContext, type ReportedOptions } from '../method-options.js';
import { QuadraticPenaltyLearner } from './base.js';
import { SI_EPSILON, SI_TASK_FREE_UPDATE_EVERY, siC } from './defaults.js';
import { copyArrays } from './penalty.js';

/**
 * SI's `--set` options:
 * - `c`: c in L = L_CE + c·Σ Ω (θ − θ*)² (default: van de Ven's `si_c` for the protocol, scenario and stream);
 * - `epsilon`: the damping ξ in Ω += ω/(Δθ² + ξ) (default 0.1, their `--epsilon`);
 * - `consolidateEvery`: task-free streams only, iterations between consolidations (default 100, their
 *   `--update-every`).
 */
export const siOptionsSchema = z.object({
  c: nonNegative().optional(),
  epsilon: nonNegative().default(SI_EPSILON),
  consolidateEvery: positiveInt().default(SI_TASK_FREE_UPDATE_EVERY),
}).strict();

export type SiOptions = z.input<typeof siOptionsSchema>;

/** SI's options with every default decided (`consolidateEvery` in task-free streams only). */
export type SiResolvedOptions = {
  c: number;
  epsilon: number;
  consolidateEvery?: number;
};

/**
 * SI's options validated, with every default decided for `ctx`.
 *
 * @example
 * resolveSiOptions({ c: 1 }, { protocol: 'split-mnist', scenario: 'class', stream: 'task-free', hidden: [400, 400] });
 * // { c: 1, epsilon: 0.1, consolidateEvery: 100 }
 */
export function resolveSiOptions(given: Readonly<Record<string, unknown>>, ctx: OptionContext): SiResolvedOptions {
  const o = parseMethodOptions('si', siOptionsSchema, given);
  refuseOutsideTaskFree('si', given, ctx, 'consolidateEvery');
  return {
    c: o.c ?? siC(ctx.protocol, ctx.scenario, ctx.stream),
    epsilon: o.epsilon,
    ...(ctx.stream === 'task-free' ? { consolidateEvery: o.consolidateEvery } : {}),
  };
}

/**
 * Synaptic Intelligence (Zenke, Poole & Ganguli 2017), as in van de Ven's code (`update_importance_estimates`,
 * `update_omega`, `surrogate_loss`): every step adds ω −= g ⊙ Δθ, with g the gradient the optimiser was given
 * — the gradient of the total loss, SI penalty included (they read `p.grad` after `loss_total.backward()`) —
 * and Δθ the step's update. At consolidation Ω += ω / ((θ − θ*)² + ξ), θ* ← θ, ω ← 0, where θ* starts as the
 * initial parameters. The loss is L_CE + c·Σ Ω (θ − θ*)² (no ½: the penalty scale here is 2c). Ω is not
 * clipped at zero (neither is theirs). Consolidation: at context boundaries, or every `consolidateEvery` (100)
 * iterations in task-free streams (their `main_task_free.py`). Nothing but ω, Ω and θ* is kept.
 *
 * @example
 * const learner = new SiLearner(setup, { c: 10 });
 */
export class SiLearner extends QuadraticPenaltyLearner {
  readonly c: number;
  readonly epsilon: number;
  /** The running path integral ω since the last consolidation. */
  private readonly omega: Float32Array[];
  /** The gradients handed to the optimiser this step (it overwrites its input buffers with the updates). */
  private readonly grads: Float32Array[];

  private readonly options: SiResolvedOptions;

  constructor(setup: LearnerSetup, opts: SiOptions = {}) {
    const o = resolveSiOptions(opts, setup);
    super('si', setup, o.consolidateEvery ?? null);
    this.options = o;
    this.c = o.c;
    this.epsilon = o.epsilon;
    this.omega = this.paramData().map((p) => new Float32Array(p.length));
    this.grads = this.paramData().map((p) => new Float32Array(p.length));
  }

  override resolvedOptions(): ReportedOptions {
    return { ...this.options };
  }

  protected scale(): number {
    return 2 * this.c;
  }

  protected override adjustGradients(params: Tensor[], batch: Batch): void {
    super.adjustGradients(params, batch);
    for (let i = 0; i < params.length; i++) {
      const g = params[i]!.grad;
      if (g === null) this.grads[i]!.fill(0);
      else this.grads[i]!.set(g);
    }
  }

  protected override afterPenalisedStep(_params: Tensor[], updates: readonly Float32Array[]): void {
    const b = getBackend();
    for (let i = 0; i < updates.length; i++) {
      const g = this.grads[i]!;
      b.binary('mul', g, updates[i]!, g);
      b.axpby(1, this.omega[i]!, -1, g, this.omega[i]!);
    }
  }

  protected consolidate(): void {
    const theta = this.paramData();
    const eps = this.epsilon;
    for (let i = 0; i < theta.length; i++) {
      const w = this.omega[i]!;
      const t = theta[i]!;
      const a = this.penalty.anchor[i]!;
      // In place: ω becomes this period's Ω increment.
      for (let j = 0; j < w.length; j++) {
        const d = t[j]! - a[j]!;
        w[j] = w[j]! / (d * d + eps);
      }
    }
    this.penalty.accumulate(this.omega, theta);
    for (const w of this.omega) w.fill(0);
  }

  /** The running path integral ω (for tests and diagnostics). */
  pathIntegral(): readonly Float32Array[] {
    return this.omega;
  }

  protected override methodState(): State {
    return { omega: this.omega };
  }

  protected override restoreMethodState(state: State): void {
    copyArrays((state as { omega: Float32Array[] }).omega, this.omega, 'SI omega');
  }
}
