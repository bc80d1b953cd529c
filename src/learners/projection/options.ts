import { z } from 'zod';
import { optionIssueMessage } from '../option-issue.js';
import type { GpmOptions } from './gpm.js';

/** A threshold list as `--set` hands it over: one number (every layer) or "0.97,0.99,0.99" (one per layer). */
const thresholdList = z.union([z.number(), z.string()]).transform((v, ctx): number[] => {
  const parts = typeof v === 'number' ? [v] : v.split(',').map((s) => (s.trim() === '' ? NaN : Number(s)));
  const bad = parts.find((t) => !(t > 0 && t <= 1));
  if (bad !== undefined) {
    ctx.addIssue({ code: 'custom', message: `each threshold must lie in (0, 1], got ${typeof v === 'number' ? v : `"${v}"`}` });
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
}).strict();

export type GpmOptionsInput = z.input<typeof gpmOptionsSchema>;

/**
 * Validated GPM options for a network of `layers` linear layers; a bad value or an unknown key is a one-line
 * error naming the option (like Engram's), so the CLI reports it as a usage error.
 */
export function parseGpmOptions(input: Record<string, unknown>, layers: number): GpmOptions {
  const r = gpmOptionsSchema.safeParse(input);
  if (!r.success) throw new GpmOptionError(optionIssueMessage('gpm', r.error));
  const { thresholds, thresholdIncrement, samples, consolidateEvery } = r.data;
  let perLayer: number[] | undefined;
  if (thresholds !== undefined) {
    // One value is every layer's; a list must name each layer, since the layer count depends on --hidden.
    perLayer = thresholds.length === 1 ? Array.from({ length: layers }, () => thresholds[0]!) : thresholds;
    if (perLayer.length !== layers) {
      throw new GpmOptionError(`gpm option thresholds: ${perLayer.length} values for ${layers} linear layers (one per layer, or one for all)`);
    }
  }
  // Only the given keys, so that the learner's defaults apply to the rest (exactOptionalPropertyTypes).
  return {
    ...(perLayer !== undefined ? { thresholds: perLayer } : {}),
    ...(thresholdIncrement !== undefined ? { thresholdIncrement } : {}),
    ...(samples !== undefined ? { samples } : {}),
    ...(consolidateEvery !== undefined ? { consolidateEvery } : {}),
  };
}

export class GpmOptionError extends Error {
  readonly code = 'E_OPTION';
}
