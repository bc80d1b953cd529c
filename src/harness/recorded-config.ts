import type { z } from 'zod';
import { runConfigSchema, type RunConfig } from './config.js';
import { defaultFuzziness } from './resolve-config.js';

/**
 * Configuration keys added after the first result files, with the value the code before them used: no bias
 * option (always biases), no padding option (no padding), no evaluation split (the test set), no method options
 * (the defaults), no fuzziness key (the default ramp width of task-free streams; none for boundaries). Keys
 * whose schema has a default (the engine and its settings: backprop) take it from the schema.
 */
const addedKeys: Readonly<Record<string, (raw: Readonly<Record<string, unknown>>) => unknown>> = {
  bias: () => true,
  padding: () => 0,
  evalSplit: () => 'test',
  methodOptions: () => ({}),
  fuzziness: (raw) => (raw['stream'] === 'task-free' && typeof raw['iters'] === 'number' ? defaultFuzziness(raw['iters']) : null),
};

/**
 * A result file's recorded configuration as a configuration of this version: keys it predates get the value
 * its code used, so an old result and a new run of the same thing compare equal.
 */
export function recordedConfig(raw: Readonly<Record<string, unknown>>): { config: RunConfig } | { issue: z.core.$ZodIssue } {
  const full: Record<string, unknown> = { ...raw };
  for (const [key, before] of Object.entries(addedKeys)) if (!(key in full)) full[key] = before(full);
  const parsed = runConfigSchema.safeParse(full);
  return parsed.success ? { config: parsed.data } : { issue: parsed.error.issues[0]! };
}
