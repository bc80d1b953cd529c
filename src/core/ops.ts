import type { Activation, Backend } from '../kernels/backend.js';
import { allocate, allocateUninitialised } from './arena.js';
import { backend, Tensor, type TapeNode } from './tensor.js';

/**
 * Every differentiable op, each defined once: its forward kernel call and its gradient rule, in one typed
 * table (a missing gradient rule is a compile error). Composite functions (sigmoid-CE, VAE losses…) are built
 * from these in nn/, not given their own backward.
 */

/** Attributes of each op. */
export interface OpAttrs {
  matmul: { transA: boolean; transB: boolean };
  addBias: Record<string, never>;
  activation: { fn: Activation; inPlace: boolean };
  map: { fn: 'exp' | 'log' | 'neg' | 'square' | 'sqrt' };
  binary: { fn: 'add' | 'sub' | 'mul' };
  scale: { factor: number };
  logSoftmax: Record<string, never>;
  crossEntropy: { labels: Int32Array; temperature: number };
  softCrossEntropy: { temperature: number };
  mse: Record<string, never>;
  gaussianKL: Record<string, never>;
  sigmoidBce: Record<string, never>;
  mixtureLogDensity: { weights: Float32Array };
  sum: Record<string, never>;
  mean: Record<string, never>;
  sliceRows: { start: number; end: number };
  concatRows: Record<string, never>;
  maskLogits: { mask: Uint8Array };
}
export type OpName = keyof OpAttrs;

interface Forward {
  data: Float32Array;
  shape: number[];
  /** Anything the gradient rule needs that is cheapest to keep from the forward pass. */
  saved: Float32Array | null;
}

interface OpDef<A> {
  forward(b: Backend, x: readonly Tensor[], a: A): Forward;
  /**
   * Gradients of the inputs; `needs[i]` is false where input i needs none (return null there). `dest[i]`, when
   * given, may be overwritten with input i's gradient and returned instead of a new buffer.
   */
  backward(
    b: Backend, x: readonly Tensor[], a: A, y: Float32Array, gy: Float32Array, saved: Float32Array | null,
    needs: readonly boolean[], dest: readonly (Float32Array | null)[],
  ): (Float32Array | null)[];
}

const empty = {} as Record<string, never>;
const f32 = allocate;
/** For GEMM outputs: with beta = 0 every backend writes C without reading it. */
const gemmOut = allocateUninitialised;
const scalar = (v: number): Forward => ({ data: new Float32Array([v]), shape: [], saved: null });

function rowsCols(t: Tensor): [number, number] {
  if (t.shape.length !== 2) throw new Error(`expected a matrix, got shape [${t.shape.join(',')}]`);
  return [t.shape[0]!, t.shape[1]!];
}

function sameShape(a: Tensor, b: Tensor, op: string): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`${op}: shapes [${a.shape.join(',')}] and [${b.shape.join(',')}] differ`);
  }
}

