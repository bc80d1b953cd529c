/**
 * Defaults and validation for `ProtocolConfig`. Defaults follow van de Ven's code (params/param_values.py):
 * split MNIST 5 contexts × 2000 iterations, permuted MNIST 10 contexts × 5000 iterations, batch 128.
 */
import type { ProtocolConfig, ProtocolName } from './types.js';

/** Bad protocol configuration (caught at `createProtocol`, before any data is read). */
export class ProtocolConfigError extends Error {
  readonly code = 'E_CONFIG';

  constructor(message: string) {
    super(message);
    this.name = 'ProtocolConfigError';
  }
}

/** A configuration with every optional setting decided. */
export type ResolvedProtocolConfig = ProtocolConfig & { fuzziness: number; identityFirstContext: boolean; padding: number };

/** Number of MNIST classes; the protocols are defined for MNIST-layout data. */
const CLASSES = 10;

/**
 * A complete configuration for `protocol` with van de Ven's defaults (class-IL split MNIST, domain-IL
 * permuted / rotated MNIST; boundaries stream; seed 0; 1000 validation samples per context).
 *
 * @example
 * const cfg = { ...defaultConfig('permuted-mnist'), scenario: 'class', seed: 3 };
 */
export function defaultConfig(protocol: ProtocolName): ProtocolConfig {
  const split = protocol === 'split-mnist';
  return {
    protocol,
    scenario: split ? 'class' : 'domain',
    stream: 'boundaries',
    seed: 0,
    itersPerContext: split ? 2000 : 5000,
    batchSize: 128,
    classOrder: null,
    numContexts: split ? 5 : 10,
    valPerContext: 1000,
    dataDir: null,
    cumulative: false,
  };
}

/**
 * Check `config` (throwing `ProtocolConfigError` with a one-line reason) and fill in optional settings.
 * Checks that need the data (batch and validation sizes against the pool) happen when contexts are built.
 */
export function resolveConfig(config: ProtocolConfig): ResolvedProtocolConfig {
  const { protocol, numContexts, itersPerContext } = config;
  if (!['split-mnist', 'permuted-mnist', 'rotated-mnist', 'iid'].includes(protocol)) fail(`unknown protocol '${protocol}'`);
  if (!['task', 'domain', 'class'].includes(config.scenario)) fail(`unknown scenario '${config.scenario}'`);
  if (!['boundaries', 'task-free'].includes(config.stream)) fail(`unknown stream '${config.stream}'`);
  if (!Number.isSafeInteger(config.seed)) fail(`seed must be an integer, got ${config.seed}`);
  positiveInt('itersPerContext', itersPerContext);
  positiveInt('batchSize', config.batchSize);
  positiveInt('numContexts', numContexts);
  if (!Number.isInteger(config.valPerContext) || config.valPerContext < 0) {
    fail(`valPerContext must be a non-negative integer, got ${config.valPerContext}`);
  }
  if (protocol === 'iid' && numContexts !== 1) fail(`iid has one context (every class at once), got ${numContexts}`);
  if (protocol === 'split-mnist' && numContexts > CLASSES) {
    fail(`split-mnist has at most ${CLASSES} contexts, got ${numContexts}`);
  }
  if (config.classOrder !== null) {
    const order = config.classOrder;
    const ok = order.length === CLASSES && [...order].sort((a, b) => a - b).every((c, i) => c === i);
    if (!ok) fail(`classOrder must be a permutation of 0..${CLASSES - 1}, got [${order.join(',')}]`);
    if (protocol !== 'split-mnist') fail(`classOrder only applies to split-mnist`);
  }
  const fuzziness = config.fuzziness ?? Math.min(500, Math.floor(itersPerContext / 4));
  if (!Number.isInteger(fuzziness) || fuzziness < 0 || 2 * fuzziness > itersPerContext) {
    fail(`fuzziness must be an integer in 0..${Math.floor(itersPerContext / 2)} (itersPerContext / 2), got ${fuzziness}`);
  }
  const identityFirstContext = config.identityFirstContext ?? config.seed === 0;
  const padding = config.padding ?? 0;
  if (!Number.isInteger(padding) || padding < 0 || padding > 64) fail(`padding must be an integer in 0..64, got ${padding}`);
  return { ...config, fuzziness, identityFirstContext, padding };
}

function positiveInt(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 1) fail(`${name} must be a positive integer, got ${v}`);
}

function fail(message: string): never {
  throw new ProtocolConfigError(message);
}
