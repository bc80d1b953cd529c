import type { MethodEntry } from '../method.js';
import { EwcLearner } from './ewc.js';
import { MasLearner } from './mas.js';
import { SiLearner } from './si.js';

export { QuadraticPenaltyLearner } from './base.js';
export { WindowedImportanceLearner } from './windowed.js';
export { QuadraticPenalty } from './penalty.js';
export { EwcLearner, accumulateFisher, type EwcOptions, type FisherLabels } from './ewc.js';
export { SiLearner, type SiOptions } from './si.js';
export { MasLearner, accumulateOutputSensitivity, type MasOptions } from './mas.js';
export { forwardKeep, logitsOf, PerSampleStats, type MlpActivations, type PerSampleReduction } from './per-sample.js';
export * from './defaults.js';

/**
 * The parameter-regularisation baselines, with their published defaults (see `defaults.ts`), ready to register.
 * None stores raw samples.
 *
 * @example
 * for (const m of regularizationMethods) registerMethod(m);
 */
export const regularizationMethods: MethodEntry[] = [
  {
    name: 'ewc',
    description: 'elastic weight consolidation: quadratic penalty weighted by the Fisher of each context (no stored data)',
    create: (setup) => new EwcLearner(setup),
  },
  {
    name: 'ewc-online',
    description: 'online EWC: one running Fisher (decay gamma), anchored at the latest parameters (no stored data)',
    create: (setup) => new EwcLearner(setup, { online: true }),
  },
  {
    name: 'si',
    description: 'synaptic intelligence: quadratic penalty weighted by each parameter\'s path integral (no stored data)',
    create: (setup) => new SiLearner(setup),
  },
  {
    name: 'mas',
    description: 'memory aware synapses: quadratic penalty weighted by output sensitivity (no stored data)',
    create: (setup) => new MasLearner(setup),
  },
];
