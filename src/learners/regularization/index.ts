import type { RegisteredMethod } from '../method.js';
import { optionRecord } from '../method-options.js';
import { EwcLearner, resolveEwcOptions } from './ewc.js';
import { MasLearner, resolveMasOptions } from './mas.js';
import { resolveSiOptions, SiLearner } from './si.js';

export { QuadraticPenaltyLearner } from './base.js';
export { WindowedImportanceLearner } from './windowed.js';
export { QuadraticPenalty } from './penalty.js';
export { EwcLearner, accumulateFisher, ewcOnlineOptionsSchema, ewcOptionsSchema, resolveEwcOptions, type EwcOptions, type EwcResolvedOptions, type FisherLabels } from './ewc.js';
export { resolveSiOptions, SiLearner, siOptionsSchema, type SiOptions, type SiResolvedOptions } from './si.js';
export { MasLearner, accumulateOutputSensitivity, masOptionsSchema, resolveMasOptions, type MasOptions, type MasResolvedOptions } from './mas.js';
export { forwardKeep, logitsOf, PerSampleStats, type MlpActivations, type PerSampleReduction } from './per-sample.js';
export * from './defaults.js';

/**
 * The parameter-regularisation baselines, with their published defaults (see `defaults.ts`), ready to register.
 * None stores raw samples.
 *
 * @example
 * for (const m of regularizationMethods) registerMethod(m);
 */
export const regularizationMethods: RegisteredMethod[] = [
  {
    name: 'ewc',
    description: 'elastic weight consolidation: quadratic penalty weighted by the Fisher of each context (no stored data)',
    unusedRunOptions: {},
    resolveOptions: (given, ctx) => optionRecord(resolveEwcOptions(given, ctx, false)),
    create: (setup) => new EwcLearner(setup, resolveEwcOptions(setup.methodOptions ?? {}, setup, false)),
  },
  {
    name: 'ewc-online',
    description: 'online EWC: one running Fisher (decay gamma), anchored at the latest parameters (no stored data)',
    unusedRunOptions: {},
    resolveOptions: (given, ctx) => optionRecord(resolveEwcOptions(given, ctx, true)),
    create: (setup) => new EwcLearner(setup, { ...resolveEwcOptions(setup.methodOptions ?? {}, setup, true), online: true }),
  },
  {
    name: 'si',
    description: 'synaptic intelligence: quadratic penalty weighted by each parameter\'s path integral (no stored data)',
    unusedRunOptions: {},
    // The path integral reads the gradient the optimiser was given: predictive coding's local update serves.
    engines: ['bp', 'pc'],
    resolveOptions: (given, ctx) => optionRecord(resolveSiOptions(given, ctx)),
    create: (setup) => new SiLearner(setup, resolveSiOptions(setup.methodOptions ?? {}, setup)),
  },
  {
    name: 'mas',
    description: 'memory aware synapses: quadratic penalty weighted by output sensitivity (no stored data)',
    unusedRunOptions: {},
    resolveOptions: (given, ctx) => optionRecord(resolveMasOptions(given, ctx)),
    create: (setup) => new MasLearner(setup, resolveMasOptions(setup.methodOptions ?? {}, setup)),
  },
];
