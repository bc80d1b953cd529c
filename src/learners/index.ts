export type { Learner, LearnerSetup, LearnerState, LearnerTraits } from './learner.js';
export { ClassifierLearner, argmaxRows } from './classifier.js';
export { createLearner, listMethods, registerMethod, UnknownMethodError } from './registry.js';
export type { MethodEntry } from './method.js';
