/**
 * Engram as a library: the tensor + autodiff core and its backends, the learners (by name, from the same
 * registry as `engram run --method`), the MNIST protocols and their streams, the experiment harness and the
 * continual-learning metrics. The `engram` CLI is built on exactly these.
 *
 * @example
 * ```ts
 * import {
 *   createLearner, createProtocol, learnerSetup, protocolConfig, resolveConfig, runExperiment,
 * } from 'engram';
 *
 * // A whole measured run, as `engram run` makes it: the accuracy matrix, ACC, BWT, forgetting, the online curve.
 * const config = resolveConfig({
 *   protocol: 'split-mnist', scenario: 'class', method: 'naive', iters: 100, hidden: [32], evalEvery: 100, curveSamples: 50,
 * });
 * const result = runExperiment(config);
 * console.log(result.accuracyMatrix.length, result.acc.toFixed(3));
 *
 * // Or drive a learner yourself: the protocol's stream of batches in, predictions out.
 * const protocol = createProtocol(protocolConfig(config, false));
 * const learner = createLearner('naive', learnerSetup(config, protocol));
 * for (const step of protocol.stream()) learner.observe(step.batch);
 * const last = protocol.contexts.at(-1);
 * const test = protocol.makeBatch('test', last.index, last.testIndices.subarray(0, 200));
 * const predicted = learner.predict(test.x, test.size, test.contexts);
 * console.log(predicted.filter((y, i) => y === test.y[i]).length / test.size); // accuracy on the last context
 * ```
 *
 * @packageDocumentation
 */

// The numerical core: tensors, every differentiable op, the backward sweep, the seeded RNG, buffer arenas.
export * from './core/index.js';

// Backends: the primitives, the declared fused kernels, and which backend runs.
export {
  BackendError, describeBackend, getBackend, loadNativeBackend, nativeLoaded, nativeLoadError, portableBackend,
  setBackend,
  type Activation, type Backend, type BinaryMap, type BlasKind, type FusedKernels, type UnaryMap,
} from './kernels/index.js';

// Networks, and the optimisers as composable gradient transformations (a namespace: its names are generic).
export { Linear, Mlp } from './nn/index.js';
export * as optim from './optim/index.js';

// Learners: the lifecycle, the registry every method is created from, the classifier base class.
export {
  ClassifierLearner, createLearner, listMethods, registerMethod, UnknownMethodError,
  type Learner, type LearnerSetup, type LearnerState, type LearnerTraits, type MethodEntry,
} from './learners/index.js';

// Protocols: Split / Permuted / Rotated MNIST in task-, domain- and class-IL, with or without boundaries.
export {
  createProtocol, ProtocolConfigError,
  type Batch, type ContextSpec, type Protocol, type ProtocolConfig, type ProtocolName, type Scenario, type StreamKind,
  type StreamStep,
} from './protocols/index.js';

// The harness: a run's validated configuration, the measured experiment loop, saved learners.
export {
  learnerSetup, loadLearner, protocolConfig, protocolDefaults, protocolNames, resolveConfig, runConfigSchema,
  runExperiment, saveLearner, scenarioNames, streamNames,
  type PartialRunConfig, type RunConfig, type RunHooks, type RunResult,
} from './harness/index.js';

// Metrics: pure functions of the accuracy matrix and the online curve.
export {
  acc, bwt, contextSwitches, forgetting, fwt, meanSd, stabilityGap,
  type AccuracyMatrix, type MeanSd, type StabilityGap, type StabilityGapOptions,
} from './metrics/index.js';
