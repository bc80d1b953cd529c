import type { RegisteredMethod } from '../method.js';
import { optionRecord, parseMethodOptions, type MethodOptions } from '../method-options.js';
import { z } from 'zod';
import { GenClassifierLearner, resolveGenClassifierOptions } from './gen-classifier.js';
import { SldaLearner } from './slda.js';

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

/** slda has no options of its own: every `--set` is refused. */
const noSldaOptions = (given: Readonly<Record<string, unknown>>): MethodOptions => parseMethodOptions('slda', z.object({}).strict(), given);

/** Streaming LDA on the inputs (Hayes & Kanan 2020, without a feature extractor), ready to register. */
export const sldaMethod: RegisteredMethod = {
  name: 'slda',
  description: 'streaming LDA: class means and a shared covariance of the inputs as running statistics (no stored data, nothing overwritten)',
  unusedRunOptions: {
    hidden: 'it has no hidden layers (a linear discriminant on the inputs)',
    lr: 'it learns by running statistics, with no learning rate',
    optimizer: 'it learns by running statistics, with no optimiser',
    momentum: 'it learns by running statistics, with no optimiser',
    activation: 'it has no hidden layers',
    bias: 'it has no layers to give biases',
  },
  resolveOptions: (given) => noSldaOptions(given),
  create: (setup) => {
    noSldaOptions(setup.methodOptions ?? {});
    return new SldaLearner(setup);
  },
};
export { SldaLearner } from './slda.js';
