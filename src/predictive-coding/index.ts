export { PcEngine } from './engine.js';
export { ACTIVITY_LR, ACTIVITY_MOMENTUM, defaultPcSettings, engineNames, type Engine, type PcSettings } from './settings.js';
