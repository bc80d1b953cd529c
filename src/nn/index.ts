export { Mlp } from './mlp.js';
export { Linear } from './linear.js';
