export * from './transform.js';
export * from './synapse/index.js';
