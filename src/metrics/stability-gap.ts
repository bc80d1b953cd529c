/**
 * The stability gap (De Lange, van de Ven & Tuytelaars, "Continual evaluation for lifelong learning: identifying
 * the stability gap", ICLR 2023): right after a switch to a new context, accuracy on earlier contexts drops
 * sharply and then partly recovers. Measured on the online curve (accuracy on every context every few
 * iterations), which the accuracy matrix (end of each context only) cannot show.
 *
 * For each switch to context t ≥ 1 at iteration s_t and each earlier context j < t:
 *   before_{t,j} = accuracy on j at the last curve point with iteration ≤ s_t,
 *   min_{t,j}    = minimum accuracy on j over the curve points with iteration in (s_t, s_t + window],
 *   gap_{t,j}    = before_{t,j} − min_{t,j},
 * with window = iters/2 by default. The summary means are over all measured (t, j) pairs; a pair is measured
 * only when its window holds at least one curve point.
 *
 * Switches: a boundaries stream switches to context t at t·iters; a task-free (fuzzy) stream at its nominal
 * start h + (t−1)·iters, h = ⌊iters/2⌋ (see protocols/schedule.ts; the ramp is centred there). The final half
 * period of a task-free stream, which returns to context 0, is not a switch to a new context and is not counted.
 *
 * Curve iterations count completed training iterations: the point at iteration i was taken after i iterations,
 * so it is "at or before" a switch at s when i ≤ s (nothing of the new context trained yet on a boundaries stream).
 *
 * @example
 * const curve = [
 *   { iteration: 0, accuracy: [0, 0] },
 *   { iteration: 10, accuracy: [0.9, 0] },   // end of context 0
 *   { iteration: 12, accuracy: [0.5, 0.6] }, // dip
 *   { iteration: 15, accuracy: [0.8, 0.9] },
 *   { iteration: 20, accuracy: [0.85, 0.95] },
 * ];
 * stabilityGap(curve, { stream: 'boundaries', itersPerContext: 10 }).meanGap;  // 0.4 (0.9 − 0.5)
 */

/** One point of a run's online curve (fractions in 0–1). */
export interface CurvePointLike {
  iteration: number;
  accuracy: readonly number[];
}

export type StreamKind = 'boundaries' | 'task-free';

/** Gap on one earlier context at one switch. */
export interface StabilityGapPair {
  /** The earlier context j. */
  context: number;
  /** Accuracy on j at the last curve point at or before the switch. */
  before: number;
  /** Minimum accuracy on j over the curve points in (switch, switch + window]. */
  min: number;
  /** before − min (negative when accuracy only rose). */
  gap: number;
}

/** All earlier contexts at one switch. */
export interface StabilityGapSwitch {
  /** The new context t. */
  context: number;
  /** Iteration of the switch. */
  iteration: number;
  /** One per earlier context; empty when no curve point falls in the window. */
  pairs: StabilityGapPair[];
  /** Mean gap over `pairs` (NaN when empty). */
  meanGap: number;
  /** Mean of `min` over `pairs` (NaN when empty). */
  meanMin: number;
}

export interface StabilityGap {
  switches: StabilityGapSwitch[];
  /** Mean gap over every measured (t, j) pair; NaN when none was measured (e.g. one context). */
  meanGap: number;
  /** Mean minimum accuracy on earlier contexts after a switch, over the same pairs; NaN when none. */
  meanMinAccuracy: number;
  /** Number of (t, j) pairs measured. */
  pairs: number;
  /** The window after each switch, in iterations. */
  window: number;
}

export interface StabilityGapOptions {
  stream: StreamKind | string;
  itersPerContext: number;
  /** Number of contexts (default: the length of the curve's accuracy arrays). */
  numContexts?: number;
  /** Iterations after a switch in which to look for the minimum (default itersPerContext / 2). */
  window?: number;
}

/**
 * Iteration at which each context t = 1…numContexts−1 starts (index t−1): t·iters for boundaries streams,
 * the nominal start h + (t−1)·iters (h = ⌊iters/2⌋) for task-free streams.
 */
export function contextSwitches(stream: StreamKind | string, itersPerContext: number, numContexts: number): number[] {
  if (!(Number.isInteger(itersPerContext) && itersPerContext > 0)) throw new Error('iterations per context must be a positive whole number');
  if (!(Number.isInteger(numContexts) && numContexts > 0)) throw new Error('number of contexts must be a positive whole number');
  const out: number[] = [];
  const h = Math.floor(itersPerContext / 2);
  for (let t = 1; t < numContexts; t++) {
    if (stream === 'boundaries') out.push(t * itersPerContext);
    else if (stream === 'task-free') out.push(h + (t - 1) * itersPerContext);
    else throw new Error(`unknown stream "${stream}" (expected boundaries or task-free)`);
  }
  return out;
}

/**
 * The context being trained when the curve point at `iteration` was taken (after `iteration` completed
 * iterations): the number of switches strictly before it. Contexts j < this are the "earlier" ones.
 */
export function phaseAtPoint(switches: readonly number[], iteration: number): number {
  let k = 0;
  for (const s of switches) if (s < iteration) k++;
  return k;
}

const meanOf = (xs: readonly number[]): number => (xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length);

/** The stability gap and the minimum accuracy on earlier contexts after each switch (see the module doc). */
export function stabilityGap(curve: readonly CurvePointLike[], opts: StabilityGapOptions): StabilityGap {
  if (curve.length === 0) throw new Error('online curve is empty');
  const T = opts.numContexts ?? curve[0]!.accuracy.length;
  for (const p of curve) {
    if (p.accuracy.length < T) throw new Error(`curve point at iteration ${p.iteration} has ${p.accuracy.length} accuracies, expected ${T}`);
  }
  for (let i = 1; i < curve.length; i++) {
    if (!(curve[i]!.iteration > curve[i - 1]!.iteration)) throw new Error('curve iterations must be strictly increasing');
  }
  const window = opts.window ?? opts.itersPerContext / 2;
  if (!(window > 0)) throw new Error('window must be positive');
  const switches = contextSwitches(opts.stream, opts.itersPerContext, T);

  const all: StabilityGapPair[] = [];
  const out: StabilityGapSwitch[] = switches.map((s, idx) => {
    const t = idx + 1;
    let before: CurvePointLike | undefined;
    for (const p of curve) if (p.iteration <= s) before = p;
    const after = curve.filter((p) => p.iteration > s && p.iteration <= s + window);
    const pairs: StabilityGapPair[] = [];
    if (before !== undefined && after.length > 0) {
      for (let j = 0; j < t; j++) {
        const b = before.accuracy[j]!;
        const m = Math.min(...after.map((p) => p.accuracy[j]!));
        pairs.push({ context: j, before: b, min: m, gap: b - m });
      }
    }
    all.push(...pairs);
    return { context: t, iteration: s, pairs, meanGap: meanOf(pairs.map((p) => p.gap)), meanMin: meanOf(pairs.map((p) => p.min)) };
  });
  return {
    switches: out,
    meanGap: meanOf(all.map((p) => p.gap)),
    meanMinAccuracy: meanOf(all.map((p) => p.min)),
    pairs: all.length,
    window,
  };
}
