export type { Learner, LearnerSetup, LearnerState, LearnerTraits } from './learner.js';
export { ClassifierLearner } from './classifier.js';
export { createLearner, listMethods, methodEntry, registerMethod, UnknownMethodError } from './registry.js';
export type { MethodEntry, ModelOptionKey, RegisteredMethod } from './method.js';
export {
  MethodOptionError, optionRecord, parseMethodOptions, type MethodOptions, type MethodOptionValue, type OptionContext, type ReportedOptions,
} from './method-options.js';
export { TASK_FREE_UPDATE_EVERY } from './task-free.js';
