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

/** What a synapse-optimiser timing measures per step: the update alone, update + apply, or the fused step. */
export type SynapseTimed = 'update' | 'composed' | 'fused';

/**
 * A step function on SYNAPSE_SHAPES for synapseAdam (SI importance, Adam, viscosity c 0.1, lr 1e-3), warmed up
 * and consolidated once so that Ω > 0; each call returns the ms of what `timed` names. Copying the gradients
 * in before each step is not timed; with `update`, applying the update is not either.
 */
export function synapseRunner(timed: SynapseTimed, rng: Rng, grads: readonly Float32Array[]): () => number {
  const opt = synapseAdam({ xi: 0.1, c: 0.1, lr: 1e-3 });
  const params = grads.map((g) => Float32Array.from({ length: g.length }, () => (rng.uniform() - 0.5) * 0.1));
  const buffers = grads.map((g) => new Float32Array(g.length));
  let state = opt.init(params);
  const step = (): number => {
    buffers.forEach((x, i) => x.set(grads[i]!));
    const t0 = performance.now();
    if (timed === 'fused') {
      state = opt.step(params, buffers, state);
      return performance.now() - t0;
    }
    const [u, s] = opt.update(buffers, state, params);
    const updateMs = performance.now() - t0;
    applyUpdates(params, u);
    state = s;
    return timed === 'update' ? updateMs : performance.now() - t0;
  };
  for (let i = 0; i < 10; i++) step();
  state = opt.consolidate(state, params);
  for (let i = 0; i < 5; i++) step();
  return step;
}

/** Gradients of SYNAPSE_SHAPES drawn from `rng`, shared by the runners of one timing. */
export function synapseGradients(rng: Rng): Float32Array[] {
  return SYNAPSE_SHAPES.map((s) => s.reduce((a, x) => a * x, 1))
    .map((n) => Float32Array.from({ length: n }, () => (rng.uniform() - 0.5) * 0.01));
}

/**
 * ms per step of synapseAdam on SYNAPSE_SHAPES: `update` + `applyUpdates` against the fused `step` (the same
 * numbers). The two run in alternating windows of ~seconds/6 each on their own copy of the state; each figure
 * is the lowest window mean.
 */
export function synapseStepMs(b: Backend, threads: number, seconds: number): SynapseStepTiming {
  setBackend(b);
  b.setThreads(threads);
  const rng = new Rng(2);
  const grads = synapseGradients(rng);
  const runner = (fused: boolean): (() => number) => synapseRunner(fused ? 'fused' : 'composed', rng, grads);
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
