export { protocolDefaults, runConfigSchema, protocolNames, scenarioNames, streamNames, type RunConfig } from './config.js';
export { resolveConfig, type PartialRunConfig } from './resolve-config.js';
export { gitState, ompWaitPolicy, provenance, type Provenance } from './provenance.js';
export { TestSet } from './evaluate.js';
export { runExperiment, learnerSetup, protocolConfig, type RunResult, type RunHooks } from './run.js';
export { learnerCheckpointConfig, loadLearner, saveLearner } from './persist.js';
