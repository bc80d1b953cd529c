import { z } from 'zod';
import { MethodOptionError, parseMethodOptions, refuseOutsideTaskFree, type MethodOptions, type OptionContext } from '../method-options.js';
import { TASK_FREE_UPDATE_EVERY } from '../task-free.js';
import { gpmDefaultThresholds, GPM_SAMPLES, MNIST_STANDARDISATION, type GpmOptions } from './gpm.js';

/**
 * A threshold list as `--set` hands it over: one number (every layer) or "0.97,0.99,0.99" (one per layer); or
 * as a result file records it, an array.
 */
const thresholdList = z.union([z.number(), z.string(), z.array(z.number())]).transform((v, ctx): number[] => {
  const parts = typeof v === 'number' ? [v] : typeof v === 'string' ? v.split(',').map((s) => (s.trim() === '' ? NaN : Number(s))) : v;
  const bad = parts.find((t) => !(t > 0 && t <= 1));
  if (bad !== undefined) {
    ctx.addIssue({ code: 'custom', message: `each threshold must lie in (0, 1], got ${typeof v === 'string' ? `"${v}"` : String(v)}` });
    return z.NEVER;
  }
  return parts;
});

/**
 * What GPM can be told with `--set key=value` (defaults, when absent, are the learner's: see `GpmOptions`).
 * `thresholds` is a comma-separated list, first layer first (e.g. `--set thresholds=0.97,0.99,0.99`), or one
 * number for every layer.
 */
export const gpmOptionsSchema = z.object({
  thresholds: thresholdList.optional(),
  thresholdIncrement: z.number().min(0).max(1).optional(),
  samples: z.number().int().positive().optional(),
  consolidateEvery: z.number().int().positive().optional(),
  /** Standardise inputs with MNIST's mean and sd (default: on permuted MNIST, as the reference). */
  standardise: z.boolean().optional(),
}).strict();

export type GpmOptionsInput = z.input<typeof gpmOptionsSchema>;

/**
 * Validated GPM options for a network of `layers` linear layers; a bad value or an unknown key is a one-line
 * `MethodOptionError` naming the option, so the CLI reports it as a usage error.
 */
export function parseGpmOptions(input: Record<string, unknown>, layers: number): GpmOptions {
  const { thresholds, thresholdIncrement, samples, consolidateEvery, standardise } = parseMethodOptions('gpm', gpmOptionsSchema, input);
  let perLayer: number[] | undefined;
  if (thresholds !== undefined) {
    // One value is every layer's; a list must name each layer, since the layer count depends on --hidden.
    perLayer = thresholds.length === 1 ? Array.from({ length: layers }, () => thresholds[0]!) : thresholds;
    if (perLayer.length !== layers) {
      throw new MethodOptionError(`gpm option thresholds: ${perLayer.length} values for ${layers} linear layers (one per layer, or one for all)`);
    }
  }
  // Only the given keys, so that the learner's defaults apply to the rest (exactOptionalPropertyTypes).
  return {
    ...(perLayer !== undefined ? { thresholds: perLayer } : {}),
    ...(thresholdIncrement !== undefined ? { thresholdIncrement } : {}),
    ...(samples !== undefined ? { samples } : {}),
    ...(consolidateEvery !== undefined ? { consolidateEvery } : {}),
    ...(standardise !== undefined ? { standardise: standardise ? MNIST_STANDARDISATION : null } : {}),
  };
}

/**
 * GPM's options validated, with every default decided for `ctx`: what a result records. `consolidateEvery`
 * applies to task-free streams only.
 *
 * @example
 * resolveGpmOptions({}, { protocol: 'split-mnist', scenario: 'class', stream: 'boundaries', hidden: [400, 400] });
 * // { thresholds: [0.95, 0.99, 0.99], thresholdIncrement: 0, samples: 300, standardise: false }
 */
export function resolveGpmOptions(given: Readonly<Record<string, unknown>>, ctx: OptionContext): MethodOptions {
  const layers = ctx.hidden.length + 1;
  const o = parseGpmOptions(given, layers);
  refuseOutsideTaskFree('gpm', given, ctx, 'consolidateEvery');
  return {
    thresholds: [...(o.thresholds ?? gpmDefaultThresholds(layers))],
    thresholdIncrement: o.thresholdIncrement ?? 0,
    samples: o.samples ?? GPM_SAMPLES,
    ...(ctx.stream === 'task-free' ? { consolidateEvery: o.consolidateEvery ?? TASK_FREE_UPDATE_EVERY } : {}),
    standardise: o.standardise !== undefined ? o.standardise !== null : ctx.protocol === 'permuted-mnist',
  };
}
