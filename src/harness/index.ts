export { protocolDefaults, runConfigSchema, protocolNames, scenarioNames, streamNames, type RunConfig } from './config.js';
export { defaultFuzziness, networkShape, randomClassOrder, resolveConfig, type PartialRunConfig } from './resolve-config.js';
export { recordedConfig } from './recorded-config.js';
export { gitState, provenance, type Provenance } from './provenance.js';
export { flagOf, mlpParameters, refuseTooManyThreads, refuseUnallocatable, RunOptionError } from './run-checks.js';
export { TestSet } from './evaluate.js';
export { runExperiment, learnerSetup, protocolConfig, type RunResult, type RunHooks } from './run.js';
export { learnerCheckpointConfig, loadLearner, saveLearner } from './persist.js';
