import { existsSync } from 'node:fs';
import type { Engine } from '../predictive-coding/index.js';
import { describeBackend, getBackend } from '../kernels/index.js';
import { createLearner, type LearnerSetup } from '../learners/index.js';
import { acc, bwt, forgetting, fwt } from '../metrics/index.js';
import { createProtocol } from '../protocols/index.js';
import type { Protocol, ProtocolConfig } from '../protocols/types.js';
import { protocolDefaults, type RunConfig } from './config.js';
import { TestSet } from './evaluate.js';
import { learnerCheckpointConfig, loadLearner, saveLearner } from './persist.js';
import { loadRun, saveRun, type RunProgress } from './progress.js';
import { provenance, type Provenance } from './provenance.js';
import { refuseOversizedCurve } from './run-checks.js';
import { optionRecord } from '../learners/index.js';

/** What `engram run` writes (fractions in 0–1). */
export interface RunResult {
  protocol: string;
  scenario: string;
  stream: string;
  method: string;
  /** How the network learned: backprop (`bp`) or predictive coding (`pc`). */
  engine: Engine;
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
  /** Method-specific series (e.g. Engram's surprise and sleeps), rows of numbers. */
  series: Record<string, number[][]>;
  /** The resolved configuration; `methodOptions` holds every option the learner ran with, defaults included. */
  config: RunConfig;
  /** Which code, versions and machine produced the result. */
  provenance: Provenance;
}

export interface RunHooks {
  /** Called after every training iteration. */
  onIteration?: (iteration: number, total: number, loss: number) => void;
  /** Start from a saved learner. */
  loadFrom?: string;
  /** Save the learner when the run ends. */
  saveTo?: string;
  /**
   * Save the whole run (learner and measurements so far) to `file` every `every` iterations and at the end;
   * with `resume`, continue from `file` when it exists, with results identical to an uninterrupted run.
   */
  checkpoint?: { file: string; every: number; resume: boolean };
}

