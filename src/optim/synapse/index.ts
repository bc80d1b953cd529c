export {
  onlineImportance, importanceStateOf, importanceOf, anchorOf, lastChangeOf, SynapseStateError,
  type ImportanceSource, type ImportanceState, type OnlineImportanceOptions,
} from './importance.js';
export { viscosity, type ViscosityOptions } from './viscosity.js';
export { metaplastic, type MetaplasticOptions } from './metaplastic.js';
export { mesu, mesuSample, type MesuOptions, type MesuState, type NormalSource } from './mesu.js';
export {
  synapseAdam, type SynapseAdamLinks, type SynapseAdamOptimizer, type SynapseAdamOptions, type SynapseAdamState,
  type SynapseChainState, type SynapseOptimizer, type SynapseStepper,
} from './fused.js';
