export { Mlp } from './mlp.js';
