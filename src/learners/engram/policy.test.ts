import assert from 'node:assert/strict';
import { test } from 'node:test';
import { afterSleep, afterWakeBatch, initialPolicy, planSleep, type PolicyState } from './policy.js';

const o = { quietRate: 0.01, episodeRate: 0.05 };
/** A wake of `batches` batches of 1000 samples, `percent` % of each batch surprising. */
function wake(s: PolicyState, batches: number, percent: number): PolicyState {
  const mask = new Uint8Array(1000).map((_, i) => (i < 10 * percent ? 1 : 0));
  for (let b = 0; b < batches; b++) s = afterWakeBatch(s, mask);
  return s;
}
/** Plan and finish one sleep; returns the plan, the new state and whether θ_S was kept as the quiet one. */
function sleep(s: PolicyState) {
  const plan = planSleep(s, o);
  return { plan, ...afterSleep(s, plan, o) };
}

test('policy: a quiet wake keeps θ_S as the quiet one; a surprising wake then promotes it to dreamer', () => {
  let s = initialPolicy();
  const first = sleep(wake(s, 5, 50));
  assert.equal(first.plan.promote, false, 'nothing quiet to promote yet');
  assert.equal(first.keepAsQuiet, false);
  const quiet = sleep(wake(first.state, 60, 0));
  assert.equal(quiet.plan.quiet, true);
  assert.equal(quiet.keepAsQuiet, true);
  s = quiet.state;
  assert.equal(s.holdsQuiet, true);
  const episode = sleep(wake(s, 5, 90));
  assert.equal(episode.plan.promote, true, 'a new episode promotes the held quiet θ_S');
  assert.equal(episode.state.holdsQuiet, false, 'promoted: no longer held');
  assert.equal(episode.keepAsQuiet, false);
});

test('policy: the recent share catches a burst that the share over a long wake dilutes', () => {
  let s = wake(initialPolicy(), 200, 0);
  s = wake(s, 3, 100);
  const plan = planSleep(s, o);
  assert.ok(plan.share < o.episodeRate, `share over the wake ${plan.share}`);
  assert.ok(plan.surprise >= o.episodeRate, `recent share ${plan.surprise}`);
});

test('policy: with no quiet sleep, the calmest calm one stands in, and a quiet one replaces it', () => {
  let s = initialPolicy();
  const calm = sleep(wake(s, 60, 1.5));
  assert.equal(calm.plan.quiet, false);
  assert.equal(calm.keepAsQuiet, true, 'calm (below 2 × quietRate) and none held');
  s = calm.state;
  const calmer = sleep(wake(s, 60, 1.2));
  assert.equal(calmer.keepAsQuiet, true, 'calmer than the held one');
  const lessCalm = sleep(wake(calmer.state, 60, 1.8));
  assert.equal(lessCalm.keepAsQuiet, false, 'less calm than the held one');
  const quiet = sleep(wake(lessCalm.state, 60, 0));
  assert.equal(quiet.keepAsQuiet, true);
  const calmAgain = sleep(wake(quiet.state, 60, 1.0));
  assert.equal(calmAgain.keepAsQuiet, false, 'a calm θ_S never replaces a quiet one');
});

