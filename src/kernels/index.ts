import type { Backend } from './backend.js';
import { loadNativeBackend, nativeLoadError } from './native.js';
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

export function chooseBackend(requested: string | undefined, gemm?: string): Backend {
  if (gemm !== undefined && gemm !== '' && gemm !== 'builtin' && gemm !== 'openblas') {
    throw new BackendError(`ENGRAM_GEMM must be "builtin" or "openblas", got "${gemm}"`);
  }
  const options = gemm === 'builtin' || gemm === 'openblas' ? { gemm } as const : {};
  if (requested === undefined || requested === '') return loadNativeBackend(options) ?? portableBackend;
  if (requested === 'portable') return portableBackend;
  if (requested === 'native') {
    const native = loadNativeBackend(options);
    if (native === null) {
      throw new BackendError(`ENGRAM_BACKEND=native but the native addon is unavailable: ${nativeLoadError() ?? 'unknown reason'}`);
    }
    return native;
  }
  throw new BackendError(`ENGRAM_BACKEND must be "portable" or "native", got "${requested}"`);
}

/** One line saying which backend and GEMM run. */
export function describeBackend(b: Backend = getBackend()): string {
  if (b.name === 'portable') {
    const why = nativeLoadError();
    return why === null ? 'portable (TypeScript)' : `portable (TypeScript; native addon unavailable: ${why})`;
  }
  return `native (${b.blas} GEMM, ${b.getThreads()} thread${b.getThreads() === 1 ? '' : 's'})`;
}
