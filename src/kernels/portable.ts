import type { Activation, Backend, BinaryMap, UnaryMap } from './backend.js';
import type { AdamHyper, FusedKernels, PathIntegralHyper, SynapseAdamHyper } from './fused.js';
import { xoshiroNext } from './xoshiro.js';

/**
 * Pure-TypeScript backend: the reference that defines every kernel's meaning, and the fallback where the
 * native addon could not be built. Plain loops, float32 storage, double-precision scalars where it is free.
 */

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;

/**
 * GELU, tanh approximation (as in JAX's default and PCX): 0.5·x·(1 + tanh(u)), u = √(2/π)·(x + 0.044715·x³),
 * computed as x·σ(2u), which is the same function without the cancellation of 1 + tanh(u) for x ≪ 0.
 */
export function gelu(x: number): number {
  return x * sigmoid(2 * SQRT_2_OVER_PI * (x + GELU_C * x * x * x));
}

/** d/dx of {@link gelu}: σ(2u) + 2x·σ(2u)·(1 − σ(2u))·u′. */
export function geluGrad(x: number): number {
  const s = sigmoid(2 * SQRT_2_OVER_PI * (x + GELU_C * x * x * x));
  return s + 2 * x * s * (1 - s) * SQRT_2_OVER_PI * (1 + 3 * GELU_C * x * x);
}

function sigmoid(x: number): number {
  // Two branches keep exp from overflowing for large |x|.
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

const unaryFns: Record<UnaryMap, (x: number) => number> = {
  // relu(NaN) is NaN, as in PyTorch.
  relu: (x) => (x > 0 ? x : x <= 0 ? 0 : x),
  sigmoid,
  tanh: Math.tanh,
  gelu,
  exp: Math.exp,
  log: Math.log,
  neg: (x) => -x,
  square: (x) => x * x,
  sqrt: Math.sqrt,
};

const binaryFns: Record<BinaryMap, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
};

function gemm(
  transA: boolean, transB: boolean, m: number, n: number, k: number,
  alpha: number, a: Float32Array, b: Float32Array, beta: number, c: Float32Array, bias: Float32Array | null = null,
): void {
  const acc = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    acc.fill(0);
    for (let p = 0; p < k; p++) {
      const aip = transA ? a[p * m + i]! : a[i * k + p]!;
      if (aip === 0) continue;
      if (transB) {
        for (let j = 0; j < n; j++) acc[j]! += aip * b[j * k + p]!;
      } else {
        const row = p * n;
        for (let j = 0; j < n; j++) acc[j]! += aip * b[row + j]!;
      }
    }
    const crow = i * n;
    for (let j = 0; j < n; j++) {
      c[crow + j] = beta === 0 ? alpha * acc[j]! : alpha * acc[j]! + beta * c[crow + j]!;
    }
    // Rounded to float first, then the bias: addRowVector's numbers.
    if (bias !== null) for (let j = 0; j < n; j++) c[crow + j] = c[crow + j]! + bias[j]!;
  }
}

/** Row-wise max of x/T ignoring -Infinity; returns -Infinity for an all-masked row. */
function rowMax(x: Float32Array, off: number, cols: number, invT: number): number {
  let mx = -Infinity;
  for (let c = 0; c < cols; c++) {
    const v = x[off + c]! * invT;
    if (v > mx || Number.isNaN(v)) mx = v;
  }
  return mx;
}

/**
 * Writes softmax(x_r/T) into grad's row and returns log Σ exp(x/T − max) + max (the log-partition).
 * Shared by both cross-entropy kernels.
 */
function softmaxRow(x: Float32Array, off: number, cols: number, invT: number, probs: Float32Array): number {
  const mx = rowMax(x, off, cols, invT);
  let s = 0;
  for (let c = 0; c < cols; c++) {
    const e = Math.exp(x[off + c]! * invT - mx);
    probs[off + c] = e;
    s += e;
  }
  for (let c = 0; c < cols; c++) probs[off + c] = probs[off + c]! / s;
  return mx + Math.log(s);
}

