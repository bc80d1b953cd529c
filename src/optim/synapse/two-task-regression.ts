import { Rng } from '../../core/rng.js';
import type { GradientTransformation, State } from '../base.js';
import { applyUpdates } from '../transform.js';
import { mesu, mesuSample, type MesuOptions } from './mesu.js';

/**
 * The two-task regression the synapse models are compared on (forgetting.test.ts, mesu.test.ts and
 * `src/bench/synapse-compare.ts`). Two linear-regression tasks y = w·x on one shared weight vector of 12,
 * trained one after the other with full-batch gradient descent (150 steps of A, then 300 of B) and no task
 * boundary signal:
 * - task A: inputs on dims 0–7, target weights wA;
 * - task B: inputs on dims 4–7 and dims 8–11 = dims 4–7 + small noise, target v·x₄₋₇ with v ≠ wA₄₋₇.
 * B can be fitted through its own dims 8–11 (almost a joint solution), but plain SGD moves dims 4–7 and 8–11
 * alike, so it forgets A; a mechanism that keeps A's important weights still shifts the fit onto dims 8–11.
 * The data are fixed (seed 7 of a small LCG); only stochastic optimisers (MESU's weight noise) take a seed.
 */
export const DIMS = 12;
/** Samples per task. */
export const SAMPLES = 64;
export const STEPS_A = 150;
export const STEPS_B = 300;
const wA = [1, -1, 0.5, 2, -1.5, 1, -0.5, 1.2, 0, 0, 0, 0];
const v = [0.5, -1, 1.5, 0];

function gaussian(seed: number): () => number {
  let s = seed >>> 0;
  const uniform = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

export interface Task { x: number[][]; y: number[] }

/** Tasks A and B (the same every call). */
export function makeTasks(): { a: Task; b: Task } {
  const rnd = gaussian(7);
  const a: Task = { x: [], y: [] };
  const b: Task = { x: [], y: [] };
  for (let n = 0; n < SAMPLES; n++) {
    const xa = Array.from({ length: DIMS }, (_, j) => (j < 8 ? rnd() : 0));
    a.x.push(xa);
    a.y.push(xa.reduce((acc, xi, j) => acc + xi * wA[j]!, 0));
    const xb = new Array<number>(DIMS).fill(0);
    for (let j = 4; j < 8; j++) {
      xb[j] = rnd();
      xb[j + 4] = xb[j]! + 0.1 * rnd();
    }
    b.x.push(xb);
    b.y.push(v.reduce((acc, vj, j) => acc + vj * xb[j + 4]!, 0));
  }
  return { a, b };
}

/** ½·mean (w·x − y)² and its gradient. */
export function lossAndGrad(w: Float32Array, t: Task): [number, Float32Array] {
  const g = new Float32Array(DIMS);
  let loss = 0;
  t.x.forEach((x, n) => {
    const r = x.reduce((acc, xi, j) => acc + xi * w[j]!, 0) - t.y[n]!;
    loss += (0.5 * r * r) / SAMPLES;
    for (let j = 0; j < DIMS; j++) g[j] = g[j]! + (r * x[j]!) / SAMPLES;
  });
  return [loss, g];
}

/** Losses (½·mean squared error) of task A after training on A, and of A and B after training on B. */
export interface TwoTaskResult { aAfterA: number; aAfterB: number; bAfterB: number }

/**
 * Train `opt` from zero weights on A for {@link STEPS_A} steps, then on B for {@link STEPS_B}; losses are
 * measured at the weights the optimiser holds (MESU: the means μ). `gradientAt(μ, state)` gives the point
 * where each gradient is taken and the state to update with (default: μ itself and the state unchanged).
 */
export function trainAB<S extends State>(
  opt: GradientTransformation<S>, gradientAt: (mu: Float32Array[], s: S) => [Float32Array, S] = (mu, s) => [mu[0]!, s],
): TwoTaskResult {
  const { a, b } = makeTasks();
  const params = [new Float32Array(DIMS)];
  let state = opt.init(params);
  const train = (t: Task, steps: number): void => {
    for (let k = 0; k < steps; k++) {
      const [at, s1] = gradientAt(params, state);
      const [u, s] = opt.update([lossAndGrad(at, t)[1]], s1, params);
      state = s;
      applyUpdates(params, u);
    }
  };
  train(a, STEPS_A);
  const aAfterA = lossAndGrad(params[0]!, a)[0];
  train(b, STEPS_B);
  return { aAfterA, aAfterB: lossAndGrad(params[0]!, a)[0], bAfterB: lossAndGrad(params[0]!, b)[0] };
}

/** {@link trainAB} with MESU run as its doc prescribes: one weight sample per step from `new Rng(seed)`. */
export function trainMesu(opts: MesuOptions, seed: number): TwoTaskResult {
  const rng = new Rng(seed);
  return trainAB(mesu(opts), (mu, s) => {
    const { theta, state } = mesuSample(mu, s, rng);
    return [theta[0]!, state];
  });
}
