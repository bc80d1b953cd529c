import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../core/index.js';
import { getBackend } from '../../kernels/index.js';
import { resolveConfig, runExperiment, type PartialRunConfig } from '../../harness/index.js';
import { loadLearner, saveLearner } from '../../harness/persist.js';
import type { Batch } from '../../protocols/types.js';
import type { Learner, LearnerSetup } from '../learner.js';
import { listMethods, registerMethod } from '../registry.js';
import { MethodOptionError } from '../method-options.js';
import { TASK_FREE_UPDATE_EVERY } from '../task-free.js';
import { SI_TASK_FREE_UPDATE_EVERY } from './defaults.js';
import { EwcLearner, resolveEwcOptions } from './ewc.js';
import { regularizationMethods } from './index.js';
import { MasLearner, resolveMasOptions } from './mas.js';
import { resolveSiOptions, SiLearner } from './si.js';

// Tiny networks: one thread avoids handing each small kernel to a second thread (costly on a shared machine).
getBackend().setThreads(1);

// runExperiment creates learners by name; register once (another suite or the registry may have already).
for (const m of regularizationMethods) if (!listMethods().some((e) => e.name === m.name)) registerMethod(m);

const dir = mkdtempSync(join(tmpdir(), 'engram-reg-'));

/** Synthetic task-IL problem: 3 contexts, 2 classes each, 6 inputs. */
const setup = (over: Partial<LearnerSetup> = {}): LearnerSetup => ({
  inputSize: 6, numOutputs: 6, activeOutputs: (c) => [2 * c, 2 * c + 1], hidden: [8], activation: 'relu',
  optimizer: 'adam', lr: 1e-2, momentum: 0, seed: 5, protocol: 'split-mnist', scenario: 'task', stream: 'boundaries',
  itersPerContext: 12, numContexts: 3, batchSize: 4, ...over,
});

function batches(count: number, seed: number): { batch: Batch; ends: number | null }[] {
  const rng = new Rng(seed);
  const out: { batch: Batch; ends: number | null }[] = [];
  for (let k = 0; k < count; k++) {
    const ctx = Math.floor(k / 12) % 3;
    const x = new Float32Array(4 * 6).map(() => rng.uniform());
    const y = new Int32Array(4).map((_, i) => 2 * ctx + ((i + k) % 2));
    for (let i = 0; i < 4; i++) x[i * 6 + ctx * 2 + (y[i]! % 2)]! += 2;
    out.push({ batch: { x, y, size: 4, contexts: new Int32Array(4).fill(ctx) }, ends: k % 12 === 11 ? ctx : null });
  }
  return out;
}

const makers: [string, (s: LearnerSetup) => Learner][] = [
  ['ewc', (s) => new EwcLearner(s, { lambda: 50, fisherSamples: 20 })],
  ['ewc-online', (s) => new EwcLearner(s, { lambda: 50, online: true, gamma: 0.9, fisherSamples: 20 })],
  ['ewc (sampled labels)', (s) => new EwcLearner(s, { lambda: 50, fisherLabels: 'sample', fisherSamples: 20 })],
  ['si', (s) => new SiLearner(s, { c: 0.5 })],
  ['mas', (s) => new MasLearner(s, { lambda: 1, samples: 20 })],
];

for (const [name, make] of makers) {
  test(`${name}: state survives a checkpoint round trip mid-context (identical continuation)`, () => {
    const stream = batches(36, 9);
    const a = make(setup());
    const feed = (l: Learner, from: number, to: number) => {
      for (let k = from; k < to; k++) {
        l.observe(stream[k]!.batch);
        if (stream[k]!.ends !== null) l.onBoundary?.(stream[k]!.ends!);
      }
    };
    // Iteration 22: inside context 1's importance window, after one consolidation.
    feed(a, 0, 22);
    const file = join(dir, `${name}.engram`);
    saveLearner(a, file, { method: name });
    const b = make(setup({ seed: 99 }));
    loadLearner(b, file, { method: name });
    feed(a, 22, 36);
    feed(b, 22, 36);
    const pa = a.getState().params;
    const pb = b.getState().params;
    for (const k of Object.keys(pa)) assert.deepEqual(pb[k], pa[k], `${k} differs after resuming`);
    assert.equal(a.storedRawSamples(), 0);
  });
}