const OPS: { [K in OpName]: OpDef<OpAttrs[K]> } = {
  matmul: {
    // An optional third input is a bias added to every row of the product, inside the GEMM's pass over C.
    forward(b, [x, w, bias], { transA, transB }) {
      const [ar, ac] = rowsCols(x!);
      const [br, bc] = rowsCols(w!);
      const [m, k] = transA ? [ac, ar] : [ar, ac];
      const [k2, n] = transB ? [bc, br] : [br, bc];
      if (k !== k2) throw new Error(`matmul: inner dimensions ${k} and ${k2} differ`);
      if (bias !== undefined && bias.size !== n) throw new Error(`matmul: bias has ${bias.size} values, product has ${n} columns`);
      const out = gemmOut(m * n);
      b.gemm(transA, transB, m, n, k, 1, x!.data, w!.data, 0, out, bias?.data ?? null);
      return { data: out, shape: [m, n], saved: null };
    },
    backward(b, [x, w], { transA, transB }, _y, gy, _s, needs, dest) {
      const [ar, ac] = rowsCols(x!);
      const [m, k] = transA ? [ac, ar] : [ar, ac];
      const n = gy.length / m;
      let gx: Float32Array | null = null;
      let gw: Float32Array | null = null;
      if (needs[0]) {
        gx = dest[0] ?? gemmOut(m * k);
        // C = op(A)·op(B): dop(A) = dC·op(B)ᵀ, stored transposed when A was.
        if (transA) b.gemm(transB, true, k, m, n, 1, w!.data, gy, 0, gx);
        else b.gemm(false, !transB, m, k, n, 1, gy, w!.data, 0, gx);
      }
      if (needs[1]) {
        gw = dest[1] ?? gemmOut(k * n);
        if (transB) b.gemm(true, transA, n, k, m, 1, gy, x!.data, 0, gw);
        else b.gemm(!transA, false, k, n, m, 1, x!.data, gy, 0, gw);
      }
      if (needs.length < 3) return [gx, gw];
      let gv: Float32Array | null = null;
      if (needs[2]) {
        gv = dest[2] ?? f32(n);
        b.sumColumns(gy, m, n, gv);
      }
      return [gx, gw, gv];
    },
  },

  addBias: {
    // (A layer's bias goes in with its product: `affine`.)
    forward(b, [x, v]) {
      const [r, c] = rowsCols(x!);
      if (v!.size !== c) throw new Error(`addBias: bias has ${v!.size} values, matrix has ${c} columns`);
      const out = f32(r * c);
      b.addRowVector(x!.data, v!.data, r, c, out);
      return { data: out, shape: [r, c], saved: null };
    },
    backward(b, [x], _a, _y, gy, _s, needs, dest) {
      const [r, c] = rowsCols(x!);
      let gv: Float32Array | null = null;
      if (needs[1]) {
        gv = dest[1] ?? f32(c);
        b.sumColumns(gy, r, c, gv);
      }
      return [needs[0] ? gy : null, gv];
    },
  },

  activation: {
    // In place only for relu: its rule reads x > 0, and relu(x) > 0 exactly where x > 0.
    forward(b, [x], { fn, inPlace }) {
      if (inPlace && fn !== 'relu') throw new Error(`activation: only relu runs in place, not ${fn}`);
      const out = inPlace ? x!.data : f32(x!.size);
      b.unary(fn, x!.data, out);
      return { data: out, shape: [...x!.shape], saved: null };
    },
    backward(b, [x], { fn }, y, gy) {
      // In place: the output's gradient is not needed after this.
      b.activationBackward(fn, x!.data, y, gy, gy);
      return [gy];
    },
  },

  map: {
    forward(b, [x], { fn }) {
      const out = f32(x!.size);
      b.unary(fn, x!.data, out);
      return { data: out, shape: [...x!.shape], saved: null };
    },
    backward(b, [x], { fn }, y, gy) {
      const xd = x!.data;
      switch (fn) {
        case 'exp': b.binary('mul', gy, y, gy); break;
        case 'log': b.binary('div', gy, xd, gy); break;
        case 'neg': b.axpby(-1, gy, 0, gy, gy); break;
        case 'square': b.binary('mul', gy, xd, gy); b.axpby(2, gy, 0, gy, gy); break;
        case 'sqrt': b.binary('div', gy, y, gy); b.axpby(0.5, gy, 0, gy, gy); break;
      }
      return [gy];
    },
  },

  binary: {
    forward(b, [x, z], { fn }) {
      sameShape(x!, z!, fn);
      const out = f32(x!.size);
      b.binary(fn, x!.data, z!.data, out);
      return { data: out, shape: [...x!.shape], saved: null };
    },
    backward(b, [x, z], { fn }, _y, gy, _s, needs) {
      // Never hand the same buffer to two inputs: gradients are accumulated in place later.
      let gx: Float32Array | null = null;
      let gz: Float32Array | null = null;
      if (needs[1]) {
        gz = f32(gy.length);
        if (fn === 'add') gz.set(gy);
        else if (fn === 'sub') b.axpby(-1, gy, 0, gy, gz);
        else b.binary('mul', gy, x!.data, gz);
      }
      if (needs[0]) {
        gx = gy;
        if (fn === 'mul') b.binary('mul', gy, z!.data, gx);
      }
      return [gx, gz];
    },
  },

  scale: {
    forward(b, [x], { factor }) {
      const out = f32(x!.size);
      b.axpby(factor, x!.data, 0, x!.data, out);
      return { data: out, shape: [...x!.shape], saved: null };
    },
    backward(b, _x, { factor }, _y, gy) {
      b.axpby(factor, gy, 0, gy, gy);
      return [gy];
    },
  },

  logSoftmax: {
    forward(b, [x]) {
      const [r, c] = rowsCols(x!);
      const out = f32(r * c);
      b.logSoftmax(x!.data, r, c, out);
      return { data: out, shape: [r, c], saved: null };
    },
    backward(_b, [x], _a, y, gy) {
      // gx = gy − softmax · Σ_row gy; masked (-Infinity) entries have softmax 0 and get gradient 0.
      const [r, c] = rowsCols(x!);
      const gx = f32(r * c);
      for (let i = 0; i < r; i++) {
        const off = i * c;
        let s = 0;
        for (let j = 0; j < c; j++) if (y[off + j] !== -Infinity) s += gy[off + j]!;
        for (let j = 0; j < c; j++) {
          const yj = y[off + j]!;
          gx[off + j] = yj === -Infinity ? 0 : gy[off + j]! - Math.exp(yj) * s;
        }
      }
      return [gx];
    },
  },

  crossEntropy: {
    forward(b, [x], { labels, temperature }) {
      const [r, c] = rowsCols(x!);
      if (labels.length !== r) throw new Error(`crossEntropy: ${labels.length} labels for ${r} rows`);
      const grad = f32(r * c);
      const loss = b.softmaxCrossEntropy(x!.data, labels, r, c, temperature, 1 / r, grad);
      return { ...scalar(loss / r), saved: grad };
    },
    backward(b, _x, _a, _y, gy, saved) {
      b.axpby(gy[0]!, saved!, 0, saved!, saved!);
      return [saved];
    },
  },

  softCrossEntropy: {
    forward(b, [x, p], { temperature }) {
      sameShape(x!, p!, 'softCrossEntropy');
      const [r, c] = rowsCols(x!);
      const grad = f32(r * c);
      const loss = b.softCrossEntropy(x!.data, p!.data, r, c, temperature, 1 / r, grad);
      return { ...scalar(loss / r), saved: grad };
    },
    backward(b, _x, _a, _y, gy, saved) {
      // Targets are constants (soft labels of a teacher): no gradient flows into them.
      b.axpby(gy[0]!, saved!, 0, saved!, saved!);
      return [saved, null];
    },
  },

  mse: {
    forward(b, [x, z]) {
      sameShape(x!, z!, 'mse');
      const d = f32(x!.size);
      b.binary('sub', x!.data, z!.data, d);
      const sq = f32(d.length);
      b.binary('mul', d, d, sq);
      return { ...scalar(b.sum(sq) / d.length), saved: d };
    },
    backward(b, _x, _a, _y, gy, d, needs) {
      const k = (2 * gy[0]!) / d!.length;
      const gz = needs[1] ? f32(d!.length) : null;
      if (gz !== null) b.axpby(-k, d!, 0, d!, gz);
      if (needs[0]) b.axpby(k, d!, 0, d!, d!);
      return [needs[0] ? d : null, gz];
    },
  },

  gaussianKL: {
    // KL(N(mu, e^logvar) ‖ N(0, 1)) summed over columns, averaged over rows.
    forward(_b, [mu, logvar]) {
      sameShape(mu!, logvar!, 'gaussianKL');
      const [r] = rowsCols(mu!);
      const m = mu!.data;
      const lv = logvar!.data;
      let s = 0;
      for (let i = 0; i < m.length; i++) s += 1 + lv[i]! - m[i]! * m[i]! - Math.exp(lv[i]!);
      return scalar((-0.5 * s) / r);
    },
    backward(_b, [mu, logvar], _a, _y, gy, _s, needs) {
      const [r] = rowsCols(mu!);
      const k = gy[0]! / r;
      const m = mu!.data;
      const lv = logvar!.data;
      const gm = needs[0] ? f32(m.length) : null;
      const gl = needs[1] ? f32(m.length) : null;
      for (let i = 0; i < m.length; i++) {
        if (gm !== null) gm[i] = k * m[i]!;
        if (gl !== null) gl[i] = 0.5 * k * (Math.exp(lv[i]!) - 1);
      }
      return [gm, gl];
    },
  },

  sigmoidBce: {
    // Σ_columns BCE(σ(z), x), averaged over rows; targets x are constants.
    forward(b, [z, x]) {
      sameShape(z!, x!, 'sigmoidBce');
      const [r] = rowsCols(z!);
      const grad = f32(z!.size);
      const loss = b.sigmoidBce(z!.data, x!.data, 1 / r, grad);
      return { ...scalar(loss / r), saved: grad };
    },
    backward(b, _x, _a, _y, gy, saved) {
      b.axpby(gy[0]!, saved!, 0, saved!, saved!);
      return [saved, null];
    },
  },

  mixtureLogDensity: {
    // mean_r log Σ_k w[r,k] · N(z_r; μ_k, diag e^{logvar_k}), with fixed mixture weights w (rows of a
    // distribution over the K modes). The gradient uses the responsibilities ρ[r,k] ∝ w[r,k] N_k(z_r).
    forward(b, [z, means, logvars], { weights }) {
      const [n, d] = rowsCols(z!);
      const [k, d2] = rowsCols(means!);
      if (d2 !== d) throw new Error(`mixtureLogDensity: modes have ${d2} dimensions, z has ${d}`);
      sameShape(means!, logvars!, 'mixtureLogDensity');
      if (weights.length !== n * k) throw new Error(`mixtureLogDensity: ${weights.length} weights for ${n}x${k}`);
      const resp = allocateUninitialised(n * k);
      const logDensity = b.mixtureLogDensity(z!.data, means!.data, logvars!.data, weights, n, k, d, resp);
      return { ...scalar(logDensity / n), saved: resp };
    },
    backward(b, [z, means, logvars], _a, _y, gy, resp, needs) {
      const [n, d] = rowsCols(z!);
      const k = means!.rows;
      // The kernel overwrites what it is given.
      const gz = needs[0] ? allocateUninitialised(n * d) : null;
      const gm = needs[1] ? allocateUninitialised(k * d) : null;
      const gl = needs[2] ? allocateUninitialised(k * d) : null;
      b.mixtureLogDensityBackward(z!.data, means!.data, logvars!.data, resp!, gy[0]! / n, n, k, d, gz, gm, gl);
      return [gz, gm, gl];
    },
  },

  sum: {
    forward(b, [x]) {
      return scalar(b.sum(x!.data));
    },
    backward(_b, [x], _a, _y, gy) {
      return [f32(x!.size).fill(gy[0]!)];
    },
  },

  mean: {
    forward(b, [x]) {
      return scalar(b.sum(x!.data) / x!.size);
    },
    backward(_b, [x], _a, _y, gy) {
      return [f32(x!.size).fill(gy[0]! / x!.size)];
    },
  },

  sliceRows: {
    forward(_b, [x], { start, end }) {
      const [r, c] = rowsCols(x!);
      if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= r)) {
        throw new Error(`sliceRows: [${start}, ${end}) is not inside 0..${r}`);
      }
      const out = allocateUninitialised((end - start) * c);
      out.set(x!.data.subarray(start * c, end * c));
      return { data: out, shape: [end - start, c], saved: null };
    },
    backward(_b, [x], { start }, _y, gy) {
      const gx = f32(x!.size);
      gx.set(gy, start * x!.cols);
      return [gx];
    },
  },

  concatRows: {
    forward(_b, xs) {
      const c = rowsCols(xs[0]!)[1];
      let rows = 0;
      for (const x of xs) {
        if (rowsCols(x)[1] !== c) throw new Error('concatRows: all inputs need the same number of columns');
        rows += x.rows;
      }
      const out = f32(rows * c);
      let off = 0;
      for (const x of xs) {
        out.set(x.data, off);
        off += x.size;
      }
      return { data: out, shape: [rows, c], saved: null };
    },
    backward(_b, xs, _a, _y, gy, _s, needs) {
      let off = 0;
      return xs.map((x, i) => {
        const g = needs[i] ? allocateUninitialised(x.size) : null;
        g?.set(gy.subarray(off, off + x.size));
        off += x.size;
        return g;
      });
    },
  },

  maskLogits: {
    forward(_b, [x], { mask }) {
      if (mask.length !== x!.size) throw new Error(`maskLogits: mask has ${mask.length} entries for ${x!.size} logits`);
      const out = allocateUninitialised(x!.size);
      out.set(x!.data);
      for (let i = 0; i < out.length; i++) if (mask[i] === 0) out[i] = -Infinity;
      return { data: out, shape: [...x!.shape], saved: null };
    },
    backward(_b, _x, { mask }, _y, gy) {
      for (let i = 0; i < gy.length; i++) if (mask[i] === 0) gy[i] = 0;
      return [gy];
    },
  },
};

