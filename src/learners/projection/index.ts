import type { RegisteredMethod } from '../method.js';
import { GpmLearner } from './gpm.js';
import { parseGpmOptions, resolveGpmOptions } from './options.js';

export { GpmLearner, gpmDefaultThresholds, GPM_FIRST_LAYER_THRESHOLD, GPM_SAMPLES, GPM_THRESHOLD, type GpmOptions } from './gpm.js';
export { gpmOptionsSchema, parseGpmOptions, resolveGpmOptions, type GpmOptionsInput } from './options.js';

/**
 * Gradient Projection Memory, ready to register (stores no raw samples); `--set key=value` options
 * (`thresholds`, `thresholdIncrement`, `samples`, `consolidateEvery`) reach it as `setup.methodOptions`.
 *
 * @example
 * registerMethod(gpmMethod);
 */
export const gpmMethod: RegisteredMethod = {
  name: 'gpm',
  description: 'gradient projection memory: SGD steps orthogonal to each layer\'s input subspace of earlier contexts (no stored data)',
  unusedRunOptions: {},
  resolveOptions: resolveGpmOptions,
  create: (setup) => {
    const given = setup.methodOptions ?? {};
    resolveGpmOptions(given, setup); // refuses what the stream would not use
    // One linear layer per hidden size plus the output layer.
    return new GpmLearner(setup, parseGpmOptions(given, setup.hidden.length + 1));
  },
};
