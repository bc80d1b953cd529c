import type { Learner, LearnerSetup } from './learner.js';

/**
 * A method that can be run by name: what `registerMethod` takes. It lives apart from the registry so that a
 * method's folder can declare its entry without importing the registry that imports it.
 *
 * @example
 * const naive: MethodEntry = {
 *   name: 'naive',
 *   description: 'plain fine-tuning',
 *   create: (setup) => new ClassifierLearner('naive', { storesRawSamples: false, cumulativeStream: false }, setup),
 * };
 */
export interface MethodEntry {
  readonly name: string;
  readonly description: string;
  readonly create: (setup: LearnerSetup) => Learner;
}