/** Gradient recording can be switched off (evaluation, dreaming) to save memory and time. */
let gradEnabled = true;

/**
 * Run `fn` without recording gradients.
 *
 * @example
 * const logits = noGrad(() => model.forward(x));
 */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Apply a named op from the table, recording it on the tape when any input needs a gradient. */
export function apply<K extends OpName>(name: K, inputs: readonly Tensor[], attrs: OpAttrs[K]): Tensor {
  const def = OPS[name] as OpDef<OpAttrs[K]>;
  const b = backend();
  const { data, shape, saved } = def.forward(b, inputs, attrs);
  const needs = inputs.map((t) => t.requiresGrad);
  if (!gradEnabled || !needs.some(Boolean)) return new Tensor(data, shape, false);
  const node: TapeNode = {
    op: name,
    inputs,
    backward: (gy, bk, dest) => def.backward(bk, inputs, attrs, data, gy, saved, needs, dest),
  };
  return new Tensor(data, shape, true, node);
}

// ---- the public, named functions ----------------------------------------------------------------

/** op(a)·op(b), with either operand transposed. */
export const matmul = (a: Tensor, b: Tensor, transA = false, transB = false): Tensor =>
  apply('matmul', [a, b], { transA, transB });
/** x·W + bias (the bias broadcast over rows), in one pass over the output: a fully connected layer. */
export const affine = (x: Tensor, w: Tensor, bias: Tensor): Tensor =>
  apply('matmul', [x, w, bias], { transA: false, transB: false });
