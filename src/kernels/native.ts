import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Activation, Backend, BinaryMap, UnaryMap } from './backend.js';
import type { FusedKernels } from './fused.js';

/**
 * The native backend: Engram's C++ addon (build/Release/engram_native.node, built by the package's install
 * script from native/). It holds a builtin packed, cache-blocked AVX-512 / AVX2 GEMM threaded with OpenMP,
 * optionally OpenBLAS's cblas_sgemm (when OpenBLAS was found at build time), and fused kernels for the rest of
 * the {@link Backend} interface. Every kernel works in place on the caller's typed arrays (views included).
 *
 * @example
 * const b = loadNativeBackend() ?? portableBackend;   // OpenBLAS GEMM when available, else the builtin one
 * const builtin = loadNativeBackend({ gemm: 'builtin' });
 */

/** Must equal kAbiVersion in native/addon.cc. */
const ABI_VERSION = 5;

/** What native/addon.cc exports. Op codes follow the enums in native/kernels.h. */
interface NativeAddon {
  readonly abiVersion: number;
  gemm(
    impl: number, transA: boolean, transB: boolean, m: number, n: number, k: number,
    alpha: number, a: Float32Array, b: Float32Array, beta: number, c: Float32Array, bias: Float32Array | null,
  ): void;
  hasOpenblas(): boolean;
  setThreads(n: number): void;
  getThreads(): number;
  info(): NativeAddonInfo;
  unary(op: number, x: Float32Array, out: Float32Array): void;
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array): void;
  activationBackward(op: number, x: Float32Array, y: Float32Array, gy: Float32Array, gx: Float32Array): void;
  axpby(alpha: number, x: Float32Array, beta: number, y: Float32Array, out: Float32Array): void;
  addRowVector(x: Float32Array, v: Float32Array, rows: number, cols: number, out: Float32Array): void;
  sumColumns(x: Float32Array, rows: number, cols: number, out: Float32Array): void;
  sum(x: Float32Array): number;
  logSoftmax(x: Float32Array, rows: number, cols: number, out: Float32Array): void;
  softmaxCrossEntropy(
    x: Float32Array, labels: Int32Array, rows: number, cols: number, temperature: number, scale: number,
    grad: Float32Array,
  ): number;
  softCrossEntropy(
    x: Float32Array, targets: Float32Array, rows: number, cols: number, temperature: number, scale: number,
    grad: Float32Array,
  ): number;
  sigmoidBce(z: Float32Array, x: Float32Array, scale: number, grad: Float32Array): number;
  adamDirection(
    g: Float32Array, m: Float32Array, v: Float32Array, beta1: number, beta2: number, eps: number, step: number,
    out: Float32Array,
  ): void;
  pathIntegralAdvance(
    theta: Float32Array, prev: Float32Array, prevGrad: Float32Array, omega: Float32Array, lastChange: Float32Array,
    g: Float32Array | null, step: number, rtol: number, atol: number, pending: boolean,
  ): void;
  viscousScale(u: Float32Array, importance: Float32Array, c: number): void;
  synapseAdamStep(
    theta: Float32Array, prev: Float32Array, prevGrad: Float32Array, omega: Float32Array, lastChange: Float32Array,
    g: Float32Array, m: Float32Array, v: Float32Array, importance: Float32Array | null, out: Float32Array | null,
    pathStep: number, rtol: number, atol: number, pending: boolean, beta1: number, beta2: number, eps: number,
    adamStep: number, c: number, lr: number,
  ): void;
  normalPairs(state: Uint32Array, out: Float32Array | Float64Array): void;
  mixtureLogDensity(
    z: Float32Array, means: Float32Array, logvars: Float32Array, weights: Float32Array, n: number, k: number,
    d: number, resp: Float32Array,
  ): number;
  mixtureLogDensityBackward(
    z: Float32Array, means: Float32Array, logvars: Float32Array, resp: Float32Array, g: number, n: number, k: number,
    d: number, gz: Float32Array | null, gm: Float32Array | null, gl: Float32Array | null,
  ): void;
}

