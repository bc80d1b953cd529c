import type { MethodEntry } from '../method.js';
import { EngramLearner } from './engram.js';

export { EngramLearner, type SleepRecord } from './engram.js';
export { engramOptionsSchema, parseEngramOptions, EngramOptionError, type EngramOptions, type EngramOptionsInput } from './options.js';
export { runSleep, sleepIterations, sleepOptimizer, projectOff, type SleepJob, type SleepOutcome, type SleepSettings } from './sleep.js';
export { ShortTermMemory } from './short-term-memory.js';
export { SurpriseMonitor, type SurprisePoint } from './surprise.js';
export { FastHead } from './fast-head.js';

/** The Engram learner, ready to register; `--set key=value` options reach it as `setup.methodOptions`. */
export const engramMethod: MethodEntry = {
  name: 'engram',
  description: 'Engram: wake (fast path, surprise, short-term memory ≤ 500) and sleep (dreams, distillation, projection, synapse state)',
  create: (setup) => new EngramLearner(setup, setup.methodOptions ?? {}),
};