/** The reference of each fused kernel (fused.ts); `portableBackend` carries them beside its primitives. */
const portableFusedKernels: FusedKernels = {
  softmaxCrossEntropy(x, labels, rows, cols, temperature, scale, grad) {
    const invT = 1 / temperature;
    let loss = 0;
    for (let r = 0; r < rows; r++) {
      const off = r * cols;
      const lse = softmaxRow(x, off, cols, invT, grad);
      const y = labels[r]!;
      loss += lse - x[off + y]! * invT;
      grad[off + y] = grad[off + y]! - 1;
      for (let c = 0; c < cols; c++) grad[off + c] = (grad[off + c]! * scale) * invT;
    }
    return loss;
  },

  softCrossEntropy(x, targets, rows, cols, temperature, scale, grad) {
    const invT = 1 / temperature;
    let loss = 0;
    for (let r = 0; r < rows; r++) {
      const off = r * cols;
      const lse = softmaxRow(x, off, cols, invT, grad);
      for (let c = 0; c < cols; c++) {
        const p = targets[off + c]!;
        if (p !== 0) loss += p * (lse - x[off + c]! * invT);
        grad[off + c] = ((grad[off + c]! - p) * scale) * invT;
      }
    }
    return loss;
  },

  sigmoidBce(z, x, scale, grad) {
    let loss = 0;
    for (let i = 0; i < z.length; i++) {
      const zi = z[i]!;
      const xi = x[i]!;
      const e = Math.exp(-Math.abs(zi));
      loss += Math.max(zi, 0) - xi * zi + Math.log1p(e);
      const sig = zi >= 0 ? 1 / (1 + e) : e / (1 + e);
      grad[i] = scale * (sig - xi);
    }
    return loss;
  },

  adamDirection(g, m, v, h: AdamHyper, out) {
    const { beta1, beta2, eps, step } = h;
    const bc1 = 1 - Math.pow(beta1, step);
    const bc2 = 1 - Math.pow(beta2, step);
    for (let i = 0; i < g.length; i++) {
      const gi = g[i]!;
      const mi = beta1 * m[i]! + (1 - beta1) * gi;
      const vi = beta2 * v[i]! + (1 - beta2) * gi * gi;
      m[i] = mi;
      v[i] = vi;
      out[i] = mi / bc1 / (Math.sqrt(vi / bc2) + eps);
    }
  },

  pathIntegralAdvance(theta, prev, prevGrad, omega, lastChange, g, h: PathIntegralHyper) {
    const n = theta.length;
    if (h.pending) integratePath(theta, prev, prevGrad, omega, lastChange, h);
    prev.set(theta);
    if (g === null) prevGrad.fill(0, 0, n);
    else prevGrad.set(g.length === n ? g : g.subarray(0, n));
  },

  viscousScale(u, importance, c) {
    for (let j = 0; j < u.length; j++) {
      const o = importance[j]!;
      if (o > 0) u[j] = u[j]! / (1 + c * o);
    }
  },

  synapseAdamStep(theta, prev, prevGrad, omega, lastChange, g, m, v, importance, h: SynapseAdamHyper, out) {
    const { step, rtol, atol, pending } = h.path;
    const { beta1, beta2, eps } = h.adam;
    const bc1 = 1 - Math.pow(beta1, h.adam.step);
    const bc2 = 1 - Math.pow(beta2, h.adam.step);
    const c = h.c;
    const alpha = -h.lr;
    // Each stage's expression exactly as in the kernel it replaces, with Math.fround where that kernel stores
    // into a Float32Array and the next one reads it back.
    for (let j = 0; j < theta.length; j++) {
      const t = theta[j]!;
      const gj = g[j]!; // read before out (which may be g) is written
      // pathIntegralAdvance (integratePath, then prev ← θ, prevGrad ← g)
      if (pending) {
        const before = prev[j]!;
        const d = t - before;
        omega[j] = omega[j]! - prevGrad[j]! * d;
        const tol = rtol * (before < 0 ? -before : before) + atol;
        if (d > tol || d < -tol) lastChange[j] = step;
      }
      prev[j] = t;
      prevGrad[j] = gj;
      // adamDirection: the direction uses the moments before their rounding to float32
      const mj = beta1 * m[j]! + (1 - beta1) * gj;
      const vj = beta2 * v[j]! + (1 - beta2) * gj * gj;
      m[j] = mj;
      v[j] = vj;
      let u = Math.fround(mj / bc1 / (Math.sqrt(vj / bc2) + eps));
      // viscousScale
      if (importance !== null) {
        const o = importance[j]!;
        if (o > 0) u = Math.fround(u / (1 + c * o));
      }
      // axpby(−lr, u, 0, u, u): the 0·u term matters (it turns ±Infinity into NaN, and −0 into +0)
      u = Math.fround(alpha * u + 0 * u);
      if (out !== null) out[j] = u;
      // axpby(1, θ, 1, u, θ)
      theta[j] = 1 * t + 1 * u;
    }
  },

  mixtureLogDensity(z, means, logvars, weights, n, k, d, resp) {
    const a = new Float64Array(k);
    const inv = inverseVariances(logvars);
    let total = 0;
    for (let r = 0; r < n; r++) {
      let max = -Infinity;
      for (let m = 0; m < k; m++) {
        const w = weights[r * k + m]!;
        if (w <= 0) {
          a[m] = -Infinity;
          continue;
        }
        let s = 0;
        for (let j = 0; j < d; j++) {
          const lv = logvars[m * d + j]!;
          const diff = z[r * d + j]! - means[m * d + j]!;
          s += LOG_2PI + lv + diff * diff * inv[m * d + j]!;
        }
        a[m] = Math.log(w) - 0.5 * s;
        if (a[m]! > max) max = a[m]!;
      }
      let sum = 0;
      for (let m = 0; m < k; m++) sum += a[m] === -Infinity ? 0 : Math.exp(a[m]! - max);
      total += max + Math.log(sum);
      for (let m = 0; m < k; m++) resp[r * k + m] = a[m] === -Infinity ? 0 : Math.exp(a[m]! - max) / sum;
    }
    return total;
  },

  mixtureLogDensityBackward(z, means, logvars, resp, g, n, k, d, gz, gm, gl) {
    const inv = inverseVariances(logvars);
    gz?.fill(0, 0, n * d);
    gm?.fill(0, 0, k * d);
    gl?.fill(0, 0, k * d);
    for (let r = 0; r < n; r++) {
      const zr = r * d;
      for (let m = 0; m < k; m++) {
        const p = resp[r * k + m]! * g;
        if (p === 0) continue;
        const mr = m * d;
        // d log N / dz = −(z−μ)/σ², d/dμ = (z−μ)/σ², d/dlogvar = ½((z−μ)²/σ² − 1)
        for (let j = 0; j < d; j++) {
          const diff = z[zr + j]! - means[mr + j]!;
          const pdi = p * diff * inv[mr + j]!;
          if (gz !== null) gz[zr + j] = gz[zr + j]! - pdi;
          if (gm !== null) gm[mr + j] = gm[mr + j]! + pdi;
          if (gl !== null) gl[mr + j] = gl[mr + j]! + 0.5 * p * (diff * diff * inv[mr + j]! - 1);
        }
      }
    }
  },
};

