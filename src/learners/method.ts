import type { Engine } from '../predictive-coding/index.js';
import type { Learner, LearnerSetup } from './learner.js';
import type { MethodOptions, OptionContext } from './method-options.js';

/**
 * A method that can be run by name. It lives apart from the registry so that a method's folder can declare its
 * entry without importing the registry that imports it.
 *
 * @example
 * const naive: MethodEntry = {
 *   name: 'naive',
 *   description: 'plain fine-tuning',
 *   create: (setup) => new ClassifierLearner('naive', { storesRawSamples: false, cumulativeStream: false }, setup),
 * };
 */
export interface MethodEntry {
  readonly name: string;
  readonly description: string;
  /** The learner; `setup.methodOptions` are the `--set` options (resolved or not). */
  readonly create: (setup: LearnerSetup) => Learner;
}

/** The run-wide options that shape a learner (`--hidden`, `--lr`, …), by configuration key. */
export type ModelOptionKey = 'hidden' | 'activation' | 'bias' | 'optimizer' | 'lr' | 'momentum';

/**
 * A method with what the harness and the CLI need to know about it, declared so that shared code never branches
 * on a method's name: what `registerMethod` takes.
 *
 * @example
 * const naive: RegisteredMethod = {
 *   name: 'naive',
 *   description: 'plain fine-tuning',
 *   unusedRunOptions: {},
 *   resolveOptions: (given) => parseMethodOptions('naive', z.object({}).strict(), given),
 *   create: (setup) => new ClassifierLearner('naive', { storesRawSamples: false, cumulativeStream: false }, setup),
 * };
 */
export interface RegisteredMethod extends MethodEntry {
  /**
   * The run-wide model options this method does not use, each with what to do instead, as one clause
   * ("set its sleep learning rate with --set lr=…"): given on the command line, they are refused. Every other
   * run option is honoured.
   */
  readonly unusedRunOptions: Readonly<Partial<Record<ModelOptionKey, string>>>;
  /** The engines the method can learn with (absent: backprop only); `--engine pc` is refused for the others. */
  readonly engines?: readonly Engine[];
  /**
   * The method's own options (`--set key=value`) validated, with every default decided for `ctx`: what the
   * learner runs with and a result records. An unknown key or a bad value throws a one-line `MethodOptionError`.
   */
  readonly resolveOptions: (given: Readonly<Record<string, unknown>>, ctx: OptionContext) => MethodOptions;
}
