import { z } from 'zod';
import { engineNames } from '../predictive-coding/index.js';

/**
 * A run's full configuration, validated at the boundary (CLI options, files). Defaults follow the van de Ven,
 * Tuytelaars & Tolias (2022) protocols (DESIGN §4): Split MNIST 784-400-400, 2000 iterations per context,
 * batch 128, Adam lr 1e-3; Permuted MNIST 784-1000-1000, 5000 iterations, Adam lr 1e-4. `iid` is every class in
 * one context, the reference on which a learning rule (backprop, predictive coding) is compared.
 */

export const protocolNames = ['split-mnist', 'permuted-mnist', 'rotated-mnist', 'iid'] as const;
export const scenarioNames = ['task', 'domain', 'class'] as const;
export const streamNames = ['boundaries', 'task-free'] as const;

const positiveInt = (what: string) =>
  z.number({ error: `${what} must be a number` }).int(`${what} must be a whole number`).positive(`${what} must be positive`);

export const runConfigSchema = z.object({
  protocol: z.enum(protocolNames, { error: `protocol must be one of ${protocolNames.join(', ')}` }),
  scenario: z.enum(scenarioNames, { error: `scenario must be one of ${scenarioNames.join(', ')}` }),
  stream: z.enum(streamNames, { error: `stream must be one of ${streamNames.join(', ')}` }),
  method: z.string().min(1),
  seed: z.number().int('seed must be a whole number').nonnegative('seed must be ≥ 0'),
  iters: positiveInt('iters'),
  batch: positiveInt('batch'),
  lr: z.number().positive('lr must be positive').finite(),
  optimizer: z.enum(['adam', 'sgd']),
  momentum: z.number().min(0, 'must be ≥ 0').max(1, 'must be at most 1, e.g. 0.9'),
  hidden: z.array(positiveInt('hidden layer size')).min(1, 'hidden needs at least one layer size'),
  activation: z.enum(['relu', 'sigmoid', 'tanh', 'gelu']),
  bias: z.boolean(),
  /** How the network learns: backprop, or predictive coding's local updates (absent in older results: bp). */
  engine: z.enum(engineNames, { error: `engine must be one of ${engineNames.join(', ')}` }).default('bp'),
  /** Predictive coding: inference steps T per batch, and iPC (a weight step at every inference step). */
  pcSteps: z.number().int('must be a whole number').min(1, 'must be ≥ 1').max(100, 'must be at most 100').default(5),
  pcIncremental: z.boolean().default(false),
  contexts: positiveInt('contexts'),
  /** Zero pixels around each image before the context's transform (permuted MNIST: 2, van de Ven's MNIST32). */
  padding: z.number().int('padding must be a whole number').min(0, 'must be ≥ 0').max(64, 'must be at most 64'),
  /** Split MNIST's class order, resolved (`--class-order random` is drawn from the seed); null = 0..9. */
  classOrder: z.array(z.number().int().min(0, 'classes are 0..9').max(9, 'classes are 0..9, e.g. 3,7,0,1,2,4,5,6,8,9')).length(10, 'name all 10 classes, e.g. 3,7,0,1,2,4,5,6,8,9, or random').nullable(),
  /**
   * Task-free streams: half-width in iterations of the ramps between contexts, resolved (default
   * min(500, ⌊iters / 4⌋)); null in boundaries streams, which have no ramps.
   */
  fuzziness: z.number().int('fuzziness must be a whole number').nonnegative('fuzziness must be ≥ 0').nullable(),
  valPerContext: z.number().int('must be a whole number').nonnegative('must be ≥ 0'),
  dataDir: z.string().nullable(),
  evalEvery: positiveInt('eval-every'),
  curveSamples: positiveInt('curve-samples'),
  threads: z.number().int('must be a whole number').positive('must be positive').nullable(),
  /** Where accuracies are measured: the test set, or the validation split (for tuning). */
  evalSplit: z.enum(['test', 'validation']),
  /**
   * The method's own options (`--set key=value`). Resolved by `resolveConfig`: every option of the method,
   * defaults included, as the method validated them.
   */
  methodOptions: z.record(z.string(), z.union([z.number(), z.boolean(), z.string(), z.array(z.number())])),
}).refine((c) => c.classOrder === null || new Set(c.classOrder).size === 10, {
  message: 'class-order must be a permutation of 0..9 (each class exactly once)',
  path: ['classOrder'],
}).refine((c) => c.classOrder === null || c.protocol === 'split-mnist', {
  message: 'applies to split-mnist only (it decides which classes form which context)',
  path: ['classOrder'],
}).refine((c) => c.protocol !== 'iid' || c.contexts === 1, {
  message: 'iid has one context (every class at once)',
  path: ['contexts'],
}).refine((c) => c.protocol !== 'split-mnist' || c.contexts === 5 || c.contexts === 10, {
  message: 'split-mnist has 5 contexts (pairs of classes) or 10 (one class each)',
  path: ['contexts'],
}).refine((c) => c.protocol !== 'split-mnist' || c.contexts !== 10 || c.scenario === 'class', {
  message: 'split-mnist with 10 one-class contexts needs --scenario class (with one class per context, task-IL is ' +
    'trivial and domain-IL has a single label)',
  path: ['contexts'],
}).refine((c) => c.fuzziness === null || 2 * c.fuzziness <= c.iters, {
  message: 'the ramps of a task-free stream are at most half a context long: use at most iters / 2',
  path: ['fuzziness'],
});

export type RunConfig = z.infer<typeof runConfigSchema>;

/** Protocol-specific defaults, applied where the user gave no value. */
export function protocolDefaults(protocol: RunConfig['protocol']): Omit<RunConfig, 'protocol' | 'scenario' | 'stream' | 'method' | 'seed' | 'dataDir' | 'classOrder' | 'fuzziness' | 'threads' | 'bias' | 'methodOptions' | 'evalSplit' | 'engine' | 'pcSteps' | 'pcIncremental'> {
  if (protocol === 'split-mnist') {
    return {
      iters: 2000, batch: 128, lr: 1e-3, optimizer: 'adam', momentum: 0, hidden: [400, 400], activation: 'relu',
      contexts: 5, valPerContext: 500, evalEvery: 100, curveSamples: 500, padding: 0,
    };
  }
  if (protocol === 'iid') {
    // PCX's parity network (Pinchetti et al., 2025): 784-128-128-128-10, GELU; about 21 epochs of batch 128.
    return {
      iters: 10000, batch: 128, lr: 1e-3, optimizer: 'adam', momentum: 0, hidden: [128, 128, 128], activation: 'gelu',
      contexts: 1, valPerContext: 5000, evalEvery: 500, curveSamples: 1000, padding: 0,
    };
  }
  return {
    iters: 5000, batch: 128, lr: 1e-4, optimizer: 'adam', momentum: 0, hidden: [1000, 1000], activation: 'relu',
    contexts: 10, valPerContext: 500, evalEvery: 250, curveSamples: 300,
    // GMvandeVen/continual-learning permutes MNIST zero-padded to 32×32 (`data/load.py`: permMNIST → 'MNIST32';
    // `data/available.py`: `transforms.Pad(2)`): 1024 inputs, each context's 240 zeros on different inputs.
    padding: protocol === 'permuted-mnist' ? 2 : 0,
  };
}
