import { Rng } from '../core/index.js';
import { setBackend, type Backend } from '../kernels/index.js';
import { applyUpdates, synapseAdam } from '../optim/index.js';

/** The parameter tensors of Engram's networks (~1.08 M parameters), as its sleep updates them. */
export const SYNAPSE_SHAPES: number[][] = [
  [784, 400], [400], [400, 400], [400], [400, 10], [10], [400, 100], [100], [400, 100], [100], [100, 400], [400],
  [400, 400], [400], [400, 784], [784],
];

/** ms per step of the sleep optimiser, applied to the parameters: the composed chain's and the fused one's. */
export interface SynapseStepTiming {
  threads: number;
  /** `update` then `applyUpdates`: five kernels per tensor. */
  composedMs: number;
  /** `step`: one fused kernel per tensor. */
  fusedMs: number;
}

/**
 * ms per step of synapseAdam (SI importance, Adam, viscosity c 0.1, lr 1e-3) on SYNAPSE_SHAPES, with Ω > 0 as
 * after a consolidation: `update` + `applyUpdates` against the fused `step` (the same numbers). The two run in
 * alternating windows of ~seconds/6 each on their own copy of the state; each figure is the lowest window mean.
 * Copying the gradients in before each step is not timed.
 */
export function synapseStepMs(b: Backend, threads: number, seconds: number): SynapseStepTiming {
  setBackend(b);
  b.setThreads(threads);
  const rng = new Rng(2);
  const sizes = SYNAPSE_SHAPES.map((s) => s.reduce((a, x) => a * x, 1));
  const grads = sizes.map((n) => Float32Array.from({ length: n }, () => (rng.uniform() - 0.5) * 0.01));
  const opt = synapseAdam({ xi: 0.1, c: 0.1, lr: 1e-3 });
  const runner = (fused: boolean): (() => number) => {
    const params = sizes.map((n) => Float32Array.from({ length: n }, () => (rng.uniform() - 0.5) * 0.1));
    const buffers = sizes.map((n) => new Float32Array(n));
    let state = opt.init(params);
    const step = (): number => {
      buffers.forEach((x, i) => x.set(grads[i]!));
      const t0 = performance.now();
      if (fused) {
        state = opt.step(params, buffers, state);
      } else {
        const [u, s] = opt.update(buffers, state, params);
        applyUpdates(params, u);
        state = s;
      }
      return performance.now() - t0;
    };
    for (let i = 0; i < 10; i++) step();
    state = opt.consolidate(state, params);
    for (let i = 0; i < 5; i++) step();
    return step;
  };
  const steps = [runner(false), runner(true)] as const;
  const best = [Infinity, Infinity];
  for (let w = 0; w < 6; w++) {
    const k = w % 2;
    let n = 0;
    let total = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < (seconds * 1000) / 6) {
      total += steps[k]!();
      n++;
    }
    best[k] = Math.min(best[k]!, total / n);
  }
  return { threads, composedMs: best[0]!, fusedMs: best[1]! };
}
