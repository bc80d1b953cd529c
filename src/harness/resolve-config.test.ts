import test from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { isAbsolute } from 'node:path';
import { ZodError } from 'zod';
import { TASK_FREE_UPDATE_EVERY } from '../learners/index.js';
import { defaultFuzziness, networkShape, randomClassOrder, resolveConfig } from './resolve-config.js';
import { mlpParameters, refuseOversizedCurve, refuseUnallocatable, RunOptionError } from './run-checks.js';

/** The one-line message a bad configuration gives (RunOptionError or the schema's first issue). */
function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof ZodError) return `${e.issues[0]!.path.join('.')}: ${e.issues[0]!.message}`;
    if (e instanceof Error) return e.message;
  }
  return '(no error)';
}

test('--class-order random: a permutation drawn from the seed, recorded resolved', () => {
  const a = resolveConfig({ protocol: 'split-mnist', classOrder: 'random', seed: 3 });
  assert.deepEqual(a.classOrder, randomClassOrder(3));
  assert.deepEqual([...a.classOrder!].sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(resolveConfig({ protocol: 'split-mnist', classOrder: 'random', seed: 3 }).classOrder, a.classOrder);
  assert.notDeepEqual(resolveConfig({ protocol: 'split-mnist', classOrder: 'random', seed: 4 }).classOrder, a.classOrder);
  // The class order is Split MNIST's; elsewhere it is refused.
  assert.match(messageOf(() => resolveConfig({ protocol: 'permuted-mnist', classOrder: 'random' })), /^classOrder: applies to split-mnist only/);
});

test('--fuzziness: min(500, iters/4) by default in task-free streams, recorded; refused where it cannot apply', () => {
  assert.equal(resolveConfig({ protocol: 'split-mnist', stream: 'task-free' }).fuzziness, 500);
  assert.equal(resolveConfig({ protocol: 'split-mnist', stream: 'task-free', iters: 1000 }).fuzziness, defaultFuzziness(1000));
  assert.equal(defaultFuzziness(1000), 250);
  assert.equal(resolveConfig({ protocol: 'split-mnist', stream: 'task-free', fuzziness: 100 }).fuzziness, 100);
  assert.equal(resolveConfig({ protocol: 'split-mnist' }).fuzziness, null, 'boundaries streams have no ramps');
  assert.match(messageOf(() => resolveConfig({ protocol: 'split-mnist', fuzziness: 100 })), /^--fuzziness applies to --stream task-free/);
  assert.match(messageOf(() => resolveConfig({ protocol: 'split-mnist', stream: 'task-free', fuzziness: 1500 })),
    /^--fuzziness 1500: .* at most half a context long, 1000 with --iters 2000$/);
  assert.match(messageOf(() => resolveConfig({ protocol: 'split-mnist', stream: 'task-free', fuzziness: -1 })), /^fuzziness: /);
});

test('split-mnist: 5 contexts of two classes or 10 of one (class-IL only)', () => {
  assert.equal(resolveConfig({ protocol: 'split-mnist', contexts: 10 }).contexts, 10);
  assert.deepEqual(networkShape(resolveConfig({ protocol: 'split-mnist', contexts: 10 })).outputs, 10);
  for (const scenario of ['task', 'domain'] as const) {
    assert.match(messageOf(() => resolveConfig({ protocol: 'split-mnist', contexts: 10, scenario })), /^contexts: .*needs --scenario class/);
  }
  assert.match(messageOf(() => resolveConfig({ protocol: 'split-mnist', contexts: 7 })), /^contexts: split-mnist has 5 contexts .* or 10/);
  assert.equal(resolveConfig({ protocol: 'permuted-mnist', contexts: 7 }).contexts, 7);
});

test('a run option the method does not use is refused naming the method\'s own; one it uses, or a default, is not', () => {
  assert.equal(messageOf(() => resolveConfig({ protocol: 'split-mnist', method: 'engram', lr: 0.01 })),
    'engram does not use --lr; set its sleep learning rate with --set lr=…');
  assert.match(messageOf(() => resolveConfig({ protocol: 'split-mnist', method: 'engram', activation: 'tanh' })), /^engram does not use --activation/);
  assert.match(messageOf(() => resolveConfig({ protocol: 'split-mnist', method: 'engram', bias: false })), /^engram does not use --no-bias/);
  assert.match(messageOf(() => resolveConfig({ protocol: 'split-mnist', method: 'gen-classifier', hidden: [50] })),
    /^gen-classifier does not use --hidden; set its VAEs' layer sizes with --set hidden=/);
  assert.match(messageOf(() => resolveConfig({ protocol: 'split-mnist', method: 'bi-r', optimizer: 'sgd' })), /^bi-r does not use --optimizer/);
  // Only what the user gave is checked: defaults (lr 1e-3 is in every configuration) pass.
  assert.equal(resolveConfig({ protocol: 'split-mnist', method: 'engram', hidden: [50] }).method, 'engram');
  assert.equal(resolveConfig({ protocol: 'split-mnist', method: 'naive', lr: 0.01, activation: 'tanh' }).lr, 0.01);
  // Momentum is SGD's: refused with Adam, fine with SGD (also where a method preset chose SGD).
  assert.match(messageOf(() => resolveConfig({ protocol: 'split-mnist', momentum: 0.9 })), /^--momentum applies to --optimizer sgd/);
  assert.equal(resolveConfig({ protocol: 'split-mnist', optimizer: 'sgd', momentum: 0.9 }).momentum, 0.9);
  assert.equal(resolveConfig({ protocol: 'permuted-mnist', method: 'gpm', momentum: 0.5 }).momentum, 0.5);
});

test('machine limits: thread counts above the machine and networks that cannot be allocated are refused before any work', () => {
  const cores = availableParallelism();
  assert.equal(messageOf(() => resolveConfig({ protocol: 'split-mnist', threads: cores + 1 })),
    `--threads ${cores + 1}: this machine runs ${cores} thread${cores === 1 ? '' : 's'} at once; use at most --threads ${cores}`);
  assert.equal(resolveConfig({ protocol: 'split-mnist', threads: cores }).threads, cores);
  assert.match(messageOf(() => resolveConfig({ protocol: 'split-mnist', hidden: [100_000_000] })),
    /^--hidden: a 784×100000000 weight matrix .* more than one array can hold .*choose smaller --hidden sizes/);
  // Under the array limit but beyond the memory: 2.5e9 parameters need 40 GB.
  assert.throws(() => refuseUnallocatable({ inputSize: 784, hidden: [50_000, 50_000], outputs: 10 }, 16 * 2 ** 30),
    (e: unknown) => e instanceof RunOptionError && /^--hidden: 2\.54e\+9 parameters need at least 37\.8 GiB to train .* more than this machine's 16\.0 GiB/.test(e.message));
  assert.doesNotThrow(() => refuseUnallocatable({ inputSize: 784, hidden: [400, 400], outputs: 10 }, 2 ** 30));
  assert.equal(mlpParameters({ inputSize: 784, hidden: [400, 400], outputs: 10 }), 785 * 400 + 401 * 400 + 401 * 10);
  // The padded permuted MNIST input and class-IL's 10 outputs per context.
  assert.deepEqual(networkShape(resolveConfig({ protocol: 'permuted-mnist', scenario: 'class' })), { inputSize: 1024, hidden: [1000, 1000], outputs: 100 });
});

test('methodOptions are resolved: every option of the method, defaults included; a typo is refused', () => {
  const ewc = resolveConfig({ protocol: 'split-mnist', scenario: 'task', method: 'ewc', methodOptions: { lambda: 1e9 } });
  assert.deepEqual(ewc.methodOptions, { lambda: 1e9, fisherSamples: 12_000, fisherLabels: 'all' });
  assert.equal(resolveConfig({ protocol: 'split-mnist', method: 'ewc', stream: 'task-free' }).methodOptions['consolidateEvery'], TASK_FREE_UPDATE_EVERY);
  assert.match(messageOf(() => resolveConfig({ protocol: 'split-mnist', method: 'ewc', methodOptions: { lamda: 1 } })),
    /^ewc has no option "lamda"; its options: lambda, /);
  assert.match(messageOf(() => resolveConfig({ protocol: 'split-mnist', method: 'naive', methodOptions: { lambda: 1 } })), /^naive has no options/);
  // A resolved configuration resolves to itself (what `engram reproduce` relies on).
  const again = resolveConfig({ ...ewc });
  assert.deepEqual(again, ewc);
  assert.ok(resolveConfig({ protocol: 'split-mnist', dataDir: 'data' }).dataDir !== null && isAbsolute(resolveConfig({ protocol: 'split-mnist', dataDir: 'data' }).dataDir!));
});

test('--curve-samples above every context\'s evaluation images is refused, the protocol default never', () => {
  assert.throws(() => refuseOversizedCurve(3000, [2115, 1980], 'test', 500), /--curve-samples 3000: the largest context has 2115 test images; use at most --curve-samples 2115/);
  assert.doesNotThrow(() => refuseOversizedCurve(2115, [2115, 1980], 'test', 500));
  // A small validation split: the default takes every image, an explicit larger count is refused.
  assert.doesNotThrow(() => refuseOversizedCurve(500, [100, 100], 'validation', 500));
  assert.throws(() => refuseOversizedCurve(400, [100, 100], 'validation', 500), /100 validation images \(--val-per-context\)/);
});