export function learnerSetup(cfg: RunConfig, protocol: Protocol): LearnerSetup {
  return {
    inputSize: protocol.inputSize,
    numOutputs: protocol.numOutputs,
    activeOutputs: (c) => protocol.activeOutputs(c),
    hidden: cfg.hidden,
    activation: cfg.activation,
    bias: cfg.bias,
    optimizer: cfg.optimizer,
    lr: cfg.lr,
    momentum: cfg.momentum,
    seed: cfg.seed,
    protocol: cfg.protocol,
    scenario: cfg.scenario,
    stream: cfg.stream,
    itersPerContext: cfg.iters,
    numContexts: cfg.contexts,
    batchSize: cfg.batch,
    methodOptions: cfg.methodOptions,
    engine: cfg.engine,
    pc: { steps: cfg.pcSteps, incremental: cfg.pcIncremental },
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
  refuseOversizedCurve(cfg.curveSamples, protocol0.contexts.map((c) => (cfg.evalSplit === 'test' ? c.testIndices : c.valIndices).length), cfg.evalSplit,
    protocolDefaults(cfg.protocol).curveSamples);
  const learner = createLearner(cfg.method, learnerSetup(cfg, protocol0));
  // Joint training reads a cumulative stream; nothing else changes.
  const protocol = learner.traits.cumulativeStream ? createProtocol(protocolConfig(cfg, true)) : protocol0;
  const fingerprint = learnerCheckpointConfig(cfg, protocol);
  if (hooks.loadFrom !== undefined) loadLearner(learner, hooks.loadFrom, fingerprint);

  const T = protocol.contexts.length;
  const fullTest = new TestSet(protocol, null, cfg.evalSplit);
  const curveTest = new TestSet(protocol, cfg.curveSamples, cfg.evalSplit);
  const total = protocol.totalIterations;
  const ckpt = hooks.checkpoint;
  const resumed = ckpt !== undefined && ckpt.resume && existsSync(ckpt.file);
  const p: RunProgress = resumed ? loadRun(ckpt.file, cfg, learner) : {
    iteration: 0,
    phase: 0,
    initialAccuracy: fullTest.accuracies(learner),
    matrix: [],
    curve: [{ iteration: 0, accuracy: curveTest.accuracies(learner), loss: Number.NaN }],
    paramsCurve: [{ iteration: 0, params: learner.parameterCount() }],
    stored: { max: 0, atEnd: 0 },
    trainMs: 0,
    samples: 0,
    elapsedMs: 0,
  };
  const origin = provenance(b, resumed ? p.iteration : null);
  const elapsed = (): number => p.elapsedMs + performance.now() - t0;
  // Samples of contexts 0..phase: what a cumulative (joint) stream holds.
  const heldByPhase = (phase: number): number =>
    protocol.contexts.slice(0, phase + 1).reduce((n, c) => n + c.trainIndices.length, 0);

  for (const step of protocol.stream(p.iteration)) {
    while (step.phase > p.phase) {
      p.matrix.push(fullTest.accuracies(learner));
      p.phase++;
      p.paramsCurve.push({ iteration: step.iteration, params: learner.parameterCount() });
    }
    const s = performance.now();
    const loss = learner.observe(step.batch);
    if (step.endsContext !== null) learner.onBoundary?.(step.endsContext);
    p.trainMs += performance.now() - s;
    p.samples += step.batch.size;
    const held = learner.traits.cumulativeStream ? heldByPhase(p.phase) : learner.storedRawSamples();
    p.stored = { max: Math.max(p.stored.max, held), atEnd: held };
    p.iteration = step.iteration + 1;
    if (p.iteration % cfg.evalEvery === 0 || p.iteration === total) {
      p.curve.push({ iteration: p.iteration, accuracy: curveTest.accuracies(learner), loss });
    }
    if (ckpt !== undefined && p.iteration % ckpt.every === 0 && p.iteration < total) {
      saveRun(ckpt.file, cfg, learner, { ...p, elapsedMs: elapsed() });
    }
    hooks.onIteration?.(p.iteration, total, loss);
  }
  // The end of the stream (not a context boundary): a learner may settle, e.g. consolidate its short-term memory.
  // `finish` must be idempotent: a run resumed from its final checkpoint calls it again.
  learner.finish?.();
  const held = learner.traits.cumulativeStream ? heldByPhase(p.phase) : learner.storedRawSamples();
  p.stored = { max: Math.max(p.stored.max, held), atEnd: held };
  while (p.matrix.length < T) p.matrix.push(fullTest.accuracies(learner));
  if (p.paramsCurve.at(-1)!.iteration !== total) p.paramsCurve.push({ iteration: total, params: learner.parameterCount() });
  if (ckpt !== undefined) saveRun(ckpt.file, cfg, learner, { ...p, elapsedMs: elapsed() });
  if (hooks.saveTo !== undefined) saveLearner(learner, hooks.saveTo, fingerprint);
  const { matrix, initialAccuracy } = p;

  return {
    protocol: cfg.protocol,
    scenario: cfg.scenario,
    stream: cfg.stream,
    method: cfg.method,
    engine: cfg.engine,
    seed: cfg.seed,
    accuracyMatrix: matrix,
    initialAccuracy,
    acc: acc(matrix),
    bwt: bwt(matrix),
    fwt: fwt(matrix, initialAccuracy),
    forgetting: forgetting(matrix),
    onlineCurve: p.curve,
    wallSeconds: elapsed() / 1000,
    trainSeconds: p.trainMs / 1000,
    trainSamplesPerSecond: p.samples / (p.trainMs / 1000),
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    params: learner.parameterCount(),
    paramsCurve: p.paramsCurve,
    backend: { name: b.name, blas: b.blas, threads: b.getThreads(), description: describeBackend(b) },
    storedRawSamples: p.stored,
    series: learner.series?.() ?? {},
    config: { ...cfg, methodOptions: optionRecord(learner.resolvedOptions()) },
    provenance: origin,
  };
}

/** The protocol a run configuration describes (`cumulative`: the joint-training stream). */
export function protocolConfig(cfg: RunConfig, cumulative: boolean): ProtocolConfig {
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
    padding: cfg.padding,
    ...(cfg.fuzziness !== null ? { fuzziness: cfg.fuzziness } : {}),
    cumulative,
  };
}

