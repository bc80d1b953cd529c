export { Vae, oneHot, slicePass, type VaeConfig, type VaeOutputs, type VaePass } from './vae.js';
export { biRGateProportion } from './gates.js';
export { ldaStateFrom, StreamingLda, type LdaState } from './streaming-lda.js';
