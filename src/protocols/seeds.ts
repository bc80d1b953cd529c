/**
 * Independent random streams derived from one protocol seed. Each use (pixel permutations, validation split,
 * data loaders, context draws) gets its own generator, so that changing one setting (say the batch size) does
 * not change the permutations or the validation set drawn from the same seed.
 */
import { Rng } from '../core/rng.js';

/**
 * A generator for `purpose`, determined by (seed, purpose) alone.
 *
 * @example
 * const perms = deriveRng(7, 'permutations');   // same numbers every run with seed 7
 */
export function deriveRng(seed: number, purpose: string): Rng {
  return new Rng(deriveSeed(seed, purpose));
}

/** The uint32 seed behind `deriveRng(seed, purpose)`: FNV-1a of the purpose, mixed with both halves of the seed. */
export function deriveSeed(seed: number, purpose: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < purpose.length; i++) h = Math.imul(h ^ purpose.charCodeAt(i), 0x01000193) >>> 0;
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 4294967296) >>> 0;
  h = mix(h ^ lo);
  h = mix(h ^ hi);
  return h;
}

/** murmur3's 32-bit finaliser: every input bit affects every output bit. */
function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}
