/**
 * Continual-learning protocols on MNIST-layout data: split, permuted and rotated MNIST, in the task-, domain-
 * and class-incremental scenarios, with boundary-based or task-free (fuzzy-boundary) training streams.
 */
export type * from './types.js';
export { createProtocol } from './protocol.js';
export { defaultConfig, resolveConfig, ProtocolConfigError, type ResolvedProtocolConfig } from './config.js';
export { splitClasses, permutedTransforms, rotationAngles, indicesWithLabels } from './contexts.js';
export { labelSpace, type LabelSpace } from './labels.js';
export { boundariesContext, fuzzyPhase, fuzzyProbability, fuzzyProbabilities } from './schedule.js';
export { ShuffledCycler } from './sampler.js';
export { deriveRng, deriveSeed } from './seeds.js';
export { stratifiedHoldout, largestRemainder } from './holdout.js';
