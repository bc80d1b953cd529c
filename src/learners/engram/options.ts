import { z } from 'zod';
import { optionIssueMessage } from '../option-issue.js';

/**
 * Everything the Engram learner can be told, validated at the boundary (`--set key=value` on the CLI). Each
 * mechanism has a switch so that an ablation turns exactly one thing off:
 * `viscosity=0`, `metaplastic=0`, `projection=false`, `dreams=false`, `dreamFeatures=0`, `dreamPixels=mean`, `recentDreams=false`, `sleepPressure=0` (or `pressureOn=all`), `calmRate=0`, `serve=slow` (or `fast`).
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
  /**
   * Novelty by familiarity: a sample of class c is also admitted with probability F/n_c, n_c the samples of c
   * consolidated so far (0 = off). Classifying a class well comes long before being able to dream it, so a
   * class stays novel for the generative pathway until its first F samples have been slept on.
   */
  familiarity: z.number().min(0).default(0),
  /**
   * …or when its reconstruction NLL per pixel under the slow generative pathway exceeds this (it cannot be
   * dreamt yet); 0 = off (the check costs a decoder pass per wake batch).
   */
  admitRecon: z.number().min(0).default(0),
  /** Sleep when the memory is full, or after this many wake batches with anything in it (a schedule). */
  sleepEvery: z.number().int().min(1).default(1000),
  /** Passes over the short-term memory per sleep (iterations = ⌈epochs·|STM| / batch⌉, at least 1). */
  sleepEpochs: z.number().positive().default(18),
  /**
   * Passes for a quiet sleep (the wake's surprising share and its recent share both below `quietRate`; 0 =
   * `sleepEpochs`): its memory holds samples the slow weights already know, so it maintains rather than learns.
   */
  quietEpochs: z.number().min(0).default(0),
  /**
   * At most this many sleep iterations per wake batch since the last sleep (0 = no cap): when new data fill the
   * memory within a few batches, a sleep of many passes over so few samples over-learns them at the expense of
   * the old classes; capped, consolidation keeps pace with the stream instead.
   */
  sleepPace: z.number().min(0).default(0),
  /**
   * Sleep pressure: at least this many sleep iterations per wake batch since the last sleep (0 = none; the pace
   * cap still bounds it). After a long quiet wake, when the memory filled slowly with the few samples admitted by
   * chance, the sleep lasts in proportion to the time awake instead of to the memory's size: the old classes'
   * dreams and the generative pathway get the rehearsal that a few passes over so few new samples would not
   * give them.
   */
  sleepPressure: z.number().min(0).default(0.5),
  /**
   * Which wake the pressure answers for: every batch (`all`), or only the share of the memory the frozen
   * dreamer does not know (`unknown`: rows of a class it never learnt, or whose label it gives an NLL above
   * `admitNll`; every row while no dreamer is frozen). A stream that comes back to old data fills the memory
   * with rows the dreams already rehearse; a long sleep on them only replays a dreamer that lacks the newest
   * context, which it then overwrites.
   */
  pressureOn: z.enum(['all', 'unknown']).default('unknown'),
  /** Rows per sleep iteration drawn from the short-term memory, and dreams per iteration. */
  sleepBatch: z.number().int().positive().default(128),
  dreamBatch: z.number().int().positive().default(128),
  /** Adam's learning rate in sleep. */
  lr: z.number().positive().default(1e-3),
  /** Distillation temperature for dreams and for the fast path's targets. */
  temperature: z.number().positive().default(2),
  /** Weight of distilling the wake prediction (slow + fast path) into the slow weights on the memory's samples. */
  fastDistill: z.number().min(0).default(1),
  /**
   * Dream targets: `dreamer` (its softmax over the classes it knew; classes newer than it get 0, as BI-R pads
   * its targets) or `head` (over every class the sleeping model knows, the dreamer's untrained units included).
   */
  dreamTargets: z.enum(['head', 'dreamer']).default('dreamer'),
  /**
   * Dreams draw z from their class's prior mode with its standard deviations times this: above 1 the dreams
   * reach further from the class's typical digit, towards the boundaries that new classes erode.
   */
  dreamSpread: z.number().positive().default(1.25),
  /**
   * λ_h: weight of matching the dreamer's last hidden layer on dreams (squared distance summed over units; 0 =
   * distil the logits only). Ten logits pin down little of a layer of hundreds of units: learning new classes
   * from real samples moves the old classes' features, so real old digits drift towards the new classes while
   * the dreams still get the right answer.
   */
  dreamFeatures: z.number().min(0).default(0.03),
  /**
   * What a dream's pixels are: a draw from each pixel's Bernoulli under the decoder (`sample`: binary images,
   * the generative model's own samples) or the Bernoulli means (`mean`: grey, smoothed images). Real digits are
   * nearly binary, so with mean dreams every old class the sleeping model sees is smooth and every new one crisp,
   * and it learns that cue: crisp real digits of the old classes drift to the new classes.
   */
  dreamPixels: z.enum(['sample', 'mean']).default('sample'),
  /**
   * Classes newer than the dreamer that θ_S has caught up with (in some wake, fewer than `episodeRate` of their
   * samples surprising), and that the memory lacks, are dreamt by θ_S itself (as the sleep starts). The dreamer
   * gives such classes no mass, so once their data stop coming (a task-free stream moving back to old classes)
   * nothing else holds them.
   */
  recentDreams: z.boolean().default(true),
  /** Latent size of the generative pathway. */
  zDim: z.number().int().positive().default(100),
  /** Share of decoder units each class gate switches off (BI-R's dg_prop; 0 = no gates). */
  gateProportion: z.number().min(0).max(0.99).optional(),
  /**
   * When the dreamer (the frozen copy of θ_S that generates and labels dreams) is refreshed. A teacher refreshed
   * at every short sleep lets small losses compound, so it is kept frozen between refreshes:
   * - `episode`: when a learning episode begins (the share of surprising samples over the wake, or over its
   *   last few batches, reaches `episodeRate`), θ_S as it was after the last quiet sleep (both shares below
   *   `quietRate`; failing that, the calmest, see `calmRate`) becomes the dreamer: a model that had caught up
   *   with everything before the episode;
   * - `schedule`: every `dreamerEvery` sleeps (1 = dream from θ_S as each sleep starts).
   */
  dreamerRefresh: z.enum(['episode', 'schedule']).default('episode'),
  quietRate: z.number().min(0).max(1).default(0.01),
  /**
   * While no sleep has been quiet since the dreamer was last refreshed, the calmest θ_S since then whose
   * surprise stayed below this stands in for the quiet one (0 = off): on a stream where the share hovers just
   * above `quietRate` for a whole context, the next episode would otherwise keep a dreamer that never knew that
   * context's classes, and they would be held by nothing.
   */
  calmRate: z.number().min(0).max(1).default(0.02),
  episodeRate: z.number().min(0).max(1).default(0.05),
  dreamerEvery: z.number().int().positive().default(40),
  /** Dreams: replay of old knowledge from the slow model's own generative pathway. */
  dreams: z.boolean().default(true),
  /** Viscosity c in lr/(1 + c·Ω) (0 = off). */
  viscosity: z.number().min(0).default(0.1),
  /** Metaplastic attenuation m in 1 − tanh²(m·Ω·|θ − θ*|) (0 = off). */
  metaplastic: z.number().min(0).default(0),
  /** SI's damping ξ for the online importance. */
  xi: z.number().positive().default(0.1),
  /** Orthogonal projection of encoder updates off a basis computed from activations on dreams. */
  projection: z.boolean().default(false),
  /** GPM energy threshold for the dream bases. */
  projectionThreshold: z.number().gt(0).max(1).default(0.9),
  /** Dreams per known class for each basis update, and sleeps between basis updates. */
  projectionDreams: z.number().int().positive().default(50),
  projectEvery: z.number().int().positive().default(10),
  /** Fast path: an additive head on the slow features, learned from every wake batch, reset by sleep. */
  fastLr: z.number().min(0).default(0.05),
  /**
   * Which weights answer `predict`: the fast path only on the outputs θ_S has not consolidated yet (`new`, the
   * default: a just-seen class is predicted at once, but the fast head, trained on the newest batches only, does
   * not move the classes θ_S already holds), slow + fast path on every output (`fast`), or slow only (`slow`).
   */
  serve: z.enum(['fast', 'slow', 'new']).default('new'),
  /** Consolidate in a worker thread (the learner keeps answering meanwhile) instead of on the caller's thread. */
  asyncSleep: z.boolean().default(false),
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
