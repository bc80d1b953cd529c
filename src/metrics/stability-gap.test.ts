import test from 'node:test';
import assert from 'node:assert/strict';
import { contextSwitches, phaseAtPoint, stabilityGap, type CurvePointLike } from './stability-gap.js';
import { fuzzyPhase } from '../protocols/schedule.js';

const close = (a: number, b: number): void => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);

/** A curve every `every` iterations over `T` contexts of `iters` iterations, accuracy given by `f`. */
function curveOf(T: number, iters: number, every: number, f: (iteration: number, context: number) => number): CurvePointLike[] {
  const out: CurvePointLike[] = [];
  for (let i = 0; i <= T * iters; i += every) out.push({ iteration: i, accuracy: Array.from({ length: T }, (_, j) => f(i, j)) });
  return out;
}

test('switch positions: boundaries at t·iters, task-free at the nominal start h + (t−1)·iters', () => {
  assert.deepEqual(contextSwitches('boundaries', 2000, 5), [2000, 4000, 6000, 8000]);
  assert.deepEqual(contextSwitches('task-free', 2000, 5), [1000, 3000, 5000, 7000]);
  assert.deepEqual(contextSwitches('task-free', 7, 3), [3, 10]);
  assert.deepEqual(contextSwitches('boundaries', 100, 1), []);
  assert.throws(() => contextSwitches('fuzzy', 100, 3), /unknown stream/);
  // The task-free switches are where the schedule's phase changes.
  for (const s of contextSwitches('task-free', 2000, 5)) {
    assert.equal(fuzzyPhase(5, 2000, s), fuzzyPhase(5, 2000, s - 1) + 1);
  }
});

test('phaseAtPoint counts the switches strictly before the point', () => {
  const sw = [2000, 4000];
  assert.equal(phaseAtPoint(sw, 0), 0);
  assert.equal(phaseAtPoint(sw, 2000), 0); // after 2000 iterations: context 0 just ended, nothing of 1 trained
  assert.equal(phaseAtPoint(sw, 2100), 1);
  assert.equal(phaseAtPoint(sw, 6000), 2);
});

test('a known dip gives exactly that dip; the minimum is the dip’s bottom', () => {
  // Two contexts, 1000 iterations each, a point every 100. Context 0 is at 0.9 by the switch at 1000, dips to
  // 0.6 at 1200 and recovers to 0.85; points after the window (1500) are lower still but must not count.
  const acc0 = new Map([[1100, 0.7], [1200, 0.6], [1300, 0.8], [1400, 0.85], [1500, 0.85], [1600, 0.1]]);
  const curve = curveOf(2, 1000, 100, (i, j) => (j === 0 ? (i <= 1000 ? (i === 0 ? 0 : 0.9) : acc0.get(i) ?? 0.1) : (i > 1000 ? 0.95 : 0)));
  const g = stabilityGap(curve, { stream: 'boundaries', itersPerContext: 1000 });
  assert.equal(g.pairs, 1);
  assert.equal(g.window, 500);
  close(g.meanGap, 0.3);
  close(g.meanMinAccuracy, 0.6);
  assert.equal(g.switches.length, 1);
  const s = g.switches[0]!;
  assert.equal(s.context, 1);
  assert.equal(s.iteration, 1000);
  assert.deepEqual(s.pairs.map((p) => p.context), [0]);
  close(s.pairs[0]!.before, 0.9);
  close(s.pairs[0]!.min, 0.6);
});

test('no dip gives a gap of 0; a rise gives a negative gap', () => {
  const flat = curveOf(4, 200, 20, () => 0.8);
  const g = stabilityGap(flat, { stream: 'boundaries', itersPerContext: 200 });
  assert.equal(g.pairs, 1 + 2 + 3);
  close(g.meanGap, 0);
  close(g.meanMinAccuracy, 0.8);
  const rising = curveOf(2, 200, 20, (i) => i / 400);
  const r = stabilityGap(rising, { stream: 'boundaries', itersPerContext: 200 });
  close(r.meanGap, 0.5 - 220 / 400); // before = 0.5 at 200, min over (200, 300] = 0.55 at 220
});

