import test from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Tensor } from '../../core/index.js';
import { getBackend } from '../../kernels/index.js';
import type { Batch } from '../../protocols/types.js';
import type { LearnerSetup } from '../learner.js';
import { EngramLearner } from './engram.js';
import { parseEngramOptions } from './options.js';
import { drawDreams, effectiveClasses, Heads, sleepBatch, sleepIterations, type SleepSettings } from './sleep.js';
import { Vae } from '../../generative/index.js';
import { ShortTermMemory } from './short-term-memory.js';
import { SurpriseMonitor } from './surprise.js';

getBackend().setThreads(1);

/** Synthetic class-IL stream: 2 contexts × 2 classes of 12-pixel images, each class a distinct bright block. */
const setup = (over: Partial<LearnerSetup> = {}): LearnerSetup => ({
  inputSize: 12, numOutputs: 4, activeOutputs: () => null, hidden: [16], activation: 'relu',
  optimizer: 'adam', lr: 1e-2, momentum: 0, seed: 3, protocol: 'split-mnist', scenario: 'class', stream: 'task-free',
  itersPerContext: 30, numContexts: 2, batchSize: 8, ...over,
});

function batch(ctx: number, rng: Rng): Batch {
  const x = new Float32Array(8 * 12).map(() => 0.1 * rng.uniform());
  const y = new Int32Array(8).map((_, i) => 2 * ctx + (i % 2));
  for (let i = 0; i < 8; i++) for (let j = 0; j < 3; j++) x[i * 12 + 3 * y[i]! + j] = 0.9;
  return { x, y, size: 8, contexts: null };
}

// No sleep pressure: a sleep's length is its memory's passes, which the tests of other mechanisms count.
const small = { stmCapacity: 40, sleepEpochs: 4, lr: 1e-2, sleepPressure: 0, lda: false };

function accuracy(l: EngramLearner, ctx: number, rng: Rng): number {
  const b = batch(ctx, rng);
  const p = l.predict(b.x, b.size, null);
  return p.reduce((n, v, i) => n + (v === b.y[i] ? 1 : 0), 0) / b.size;
}

test('engram options: defaults, and a bad value is an error naming the option', () => {
  const o = parseEngramOptions({});
  assert.equal(o.stmCapacity, 500);
  assert.ok(Object.keys(o).length <= 15, `at most 15 public options: ${Object.keys(o).length}`);
  assert.throws(() => parseEngramOptions({ sleepPressure: -1 }), /engram option sleepPressure/);
  assert.throws(() => parseEngramOptions({ nonsense: 1 }), /nonsense/);
  assert.throws(() => parseEngramOptions({ viscosity: 0.1 }), /viscosity/, 'a removed option is refused, not ignored');
});

test('short-term memory: bounded, copies rows, and is zeroed when cleared', () => {
  const m = new ShortTermMemory(2, 3);
  const x = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.ok(m.add(x, 2, 5));
  assert.ok(m.add(x, 0, 1));
  assert.ok(!m.add(x, 1, 2));
  assert.ok(m.full);
  assert.deepEqual([...m.contents().x], [7, 8, 9, 1, 2, 3]);
  assert.deepEqual([...m.labels()], [5, 1]);
  const saved = m.getState();
  m.clear();
  assert.equal(m.size, 0);
  assert.deepEqual([...m.contents().x], []);
  m.setState(saved);
  assert.deepEqual([...m.contents().y], [5, 1]);
});

test('surprise: an outlier NLL scores a high z against the running statistics, and windows form a series', () => {
  const s = new SurpriseMonitor(0.05, 3);
  for (let i = 0; i < 20; i++) s.observe(new Float32Array([0.1, 0.12, 0.09, 0.11]));
  const z = s.observe(new Float32Array([0.1, 5]));
  assert.ok(z[1]! > 10 * Math.abs(z[0]!) && z[1]! > 3, `z ${[...z]}`);
  assert.equal(s.series.length, 7);
  assert.ok(s.series.at(-1)!.nll > s.series[0]!.nll);
});

