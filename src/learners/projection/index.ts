import type { MethodEntry } from '../method.js';
import { GpmLearner } from './gpm.js';
import { parseGpmOptions } from './options.js';

export { GpmLearner, GPM_FIRST_LAYER_THRESHOLD, GPM_SAMPLES, GPM_THRESHOLD, type GpmOptions } from './gpm.js';
export { gpmOptionsSchema, parseGpmOptions, GpmOptionError, type GpmOptionsInput } from './options.js';

/**
 * Gradient Projection Memory, ready to register (stores no raw samples); `--set key=value` options
 * (`thresholds`, `thresholdIncrement`, `samples`, `consolidateEvery`) reach it as `setup.methodOptions`.
 *
 * @example
 * registerMethod(gpmMethod);
 */
export const gpmMethod: MethodEntry = {
  name: 'gpm',
  description: 'gradient projection memory: SGD steps orthogonal to each layer\'s input subspace of earlier contexts (no stored data)',
  // One linear layer per hidden size plus the output layer.
  create: (setup) => new GpmLearner(setup, parseGpmOptions(setup.methodOptions ?? {}, setup.hidden.length + 1)),
};
