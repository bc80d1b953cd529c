import assert from 'node:assert/strict';
import { test } from 'node:test';
import { afterSleep, afterWakeBatch, initialPolicy, planSleep, type PolicyState } from './policy.js';

const o = { quietRate: 0.01, episodeRate: 0.05 };
const labels = (n: number, c: number): Int32Array => new Int32Array(n).fill(c);
/** A wake of `batches` batches of 1000 samples of class c, `percent` % of each batch surprising. */
function wake(s: PolicyState, batches: number, c: number, percent: number): PolicyState {
  const mask = new Uint8Array(1000).map((_, i) => (i < 10 * percent ? 1 : 0));
  for (let b = 0; b < batches; b++) s = afterWakeBatch(s, labels(1000, c), mask);
  return s;
}
/** Plan and finish one sleep; returns the plan, the new state and whether θ_S was kept as the quiet one. */
function sleep(s: PolicyState, known: number[]) {
  const plan = planSleep(s, o);
  return { plan, ...afterSleep(s, plan, known, o) };
}

test('policy: a quiet wake keeps θ_S as the quiet one; a surprising wake then promotes it to dreamer', () => {
  let s = initialPolicy(4);
  const first = sleep(wake(s, 5, 0, 50), []);
  assert.equal(first.plan.promote, false, 'nothing quiet to promote yet');
  assert.equal(first.keepAsQuiet, false);
  const quiet = sleep(wake(first.state, 60, 0, 0), [0]);
  assert.equal(quiet.plan.quiet, true);
  assert.equal(quiet.keepAsQuiet, true);
  s = quiet.state;
  assert.equal(s.holdsQuiet, true);
  const episode = sleep(wake(s, 5, 1, 90), [0]);
  assert.equal(episode.plan.promote, true, 'a new episode promotes the held quiet θ_S');
  assert.equal(episode.state.holdsQuiet, false, 'promoted: no longer held');
  assert.equal(episode.keepAsQuiet, false);
});

test('policy: the recent share catches a burst that the share over a long wake dilutes', () => {
  let s = wake(initialPolicy(2), 200, 0, 0);
  s = wake(s, 3, 1, 100);
  const plan = planSleep(s, o);
  assert.ok(plan.share < o.episodeRate, `share over the wake ${plan.share}`);
  assert.ok(plan.surprise >= o.episodeRate, `recent share ${plan.surprise}`);
});

test('policy: with no quiet sleep, the calmest calm one stands in, and a quiet one replaces it', () => {
  let s = initialPolicy(2);
  const calm = sleep(wake(s, 60, 0, 1.5), [0]);
  assert.equal(calm.plan.quiet, false);
  assert.equal(calm.keepAsQuiet, true, 'calm (below 2 × quietRate) and none held');
  s = calm.state;
  const calmer = sleep(wake(s, 60, 0, 1.2), [0]);
  assert.equal(calmer.keepAsQuiet, true, 'calmer than the held one');
  const lessCalm = sleep(wake(calmer.state, 60, 0, 1.8), [0]);
  assert.equal(lessCalm.keepAsQuiet, false, 'less calm than the held one');
  const quiet = sleep(wake(lessCalm.state, 60, 0, 0), [0]);
  assert.equal(quiet.keepAsQuiet, true);
  const calmAgain = sleep(wake(quiet.state, 60, 0, 1.0), [0]);
  assert.equal(calmAgain.keepAsQuiet, false, 'a calm θ_S never replaces a quiet one');
});

test('policy: a class is caught once a wake after its consolidation finds few of its samples surprising', () => {
  let s = wake(initialPolicy(3), 2, 2, 100);
  let r = sleep(s, []);
  assert.deepEqual(r.state.caught, [], 'not consolidated before that wake');
  s = wake(r.state, 2, 2, 100);
  r = sleep(s, [2]);
  assert.deepEqual(r.state.caught, [], 'still surprising');
  s = wake(r.state, 2, 2, 1);
  r = sleep(s, [2]);
  assert.deepEqual(r.state.caught, [2]);
  assert.equal(r.state.seen, 0, 'counters start afresh after a sleep');
  assert.deepEqual(r.state.classSeen, [0, 0, 0]);
});