test('sleep weighting: effective classes of a memory, and iterations per sleep', () => {
  assert.ok(Math.abs(effectiveClasses(new Int32Array([2, 3, 2, 3])) - 2) < 1e-9);
  // A trickle of old classes barely raises it (the bug it prevents: one stray sample counting as a class).
  const mostlyNew = new Int32Array(100).map((_, i) => (i < 98 ? 4 + (i % 2) : i - 98));
  assert.ok(effectiveClasses(mostlyNew) < 2.3);
  assert.equal(sleepIterations(500, { epochs: 8, batch: 128 }), 32);
  assert.equal(sleepIterations(3, { epochs: 8, batch: 128 }), 1);
  assert.equal(sleepIterations(500, { epochs: 8, batch: 128, minIterations: 50 }), 50, 'sleep pressure');
  assert.equal(sleepIterations(500, { epochs: 8, batch: 128, minIterations: 20 }), 32, 'below the passes: no change');
});

/** Iterations a recorded sleep's memory alone gives it (its passes), with the `small` settings. */
const passesOf = (s: EngramLearner['sleeps'][number]): number => sleepIterations(s.samples, { epochs: small.sleepEpochs, batch: sleepBatch(setup().batchSize) });

test('sleep pressure on the unknown: a memory the dreamer knows sleeps its passes, a new class the full pressure', () => {
  // Context 0, context 1, then context 0 again: the memory of the last stretch holds only rows any dreamer knows.
  const rng = new Rng(11);
  const unknown = new EngramLearner(setup(), { ...small, sleepPressure: 2, admitRate: 0.2 });
  for (const c of [0, 1, 0]) for (let k = 0; k < 80; k++) unknown.observe(batch(c, rng));
  let previous = 0;
  let scaled = 0;
  let full = 0;
  for (const s of unknown.sleeps) {
    const most = Math.max(passesOf(s), Math.ceil(2 * (s.batch - previous)));
    assert.ok(s.iterations >= passesOf(s) && s.iterations <= most, `sleep after batch ${s.batch}: ${s.iterations}`);
    if (s.batch > 160 && most > passesOf(s) && s.iterations < most) scaled++;
    if (s.batch <= 160 && s.batch > 80 && s.iterations === most && most > passesOf(s)) full++;
    previous = s.batch;
  }
  assert.ok(scaled > 0, 'back on context 0, the pressure is scaled down');
  assert.ok(full > 0, 'on context 1, whose classes the dreamer never learnt, it is not');
});

test('wake: slow weights stay put, the statistical memory predicts a new class at once, memory stays bounded', () => {
  const rng = new Rng(7);
  const l = new EngramLearner(setup(), { ...small, stmCapacity: 1000, lda: true });
  const before = l.model.parameters().map((p) => p.data.slice());
  const losses: number[] = [];
  for (let k = 0; k < 15; k++) losses.push(l.observe(batch(0, rng)));
  l.model.parameters().forEach((p, i) => assert.deepEqual(p.data, before[i]));
  assert.equal(l.sleeps.length, 0);
  assert.ok(losses.every((v) => Number.isFinite(v) && v > 0), 'observe returns the prequential NLL under θ_S');
  assert.ok(accuracy(l, 0, rng) >= 0.9, 'the statistical memory learned context 0 without touching θ_S');
  assert.ok(l.storedRawSamples() <= 1000);
});

test('sleep: consolidates into the slow weights, erases the memory, keeps old classes through dreams', () => {
  const rng = new Rng(8);
  const l = new EngramLearner(setup(), { ...small });
  let maxStored = 0;
  for (let k = 0; k < 60; k++) {
    l.observe(batch(0, rng));
    maxStored = Math.max(maxStored, l.storedRawSamples());
  }
  assert.ok(l.sleeps.length > 0, 'a full memory triggers sleep');
  assert.ok(maxStored <= 40);
  for (let k = 0; k < 60; k++) l.observe(batch(1, rng));
  l.finish();
  assert.equal(l.storedRawSamples(), 0, 'no raw sample outlives the last sleep');
  const a0 = accuracy(l, 0, rng), a1 = accuracy(l, 1, rng);
  assert.ok(a1 >= 0.9, `new classes learned by the slow weights: ${a1}`);
  assert.ok(a0 >= 0.5, `old classes kept by dreams: ${a0}`);
  const s = l.series();
  assert.equal(s['sleeps']!.length, l.sleeps.length);
});