test('means are over all (t, j) pairs, not over switches', () => {
  // Three contexts of 100: at switch 1 context 0 drops by 0.2; at switch 2 context 0 by 0.4 and context 1 by 0.1.
  const drop = (i: number, j: number): number => {
    if (j === 0 && i > 100 && i <= 150) return 0.7;
    if (j === 0 && i > 200 && i <= 250) return 0.5;
    if (j === 1 && i > 200 && i <= 250) return 0.8;
    return 0.9;
  };
  const g = stabilityGap(curveOf(3, 100, 10, drop), { stream: 'boundaries', itersPerContext: 100 });
  assert.equal(g.pairs, 3);
  close(g.switches[0]!.meanGap, 0.2);
  close(g.switches[1]!.meanGap, (0.4 + 0.1) / 2);
  close(g.meanGap, (0.2 + 0.4 + 0.1) / 3);
  close(g.meanMinAccuracy, (0.7 + 0.5 + 0.8) / 3);
});

test('task-free: the dip is measured from the nominal start, not from t·iters', () => {
  // iters 1000: switches at 500 and 1500. Context 0 dips to 0.4 at 600 (inside (500, 1000]); a dip at 1100
  // (inside the boundaries window (1000, 1500] but outside the task-free windows) must not count.
  const f = (i: number, j: number): number => {
    if (j === 0 && i === 600) return 0.4;
    if (j === 0 && i === 1100) return 0.1;
    return 0.9;
  };
  const curve = curveOf(3, 1000, 100, f);
  const g = stabilityGap(curve, { stream: 'task-free', itersPerContext: 1000 });
  assert.deepEqual(g.switches.map((s) => s.iteration), [500, 1500]);
  close(g.switches[0]!.meanGap, 0.5);
  close(g.switches[1]!.meanGap, 0);
  close(g.meanGap, 0.5 / 3);
  // The same curve read as a boundaries stream sees the other dip.
  const b = stabilityGap(curve, { stream: 'boundaries', itersPerContext: 1000 });
  close(b.switches[0]!.meanGap, 0.8);
});

test('switches without curve points in their window are not measured; one context gives NaN', () => {
  // Points every 1000 with iters 1000 and window 500: nothing in (1000, 1500].
  const sparse = curveOf(3, 1000, 1000, () => 0.5);
  const g = stabilityGap(sparse, { stream: 'boundaries', itersPerContext: 1000 });
  assert.equal(g.pairs, 0);
  assert.ok(Number.isNaN(g.meanGap));
  assert.deepEqual(g.switches.map((s) => s.pairs.length), [0, 0]);
  // A wider window finds them.
  assert.equal(stabilityGap(sparse, { stream: 'boundaries', itersPerContext: 1000, window: 1000 }).pairs, 3);
  const one = stabilityGap(curveOf(1, 100, 10, () => 1), { stream: 'boundaries', itersPerContext: 100 });
  assert.equal(one.switches.length, 0);
  assert.ok(Number.isNaN(one.meanGap) && Number.isNaN(one.meanMinAccuracy));
});

test('bad curves are rejected', () => {
  assert.throws(() => stabilityGap([], { stream: 'boundaries', itersPerContext: 10 }), /empty/);
  assert.throws(() => stabilityGap([{ iteration: 0, accuracy: [1] }, { iteration: 0, accuracy: [1] }], { stream: 'boundaries', itersPerContext: 10 }), /increasing/);
  assert.throws(() => stabilityGap([{ iteration: 0, accuracy: [1, 1] }, { iteration: 5, accuracy: [1] }], { stream: 'boundaries', itersPerContext: 10 }), /expected 2/);
});
