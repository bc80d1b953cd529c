import type { Tensor } from '../../core/index.js';
import { getBackend } from '../../kernels/index.js';
import type { State } from '../../optim/index.js';
import type { Batch } from '../../protocols/types.js';
import type { LearnerSetup } from '../learner.js';
import { assertNonNegative } from './base.js';
import { QuadraticPenaltyLearner } from './base.js';
import { SI_EPSILON, SI_TASK_FREE_UPDATE_EVERY, siC } from './defaults.js';
import { copyArrays } from './penalty.js';

export interface SiOptions {
  /** c in L = L_CE + c·Σ Ω (θ − θ*)² (default: van de Ven's `si_c` for the protocol, scenario and stream). */
  c?: number;
  /** Damping ξ in Ω += ω/(Δθ² + ξ) (default 0.1, their `--epsilon`). */
  epsilon?: number;
  /** Task-free streams: consolidate every this many iterations (default 100, their `--update-every`). */
  consolidateEvery?: number;
}

/**
 * Synaptic Intelligence (Zenke, Poole & Ganguli 2017), as in van de Ven's code (`update_importance_estimates`,
 * `update_omega`, `surrogate_loss`): every step adds ω −= g ⊙ Δθ, with g the gradient the optimiser was given
 * — the gradient of the total loss, SI penalty included (they read `p.grad` after `loss_total.backward()`) —
 * and Δθ the step's update. At consolidation Ω += ω / ((θ − θ*)² + ξ), θ* ← θ, ω ← 0, where θ* starts as the
 * initial parameters. The loss is L_CE + c·Σ Ω (θ − θ*)² (no ½: the penalty scale here is 2c). Ω is not
 * clipped at zero (neither is theirs). Consolidation: at context boundaries, or every 100 iterations in
 * task-free streams (their `main_task_free.py`). Nothing but ω, Ω and θ* is kept.
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

  constructor(setup: LearnerSetup, opts: SiOptions = {}) {
    super('si', setup, opts.consolidateEvery ??
      (setup.stream === 'task-free' ? SI_TASK_FREE_UPDATE_EVERY : setup.itersPerContext));
    this.c = opts.c ?? siC(setup.protocol, setup.scenario, setup.stream);
    this.epsilon = opts.epsilon ?? SI_EPSILON;
    assertNonNegative(this.c, 'SI c');
    assertNonNegative(this.epsilon, 'SI epsilon');
    this.omega = this.paramData().map((p) => new Float32Array(p.length));
    this.grads = this.paramData().map((p) => new Float32Array(p.length));
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
