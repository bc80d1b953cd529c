import type { MethodEntry } from '../method.js';
import { GenClassifierLearner } from './gen-classifier.js';

export {
  GenClassifierLearner, genClassifierDefaults, type GenClassifierDefaults, type GenClassifierOptions,
} from './gen-classifier.js';

/**
 * The generative classifier (van de Ven, Li & Tolias 2021) with the authors' defaults, ready to register.
 *
 * @example
 * registerMethod(genClassifierMethod);
 */
export const genClassifierMethod: MethodEntry = {
  name: 'gen-classifier',
  description: 'generative classifier: one VAE per class, Bayes\' rule with importance-sampled likelihoods (no stored data)',
  create: (setup) => new GenClassifierLearner(setup),
};
