/**
 * Engram's dreamer policy: which frozen copy of θ_S dreams, decided from surprise alone (no boundary signal,
 * no context id). A pure function of explicit state: the learner feeds it what each wake batch showed and
 * each sleep did, and it answers with the actions to take; the learner holds the snapshots it names.
 *
 * - A sleep is *quiet* when the share of surprising wake samples (over the whole wake, and over its last few
 *   batches) is below `quietRate`: θ_S has caught up with everything it met. Failing a quiet sleep since the
 *   last refresh, a *calm* one (below `CALM_FACTOR`·`quietRate`) stands in, the calmest first.
 * - A learning *episode* begins when that share reaches `episodeRate`: the last quiet (or calm) θ_S becomes
 *   the dreamer, and stays frozen until the next episode, so small losses of later sleeps do not compound.
 *
 * @example
 * let s = initialPolicy();
 * s = afterWakeBatch(s, surprising);
 * const plan = planSleep(s, o);                  // plan.promote: the held quiet θ_S becomes the dreamer
 * const { state, keepAsQuiet } = afterSleep(s, plan, o);
 */

export interface PolicyOptions {
  quietRate: number;
  episodeRate: number;
}

/** Everything the policy remembers (plain numbers: saved with the learner). */
export interface PolicyState {
  /** Wake samples since the last sleep, and how many θ_S found surprising. */
  seen: number;
  surprising: number;
  /** Surprising share of the last few wake batches (a moving average, rate `RECENT_RATE` per batch). */
  recent: number;
  /** Whether the learner holds a quiet (or calm) θ_S, and the surprise of the wake before it was taken. */
  holdsQuiet: boolean;
  quietSurprise: number;
}

/** What a sleep about to start is, for the policy. */
export interface SleepPlan {
  /** Surprising share over the whole wake, and its larger of that and the recent share. */
  share: number;
  surprise: number;
  /** The held quiet θ_S becomes the dreamer as this sleep starts. */
  promote: boolean;
  quiet: boolean;
}

/** Weight of each wake batch in the recent surprising share (about the last ten batches). */
export const RECENT_RATE = 0.1;
/** A calm sleep: surprise below this multiple of `quietRate`. */
export const CALM_FACTOR = 2;

export function initialPolicy(): PolicyState {
  return { seen: 0, surprising: 0, recent: 0, holdsQuiet: false, quietSurprise: 0 };
}

/** One wake batch: which of its samples θ_S found surprising. */
export function afterWakeBatch(s: PolicyState, surprising: Uint8Array): PolicyState {
  let count = 0;
  for (const v of surprising) count += v;
  return {
    ...s,
    seen: s.seen + surprising.length, surprising: s.surprising + count,
    // Rounded as saved (float32), so that a resumed run continues alike.
    recent: Math.fround(s.recent + RECENT_RATE * (count / surprising.length - s.recent)),
  };
}

export function planSleep(s: PolicyState, o: PolicyOptions): SleepPlan {
  const share = s.seen === 0 ? 0 : s.surprising / s.seen;
  // A burst of new data just before a sleep is diluted in the share over a long wake, not in the recent share.
  const surprise = Math.max(share, s.recent);
  return { share, surprise, promote: surprise >= o.episodeRate && s.holdsQuiet, quiet: surprise < o.quietRate };
}

/**
 * The sleep planned as `plan` is over. Returns the new state and whether θ_S as it is now is to be held as the
 * quiet θ_S (replacing any held one).
 */
export function afterSleep(
  s: PolicyState, plan: SleepPlan, o: PolicyOptions,
): { state: PolicyState; keepAsQuiet: boolean } {
  const holds = s.holdsQuiet && !plan.promote;
  // A quiet θ_S replaces any; a calm one only a calm one less calm, or none.
  const calm = plan.surprise < CALM_FACTOR * o.quietRate && (!holds || (s.quietSurprise >= o.quietRate && plan.surprise <= s.quietSurprise));
  const keepAsQuiet = plan.quiet || calm;
  return {
    keepAsQuiet,
    state: {
      seen: 0, surprising: 0, recent: s.recent,
      holdsQuiet: holds || keepAsQuiet,
      // As saved (float32), so that a resumed run compares alike.
      quietSurprise: keepAsQuiet ? Math.fround(plan.surprise) : s.quietSurprise,
    },
  };
}
