import type { Backend } from '../kernels/backend.js';
import { getBackend } from '../kernels/index.js';
import { arenaActive } from './arena.js';

/**
 * A dense float32 tensor (row-major) that may record how it was computed, for reverse-mode autodiff.
 * Shapes are `[]` (scalar), `[n]` or `[rows, cols]`: everything Engram's networks need.
 *
 * @example
 * const w = Tensor.param(new Float32Array([1, 2, 3, 4]), [2, 2]);
 * const y = sum(matmul(x, w));   // ops from core/ops.ts
 * backward(y);                   // w.grad now holds dy/dw
 */
export class Tensor {
  private gradBuffer: Float32Array | null = null;
  /** Set by zeroGrad: the buffer is kept for reuse, but its contents no longer count. */
  private gradStale = false;

  constructor(
    public data: Float32Array,
    public readonly shape: readonly number[],
    public readonly requiresGrad: boolean = false,
    /** The op that produced this tensor; null for leaves and for results computed without gradients. */
    public readonly node: TapeNode | null = null,
  ) {
    const n = shapeSize(shape);
    if (data.length !== n) throw new Error(`Tensor data has ${data.length} values, shape [${shape.join(',')}] needs ${n}`);
  }

  /** A constant (no gradient). */
  static from(data: Float32Array, shape: readonly number[]): Tensor {
    return new Tensor(data, shape, false);
  }

  /** A trainable leaf. */
  static param(data: Float32Array, shape: readonly number[]): Tensor {
    return new Tensor(data, shape, true);
  }

  static zeros(shape: readonly number[]): Tensor {
    return new Tensor(new Float32Array(shapeSize(shape)), shape, false);
  }

  get size(): number {
    return this.data.length;
  }

  get rows(): number {
    return this.shape.length === 2 ? this.shape[0]! : 1;
  }

  get cols(): number {
    return this.shape.length === 0 ? 1 : this.shape[this.shape.length - 1]!;
  }

  /** The single value of a scalar tensor. */
  item(): number {
    if (this.data.length !== 1) throw new Error(`item() needs a scalar, got shape [${this.shape.join(',')}]`);
    return this.data[0]!;
  }

  /** Gradient accumulated by backward passes (leaves only; intermediate gradients are released). */
  get grad(): Float32Array | null {
    return this.gradStale ? null : this.gradBuffer;
  }

  set grad(g: Float32Array | null) {
    this.gradBuffer = g;
    this.gradStale = false;
  }

  /**
   * Forget the gradient but keep its buffer, so the next backward pass can write the new gradient straight
   * into it instead of allocating (a weight matrix's gradient is the largest array of a training step).
   */
  releaseGrad(): void {
    this.gradStale = true;
  }

  /** A buffer the next gradient may overwrite, if one of the right size is free. */
  reusableGradBuffer(): Float32Array | null {
    return this.gradStale && this.gradBuffer !== null && this.gradBuffer.length === this.size ? this.gradBuffer : null;
  }

  /** The same values, cut off from the graph. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape, false);
  }
}

/** One recorded op application: its inputs and a closure computing their gradients. */
export interface TapeNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /**
   * Given the output's gradient, returns each input's gradient (null where not needed). `dest[i]`, when not
   * null, is a buffer the rule may overwrite with input i's gradient and return, instead of allocating.
   */
  readonly backward: (gradOut: Float32Array, b: Backend, dest: readonly (Float32Array | null)[]) => (Float32Array | null)[];
}

export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** The backend used by tensor ops (chosen once by kernels/index.ts). */
export function backend(): Backend {
  return getBackend();
}

/**
 * Reverse-mode sweep from a scalar: an iterative depth-first topological sort (no recursion, deterministic
 * order), then gradients flow from the output back. Leaf gradients accumulate into `.grad`.
 */
export function backward(output: Tensor): void {
  if (output.size !== 1) throw new Error('backward() starts from a scalar');
  const order = topologicalOrder(output);
  const grads = new Map<Tensor, Float32Array>();
  grads.set(output, new Float32Array([1]));
  const b = backend();
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i]!;
    const g = grads.get(t);
    if (g === undefined) continue;
    grads.delete(t);
    const node = t.node!;
    // A leaf appearing twice among the inputs (x·xᵀ) gets its buffer offered once only.
    const dest = node.inputs.map((x, j) =>
      x.node === null && x.requiresGrad && node.inputs.indexOf(x) === j ? x.reusableGradBuffer() : null);
    const inputGrads = node.backward(g, b, dest);
    for (let j = 0; j < node.inputs.length; j++) {
      const x = node.inputs[j]!;
      const gx = inputGrads[j];
      if (!x.requiresGrad || gx === null || gx === undefined) continue;
      if (x.node === null) {
        // Leaf: accumulate across backward passes, like PyTorch. A leaf's gradient outlives the step, so an
        // arena buffer (core/arena.ts) is copied into the leaf's own buffer instead of kept.
        if (x.grad === null) x.grad = ownGradBuffer(x, gx);
        else b.axpby(1, x.grad, 1, gx, x.grad);
        continue;
      }
      const prev = grads.get(x);
      if (prev === undefined) grads.set(x, gx);
      else b.axpby(1, prev, 1, gx, prev);
    }
  }
}

/** `g` as a buffer the leaf may keep: g itself, unless an arena owns it. */
function ownGradBuffer(x: Tensor, g: Float32Array): Float32Array {
  const keep = x.reusableGradBuffer();
  if (keep === g) return g;
  if (!arenaActive()) return g;
  if (keep !== null) {
    keep.set(g);
    return keep;
  }
  return g.slice();
}

/** Tensors with a node, in an order where every tensor comes after its inputs. */
function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const [t, next] = top;
    const inputs = t.node?.inputs ?? [];
    if (next < inputs.length) {
      top[1] = next + 1;
      const x = inputs[next]!;
      if (x.node !== null && x.requiresGrad && !visited.has(x)) {
        visited.add(x);
        stack.push([x, 0]);
      }
    } else {
      stack.pop();
      if (t.node !== null) order.push(t);
    }
  }
  return order;
}

/** Zero the gradients of parameters before the next backward pass (their buffers are reused). */
export function zeroGrad(params: Iterable<Tensor>): void {
  for (const p of params) p.releaseGrad();
}
