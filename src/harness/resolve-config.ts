import { resolve as resolvePath } from 'node:path';
import { listMethods, methodEntry } from '../learners/index.js';
import { defaultPcSettings } from '../predictive-coding/index.js';
import { deriveRng } from '../protocols/seeds.js';
import { protocolDefaults, runConfigSchema, type RunConfig } from './config.js';
import { itersForEpochs, methodPreset } from './presets.js';
import { refuseTooManyThreads, refuseUnallocatable, refuseUnsupportedEngine, refuseUnusedOptions, RunOptionError } from './run-checks.js';

/** Run options as a caller gives them: the protocol, and any other field (undefined: its default). */
export type PartialRunConfig = { [K in Exclude<keyof RunConfig, 'classOrder'>]?: RunConfig[K] | undefined } & Pick<RunConfig, 'protocol'> & {
  /** A permutation of 0..9, or `random`: one drawn from the seed. */
  classOrder?: number[] | 'random' | null | undefined;
  /** Method options as given (`--set`): validated and completed with the method's defaults. */
  methodOptions?: Readonly<Record<string, unknown>> | undefined;
};

/** The fuzziness of a task-free stream whose user gave none: van de Ven's 500, scaled down for short contexts. */
export function defaultFuzziness(iters: number): number {
  return Math.min(500, Math.floor(iters / 4));
}

/** The class order `--class-order random` means for `seed`: a permutation of 0..9 drawn from it. */
export function randomClassOrder(seed: number): number[] {
  return [...deriveRng(seed, 'class-order').permutation(10)];
}

/**
 * Defaults merged under the given options (undefined = use the default), then validated. Precedence: the
 * user's option, then the method's preset for the protocol (`presets.ts`), then the protocol's default.
 * The result is fully resolved: a random class order is drawn, the task-free fuzziness decided, and the
 * method's options validated and completed with its defaults, so that a result records exactly what ran.
 * Kept apart from `config.ts` (what a run configuration is) because the presets it applies are written in
 * terms of that configuration.
 *
 * Options the user gave that cannot work are refused with one line naming the flag: one the method does not
 * use (`--lr` for engram), `--momentum` without SGD, `--fuzziness` without a task-free stream, more `--threads`
 * than the machine runs at once, a network too large to allocate.
 *
 * @example
 * resolveConfig({ protocol: 'split-mnist', method: 'ewc', methodOptions: { lambda: 1e9 } }).methodOptions;
 * // { lambda: 1e9, fisherSamples: 12000, fisherLabels: 'all' }
 */
export function resolveConfig(partial: PartialRunConfig): RunConfig {
  const base: RunConfig = {
    ...protocolDefaults(partial.protocol),
    protocol: partial.protocol,
    scenario: partial.protocol === 'split-mnist' ? 'class' : 'domain',
    stream: 'boundaries',
    method: 'naive',
    seed: 1,
    dataDir: null,
    classOrder: null,
    fuzziness: null,
    threads: null,
    bias: true,
    engine: 'bp',
    pcSteps: defaultPcSettings.steps,
    pcIncremental: defaultPcSettings.incremental,
    methodOptions: {},
    evalSplit: 'test',
  };
  const entry = methodEntry(partial.method ?? base.method);
  refuseUnusedOptions(entry, partial);
  refuseUnsupportedEngine(entry, partial, listMethods());
  refuseTooManyThreads(partial.threads);
  const preset = methodPreset(entry.name, partial.protocol);
  const merged: Record<string, unknown> = { ...base, ...preset?.config };
  for (const [k, v] of Object.entries(partial)) if (v !== undefined) merged[k] = v;
  if (preset?.epochsPerContext !== undefined && partial.iters === undefined) {
    const { valPerContext, batch } = merged;
    if (typeof valPerContext === 'number' && typeof batch === 'number') {
      merged['iters'] = itersForEpochs(preset.epochsPerContext, partial.protocol, valPerContext, batch) ?? merged['iters'];
    }
  }
  if (partial.momentum !== undefined && partial.momentum !== 0 && merged['optimizer'] !== 'sgd') {
    throw new RunOptionError('--momentum applies to --optimizer sgd (Adam has no momentum setting)');
  }
  if (partial.fuzziness !== undefined && partial.fuzziness !== null && merged['stream'] !== 'task-free') {
    throw new RunOptionError('--fuzziness applies to --stream task-free (a boundaries stream has no ramps)');
  }
  // A relative data directory would name other files when the run is reproduced from elsewhere.
  if (typeof merged['dataDir'] === 'string') merged['dataDir'] = resolvePath(merged['dataDir']);
  if (merged['classOrder'] === 'random' && typeof merged['seed'] === 'number') merged['classOrder'] = randomClassOrder(merged['seed']);
  if (merged['stream'] === 'task-free' && merged['fuzziness'] === null && typeof merged['iters'] === 'number') {
    merged['fuzziness'] = defaultFuzziness(merged['iters']);
  }
  const { fuzziness, iters } = merged;
  if (typeof fuzziness === 'number' && typeof iters === 'number' && 2 * fuzziness > iters) {
    throw new RunOptionError(`--fuzziness ${fuzziness}: the ramps of a task-free stream are at most half a context long, ` +
      `${Math.floor(iters / 2)} with --iters ${iters}`);
  }
  const cfg = runConfigSchema.parse(merged);
  if (entry.unusedRunOptions.hidden === undefined) refuseUnallocatable(networkShape(cfg));
  return { ...cfg, methodOptions: entry.resolveOptions(cfg.methodOptions, cfg) };
}

/** The classifier MLP a configuration describes (inputs from the padded images, outputs from the scenario). */
export function networkShape(cfg: Pick<RunConfig, 'protocol' | 'scenario' | 'contexts' | 'padding' | 'hidden'>): {
  inputSize: number; hidden: number[]; outputs: number;
} {
  const side = 28 + 2 * cfg.padding;
  const classesPerContext = cfg.protocol === 'split-mnist' ? Math.floor(10 / cfg.contexts) : 10;
  const outputs = cfg.scenario === 'domain' ? classesPerContext : classesPerContext * cfg.contexts;
  return { inputSize: side * side, hidden: cfg.hidden, outputs };
}