test('dreamer: when an episode begins, the last quiet θ_S before it becomes the dreamer', () => {
  const rng = new Rng(11);
  const l = new EngramLearner(setup(), { ...small, stmCapacity: 16, admitRate: 0.2, quietRate: 0.05, episodeRate: 0.3 });
  for (let c = 0; c < 2; c++) for (let k = 0; k < 80; k++) l.observe(batch(c, rng));
  const shares = l.sleeps.map((s) => s.surprisingShare.toFixed(2)).join(' ');
  const refreshed = l.sleeps.flatMap((s, i) => (s.dreamerRefreshed ? [i] : []));
  // Context 1 is an episode after quiet wakes; the very first episode has no quiet θ_S before it.
  assert.equal(refreshed.length, 1, `one refresh, at the switch: ${shares}`);
  const i = refreshed[0]!;
  assert.ok(l.sleeps[i]!.batch > 80, 'after the switch');
  assert.ok(l.sleeps[i]!.surprisingShare >= 0.3, `as the episode begins: ${shares}`);
  assert.ok(l.sleeps.slice(0, i).some((s) => s.surprisingShare < 0.05), 'after a quiet wake');
  const series = l.series()['sleeps']!;
  assert.deepEqual(series.map((r) => r[5]), l.sleeps.map((s) => (s.dreamerRefreshed ? 1 : 0)));
});

test('state: a saved and restored learner predicts and continues identically (dreamer, quiet θ_S, LDA, memory mid-wake)', () => {
  const rng = new Rng(9);
  // The policy's thresholds are set so that this short stream has quiet sleeps (a candidate dreamer), an
  // episode (a dreamer) and surprise counters mid-wake.
  const opts = { ...small, lda: true, stmCapacity: 16, admitRate: 0.2, quietRate: 0.3, episodeRate: 0.5 };
  const a = new EngramLearner(setup(), opts);
  for (const c of [0, 1]) for (let k = 0; k < 40; k++) a.observe(batch(c, rng));
  assert.ok(a.sleeps.some((s) => s.dreamerRefreshed), 'the saved state holds a dreamer snapshot');
  assert.ok(a.storedRawSamples() > 0, 'and a memory mid-wake');
  const b = new EngramLearner(setup(), opts);
  b.setState(structuredClone(a.getState()));
  const more = [batch(1, new Rng(5)), batch(1, new Rng(6)), batch(0, new Rng(4))];
  for (const m of more) {
    a.observe(m);
    b.observe(m);
  }
  a.finish();
  b.finish();
  const probe = batch(1, new Rng(10));
  assert.deepEqual(a.predict(probe.x, 8, null), b.predict(probe.x, 8, null));
  a.model.parameters().forEach((p, i) => assert.deepEqual(p.data, b.model.parameters()[i]!.data));
  const [ea, eb] = [a.getState().extra, b.getState().extra] as Record<string, unknown>[];
  for (const k of ['policy', 'lda', 'dreamer', 'quietModel', 'memory', 'counters']) assert.deepEqual(ea![k], eb![k], k);
  // A state of another layout, or one saved without the LDA, is refused with a message.
  const bad = { ...a.getState(), extra: { ...(a.getState().extra as Record<string, Float32Array>), version: 1 } };
  assert.throws(() => b.setState(bad), /not an Engram state of version 6/);
  assert.throws(() => new EngramLearner(setup(), { ...opts, lda: false }).setState(a.getState()), /lda=true/);
});

test('asynchronous sleep: predictions continue from the old weights during sleep, nothing observed meanwhile is lost', async () => {
  const rng = new Rng(11);
  const l = new EngramLearner(setup(), small, { asyncSleep: true });
  let k = 0;
  while (l.sleeping === null && k < 200) {
    l.observe(batch(0, rng));
    k++;
  }
  assert.ok(l.sleeping !== null, 'a sleep started in the worker');
  const slowBefore = l.model.parameters().map((p) => p.data.slice());
  const probe = batch(0, new Rng(12));
  const during = l.predict(probe.x, 8, null);
  assert.equal(during.length, 8);
  // Arrivals during sleep are held, counted as stored raw samples, and not learned yet.
  l.observe(batch(1, rng));
  l.observe(batch(1, rng));
  assert.equal(l.storedRawSamples() >= 16, true);
  l.model.parameters().forEach((p, i) => assert.deepEqual(p.data, slowBefore[i]));
  await l.sleeping;
  assert.equal(l.sleeps.length, 1);
  assert.ok(l.model.parameters().some((p, i) => p.data.some((v, j) => v !== slowBefore[i]![j])), 'new θ_S swapped in');
  // The held batches went through wake after the swap: their samples of classes 2 and 3 are in the memory now.
  assert.ok([...l.memory.labels()].some((c) => c >= 2));
  await l.close();
});

