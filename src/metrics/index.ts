export * from './continual.js';
