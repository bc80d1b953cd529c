/**
 * Which context each iteration draws from.
 *
 * `boundaries`: context t for iterations [t·iters, (t+1)·iters).
 *
 * `task-free`: van de Ven's fuzzy boundaries (continual-learning repo, data/labelstream.py, `_probs_per_context`
 * and `FuzzyBoundaryStream`). With h = ⌊iters/2⌋, f = fuzziness and n contexts over n·iters iterations:
 * - context k ≥ 1 nominally owns [h + (k-1)·iters, h + k·iters): its probability ramps up linearly over
 *   [start-f, start+f) as (j+0.5)/(2f), is 1 until end-f, and ramps down as 1-(j+0.5)/(2f) over [end-f, end+f);
 * - context 0 is split: it owns the first half period [0, h) (probability 1 until h-f, then ramping down) and
 *   the last half period from h + (n-1)·iters (ramping up from f before it, then 1 to the end).
 * Up- and down-ramps overlap exactly, so each iteration mixes at most two contexts and the weights sum to 1.
 */

/** `t` for iteration `i` of a boundaries stream. */
export function boundariesContext(itersPerContext: number, iteration: number): number {
  return Math.floor(iteration / itersPerContext);
}

/**
 * Probability of context `context` at iteration `iteration` of van de Ven's fuzzy-boundary stream
 * (same numbers as `_probs_per_context(n, iters, context, fuzziness)[iteration]`).
 *
 * @example
 * fuzzyProbability(5, 2000, 500, 1, 3000);  // 1    (middle of context 1's period)
 * fuzzyProbability(5, 2000, 500, 1, 1000);  // 0.5005 (middle of the 0→1 ramp: (500 + 0.5) / 1000)
 */
export function fuzzyProbability(
  numContexts: number, itersPerContext: number, fuzziness: number, context: number, iteration: number,
): number {
  if (numContexts === 1) return 1;
  const h = Math.floor(itersPerContext / 2);
  const f = fuzziness;
  const i = iteration;
  if (context === 0) {
    const end = h;
    const start = h + (numContexts - 1) * itersPerContext;
    if (i < end - f) return 1;
    if (i < end + f) return down(i - (end - f), 2 * f);
    if (i >= start - f && i < start + f) return up(i - (start - f), 2 * f);
    if (i >= start + f) return 1;
    return 0;
  }
  const start = h + (context - 1) * itersPerContext;
  const end = h + context * itersPerContext;
  if (i >= start - f && i < start + f) return up(i - (start - f), 2 * f);
  if (i >= start + f && i < end - f) return 1;
  if (i >= end - f && i < end + f) return down(i - (end - f), 2 * f);
  return 0;
}

/** Fill `out` (length numContexts) with every context's probability at `iteration`. */
export function fuzzyProbabilities(
  numContexts: number, itersPerContext: number, fuzziness: number, iteration: number, out: Float64Array,
): void {
  for (let k = 0; k < numContexts; k++) out[k] = fuzzyProbability(numContexts, itersPerContext, fuzziness, k, iteration);
}

/**
 * The context whose nominal period (see the module doc) contains `iteration`, except that the final half
 * period, which belongs to context 0 again, counts as the last context's: so the accuracy-matrix row changes
 * at nominal boundaries, and evaluating after the whole stream gives the last row.
 *
 * @example
 * fuzzyPhase(5, 2000, 999);   // 0
 * fuzzyPhase(5, 2000, 1000);  // 1
 * fuzzyPhase(5, 2000, 9999);  // 4 (context 0's second half period)
 */
export function fuzzyPhase(numContexts: number, itersPerContext: number, iteration: number): number {
  const h = Math.floor(itersPerContext / 2);
  if (iteration < h) return 0;
  return Math.min(numContexts - 1, 1 + Math.floor((iteration - h) / itersPerContext));
}

/** `_linear_line(len, 'up')[j]`. */
function up(j: number, len: number): number {
  return (j + 0.5) / len;
}

/** `_linear_line(len, 'down')[j]`. */
function down(j: number, len: number): number {
  return 1 - (j + 0.5) / len;
}
