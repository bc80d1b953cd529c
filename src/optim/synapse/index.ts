export {
  onlineImportance, importanceStateOf, importanceOf, anchorOf, lastChangeOf, SynapseStateError,
  type ImportanceSource, type ImportanceState, type OnlineImportanceOptions, type SynapseView,
} from './importance.js';
export { withImportance, type SynapseChainState, type SynapseOptimizer, type SynapseTransformation } from './compose.js';
export { viscosity, type ViscosityOptions } from './viscosity.js';
export { metaplastic, type MetaplasticOptions } from './metaplastic.js';
export { mesu, mesuSample, type MesuOptions, type MesuState, type NormalSource } from './mesu.js';
export {
  synapseAdam, type SynapseAdamOptimizer, type SynapseAdamOptions, type SynapseStepper,
} from './fused.js';
