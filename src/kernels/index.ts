import type { Backend } from './backend.js';
import { loadNativeBackend, nativeHasOpenblas, nativeLoadError } from './native.js';
import { portableBackend } from './portable.js';

export type { Activation, Backend, BinaryMap, BlasKind, UnaryMap } from './backend.js';
export type { AdamHyper, FusedKernels, PathIntegralHyper, SynapseAdamHyper } from './fused.js';
export { portableBackend } from './portable.js';
export { loadNativeBackend, nativeHasOpenblas, nativeLoaded, nativeLoadError, ompWaitChosen } from './native.js';

/** Error with a machine-readable code, for bad configuration at the library's boundary. */
export class BackendError extends Error {
  readonly code = 'E_BACKEND';
}

let current: Backend | null = null;

/**
 * The backend every op uses. Chosen once: `ENGRAM_BACKEND=portable|native` forces one; otherwise the native
 * addon when it loads, else the portable TypeScript backend. `ENGRAM_GEMM=builtin|openblas` picks the native
 * GEMM (default: the builtin one).
 *
 * @example
 * const b = getBackend();
 * console.log(describeBackend(b)); // "native (builtin GEMM, 2 threads)"
 */
export function getBackend(): Backend {
  if (current === null) current = chooseBackend(process.env['ENGRAM_BACKEND'], process.env['ENGRAM_GEMM']);
  return current;
}

/** Replace the backend for the whole process (tests and benchmarks compare backends this way). */
export function setBackend(b: Backend): void {
  current = b;
}

/** What {@link chooseBackend} needs to know about the native addon (the real one, or a stand-in in tests). */
export interface NativeAddonProbe {
  load(options: { gemm?: 'openblas' | 'builtin' }): Backend | null;
  /** Why the addon does not load, or null when it does. */
  loadError(): string | null;
  hasOpenblas(): boolean;
}

const realAddon: NativeAddonProbe = {
  load: loadNativeBackend,
  loadError: nativeLoadError,
  hasOpenblas: nativeHasOpenblas,
};

/**
 * The backend for ENGRAM_BACKEND=`requested` and ENGRAM_GEMM=`gemm`. Nothing requested: the native addon, or the
 * portable backend when the addon does not load (describeBackend says why). Whatever is requested and cannot be
 * had is a BackendError with the reason: never a silent fallback to a slower backend.
 */
export function chooseBackend(requested: string | undefined, gemm?: string, addon: NativeAddonProbe = realAddon): Backend {
  if (gemm !== undefined && gemm !== '' && gemm !== 'builtin' && gemm !== 'openblas') {
    throw new BackendError(`ENGRAM_GEMM must be "builtin" or "openblas", got "${gemm}"`);
  }
  if (requested !== undefined && requested !== '' && requested !== 'portable' && requested !== 'native') {
    throw new BackendError(`ENGRAM_BACKEND must be "portable" or "native", got "${requested}"`);
  }
  const gemmAsked = gemm === 'builtin' || gemm === 'openblas';
  if (requested === 'portable') {
    if (gemmAsked) throw new BackendError(`ENGRAM_GEMM=${gemm} picks the native backend's GEMM, but ENGRAM_BACKEND=portable; unset one of them`);
    return portableBackend;
  }
  const native = addon.load(gemmAsked ? { gemm } : {});
  if (native !== null) return native;
  const why = addon.loadError();
  if (why === null && gemm === 'openblas' && !addon.hasOpenblas()) {
    throw new BackendError('ENGRAM_GEMM=openblas but the native addon was built without OpenBLAS ' +
      '(apt-get install libopenblas-openmp-dev, then `node scripts/build-native.cjs` in the package; or unset ENGRAM_GEMM for the builtin GEMM)');
  }
  if (requested === 'native' || gemmAsked) {
    const flag = requested === 'native' ? 'ENGRAM_BACKEND=native' : `ENGRAM_GEMM=${gemm}`;
    throw new BackendError(`${flag} but the native addon is unavailable: ${why ?? 'it loaded but gave no backend'}`);
  }
  return portableBackend;
}

/** One line saying which backend and GEMM run. */
export function describeBackend(b: Backend = getBackend()): string {
  if (b.name === 'portable') {
    const why = nativeLoadError();
    return why === null ? 'portable (TypeScript)' : `portable (TypeScript; native addon unavailable: ${why})`;
  }
  return `native (${b.blas} GEMM, ${b.getThreads()} thread${b.getThreads() === 1 ? '' : 's'})`;
}
