export { Tensor, backward, zeroGrad, shapeSize, type TapeNode } from './tensor.js';
export * from './ops.js';
export { Rng } from './rng.js';
export { BufferArena, withArena, allocate, allocateUninitialised, arenaActive } from './arena.js';
