import { z } from 'zod';
import { issueText } from '../core/issue-text.js';
import type { ProtocolName, Scenario, StreamKind } from '../protocols/types.js';

/** One resolved method option as a result file records it (`config.methodOptions`). */
export type MethodOptionValue = number | boolean | string | number[];

/** Every option of a method, defaults included, by name. */
export type MethodOptions = Record<string, MethodOptionValue>;

/** What a learner reports as its options (`Learner.resolvedOptions`); undefined values are left out of results. */
export type ReportedOptions = Readonly<Record<string, MethodOptionValue | readonly number[] | undefined>>;

/** What a method's option defaults may depend on: known before any data is read. */
export interface OptionContext {
  readonly protocol: ProtocolName;
  readonly scenario: Scenario;
  readonly stream: StreamKind;
  /** The run's hidden layer sizes (`--hidden`). */
  readonly hidden: readonly number[];
}

/** A `--set` option a method refuses (unknown key, bad value); the CLI reports it on one line, exit 2. */
export class MethodOptionError extends Error {
  readonly code = 'E_OPTION';
}

/**
 * `input` checked against a method's strict option schema, defaults applied. An unknown key (a typo) is refused
 * naming the method's options; a bad value names the option and the rule it breaks.
 *
 * @example
 * parseMethodOptions('lwf', z.object({ temperature: z.number().positive().default(2) }).strict(), { temprature: 3 });
 * // throws MethodOptionError: lwf has no option "temprature"; its options: temperature
 */
export function parseMethodOptions<S extends z.ZodObject>(method: string, schema: S, input: Readonly<Record<string, unknown>>): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const names = Object.keys(schema.shape);
    const keys = issue.keys.map((k) => `"${k}"`).join(', ');
    throw new MethodOptionError(names.length === 0
      ? `${method} has no options (--set ${issue.keys[0]}=… is not used by it)`
      : `${method} has no option ${keys}; its options: ${names.join(', ')}`);
  }
  const key = issue.path.length > 0 ? String(issue.path[0]) : '';
  throw new MethodOptionError(`${method} option ${key}: ${issueText(issue)}`);
}

// Messages follow the option's name: "ewc option lambda: must be ≥ 0".

/** A positive whole number of iterations, samples or units. */
export const positiveInt = () =>
  z.number({ error: 'must be a number' }).int('must be a whole number').positive('must be positive');

/** A number ≥ 0 (a penalty strength, a damping). */
export const nonNegative = () => z.number({ error: 'must be a number' }).finite('must be finite').min(0, 'must be ≥ 0');

/** A number > 0 (a temperature, a learning rate). */
export const positive = () => z.number({ error: 'must be a number' }).finite('must be finite').positive('must be positive');

/**
 * A list of positive whole numbers, as `--set` hands it over ("85,85" or one number) or as a result file
 * records it (an array).
 */
export const positiveIntList = () =>
  z.union([z.number(), z.string(), z.array(z.number())]).transform((v, ctx): number[] => {
    const parts = typeof v === 'number' ? [v] : typeof v === 'string' ? v.split(',').map((s) => (s.trim() === '' ? NaN : Number(s))) : v;
    if (parts.length === 0 || parts.some((n) => !(Number.isInteger(n) && n > 0))) {
      ctx.addIssue({ code: 'custom', message: 'must be comma-separated positive whole numbers, e.g. 85,85' });
      return z.NEVER;
    }
    return parts;
  });

/** Options as a plain record for a result file (every value defined). */
export function optionRecord(options: ReportedOptions): MethodOptions {
  const out: MethodOptions = {};
  for (const [k, v] of Object.entries(options)) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? [...v] : (v as number | boolean | string);
  }
  return out;
}

/**
 * Refuse `key` outside task-free streams, where it would not be used (a boundaries stream consolidates or takes
 * its teacher at each boundary).
 */
export function refuseOutsideTaskFree(method: string, given: Readonly<Record<string, unknown>>, ctx: OptionContext, key: string): void {
  if (ctx.stream !== 'task-free' && given[key] !== undefined) {
    throw new MethodOptionError(`${method} option ${key}: applies to task-free streams only (with --stream boundaries it happens at each boundary)`);
  }
}