export const portableBackend: Backend = {
  name: 'portable',
  blas: 'js',
  setThreads(): void {
    // Single-threaded by nature.
  },
  getThreads: () => 1,
  gemm,

  unary(op, x, out) {
    const f = unaryFns[op];
    for (let i = 0; i < x.length; i++) out[i] = f(x[i]!);
  },

  binary(op, a, b, out) {
    const f = binaryFns[op];
    for (let i = 0; i < a.length; i++) out[i] = f(a[i]!, b[i]!);
  },

  activationBackward(op: Activation, x, y, gy, gx) {
    const n = x.length;
    switch (op) {
      case 'relu':
        for (let i = 0; i < n; i++) gx[i] = x[i]! > 0 ? gy[i]! : 0;
        return;
      case 'sigmoid':
        for (let i = 0; i < n; i++) gx[i] = gy[i]! * y[i]! * (1 - y[i]!);
        return;
      case 'tanh':
        for (let i = 0; i < n; i++) gx[i] = gy[i]! * (1 - y[i]! * y[i]!);
        return;
      case 'gelu':
        for (let i = 0; i < n; i++) gx[i] = gy[i]! * geluGrad(x[i]!);
        return;
    }
  },

  axpby(alpha, x, beta, y, out) {
    for (let i = 0; i < x.length; i++) out[i] = alpha * x[i]! + beta * y[i]!;
  },

  addRowVector(x, v, rows, cols, out) {
    for (let r = 0; r < rows; r++) {
      const off = r * cols;
      for (let c = 0; c < cols; c++) out[off + c] = x[off + c]! + v[c]!;
    }
  },

  sumColumns(x, rows, cols, out) {
    const acc = new Float64Array(cols);
    for (let r = 0; r < rows; r++) {
      const off = r * cols;
      for (let c = 0; c < cols; c++) acc[c]! += x[off + c]!;
    }
    for (let c = 0; c < cols; c++) out[c] = acc[c]!;
  },

  sum(x) {
    let s = 0;
    for (let i = 0; i < x.length; i++) s += x[i]!;
    return s;
  },

  logSoftmax(x, rows, cols, out) {
    for (let r = 0; r < rows; r++) {
      const off = r * cols;
      const mx = rowMax(x, off, cols, 1);
      let s = 0;
      for (let c = 0; c < cols; c++) s += Math.exp(x[off + c]! - mx);
      const lse = mx + Math.log(s);
      for (let c = 0; c < cols; c++) out[off + c] = x[off + c]! - lse;
    }
  },

  normalPairs(state, out) {
    if (state.length !== 4) throw new RangeError('normalPairs: state must hold 4 words');
    if (out.length % 2 !== 0) throw new RangeError('normalPairs: out must have an even length');
    for (let i = 0; i < out.length; i += 2) {
      let u = xoshiroNext(state) / 4294967296;
      while (u === 0) u = xoshiroNext(state) / 4294967296;
      const r = Math.sqrt(-2 * Math.log(u));
      const th = 2 * Math.PI * (xoshiroNext(state) / 4294967296);
      out[i] = r * Math.cos(th);
      out[i + 1] = r * Math.sin(th);
    }
  },

  ...portableFusedKernels,
};

const LOG_2PI = Math.log(2 * Math.PI);

/** 1/σ² = e^{−logvar} per mode and dimension, in double. */
function inverseVariances(logvars: Float32Array): Float64Array {
  const inv = new Float64Array(logvars.length);
  for (let i = 0; i < logvars.length; i++) inv[i] = Math.exp(-logvars[i]!);
  return inv;
}

/** ω −= prevGrad·(θ − prev) and the significant-change marks of {@link FusedKernels.pathIntegralAdvance}. */
function integratePath(
  theta: Float32Array, prev: Float32Array, prevGrad: Float32Array, omega: Float32Array, lastChange: Float32Array,
  h: PathIntegralHyper,
): void {
  const { step, rtol, atol } = h;
  for (let j = 0; j < theta.length; j++) {
    const before = prev[j]!;
    const d = theta[j]! - before;
    omega[j] = omega[j]! - prevGrad[j]! * d;
    const tol = rtol * (before < 0 ? -before : before) + atol;
    if (d > tol || d < -tol) lastChange[j] = step;
  }
}
