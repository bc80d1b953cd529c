import type { RegisteredMethod } from '../method.js';
import { optionRecord } from '../method-options.js';
import { GenClassifierLearner, resolveGenClassifierOptions } from './gen-classifier.js';

export {
  GenClassifierLearner, genClassifierDefaults, genClassifierOptionsSchema, resolveGenClassifierOptions, type GenClassifierDefaults,
  type GenClassifierOptions, type GenClassifierResolvedOptions,
} from './gen-classifier.js';

/**
 * The generative classifier (van de Ven, Li & Tolias 2021) with the authors' defaults, ready to register.
 *
 * @example
 * registerMethod(genClassifierMethod);
 */
export const genClassifierMethod: RegisteredMethod = {
  name: 'gen-classifier',
  description: 'generative classifier: one VAE per class, Bayes\' rule with importance-sampled likelihoods (no stored data)',
  unusedRunOptions: {
    hidden: 'set its VAEs\' layer sizes with --set hidden=… (e.g. hidden=85,85)',
    lr: 'set its VAEs\' learning rate with --set lr=…',
    optimizer: 'its VAEs train with Adam (--set lr=… sets its learning rate)',
    momentum: 'its VAEs train with Adam (--set lr=… sets its learning rate)',
    activation: 'its VAEs use relu',
    bias: 'its VAEs\' layers always have biases',
  },
  resolveOptions: (given, ctx) => optionRecord(resolveGenClassifierOptions(given, ctx)),
  create: (setup) => new GenClassifierLearner(setup, resolveGenClassifierOptions(setup.methodOptions ?? {}, setup)),
};
