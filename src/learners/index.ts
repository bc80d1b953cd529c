export type { Learner, LearnerSetup, LearnerState, LearnerTraits } from './learner.js';
export { ClassifierLearner, argmaxRows } from './classifier.js';
export { createLearner, listMethods, registerMethod, UnknownMethodError, type MethodEntry } from './registry.js';
