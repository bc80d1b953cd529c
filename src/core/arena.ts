/**
 * Step-scoped buffer recycling. A training step allocates the same arrays every time (activations, their
 * gradients, loss scratch); fresh allocations cost zero-filling, page faults and garbage collection, and a
 * GEMM writing into fresh memory runs markedly slower than into warm memory. Inside `withArena`, ops take
 * their output and gradient buffers from the arena, and every buffer handed out returns to it when the scope
 * ends — so nothing allocated by an op inside the scope may be kept after it (copy what must survive).
 * Leaf gradients are never arena buffers (see tensor.ts `backward`).
 */
export class BufferArena {
  private readonly free = new Map<number, Float32Array[]>();
  private used: Float32Array[] = [];

  /** A zeroed buffer of `n` values, valid until the scope ends. */
  take(n: number): Float32Array {
    const buf = this.free.get(n)?.pop();
    const out = buf === undefined ? new Float32Array(n) : buf.fill(0);
    this.used.push(out);
    return out;
  }

  /** A buffer of `n` values with arbitrary contents (for outputs the caller overwrites entirely). */
  takeUninitialised(n: number): Float32Array {
    const out = this.free.get(n)?.pop() ?? new Float32Array(n);
    this.used.push(out);
    return out;
  }

  /** Return every buffer handed out since the last recycle. */
  recycle(): void {
    for (const b of this.used) {
      let list = this.free.get(b.length);
      if (list === undefined) this.free.set(b.length, (list = []));
      list.push(b);
    }
    this.used = [];
  }
}

let active: BufferArena | null = null;

/** A zeroed Float32Array: from the active arena, or a fresh one outside any scope. */
export function allocate(n: number): Float32Array {
  return active === null ? new Float32Array(n) : active.take(n);
}

/** A Float32Array the caller will overwrite entirely (contents arbitrary inside an arena scope). */
export function allocateUninitialised(n: number): Float32Array {
  return active === null ? new Float32Array(n) : active.takeUninitialised(n);
}

/** Whether op buffers are arena buffers right now (so that anything kept must be copied). */
export function arenaActive(): boolean {
  return active !== null;
}

/**
 * Run `fn` with ops allocating from `arena`, then recycle its buffers. Re-entering the scope of the arena
 * already active runs `fn` inside that scope.
 *
 * @example
 * const arena = new BufferArena();
 * const loss = withArena(arena, () => { const l = model.loss(batch); backward(l); step(); return l.item(); });
 */
export function withArena<T>(arena: BufferArena, fn: () => T): T {
  if (active === arena) return fn();
  const prev = active;
  active = arena;
  try {
    return fn();
  } finally {
    active = prev;
    arena.recycle();
  }
}
