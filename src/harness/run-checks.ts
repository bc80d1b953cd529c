import { constants as bufferConstants } from 'node:buffer';
import { availableParallelism, totalmem } from 'node:os';
import type { ModelOptionKey, RegisteredMethod } from '../learners/index.js';
import { defaultPcSettings } from '../predictive-coding/index.js';

/**
 * Checks of a run's options that a schema cannot express: options the method would not use, and sizes or
 * thread counts the machine cannot give. Each failure is one line naming the flag (`--lr`), not the field.
 */

/** A run option the user gave that cannot work as asked; the CLI prints it on one line and exits 2. */
export class RunOptionError extends Error {
  readonly code = 'E_USAGE';
}

/** The CLI flag of a configuration key (`classOrder` → `--class-order`; `bias: false` → `--no-bias`). */
export function flagOf(key: string, value?: unknown): string {
  if (key === 'bias' && value === false) return '--no-bias';
  return `--${key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}`;
}

/** The options a method declares it does not use, refused when the user gave them (`given`: undefined = not given). */
export function refuseUnusedOptions(entry: RegisteredMethod, given: Readonly<Record<string, unknown>>): void {
  for (const [key, instead] of Object.entries(entry.unusedRunOptions) as [ModelOptionKey, string][]) {
    if (given[key] === undefined) continue;
    throw new RunOptionError(`${entry.name} does not use ${flagOf(key, given[key])}; ${instead}`);
  }
}

/**
 * `--engine pc` for a method whose learning has no predictive-coding form yet (its loss needs autodiff), and
 * the predictive-coding settings without `--engine pc`.
 */
export function refuseUnsupportedEngine(entry: RegisteredMethod, given: Readonly<Record<string, unknown>>, all: readonly RegisteredMethod[] = []): void {
  const engine = given['engine'] ?? 'bp';
  if (engine !== 'pc') {
    // A resolved configuration passed back in carries the defaults: only a setting that would change something is refused.
    const differs = { pcSteps: given['pcSteps'] !== undefined && given['pcSteps'] !== defaultPcSettings.steps, pcIncremental: given['pcIncremental'] === true };
    for (const key of ['pcSteps', 'pcIncremental'] as const) {
      if (differs[key]) throw new RunOptionError(`${flagOf(key)} applies to --engine pc (predictive coding)`);
    }
    return;
  }
  if (entry.engines?.includes('pc') === true) return;
  const able = all.filter((m) => m.engines?.includes('pc') === true).map((m) => m.name);
  throw new RunOptionError(`${entry.name} learns by backprop only (--engine bp)${able.length > 0 ? `; --engine pc runs ${able.join(', ')}` : ''}`);
}

/** `--threads` beyond the machine's processors would only oversubscribe them. */
export function refuseTooManyThreads(threads: number | null | undefined, cores = availableParallelism()): void {
  if (threads === null || threads === undefined || threads <= cores) return;
  throw new RunOptionError(`--threads ${threads}: this machine runs ${cores} thread${cores === 1 ? '' : 's'} at once; use at most --threads ${cores}`);
}

/** The MLP's layer sizes, input first, output last. */
export interface NetworkShape {
  inputSize: number;
  hidden: readonly number[];
  outputs: number;
}

/** Parameters (weights and biases) of an MLP of `shape`. */
export function mlpParameters(shape: NetworkShape): number {
  const sizes = [shape.inputSize, ...shape.hidden, shape.outputs];
  let n = 0;
  for (let l = 0; l + 1 < sizes.length; l++) n += (sizes[l]! + 1) * sizes[l + 1]!;
  return n;
}

/**
 * Refuse a network that cannot be allocated, before any data is read: a weight matrix longer than a typed
 * array may be, or parameters whose float32 values, gradients and two Adam moments (4 × 4 bytes each, a lower
 * bound of what training holds) exceed the machine's memory.
 *
 * @example
 * refuseUnallocatable({ inputSize: 784, hidden: [100_000_000], outputs: 10 }); // throws, naming --hidden
 */
export function refuseUnallocatable(shape: NetworkShape, memoryBytes = totalmem(), maxArray = bufferConstants.MAX_LENGTH): void {
  const sizes = [shape.inputSize, ...shape.hidden, shape.outputs];
  const params = mlpParameters(shape);
  const fix = `choose smaller --hidden sizes (now ${shape.hidden.join(',')})`;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const weights = sizes[l]! * sizes[l + 1]!;
    if (weights > maxArray) {
      throw new RunOptionError(`--hidden: a ${sizes[l]}×${sizes[l + 1]} weight matrix has ${weights.toExponential(2)} values, more ` +
        `than one array can hold (${maxArray.toExponential(2)}); ${fix}`);
    }
  }
  const bytes = params * 16;
  if (bytes > memoryBytes) {
    throw new RunOptionError(`--hidden: ${params.toExponential(2)} parameters need at least ${gib(bytes)} GiB to train ` +
      `(values, gradients, Adam moments), more than this machine's ${gib(memoryBytes)} GiB; ${fix}`);
  }
}

const gib = (bytes: number): string => (bytes / 2 ** 30).toPrecision(3);

/**
 * `--curve-samples` beyond the largest context's evaluation images would make every curve point a full
 * evaluation (slow, and not what was asked for): refused, naming the most it can be. The protocol's default
 * (`defaultSamples`) is never refused: with a small `--val-per-context` it just takes every validation image.
 */
export function refuseOversizedCurve(curveSamples: number, evalSizes: readonly number[], split: 'test' | 'validation', defaultSamples: number): void {
  const most = Math.max(...evalSizes);
  if (curveSamples <= most || curveSamples === defaultSamples) return;
  const images = split === 'test' ? 'test images' : 'validation images (--val-per-context)';
  throw new RunOptionError(`--curve-samples ${curveSamples}: the largest context has ${most} ${images}; use at most --curve-samples ${most}`);
}
