import { describeBackend, getBackend } from '../kernels/index.js';
import { createLearner, type Learner, type LearnerSetup } from '../learners/index.js';
import { acc, bwt, forgetting, fwt } from '../metrics/index.js';
import { createProtocol } from '../protocols/index.js';
import type { Protocol } from '../protocols/types.js';
import type { RunConfig } from './config.js';
import { TestSet } from './evaluate.js';
import { learnerCheckpointConfig, loadLearner, saveLearner } from './persist.js';

/** What `engram run` writes (fractions in 0–1). */
export interface RunResult {
  protocol: string;
  scenario: string;
  stream: string;
  method: string;
  seed: number;
  /** Row t = accuracies on every context after training through context t. */
  accuracyMatrix: number[][];
  /** Accuracy of the freshly initialised model on each context (for FWT). */
  initialAccuracy: number[];
  acc: number;
  bwt: number;
  fwt: number;
  forgetting: number;
  /** Accuracy on each context (on `curveSamples` test samples each) every `evalEvery` iterations. */
  onlineCurve: { iteration: number; accuracy: number[]; loss: number }[];
  wallSeconds: number;
  trainSeconds: number;
  trainSamplesPerSecond: number;
  peakRssMB: number;
  params: number;
  paramsCurve: { iteration: number; params: number }[];
  backend: { name: string; blas: string; threads: number; description: string };
  storedRawSamples: { max: number; atEnd: number };
  config: RunConfig;
}

export interface RunHooks {
  /** Called after every training iteration. */
  onIteration?: (iteration: number, total: number, loss: number) => void;
  /** Start from a saved learner. */
  loadFrom?: string;
  /** Save the learner when the run ends. */
  saveTo?: string;
}

export function learnerSetup(cfg: RunConfig, protocol: Protocol): LearnerSetup {
  return {
    inputSize: protocol.inputSize,
    numOutputs: protocol.numOutputs,
    activeOutputs: (c) => protocol.activeOutputs(c),
    hidden: cfg.hidden,
    activation: cfg.activation,
    optimizer: cfg.optimizer,
    lr: cfg.lr,
    momentum: cfg.momentum,
    seed: cfg.seed,
  };
}

/**
 * Train a method on a protocol's stream and measure it: the accuracy matrix at each context's end, an online
 * curve every `evalEvery` iterations (where the stability gap shows), speed, memory and stored data.
 */
export function runExperiment(cfg: RunConfig, hooks: RunHooks = {}): RunResult {
  const t0 = performance.now();
  const b = getBackend();
  if (cfg.threads !== null) b.setThreads(cfg.threads);
  const protocol0 = createProtocol(protocolConfig(cfg, false));
  const learner = createLearner(cfg.method, learnerSetup(cfg, protocol0));
  // Joint training reads a cumulative stream; nothing else changes.
  const protocol = learner.traits.cumulativeStream ? createProtocol(protocolConfig(cfg, true)) : protocol0;
  const fingerprint = learnerCheckpointConfig(cfg, protocol);
  if (hooks.loadFrom !== undefined) loadLearner(learner, hooks.loadFrom, fingerprint);

  const T = protocol.contexts.length;
  const fullTest = new TestSet(protocol, null);
  const curveTest = new TestSet(protocol, cfg.curveSamples);
  const initialAccuracy = fullTest.accuracies(learner);
  const matrix: number[][] = [];
  const curve: RunResult['onlineCurve'] = [];
  const paramsCurve: RunResult['paramsCurve'] = [{ iteration: 0, params: learner.parameterCount() }];
  const stored = { max: 0, atEnd: 0 };
  const total = protocol.totalIterations;
  let trainMs = 0;
  let samples = 0;
  let phase = 0;
  let lastLoss = Number.NaN;
  // Samples of contexts 0..phase: what a cumulative (joint) stream holds.
  const heldByPhase = (p: number): number =>
    protocol.contexts.slice(0, p + 1).reduce((n, c) => n + c.trainIndices.length, 0);
  const recordStored = (): void => {
    const held = learner.traits.cumulativeStream ? heldByPhase(phase) : learner.storedRawSamples();
    stored.max = Math.max(stored.max, held);
    stored.atEnd = held;
  };

  curve.push({ iteration: 0, accuracy: curveTest.accuracies(learner), loss: Number.NaN });
  for (const step of protocol.stream()) {
    while (step.phase > phase) {
      matrix.push(fullTest.accuracies(learner));
      phase++;
      paramsCurve.push({ iteration: step.iteration, params: learner.parameterCount() });
    }
    const s = performance.now();
    lastLoss = learner.observe(step.batch);
    if (step.endsContext !== null) learner.onBoundary?.(step.endsContext);
    trainMs += performance.now() - s;
    samples += step.batch.size;
    recordStored();
    const done = step.iteration + 1;
    if (done % cfg.evalEvery === 0 || done === total) {
      curve.push({ iteration: done, accuracy: curveTest.accuracies(learner), loss: lastLoss });
    }
    hooks.onIteration?.(done, total, lastLoss);
  }
  while (matrix.length < T) matrix.push(fullTest.accuracies(learner));
  paramsCurve.push({ iteration: total, params: learner.parameterCount() });
  if (hooks.saveTo !== undefined) saveLearner(learner, hooks.saveTo, fingerprint);

  return {
    protocol: cfg.protocol,
    scenario: cfg.scenario,
    stream: cfg.stream,
    method: cfg.method,
    seed: cfg.seed,
    accuracyMatrix: matrix,
    initialAccuracy,
    acc: acc(matrix),
    bwt: bwt(matrix),
    fwt: fwt(matrix, initialAccuracy),
    forgetting: forgetting(matrix),
    onlineCurve: curve,
    wallSeconds: (performance.now() - t0) / 1000,
    trainSeconds: trainMs / 1000,
    trainSamplesPerSecond: samples / (trainMs / 1000),
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    params: learner.parameterCount(),
    paramsCurve,
    backend: { name: b.name, blas: b.blas, threads: b.getThreads(), description: describeBackend(b) },
    storedRawSamples: stored,
    config: cfg,
  };
}

function protocolConfig(cfg: RunConfig, cumulative: boolean) {
  return {
    protocol: cfg.protocol,
    scenario: cfg.scenario,
    stream: cfg.stream,
    seed: cfg.seed,
    itersPerContext: cfg.iters,
    batchSize: cfg.batch,
    classOrder: cfg.classOrder,
    numContexts: cfg.contexts,
    valPerContext: cfg.valPerContext,
    dataDir: cfg.dataDir,
    cumulative,
  };
}

export type { Learner };
