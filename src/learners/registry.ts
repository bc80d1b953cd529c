import { z } from 'zod';
import { ClassifierLearner } from './classifier.js';
import { LwfLearner, resolveLwfOptions } from './distillation/lwf.js';
import { regularizationMethods } from './regularization/index.js';
import { AgemLearner } from './replay/agem.js';
import { ErLearner } from './replay/er.js';
import { resolveReplayOptions } from './replay/replay-learner.js';
import { BiRLearner, resolveBiROptions } from './generative-replay/bi-r.js';
import { DgrLearner, resolveDgrOptions } from './generative-replay/dgr.js';
import { genClassifierMethod, sldaMethod } from './generative/index.js';
import { gpmMethod } from './projection/index.js';
import { engramMethod } from './engram/index.js';
import type { Learner, LearnerSetup } from './learner.js';
import type { RegisteredMethod } from './method.js';
import { optionRecord, parseMethodOptions, type MethodOptions } from './method-options.js';

/** Methods without options of their own: every `--set` is refused. */
const noOptions = (method: string) => (given: Readonly<Record<string, unknown>>): MethodOptions =>
  parseMethodOptions(method, z.object({}).strict(), given);

/** Error for an unknown method name, with the names that exist. */
export class UnknownMethodError extends Error {
  readonly code = 'E_METHOD';
}

const methods = new Map<string, RegisteredMethod>();

/** Register a method under a unique name (explicit, typed; no side-effect imports elsewhere). */
export function registerMethod(entry: RegisteredMethod): void {
  if (methods.has(entry.name)) throw new Error(`method "${entry.name}" is already registered`);
  methods.set(entry.name, entry);
}

export function listMethods(): RegisteredMethod[] {
  return [...methods.values()];
}

/** The registered method `name`; an unknown name throws {@link UnknownMethodError} listing the known ones. */
export function methodEntry(name: string): RegisteredMethod {
  const entry = methods.get(name);
  if (entry === undefined) {
    throw new UnknownMethodError(`unknown method "${name}"; available: ${[...methods.keys()].join(', ')}`);
  }
  return entry;
}

export function createLearner(name: string, setup: LearnerSetup): Learner {
  return methodEntry(name).create(setup);
}

registerMethod({
  name: 'naive',
  description: 'fine-tuning: plain backprop on each batch, no protection against forgetting (lower bound)',
  unusedRunOptions: {},
  engines: ['bp', 'pc'],
  resolveOptions: noOptions('naive'),
  create: (setup) => {
    noOptions('naive')(setup.methodOptions ?? {});
    return new ClassifierLearner('naive', { storesRawSamples: false, cumulativeStream: false }, setup);
  },
});

registerMethod({
  name: 'joint',
  description: 'joint training on all data of every context so far (upper bound; keeps all raw data)',
  unusedRunOptions: {},
  engines: ['bp', 'pc'],
  resolveOptions: noOptions('joint'),
  create: (setup) => {
    noOptions('joint')(setup.methodOptions ?? {});
    return new ClassifierLearner('joint', { storesRawSamples: true, cumulativeStream: true }, setup);
  },
});

registerMethod({
  name: 'er',
  description: 'experience replay: class-balanced buffer of raw samples (100 per class), replayed every step',
  unusedRunOptions: {},
  resolveOptions: (given) => resolveReplayOptions('er', given),
  create: (setup) => new ErLearner(setup, resolveReplayOptions('er', setup.methodOptions ?? {})),
});

registerMethod({
  name: 'lwf',
  description: 'learning without forgetting: distil a frozen copy of the model on current inputs (no stored data)',
  unusedRunOptions: {},
  resolveOptions: (given, ctx) => optionRecord(resolveLwfOptions(given, ctx)),
  create: (setup) => new LwfLearner(setup, resolveLwfOptions(setup.methodOptions ?? {}, setup)),
});

registerMethod({
  name: 'agem',
  description: 'averaged GEM: project the gradient so the loss on replayed samples (100 per class) does not rise',
  unusedRunOptions: {},
  resolveOptions: (given) => resolveReplayOptions('agem', given),
  create: (setup) => new AgemLearner(setup, resolveReplayOptions('agem', setup.methodOptions ?? {})),
});

registerMethod({
  name: 'dgr',
  description: 'deep generative replay: a VAE generator replays earlier contexts, labelled by the previous model (no stored data)',
  unusedRunOptions: {},
  resolveOptions: (given, ctx) => optionRecord(resolveDgrOptions(given, ctx, false)),
  create: (setup) => new DgrLearner(setup, { ...resolveDgrOptions(setup.methodOptions ?? {}, setup, false), distill: false }),
});

registerMethod({
  name: 'dgr-distill',
  description: 'deep generative replay with distillation of the previous model\'s soft targets on replayed inputs',
  unusedRunOptions: {},
  resolveOptions: (given, ctx) => optionRecord(resolveDgrOptions(given, ctx, true)),
  create: (setup) => new DgrLearner(setup, { ...resolveDgrOptions(setup.methodOptions ?? {}, setup, true), distill: true }),
});

registerMethod({
  name: 'bi-r',
  description: 'brain-inspired replay: the classifier is a VAE encoder; class-conditional, gated dreams with distillation (no stored data)',
  unusedRunOptions: {
    optimizer: 'it trains with Adam, as in its paper (--lr sets the learning rate)',
    momentum: 'it trains with Adam, as in its paper (--lr sets the learning rate)',
    activation: 'its VAE uses relu',
    bias: 'its layers always have biases',
  },
  resolveOptions: (given, ctx) => optionRecord(resolveBiROptions(given, ctx)),
  create: (setup) => new BiRLearner(setup, resolveBiROptions(setup.methodOptions ?? {}, setup)),
});

registerMethod(gpmMethod);
registerMethod(genClassifierMethod);
registerMethod(sldaMethod);
registerMethod(engramMethod);

for (const entry of regularizationMethods) registerMethod(entry);
