export * from './base.js';
export * from './combine.js';
export * from './transform.js';
export * from './synapse/index.js';
export * from './project.js';
