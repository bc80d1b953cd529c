import type { RegisteredMethod } from '../method.js';
import { optionRecord, parseMethodOptions } from '../method-options.js';
import { EngramLearner } from './engram.js';
import { engramOptionsSchema } from './options.js';

export { EngramLearner, type SleepRecord } from './engram.js';
export { engramOptionsSchema, parseEngramOptions, EngramOptionError, type EngramOptions, type EngramOptionsInput } from './options.js';
export { runSleep, sleepIterations, sleepOptimizer, type SleepJob, type SleepOutcome, type SleepSettings } from './sleep.js';
export { ShortTermMemory } from './short-term-memory.js';
export { SurpriseMonitor, type SurprisePoint } from './surprise.js';
export { afterSleep, afterWakeBatch, initialPolicy, planSleep, type PolicyOptions, type PolicyState, type SleepPlan } from './policy.js';

/** The Engram learner, ready to register; `--set key=value` options reach it as `setup.methodOptions`. */
export const engramMethod: RegisteredMethod = {
  name: 'engram',
  description: 'Engram: wake (surprise, short-term memory ≤ 500, streaming LDA) and sleep (dreams, distillation)',
  unusedRunOptions: {
    lr: 'set its sleep learning rate with --set lr=…',
    optimizer: 'it sleeps with Adam (--set lr=… sets its learning rate)',
    momentum: 'it sleeps with Adam (--set lr=… sets its learning rate)',
    activation: 'it uses relu',
    bias: 'its layers always have biases',
  },
  resolveOptions: (given) => optionRecord(parseMethodOptions('engram', engramOptionsSchema, given)),
  create: (setup) => new EngramLearner(setup, setup.methodOptions ?? {}),
};