test('EWC gathers its Fisher over the last ⌈fisherSamples/batch⌉ iterations of each context only', () => {
  const ewc = new EwcLearner(setup(), { lambda: 1, fisherSamples: 10 });
  assert.equal(ewc.windowIterations(), 3);
  const stream = batches(12, 3);
  const samples = () => (ewc.getState().extra as { method: { samplesSeen: number } }).method.samplesSeen;
  for (let k = 0; k < 12; k++) {
    ewc.observe(stream[k]!.batch);
    assert.equal(samples(), Math.max(0, k - 8) * 4, `after iteration ${k}`);
  }
  ewc.onBoundary(0);
  assert.equal(samples(), 0);
  assert.equal(ewc.consolidationCount(), 1);
  assert.ok(ewc.penaltyValue() === 0, 'a fresh anchor: no penalty yet');

  // Task-free: no boundary signal; consolidation every consolidateEvery iterations, the window before each.
  const tf = new EwcLearner(setup({ stream: 'task-free', scenario: 'class', activeOutputs: () => null }),
    { lambda: 1, fisherSamples: 10, consolidateEvery: 12 });
  const free = batches(30, 4).map(({ batch }) => ({ ...batch, contexts: null }));
  for (const b of free) tf.observe(b);
  assert.equal(tf.consolidationCount(), 2);
  assert.equal((tf.getState().extra as { method: { samplesSeen: number } }).method.samplesSeen, 0);
  assert.ok(tf.penaltyValue() > 0);
});

test('defaults follow the published tables for the protocol and scenario', () => {
  const ewcTask = new EwcLearner(setup());
  assert.equal(ewcTask.lambda, 1e5);
  assert.equal(ewcTask.fisherLabels, 'all');
  assert.equal(ewcTask.importanceSamples, 12_000);
  assert.equal(new EwcLearner(setup({ scenario: 'class' })).lambda, 1e9);
  assert.equal(new EwcLearner(setup({ scenario: 'domain' })).lambda, 1e10);
  assert.equal(new EwcLearner(setup({ protocol: 'permuted-mnist', scenario: 'domain' })).importanceSamples, 1000);
  assert.equal(new SiLearner(setup()).c, 10);
  assert.equal(new SiLearner(setup({ scenario: 'class' })).c, 5000);
  assert.equal(new SiLearner(setup({ scenario: 'class', stream: 'task-free' })).c, 10);
  assert.equal(new SiLearner(setup()).epsilon, 0.1);
  assert.equal(new MasLearner(setup({ scenario: 'domain' })).lambda, 5000);
  assert.equal(new MasLearner(setup({ scenario: 'class' })).lambda, 0.1);
  // Task-free streams consolidate on the fixed interval, not the protocol's iterations per context (12 here);
  // boundaries streams at the boundaries only.
  assert.equal(new EwcLearner(setup({ stream: 'task-free' })).consolidateEvery, TASK_FREE_UPDATE_EVERY);
  assert.equal(new MasLearner(setup({ stream: 'task-free' })).consolidateEvery, TASK_FREE_UPDATE_EVERY);
  assert.equal(new SiLearner(setup({ stream: 'task-free' })).consolidateEvery, SI_TASK_FREE_UPDATE_EVERY);
  assert.equal(new EwcLearner(setup()).consolidateEvery, null);
  assert.throws(() => new EwcLearner(setup(), { lambda: -1 }), /ewc option lambda: must be ≥ 0$/);
  assert.throws(() => new SiLearner(setup({ stream: 'task-free' }), { consolidateEvery: 0 }), /si option consolidateEvery: must be positive$/);
});

