import type { Rng } from '../../core/rng.js';
import type { Batch, Scenario } from '../../protocols/types.js';

/**
 * A class-balanced replay buffer of raw samples: one reservoir of at most `perClass` samples per key (a class,
 * or a (context, label) pair where labels repeat across contexts). Reservoir sampling keeps, for every key, a
 * uniform random subset of all samples of that key seen so far, without knowing the stream's length or its
 * boundaries.
 *
 * @example
 * const buf = new ReplayBuffer(784, 100, rng);
 * buf.offer(key, x, row, label, context);
 * const { x, y, contexts } = buf.sample(128, (ctx) => ctx < current);
 */
export class ReplayBuffer {
  private readonly slots = new Map<number, Slot>();

  constructor(
    readonly inputSize: number,
    readonly perClass: number,
    private readonly rng: Rng,
  ) {}

  /** Raw samples held. */
  get size(): number {
    let n = 0;
    for (const s of this.slots.values()) n += s.count;
    return n;
  }

  /** Offer row `row` of `x` (label, context) to the reservoir of `key`. */
  offer(key: number, x: Float32Array, row: number, label: number, context: number): void {
    let s = this.slots.get(key);
    if (s === undefined) {
      s = { x: new Float32Array(this.perClass * this.inputSize), y: new Int32Array(this.perClass), ctx: new Int32Array(this.perClass), count: 0, seen: 0 };
      this.slots.set(key, s);
    }
    s.seen++;
    let at = -1;
    if (s.count < this.perClass) at = s.count++;
    else {
      const j = this.rng.int(s.seen);
      if (j < this.perClass) at = j;
    }
    if (at < 0) return;
    s.x.set(x.subarray(row * this.inputSize, (row + 1) * this.inputSize), at * this.inputSize);
    s.y[at] = label;
    s.ctx[at] = context;
  }

  /** Number of held samples whose context passes `eligible`. */
  count(eligible: (context: number) => boolean): number {
    let n = 0;
    for (const s of this.slots.values()) for (let i = 0; i < s.count; i++) if (eligible(s.ctx[i]!)) n++;
    return n;
  }

  /** `n` samples drawn uniformly (with replacement) from the eligible ones; null when there are none. */
  sample(n: number, eligible: (context: number) => boolean): { x: Float32Array; y: Int32Array; contexts: Int32Array } | null {
    const refs: [Slot, number][] = [];
    for (const s of this.slots.values()) for (let i = 0; i < s.count; i++) if (eligible(s.ctx[i]!)) refs.push([s, i]);
    if (refs.length === 0) return null;
    const x = new Float32Array(n * this.inputSize);
    const y = new Int32Array(n);
    const contexts = new Int32Array(n);
    for (let r = 0; r < n; r++) {
      const [s, i] = refs[this.rng.int(refs.length)]!;
      x.set(s.x.subarray(i * this.inputSize, (i + 1) * this.inputSize), r * this.inputSize);
      y[r] = s.y[i]!;
      contexts[r] = s.ctx[i]!;
    }
    return { x, y, contexts };
  }

  /** Explicit, serialisable state. */
  getState(): { keys: number[]; x: Float32Array[]; y: Float32Array[]; ctx: Float32Array[]; count: number[]; seen: number[] } {
    const keys = [...this.slots.keys()].sort((a, b) => a - b);
    const slots = keys.map((k) => this.slots.get(k)!);
    return {
      keys,
      x: slots.map((s) => s.x),
      y: slots.map((s) => Float32Array.from(s.y)),
      ctx: slots.map((s) => Float32Array.from(s.ctx)),
      count: slots.map((s) => s.count),
      seen: slots.map((s) => s.seen),
    };
  }

  setState(st: ReturnType<ReplayBuffer['getState']>): void {
    this.slots.clear();
    st.keys.forEach((k, i) => {
      this.slots.set(k, {
        x: Float32Array.from(st.x[i]!),
        y: Int32Array.from(st.y[i]!),
        ctx: Int32Array.from(st.ctx[i]!),
        count: st.count[i]!,
        seen: st.seen[i]!,
      });
    });
  }
}

/**
 * Offer every sample of a batch to the buffer. Classes are the keys; domain-IL reuses labels across contexts,
 * so there the key is (context, label) wherever the context is known.
 */
export function offerBatch(buffer: ReplayBuffer, batch: Batch, scenario: Scenario, numOutputs: number): void {
  for (let r = 0; r < batch.size; r++) {
    const ctx = batch.contexts?.[r] ?? -1;
    const y = batch.y[r]!;
    buffer.offer(scenario === 'domain' && ctx >= 0 ? ctx * numOutputs + y : y, batch.x, r, y, ctx);
  }
}

interface Slot {
  x: Float32Array;
  y: Int32Array;
  ctx: Int32Array;
  count: number;
  seen: number;
}
