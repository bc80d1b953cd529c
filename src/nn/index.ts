export { Mlp } from './mlp.js';
export { activateFresh, Linear } from './linear.js';
