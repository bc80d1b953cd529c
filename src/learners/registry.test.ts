import test from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../core/index.js';
import { getBackend } from '../kernels/index.js';
import type { Batch } from '../protocols/types.js';
import type { LearnerSetup } from './learner.js';
import { MethodOptionError, optionRecord, type OptionContext } from './method-options.js';
import { createLearner, listMethods, methodEntry } from './registry.js';
import { TASK_FREE_UPDATE_EVERY } from './task-free.js';

getBackend().setThreads(1);

/** A tiny class-IL problem: 8 inputs, 4 classes over 2 contexts. */
const setup = (over: Partial<LearnerSetup> = {}): LearnerSetup => ({
  inputSize: 8, numOutputs: 4, activeOutputs: () => null, hidden: [6], activation: 'relu', optimizer: 'adam',
  lr: 1e-2, momentum: 0, seed: 2, protocol: 'split-mnist', scenario: 'class', stream: 'boundaries',
  itersPerContext: 20, numContexts: 2, batchSize: 8, ...over,
});
const ctxOf = (s: LearnerSetup): OptionContext => ({ protocol: s.protocol, scenario: s.scenario, stream: s.stream, hidden: s.hidden });

function batch(rng: Rng, classes: readonly number[]): Batch {
  const x = new Float32Array(8 * 8).map(() => rng.uniform());
  const y = new Int32Array(8).map((_, i) => classes[i % classes.length]!);
  return { x, y, size: 8, contexts: null };
}

for (const stream of ['boundaries', 'task-free'] as const) {
  test(`every method (${stream}): the options it records are the ones it resolves, and resolve to themselves`, () => {
    for (const m of listMethods()) {
      const s = setup({ stream });
      const resolved = m.resolveOptions({}, ctxOf(s));
      const learner = createLearner(m.name, { ...s, methodOptions: resolved });
      assert.deepEqual(optionRecord(learner.resolvedOptions()), resolved, `${m.name}: learner and registry disagree`);
      assert.deepEqual(m.resolveOptions(resolved, ctxOf(s)), resolved, `${m.name}: resolving the record changes it`);
      // An unknown key (a typo) is refused on one line naming the method's options.
      assert.throws(() => m.resolveOptions({ lamda: 1 }, ctxOf(s)), (e: unknown) => {
        assert.ok(e instanceof MethodOptionError, m.name);
        assert.equal(e.code, 'E_OPTION');
        assert.match(e.message, new RegExp(`^${m.name} has no option`));
        const names = Object.keys(resolved);
        for (const k of names) assert.ok(e.message.includes(k), `${m.name}: ${e.message} lacks ${k}`);
        if (names.length === 0) assert.match(e.message, /has no options/);
        assert.ok(!e.message.includes('\n'));
        return true;
      });
    }
  });
}

test('naive and joint take no options at all', () => {
  for (const name of ['naive', 'joint']) {
    assert.deepEqual(methodEntry(name).resolveOptions({}, ctxOf(setup())), {});
    assert.throws(() => methodEntry(name).resolveOptions({ lambda: 1 }, ctxOf(setup())), /has no options/);
  }
});

test('task-free baselines take their teacher / consolidate on the fixed interval, not the protocol\'s context length', () => {
  const s = setup({ stream: 'task-free', itersPerContext: 20 });
  const intervals: Record<string, string> = {
    lwf: 'snapshotEvery', dgr: 'snapshotEvery', 'dgr-distill': 'snapshotEvery', 'bi-r': 'snapshotEvery',
    ewc: 'consolidateEvery', 'ewc-online': 'consolidateEvery', mas: 'consolidateEvery', gpm: 'consolidateEvery',
  };
  for (const [name, key] of Object.entries(intervals)) {
    assert.equal(methodEntry(name).resolveOptions({}, ctxOf(s))[key], TASK_FREE_UPDATE_EVERY, name);
    assert.equal(methodEntry(name).resolveOptions({}, ctxOf(setup()))[key], undefined, `${name} with boundaries`);
  }
  // The interval is honoured: snapshots every 5 iterations, whatever the context length.
  const rng = new Rng(4);
  for (const name of ['lwf', 'dgr-distill', 'bi-r']) {
    const learner = createLearner(name, { ...s, methodOptions: { snapshotEvery: 5 } });
    for (let k = 0; k < 12; k++) learner.observe(batch(rng, k < 6 ? [0, 1] : [2, 3]));
    const extra = learner.getState().extra;
    assert.ok(typeof extra === 'object' && extra !== null && 'snapshots' in extra, name);
    assert.equal(extra.snapshots, 2, name);
  }
});

test('known options are honoured: buffer budget, latent and layer sizes', () => {
  const rng = new Rng(5);
  const er = createLearner('er', setup({ methodOptions: { budgetPerClass: 3 } }));
  for (let k = 0; k < 5; k++) er.observe(batch(rng, [0, 1]));
  assert.equal(er.storedRawSamples(), 6);
  const size = (name: string, methodOptions: Record<string, unknown>): number => createLearner(name, setup({ methodOptions })).parameterCount();
  assert.ok(size('dgr', { zDim: 20 }) > size('dgr', { zDim: 2 }));
  assert.ok(size('bi-r', { zDim: 20 }) > size('bi-r', { zDim: 2 }));
  const gc = createLearner('gen-classifier', setup({ methodOptions: { hidden: '9,7', zDim: 3 } }));
  assert.deepEqual(optionRecord(gc.resolvedOptions())['hidden'], [9, 7]);
  gc.observe(batch(rng, [0]));
  // One VAE: encoder 8-9-7 → z 3 (mean and log-variance), decoder 3-7-9-8.
  const vae = (8 * 9 + 9) + (9 * 7 + 7) + 2 * (7 * 3) + 3 + (3 * 7 + 7) + (7 * 9 + 9) + (9 * 8 + 8);
  assert.equal(gc.parameterCount(), vae);
});
