import { z } from 'zod';
import { optionIssueMessage } from '../option-issue.js';

/**
 * Everything the Engram learner can be told (`--set key=value` on the CLI), validated at the boundary. Each
 * mechanism that stays an option has a switch, so that an ablation turns exactly one thing off: `lda=false`,
 * `dreams=false`, `dreamFeatures=0`, `sleepPressure=0`.
 * Values that no ablation showed to matter are constants of the code (see docs/ENGRAM.md).
 */
export const engramOptionsSchema = z.object({
  /** Short-term memory capacity in raw samples (the only raw data Engram ever holds; erased by each sleep). */
  stmCapacity: z.number().int().min(1).max(100_000).default(500),
  /**
   * Admission to the short-term memory: a sample is kept when the slow model's NLL of its label exceeds
   * `admitNll` (the slow weights do not know it yet), and otherwise with probability `admitRate`.
   */
  admitNll: z.number().min(0).default(0.1),
  admitRate: z.number().min(0).max(1).default(0.01),
  /** Passes over the short-term memory per sleep (iterations = ⌈epochs·|STM| / sleep batch⌉, at least 1). */
  sleepEpochs: z.number().positive().default(3.5),
  /**
   * Sleep pressure: at least this many sleep iterations per wake batch since the last sleep, for the share of the
   * memory the frozen dreamer does not know (0 = none). After a long quiet wake the sleep lasts in proportion to
   * the time awake instead of to the memory's size, so the generative pathway gets the rehearsal it needs.
   */
  sleepPressure: z.number().min(0).default(0.25),
  /** Adam's learning rate in sleep. */
  lr: z.number().positive().default(1e-3),
  /**
   * λ_h: weight of matching the dreamer's last hidden layer on dreams (squared distance summed over units; 0 =
   * distil the logits only): ten logits pin down little of a layer of hundreds of units.
   */
  dreamFeatures: z.number().min(0).default(0.03),
  /**
   * The dreamer policy's two thresholds on the share of wake samples θ_S finds surprising: below `quietRate` a
   * sleep is quiet (θ_S has caught up; it may become the next dreamer), from `episodeRate` on a learning episode
   * begins (the last quiet θ_S becomes the dreamer). See `policy.ts`.
   */
  quietRate: z.number().min(0).max(1).default(0.01),
  episodeRate: z.number().min(0).max(1).default(0.05),
  /** Dreams: replay of old knowledge from the slow model's own generative pathway. */
  dreams: z.boolean().default(true),
  /**
   * The statistical memory: a streaming LDA on the inputs (class means and a shared covariance, learnt from
   * every wake sample at once, never overwritten), whose calibrated posterior multiplies the network's in
   * `predict`.
   */
  lda: z.boolean().default(true),
}).strict();

export type EngramOptions = z.infer<typeof engramOptionsSchema>;
export type EngramOptionsInput = z.input<typeof engramOptionsSchema>;

/** Validated options with defaults; a bad value is a one-line error naming the option. */
export function parseEngramOptions(input: Record<string, unknown>): EngramOptions {
  const r = engramOptionsSchema.safeParse(input);
  if (!r.success) throw new EngramOptionError(optionIssueMessage('engram', r.error));
  return r.data;
}

export class EngramOptionError extends Error {
  readonly code = 'E_OPTION';
}
