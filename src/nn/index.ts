export { argmaxRows } from './argmax.js';
export { Mlp } from './mlp.js';
export { activateFresh, Linear } from './linear.js';
export { maskedSoftmax } from './softmax.js';
