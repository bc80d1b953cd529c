export * from './continual.js';
export * from './stability-gap.js';
