import { getBackend } from '../kernels/index.js';
import { xoshiroNext } from '../kernels/xoshiro.js';

/**
 * Seeded pseudo-random numbers (xoshiro128**, state seeded by splitmix32). All randomness in Engram comes
 * from an explicit `Rng`, so the same seed and backend give the same numbers; the state is four uint32s and
 * can be saved and restored.
 *
 * @example
 * const rng = new Rng(1);
 * const u = rng.uniform();      // [0, 1)
 * const z = rng.normal();       // N(0, 1)
 * const k = rng.int(10);        // 0..9
 */
export class Rng {
  private s: Uint32Array;
  private spareNormal: number | null = null;

  constructor(seed: number) {
    this.s = new Uint32Array(4);
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      // splitmix32 spreads a small integer seed over the whole state.
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if (this.s.every((v) => v === 0)) this.s[0] = 1;
  }

  /** Next raw 32-bit unsigned integer. */
  nextUint32(): number {
    return xoshiroNext(this.s);
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal (Box–Muller; the second value is kept for the next call). */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u = this.uniform();
    while (u === 0) u = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    const th = 2 * Math.PI * this.uniform();
    this.spareNormal = r * Math.sin(th);
    return r * Math.cos(th);
  }

  /**
   * Fill `out` with standard normals: the same values, in the same order, as `out.length` calls of `normal()`
   * (and the same spare left for the next call), without a call and a branch per value.
   */
  fillNormal<A extends Float32Array | Float64Array>(out: A): A {
    let i = 0;
    if (out.length > 0 && this.spareNormal !== null) {
      out[i++] = this.spareNormal;
      this.spareNormal = null;
    }
    // The pairs in one backend call (natively, a C loop instead of a JS one).
    const pairs = (out.length - i) >> 1;
    getBackend().normalPairs(this.s, out.subarray(i, i + 2 * pairs));
    i += 2 * pairs;
    if (i < out.length) out[i] = this.normal(); // an odd one out leaves its pair's spare for the next call
    return out;
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }

  /** Serialisable state. */
  getState(): number[] {
    return [...this.s, this.spareNormal ?? Number.NaN];
  }

  setState(state: readonly number[]): void {
    if (state.length !== 5) throw new Error('Rng state must have 5 entries');
    for (let i = 0; i < 4; i++) this.s[i] = state[i]! >>> 0;
    const spare = state[4]!;
    this.spareNormal = Number.isNaN(spare) ? null : spare;
  }
}