/** x + bias, the bias broadcast over rows. */
export const addBias = (x: Tensor, bias: Tensor): Tensor => apply('addBias', [x, bias], empty);
export const relu = (x: Tensor): Tensor => apply('activation', [x], { fn: 'relu', inPlace: false });
/** relu written into x's buffer: only for an x that nothing else reads (e.g. a fresh pre-activation). */
export const reluInPlace = (x: Tensor): Tensor => apply('activation', [x], { fn: 'relu', inPlace: true });
export const sigmoid = (x: Tensor): Tensor => apply('activation', [x], { fn: 'sigmoid', inPlace: false });
export const tanh = (x: Tensor): Tensor => apply('activation', [x], { fn: 'tanh', inPlace: false });
/** GELU, tanh approximation. */
export const gelu = (x: Tensor): Tensor => apply('activation', [x], { fn: 'gelu', inPlace: false });
export const activation = (x: Tensor, fn: Activation): Tensor => apply('activation', [x], { fn, inPlace: false });
export const exp = (x: Tensor): Tensor => apply('map', [x], { fn: 'exp' });
export const log = (x: Tensor): Tensor => apply('map', [x], { fn: 'log' });
export const neg = (x: Tensor): Tensor => apply('map', [x], { fn: 'neg' });
export const square = (x: Tensor): Tensor => apply('map', [x], { fn: 'square' });
export const sqrt = (x: Tensor): Tensor => apply('map', [x], { fn: 'sqrt' });
export const add = (a: Tensor, b: Tensor): Tensor => apply('binary', [a, b], { fn: 'add' });
export const sub = (a: Tensor, b: Tensor): Tensor => apply('binary', [a, b], { fn: 'sub' });
export const mul = (a: Tensor, b: Tensor): Tensor => apply('binary', [a, b], { fn: 'mul' });
export const scale = (x: Tensor, factor: number): Tensor => apply('scale', [x], { factor });
export const logSoftmax = (x: Tensor): Tensor => apply('logSoftmax', [x], empty);
/** Mean over rows of −log softmax(x/T)[label]. */
export const crossEntropy = (logits: Tensor, labels: Int32Array, temperature = 1): Tensor =>
  apply('crossEntropy', [logits], { labels, temperature });