interface NativeAddonInfo {
  /** The builtin GEMM's micro-kernel, e.g. "avx512 8x48" (ISA, rows x columns of C per register tile). */
  readonly builtinKernel: string;
  /**
   * The compiler that built the addon, e.g. "gcc 12.2.0". A GCC build's synapse kernels (pathIntegralAdvance,
   * viscousScale) match the portable backend bit for bit; a Clang build may fuse a multiply-add in them
   * (results within one float ulp). synapseAdamStep repeats the expressions of the native kernels it fuses and
   * matches them bit for bit (checked with GCC; Clang contracts the same expressions alike).
   */
  readonly compiler: string;
  /** Whether the addon was compiled with OpenMP (threads); false means every kernel runs on one thread. */
  readonly openmp: boolean;
  /** Processors OpenMP sees. */
  readonly processors: number;
  /** OpenBLAS's kernel set (e.g. "SkylakeX"), null without OpenBLAS. */
  readonly openblasCore: string | null;
  /** openblas_get_config(), null without OpenBLAS. */
  readonly openblasConfig: string | null;
}

/** Facts about the loaded addon, for logs and benchmark reports. */
export interface NativeInfo extends NativeAddonInfo {
  /** The OPENBLAS_CORETYPE this module applied while loading (see scripts/build-native.cjs), if any. */
  readonly openblasCoretypeApplied: string | null;
}

const ADDON_FUNCTIONS = [
  'gemm', 'hasOpenblas', 'setThreads', 'getThreads', 'info', 'unary', 'binary', 'activationBackward', 'axpby',
  'addRowVector', 'sumColumns', 'sum', 'logSoftmax', 'softmaxCrossEntropy', 'softCrossEntropy', 'sigmoidBce',
  'adamDirection', 'pathIntegralAdvance', 'viscousScale', 'synapseAdamStep', 'normalPairs', 'mixtureLogDensity',
  'mixtureLogDensityBackward',
] as const satisfies readonly (keyof NativeAddon)[];

const IMPL_BUILTIN = 0;
const IMPL_OPENBLAS = 1;

const UNARY_CODES: Record<UnaryMap, number> = {
  relu: 0, sigmoid: 1, tanh: 2, gelu: 3, exp: 4, log: 5, neg: 6, square: 7, sqrt: 8,
};
const BINARY_CODES: Record<BinaryMap, number> = { add: 0, sub: 1, mul: 2, div: 3 };
const ACTIVATION_CODES: Record<Activation, number> = { relu: 0, sigmoid: 1, tanh: 2, gelu: 3 };

function prop(o: object, key: string): unknown {
  return Reflect.get(o, key);
}

function isNativeAddon(x: unknown): x is NativeAddon {
  if (typeof x !== 'object' || x === null) return false;
  if (prop(x, 'abiVersion') !== ABI_VERSION) return false;
  return ADDON_FUNCTIONS.every((name) => typeof prop(x, name) === 'function');
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n', 1)[0] ?? text;
}