test('dream targets: classes the dreamer never learnt get no mass; in task-IL targets stay within the row\'s head; pixels are binary', () => {
  const rng = new Rng(4);
  const vae = new Vae({ inputSize: 12, hidden: [16], zDim: 4, classes: 4, prior: 'mixture', modes: 4, gates: null }, rng);
  const settings = { scenario: 'class', numOutputs: 4, classHeads: [] } as unknown as SleepSettings;
  const heads = new Heads(settings, [0, 1, 2, 3]);
  const rowSums = (p: Float32Array): number[] => Array.from({ length: p.length / 4 }, (_, r) => p[4 * r]! + p[4 * r + 1]! + p[4 * r + 2]! + p[4 * r + 3]!);
  const own = drawDreams(vae, 16, heads, [0, 1], new Rng(5));
  for (let r = 0; r < 16; r++) assert.deepEqual([own.probs[4 * r + 2], own.probs[4 * r + 3]], [0, 0]);
  for (const s of rowSums(own.probs)) assert.ok(Math.abs(s - 1) < 1e-6);
  assert.ok(own.mask.every((m) => m === 1), 'the sleeping model still answers over every known class');
  assert.ok(own.x.every((v) => v === 0 || v === 1), 'dreamt pixels are binary draws');
  assert.deepEqual(drawDreams(vae, 16, heads, [0, 1], new Rng(5)).probs, own.probs, 'the same seed, the same dreams');
  // Task-IL: targets stay within the row's head.
  const taskHeads = new Heads({ ...settings, scenario: 'task', classHeads: [[0, 1], [0, 1], [2, 3], [2, 3]] }, [0, 1, 2, 3]);
  const t = drawDreams(vae, 16, taskHeads, [0, 1, 2, 3], new Rng(6));
  for (const s of rowSums(t.probs)) assert.ok(Math.abs(s - 1) < 1e-6);
  for (let r = 0; r < 16; r++) assert.ok(t.probs[4 * r]! + t.probs[4 * r + 1]! === 0 || t.probs[4 * r + 2]! + t.probs[4 * r + 3]! === 0);
});

test('dream features: matching the dreamer\'s hidden layer on dreams keeps the old classes\' features in place', () => {
  const drift = (dreamFeatures: number): number => {
    const rng = new Rng(31);
    const l = new EngramLearner(setup(), { ...small, dreamFeatures });
    for (let k = 0; k < 60; k++) l.observe(batch(0, rng));
    const old = batch(0, new Rng(32));
    const features = (): Float32Array => l.model.features(Tensor.from(old.x, [old.size, 12])).data.slice();
    const before = features();
    for (let k = 0; k < 60; k++) l.observe(batch(1, rng));
    l.finish();
    assert.ok(accuracy(l, 1, new Rng(33)) >= 0.9, 'the new classes are still learnt');
    const after = features();
    let d = 0, n = 0;
    for (let i = 0; i < before.length; i++) {
      d += (after[i]! - before[i]!) ** 2;
      n += before[i]! ** 2;
    }
    return Math.sqrt(d / n);
  };
  const [free, held] = [drift(0), drift(10)];
  assert.ok(held < 0.5 * free, `relative drift of old inputs' features: ${held} with the feature term, ${free} without`);
});

test('statistical memory: where θ_S knows nothing any more, the LDA posterior in predict still answers', () => {
  const run = (lda: boolean): [number, number] => {
    const rng = new Rng(51);
    const l = new EngramLearner(setup(), { ...small, dreams: false, lda });
    for (const c of [0, 1]) for (let k = 0; k < 80; k++) l.observe(batch(c, rng));
    l.finish();
    // Forgetting at its extreme: every weight of θ_S wiped, so the network's posterior is flat.
    for (const p of l.model.parameters()) p.data.fill(0);
    return [accuracy(l, 0, new Rng(52)), accuracy(l, 1, new Rng(53))];
  };
  const [[old, fresh], [lostOld, lostFresh]] = [run(true), run(false)];
  assert.ok(lostOld + lostFresh <= 1, `without it, nothing is left: ${lostOld}, ${lostFresh}`);
  assert.ok(old >= 0.9 && fresh >= 0.9, `with it: context 0 ${old}, context 1 ${fresh}`);
});
