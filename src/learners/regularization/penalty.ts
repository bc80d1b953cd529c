import type { Tensor } from '../../core/index.js';
import { getBackend } from '../../kernels/index.js';
import type { State } from '../../optim/index.js';

/**
 * A diagonal quadratic penalty on the parameters, L = (scale/2) · Σ_i Ω_i (θ_i − θ*_i)², whose gradient
 * scale · Ω ⊙ (θ − θ*) is added straight into the parameters' gradients: three native kernel calls per
 * parameter array per step, no autodiff. Ω (importance) and θ* (anchor) are one array per parameter tensor.
 *
 * @example
 * const pen = new QuadraticPenalty(net.parameters().map((p) => p.data));
 * pen.importance[0]!.set(fisher0); pen.anchor[0]!.set(theta0); pen.active = true;
 * pen.addGradient(net.parameters(), 1e5);  // grads += 1e5 · Ω ⊙ (θ − θ*)
 */
export class QuadraticPenalty {
  readonly importance: Float32Array[];
  readonly anchor: Float32Array[];
  /** False until the first consolidation: the penalty is zero and costs nothing. */
  active = false;
  private readonly scratch: Float32Array[];

  constructor(params: readonly Float32Array[]) {
    this.importance = params.map((p) => new Float32Array(p.length));
    this.anchor = params.map((p) => p.slice());
    this.scratch = params.map((p) => new Float32Array(p.length));
  }

  /** grad_i += scale · Ω_i ⊙ (θ_i − θ*_i) for every parameter tensor. */
  addGradient(params: readonly Tensor[], scale: number): void {
    if (!this.active || scale === 0) return;
    const b = getBackend();
    for (let i = 0; i < params.length; i++) {
      const p = params[i]!;
      if (p.grad === null) p.grad = new Float32Array(p.size);
      const d = this.scratch[i]!;
      b.binary('sub', p.data, this.anchor[i]!, d);
      b.binary('mul', d, this.importance[i]!, d);
      b.axpby(1, p.grad, scale, d, p.grad);
    }
  }

  /** The penalty's value (scale/2) Σ Ω (θ − θ*)², accumulated in double precision. */
  value(params: readonly Float32Array[], scale: number): number {
    if (!this.active) return 0;
    let s = 0;
    for (let i = 0; i < params.length; i++) {
      const p = params[i]!;
      const w = this.importance[i]!;
      const a = this.anchor[i]!;
      for (let j = 0; j < p.length; j++) {
        const d = p[j]! - a[j]!;
        s += w[j]! * d * d;
      }
    }
    return 0.5 * scale * s;
  }

  /**
   * Add a new quadratic Ω_new·(θ − θ_new)² to this one, keeping one quadratic: the sum of diagonal quadratics
   * is Ω'·(θ − θ*')² + const with Ω' = Ω + Ω_new and θ*' = (Ω·θ* + Ω_new·θ_new)/Ω' (the constant does not
   * change the gradient). This is how offline EWC keeps one penalty term per context in O(params) memory.
   */
  addQuadratic(importance: readonly Float32Array[], anchor: readonly Float32Array[]): void {
    for (let i = 0; i < this.importance.length; i++) {
      const w = this.importance[i]!;
      const a = this.anchor[i]!;
      const wn = importance[i]!;
      const an = anchor[i]!;
      for (let j = 0; j < w.length; j++) {
        const total = w[j]! + wn[j]!;
        // Where both importances vanish the term is zero and any anchor will do: take the newest.
        a[j] = total > 0 ? (w[j]! * a[j]! + wn[j]! * an[j]!) / total : an[j]!;
        w[j] = total;
      }
    }
    this.active = true;
  }

  /** Ω ← decay · Ω + Ω_new and θ* ← θ_new (online EWC's running Fisher; SI's and MAS's accumulated Ω). */
  accumulate(importance: readonly Float32Array[], anchor: readonly Float32Array[], decay = 1): void {
    const b = getBackend();
    for (let i = 0; i < this.importance.length; i++) {
      b.axpby(decay, this.importance[i]!, 1, importance[i]!, this.importance[i]!);
      this.anchor[i]!.set(anchor[i]!);
    }
    this.active = true;
  }

  getState(): State {
    return { active: this.active ? 1 : 0, importance: this.importance, anchor: this.anchor };
  }

  setState(state: State): void {
    const s = state as { active: number; importance: Float32Array[]; anchor: Float32Array[] };
    copyArrays(s.importance, this.importance, 'importance');
    copyArrays(s.anchor, this.anchor, 'anchor');
    this.active = s.active === 1;
  }
}

/** Copy saved arrays into live ones (never alias a checkpoint's arrays), checking sizes. */
export function copyArrays(src: readonly Float32Array[], dst: Float32Array[], what: string): void {
  if (!Array.isArray(src) || src.length !== dst.length) throw new Error(`checkpoint ${what}: expected ${dst.length} arrays`);
  for (let i = 0; i < dst.length; i++) {
    const s = src[i];
    if (!(s instanceof Float32Array) || s.length !== dst[i]!.length) {
      throw new Error(`checkpoint ${what}[${i}] is missing or has the wrong size`);
    }
    dst[i]!.set(s);
  }
}