/** OPENBLAS_CORETYPE recorded by the install script for an OpenBLAS that misdetects this CPU, or null. */
function recordedCoretype(sidecarPath: string): string | null {
  try {
    const parsed: unknown = JSON.parse(readFileSync(sidecarPath, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null) return null;
    const core = prop(parsed, 'openblasCoretype');
    return typeof core === 'string' && /^[A-Za-z0-9_]+$/.test(core) ? core : null;
  } catch {
    return null;
  }
}

interface LoadState {
  readonly addon: NativeAddon | null;
  readonly error: string | null;
  readonly coretypeApplied: string | null;
}

let state: LoadState | null = null;

function load(): LoadState {
  if (state !== null) return state;
  // This file runs as dist/kernels/native.js (or src/kernels/native.ts): the package root is two levels up.
  const addonUrl = new URL('../../build/Release/engram_native.node', import.meta.url);
  const addonPath = fileURLToPath(addonUrl);
  if (!existsSync(addonPath)) {
    state = {
      addon: null,
      error: 'build/Release/engram_native.node is missing (the install step did not build it; run `node scripts/build-native.cjs`)',
      coretypeApplied: null,
    };
    return state;
  }
  // OpenBLAS reads OPENBLAS_CORETYPE once, when the addon's dependencies load; set it only for that moment.
  let coretypeApplied: string | null = null;
  if (process.env['OPENBLAS_CORETYPE'] === undefined) {
    coretypeApplied = recordedCoretype(fileURLToPath(new URL('../../build/Release/engram_native.json', import.meta.url)));
    if (coretypeApplied !== null) process.env['OPENBLAS_CORETYPE'] = coretypeApplied;
  }
  // libgomp (OpenMP, read once when the addon loads it) spins idle threads for a while between parallel
  // regions by default. When another process wants the cores (two runs side by side, a test runner), a train
  // step collapsed from ~24k to ~800 samples/s; passive waiting avoids that. The user's setting wins.
  const setWaitPolicy = !ompWaitChosen(process.env);
  if (setWaitPolicy) process.env['OMP_WAIT_POLICY'] = 'passive';
  let loaded: unknown;
  try {
    loaded = createRequire(import.meta.url)(addonPath);
  } catch (err) {
    state = { addon: null, error: `the native addon does not load: ${firstLine(err)}`, coretypeApplied: null };
    return state;
  } finally {
    if (coretypeApplied !== null) delete process.env['OPENBLAS_CORETYPE'];
    if (setWaitPolicy) delete process.env['OMP_WAIT_POLICY'];
  }
  if (!isNativeAddon(loaded)) {
    state = {
      addon: null,
      error: `build/Release/engram_native.node does not match this version of Engram (expected ABI ${ABI_VERSION}; rebuild with \`node scripts/build-native.cjs\`)`,
      coretypeApplied: null,
    };
    return state;
  }
  state = { addon: loaded, error: null, coretypeApplied };
  return state;
}

/** The addon's fused kernels (fused.ts says why each is one kernel). */
function nativeFusedKernels(addon: NativeAddon): FusedKernels {
  return {
    softmaxCrossEntropy(x, labels, rows, cols, temperature, scale, grad): number {
      return addon.softmaxCrossEntropy(x, labels, rows, cols, temperature, scale, grad);
    },
    softCrossEntropy(x, targets, rows, cols, temperature, scale, grad): number {
      return addon.softCrossEntropy(x, targets, rows, cols, temperature, scale, grad);
    },
    sigmoidBce(z, x, scale, grad): number {
      return addon.sigmoidBce(z, x, scale, grad);
    },
    adamDirection(g, m, v, h, out): void {
      addon.adamDirection(g, m, v, h.beta1, h.beta2, h.eps, h.step, out);
    },
    pathIntegralAdvance(theta, prev, prevGrad, omega, lastChange, g, h): void {
      addon.pathIntegralAdvance(theta, prev, prevGrad, omega, lastChange, g, h.step, h.rtol, h.atol, h.pending);
    },
    viscousScale(u, importance, c): void {
      addon.viscousScale(u, importance, c);
    },
    synapseAdamStep(theta, prev, prevGrad, omega, lastChange, g, m, v, importance, h, out): void {
      const { path, adam } = h;
      addon.synapseAdamStep(
        theta, prev, prevGrad, omega, lastChange, g, m, v, importance, out, path.step, path.rtol, path.atol,
        path.pending, adam.beta1, adam.beta2, adam.eps, adam.step, h.c, h.lr,
      );
    },
    mixtureLogDensity(z, means, logvars, weights, n, k, d, resp): number {
      return addon.mixtureLogDensity(z, means, logvars, weights, n, k, d, resp);
    },
    mixtureLogDensityBackward(z, means, logvars, resp, g, n, k, d, gz, gm, gl): void {
      addon.mixtureLogDensityBackward(z, means, logvars, resp, g, n, k, d, gz, gm, gl);
    },
  };
}

function makeBackend(addon: NativeAddon, blas: 'openblas' | 'builtin'): Backend {
  const impl = blas === 'openblas' ? IMPL_OPENBLAS : IMPL_BUILTIN;
  const backend: Backend = {
    name: 'native',
    blas,
    setThreads(n: number): void {
      addon.setThreads(n);
    },
    getThreads(): number {
      return addon.getThreads();
    },
    gemm(transA, transB, m, n, k, alpha, a, b, beta, c, bias = null): void {
      addon.gemm(impl, transA, transB, m, n, k, alpha, a, b, beta, c, bias);
    },
    unary(op, x, out): void {
      addon.unary(UNARY_CODES[op], x, out);
    },
    binary(op, a, b, out): void {
      addon.binary(BINARY_CODES[op], a, b, out);
    },
    activationBackward(op, x, y, gy, gx): void {
      addon.activationBackward(ACTIVATION_CODES[op], x, y, gy, gx);
    },
    axpby(alpha, x, beta, y, out): void {
      addon.axpby(alpha, x, beta, y, out);
    },
    addRowVector(x, v, rows, cols, out): void {
      addon.addRowVector(x, v, rows, cols, out);
    },
    sumColumns(x, rows, cols, out): void {
      addon.sumColumns(x, rows, cols, out);
    },
    sum(x): number {
      return addon.sum(x);
    },
    logSoftmax(x, rows, cols, out): void {
      addon.logSoftmax(x, rows, cols, out);
    },
    normalPairs(state, out): void {
      addon.normalPairs(state, out);
    },
    ...nativeFusedKernels(addon),
  };
  return Object.freeze(backend);
}

const backends = new Map<'openblas' | 'builtin', Backend>();

/**
 * The native backend, or null when the addon is absent or does not load ({@link nativeLoadError} says why).
 * `gemm` picks the GEMM: OpenBLAS by default when the addon was built with it, else the builtin one; asking for
 * 'openblas' from an addon built without it also gives null (check {@link nativeHasOpenblas}).
 * Threads (`setThreads`) are process-wide: OpenMP's and OpenBLAS's, shared by every native backend object.
 * The native kernels check array lengths and throw a RangeError (a TypeError for a wrong argument type)
 * instead of touching memory outside the arrays; hard labels must lie in [0, cols).
 */
export function loadNativeBackend(options: { gemm?: 'openblas' | 'builtin' } = {}): Backend | null {
  const { addon } = load();
  if (addon === null) return null;
  // The builtin GEMM is the default: on the project's machines it beats OpenBLAS 0.3.21 at 2 threads on every
  // shape the networks use (docs/RESULTS.md, bench), and end to end (a DGR step ≈10 %, a plain MLP step ≈20 %).
  const kind = options.gemm ?? 'builtin';
  if (kind !== 'openblas' && kind !== 'builtin') {
    throw new TypeError(`loadNativeBackend: gemm must be "openblas" or "builtin", got ${String(kind)}`);
  }
  if (kind === 'openblas' && !addon.hasOpenblas()) return null;
  let b = backends.get(kind);
  if (b === undefined) {
    b = makeBackend(addon, kind);
    backends.set(kind, b);
  }
  return b;
}

/** Whether the environment already says how idle OpenMP threads wait (OMP_WAIT_POLICY or GOMP_SPINCOUNT). */
export function ompWaitChosen(env: NodeJS.ProcessEnv): boolean {
  return env['OMP_WAIT_POLICY'] !== undefined || env['GOMP_SPINCOUNT'] !== undefined;
}

/** Whether this process has tried to load the addon yet (after that, OpenMP settings in the environment are read). */
export function nativeLoaded(): boolean {
  return state !== null;
}

/** Why the native addon could not be loaded (one line), or null when it loads. */
export function nativeLoadError(): string | null {
  return load().error;
}

/** Whether the native addon is loaded and was built with OpenBLAS. */
export function nativeHasOpenblas(): boolean {
  const { addon } = load();
  return addon !== null && addon.hasOpenblas();
}

/** Builtin kernel, OpenMP and OpenBLAS details of the loaded addon, or null when it does not load. */
export function nativeInfo(): NativeInfo | null {
  const { addon, coretypeApplied } = load();
  if (addon === null) return null;
  return { ...addon.info(), openblasCoretypeApplied: coretypeApplied };
}
