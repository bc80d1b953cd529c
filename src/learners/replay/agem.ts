import { backward, crossEntropy, Tensor, zeroGrad } from '../../core/index.js';
import { getBackend } from '../../kernels/index.js';
import type { State } from '../../optim/index.js';
import type { Batch } from '../../protocols/types.js';
import { KnownOutputs } from '../heads/index.js';
import type { LearnerSetup } from '../learner.js';
import { ReplayLearner, type ReplayOptions } from './replay-learner.js';

/**
 * Averaged GEM (Chaudhry et al. 2019): the gradient g of the current batch is compared with the gradient
 * g_ref of a batch drawn from the replay buffer; if they conflict (g·g_ref < 0), g is projected onto the
 * half-space where the replayed loss does not increase: g ← g − (g·g_ref / g_ref·g_ref)·g_ref. The buffer
 * is the same class-balanced reservoir as ER's; in `boundaries` streams only earlier contexts are used.
 * As in van de Ven et al.'s code, both losses in class-IL span the classes seen so far ("all-so-far").
 */
export class AgemLearner extends ReplayLearner {
  private readonly known: KnownOutputs;

  constructor(setup: LearnerSetup, opts: ReplayOptions = {}) {
    super('agem', setup, opts);
    this.known = new KnownOutputs(setup.scenario, setup.numOutputs, setup.activeOutputs);
  }

  protected override loss(batch: Batch): Tensor {
    this.known.see(batch);
    const logits = this.net.forward(Tensor.from(batch.x, [batch.size, this.setup.inputSize]));
    return crossEntropy(this.known.maskCurrent(logits, batch), batch.y);
  }

  protected override extraState(): State {
    return { ...(super.extraState() as Record<string, State>), known: this.known.getState() };
  }

  protected override restoreExtraState(extra: State): void {
    super.restoreExtraState(extra);
    this.known.setState((extra as { known: { classes: Float32Array; contexts: Float32Array } }).known);
  }

  protected override adjustGradients(params: Tensor[], batch: Batch): void {
    const replay = this.replayBatch(batch.size);
    if (replay === null) return;
    const g = params.map((p) => (p.grad ?? new Float32Array(p.size)).slice());
    zeroGrad(params);
    const n = replay.y.length;
    const replayBatch = { x: replay.x, y: replay.y, size: n, contexts: batch.contexts === null ? null : replay.contexts };
    const logits = this.net.forward(Tensor.from(replay.x, [n, this.setup.inputSize]));
    backward(crossEntropy(this.known.maskCurrent(logits, replayBatch), replay.y));
    const b = getBackend();
    let dot = 0;
    let norm = 0;
    const ref = params.map((p) => p.grad ?? new Float32Array(p.size));
    // One scratch buffer for the products, sized for the largest parameter, reused across the loop.
    const scratch = new Float32Array(Math.max(...g.map((x) => x.length)));
    for (let i = 0; i < params.length; i++) {
      const prod = scratch.subarray(0, g[i]!.length);
      b.binary('mul', g[i]!, ref[i]!, prod);
      dot += b.sum(prod);
      b.binary('mul', ref[i]!, ref[i]!, prod);
      norm += b.sum(prod);
    }
    const k = dot < 0 && norm > 0 ? dot / norm : 0;
    // The parameters' gradient buffers now hold g_ref: overwrite them with the (projected) g.
    for (let i = 0; i < params.length; i++) b.axpby(1, g[i]!, -k, ref[i]!, ref[i]!);
    for (let i = 0; i < params.length; i++) params[i]!.grad = ref[i]!;
  }
}
