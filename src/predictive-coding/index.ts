export { PcEngine } from './engine.js';
export { GenerativePc, type GenerativePcOptions } from './generative.js';
export { labelEnergy, pixelEnergy, type OutputEnergy } from './output-energy.js';
export { ACTIVITY_LR, ACTIVITY_MOMENTUM, defaultPcSettings, engineNames, type Engine, type PcSettings } from './settings.js';
