import { protocolDefaults, runConfigSchema, type RunConfig } from './config.js';
import { itersForEpochs, methodPreset } from './presets.js';

/** Run options as a caller gives them: the protocol, and any other field (undefined: its default). */
export type PartialRunConfig = { [K in keyof RunConfig]?: RunConfig[K] | undefined } & Pick<RunConfig, 'protocol'>;

/**
 * Defaults merged under the given options (undefined = use the default), then validated. Precedence: the
 * user's option, then the method's preset for the protocol (`presets.ts`), then the protocol's default.
 * Kept apart from `config.ts` (what a run configuration is) because the presets it applies are written in
 * terms of that configuration.
 *
 * @example
 * const cfg = resolveConfig({ protocol: 'split-mnist', method: 'er', iters: 100 });
 * cfg.batch; // 128, the protocol's default
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
    threads: null,
    bias: true,
    methodOptions: {},
    evalSplit: 'test',
  };
  const preset = methodPreset(partial.method ?? base.method, partial.protocol);
  const merged: Record<string, unknown> = { ...base, ...preset?.config };
  for (const [k, v] of Object.entries(partial)) if (v !== undefined) merged[k] = v;
  if (preset?.epochsPerContext !== undefined && partial.iters === undefined) {
    const { valPerContext, batch } = merged;
    if (typeof valPerContext === 'number' && typeof batch === 'number') {
      merged['iters'] = itersForEpochs(preset.epochsPerContext, partial.protocol, valPerContext, batch) ?? merged['iters'];
    }
  }
  return runConfigSchema.parse(merged);
}