test('options: each method refuses unknown keys naming its own, and records every resolved option', () => {
  const ctx = { protocol: 'split-mnist', scenario: 'task', stream: 'boundaries', hidden: [8] } as const;
  assert.throws(() => resolveEwcOptions({ lamda: 1 }, ctx, false),
    (e: unknown) => e instanceof MethodOptionError && e.message === 'ewc has no option "lamda"; its options: lambda, fisherSamples, fisherLabels, consolidateEvery');
  // gamma is online EWC's alone.
  assert.throws(() => resolveEwcOptions({ gamma: 0.9 }, ctx, false), /ewc has no option "gamma"/);
  assert.deepEqual(resolveEwcOptions({ gamma: 0.9 }, ctx, true), { lambda: 1e5, fisherSamples: 12_000, fisherLabels: 'all', gamma: 0.9 });
  assert.throws(() => resolveSiOptions({ xi: 1 }, ctx), /si has no option "xi"; its options: c, epsilon, consolidateEvery/);
  assert.throws(() => resolveMasOptions({ strength: 1 }, ctx), /mas has no option "strength"; its options: lambda, samples, consolidateEvery/);
  assert.throws(() => resolveEwcOptions({ fisherLabels: 'most' }, ctx, false), /ewc option fisherLabels: must be one of all, sample, pred, true/);
  // The interval of task-free streams: refused with boundaries (it would not be used), recorded only where it is.
  assert.throws(() => resolveSiOptions({ consolidateEvery: 50 }, ctx), /si option consolidateEvery: applies to task-free streams only/);
  assert.deepEqual(resolveSiOptions({ consolidateEvery: 50 }, { ...ctx, stream: 'task-free' }), { c: 10, epsilon: 0.1, consolidateEvery: 50 });
  assert.deepEqual(resolveMasOptions({}, { ...ctx, scenario: 'domain' }), { lambda: 5000, samples: 12_000 });
  // A learner reports exactly what it runs with; the record, fed back, resolves to itself.
  const ewc = new EwcLearner(setup(), { lambda: 7 });
  assert.equal(ewc.lambda, 7);
  assert.deepEqual(ewc.resolvedOptions(), { lambda: 7, fisherSamples: 12_000, fisherLabels: 'all' });
  assert.deepEqual(resolveEwcOptions({ ...ewc.resolvedOptions() }, ctx, false), ewc.resolvedOptions());
  for (const m of regularizationMethods) {
    const learner = m.create(setup({ methodOptions: {} }));
    assert.deepEqual(m.resolveOptions(learner.resolvedOptions(), ctx), learner.resolvedOptions(), m.name);
  }
});

/**
 * A short Split MNIST run (task-IL, small network). The high learning rate makes fine-tuning forget within 100
 * iterations; one GEMM thread keeps small runs fast when the machine is shared.
 */
const small = (over: Partial<PartialRunConfig> = {}) => resolveConfig({
  protocol: 'split-mnist', scenario: 'task', iters: 100, batch: 64, hidden: [64], lr: 0.01, evalEvery: 1000,
  curveSamples: 50, threads: 1, ...over,
});

test('task-IL Split MNIST (short): EWC, SI and MAS forget less than fine-tuning and store no data', () => {
  const naive = runExperiment(small({ method: 'naive' }));
  for (const method of ['ewc', 'si', 'mas'] as const) {
    const r = runExperiment(small({ method }));
    assert.ok(r.forgetting < naive.forgetting / 3, `${method} forgetting ${r.forgetting} vs naive ${naive.forgetting}`);
    assert.ok(r.acc > naive.acc, `${method} ACC ${r.acc} vs naive ${naive.acc}`);
    assert.deepEqual(r.storedRawSamples, { max: 0, atEnd: 0 });
  }
});

test('an interrupted EWC run resumed from its checkpoint gives exactly the uninterrupted results', () => {
  const cfg = small({ method: 'ewc', iters: 40, batch: 32 });
  const whole = runExperiment(cfg);
  const file = join(dir, 'ewc-run.ckpt');
  // Crash at 75 (context 1's Fisher window); the last checkpoint is at 70, mid-window.
  assert.throws(() => runExperiment(cfg, {
    checkpoint: { file, every: 35, resume: true },
    onIteration: (i) => {
      if (i === 75) throw new Error('simulated crash');
    },
  }), /simulated crash/);
  const resumed = runExperiment(cfg, { checkpoint: { file, every: 35, resume: true } });
  assert.deepEqual(resumed.accuracyMatrix, whole.accuracyMatrix);
});
