import { ClassifierLearner } from './classifier.js';
import { LwfLearner } from './distillation/lwf.js';
import { regularizationMethods } from './regularization/index.js';
import { AgemLearner } from './replay/agem.js';
import { ErLearner } from './replay/er.js';
import { BiRLearner } from './generative-replay/bi-r.js';
import { DgrLearner } from './generative-replay/dgr.js';
import { genClassifierMethod } from './generative/index.js';
import { gpmMethod } from './projection/index.js';
import { engramMethod } from './engram/index.js';
import type { Learner, LearnerSetup } from './learner.js';
import type { MethodEntry } from './method.js';

/** Error for an unknown method name, with the names that exist. */
export class UnknownMethodError extends Error {
  readonly code = 'E_METHOD';
}

const methods = new Map<string, MethodEntry>();

/** Register a method under a unique name (explicit, typed; no side-effect imports elsewhere). */
export function registerMethod(entry: MethodEntry): void {
  if (methods.has(entry.name)) throw new Error(`method "${entry.name}" is already registered`);
  methods.set(entry.name, entry);
}

export function listMethods(): MethodEntry[] {
  return [...methods.values()];
}

export function createLearner(name: string, setup: LearnerSetup): Learner {
  const entry = methods.get(name);
  if (entry === undefined) {
    throw new UnknownMethodError(`unknown method "${name}"; available: ${[...methods.keys()].join(', ')}`);
  }
  return entry.create(setup);
}

registerMethod({
  name: 'naive',
  description: 'fine-tuning: plain backprop on each batch, no protection against forgetting (lower bound)',
  create: (setup) => new ClassifierLearner('naive', { storesRawSamples: false, cumulativeStream: false }, setup),
});

registerMethod({
  name: 'joint',
  description: 'joint training on all data of every context so far (upper bound; keeps all raw data)',
  create: (setup) => new ClassifierLearner('joint', { storesRawSamples: true, cumulativeStream: true }, setup),
});

registerMethod({
  name: 'er',
  description: 'experience replay: class-balanced buffer of raw samples (100 per class), replayed every step',
  create: (setup) => new ErLearner(setup),
});

registerMethod({
  name: 'lwf',
  description: 'learning without forgetting: distil a frozen copy of the model on current inputs (no stored data)',
  create: (setup) => new LwfLearner(setup),
});

registerMethod({
  name: 'agem',
  description: 'averaged GEM: project the gradient so the loss on replayed samples (100 per class) does not rise',
  create: (setup) => new AgemLearner(setup),
});

registerMethod({
  name: 'dgr',
  description: 'deep generative replay: a VAE generator replays earlier contexts, labelled by the previous model (no stored data)',
  create: (setup) => new DgrLearner(setup, { distill: false }),
});

registerMethod({
  name: 'dgr-distill',
  description: 'deep generative replay with distillation of the previous model\'s soft targets on replayed inputs',
  create: (setup) => new DgrLearner(setup, { distill: true }),
});

registerMethod({
  name: 'bi-r',
  description: 'brain-inspired replay: the classifier is a VAE encoder; class-conditional, gated dreams with distillation (no stored data)',
  create: (setup) => new BiRLearner(setup),
});

registerMethod(gpmMethod);
registerMethod(genClassifierMethod);
registerMethod(engramMethod);

for (const entry of regularizationMethods) registerMethod(entry);