/** Mean over rows of −Σ p·log softmax(x/T); `targets` are constants. */
export const softCrossEntropy = (logits: Tensor, targets: Tensor, temperature = 1): Tensor =>
  apply('softCrossEntropy', [logits, targets.detach()], { temperature });
/** Mean squared error over all elements. */
export const mse = (a: Tensor, b: Tensor): Tensor => apply('mse', [a, b], empty);
/** KL(N(mu, exp(logvar)) ‖ N(0, I)), summed over features and averaged over rows. */
export const gaussianKL = (mu: Tensor, logvar: Tensor): Tensor => apply('gaussianKL', [mu, logvar], empty);
/** Binary cross-entropy of σ(logits) against targets in [0, 1], summed over columns, averaged over rows. */
export const sigmoidBce = (logits: Tensor, targets: Tensor): Tensor => apply('sigmoidBce', [logits, targets], empty);
/**
 * Mean over rows of log Σ_k w[r,k] N(z_r; means_k, diag exp(logvars_k)): a Gaussian mixture's log density with
 * per-row mixture weights (e.g. one-hot labels picking a class's mode, or a teacher's class probabilities).
 */
export const mixtureLogDensity = (z: Tensor, means: Tensor, logvars: Tensor, weights: Float32Array): Tensor =>
  apply('mixtureLogDensity', [z, means, logvars], { weights });
export const sum = (x: Tensor): Tensor => apply('sum', [x], empty);
export const mean = (x: Tensor): Tensor => apply('mean', [x], empty);
/** Rows [start, end) of a matrix. */
export const sliceRows = (x: Tensor, start: number, end: number): Tensor => apply('sliceRows', [x], { start, end });
export const concatRows = (xs: readonly Tensor[]): Tensor => apply('concatRows', xs, empty);
/** Logits where mask is 0 become -Infinity (task-IL heads); mask is rows×cols, 1 = keep. */
export const maskLogits = (x: Tensor, mask: Uint8Array): Tensor => apply('maskLogits', [x], { mask });
