import type { Tensor } from '../core/index.js';
import type { State } from '../optim/index.js';
import type { Batch, ProtocolName, Scenario, StreamKind } from '../protocols/types.js';
import type { Activation } from '../kernels/backend.js';
import type { Engine, PcSettings } from '../predictive-coding/index.js';
import type { ReportedOptions } from './method-options.js';

/**
 * The learner lifecycle (Avalanche's vocabulary, a small explicit loop instead of a callback bus):
 * `observe` a batch of the stream, `predict` labels, and optionally `onBoundary` when a `boundaries` stream
 * says a context ended (never called in task-free streams).
 */
export interface Learner {
  readonly method: string;
  readonly traits: LearnerTraits;
  /** Learn from one batch; returns the training loss. */
  observe(batch: Batch): number;
  /** Predicted labels for `n` inputs (row-major n×inputSize); `contexts` is given only where the scenario allows. */
  predict(x: Float32Array, n: number, contexts: Int32Array | null): Int32Array;
  onBoundary?(context: number): void;
  /** The stream has ended (not a context boundary): settle, e.g. consolidate a short-term memory. */
  finish?(): void;
  /** Method-specific series for the result (e.g. surprise over time), as rows of numbers. */
  series?(): Record<string, number[][]>;
  /** Every option the method runs with, defaults included: what a result records as `config.methodOptions`. */
  resolvedOptions(): ReportedOptions;
  /** Raw training samples the learner holds right now. */
  storedRawSamples(): number;
  parameterCount(): number;
  /** Every piece of state, explicit and serialisable. */
  getState(): LearnerState;
  setState(state: LearnerState): void;
}

/** What a method is, declared so that shared code never branches on a method's name. */
export interface LearnerTraits {
  /** Keeps raw training samples (replay buffers, joint training). */
  readonly storesRawSamples: boolean;
  /** Trains on the union of all contexts so far (the joint upper bound): the stream is made cumulative. */
  readonly cumulativeStream: boolean;
}

/** Everything a learner needs to know about the problem and its hyperparameters. */
export interface LearnerSetup {
  inputSize: number;
  numOutputs: number;
  /** Output units allowed for a context (task-IL heads), or null for all. */
  activeOutputs: (context: number) => number[] | null;
  hidden: number[];
  activation: Activation;
  /** Linear layers have biases (default true). */
  bias?: boolean;
  optimizer: 'adam' | 'sgd';
  lr: number;
  momentum: number;
  seed: number;
  /** The protocol, scenario and stream, so that methods can pick their published defaults. */
  protocol: ProtocolName;
  scenario: Scenario;
  stream: StreamKind;
  itersPerContext: number;
  /** Contexts in the protocol (the size of per-context structures such as BI-R's context gates). */
  numContexts: number;
  batchSize: number;
  /** Method-specific options (`--set key=value`), validated by the method. */
  methodOptions?: Record<string, unknown>;
  /** How the network learns (default backprop), and predictive coding's settings under `pc`. */
  engine?: Engine;
  pc?: PcSettings;
}

/** A learner's state: named parameter arrays, optimiser state, RNG state and method-specific numbers. */
export interface LearnerState {
  method: string;
  params: Record<string, Float32Array>;
  optimizer: State;
  rng: number[];
  extra: State;
}

/** Parameter arrays by name, for {@link LearnerState.params}. */
export function namedParams(names: readonly string[], params: readonly Tensor[]): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  params.forEach((p, i) => (out[names[i]!] = p.data));
  return out;
}

/** Copy saved parameter arrays back by name; a missing or wrongly sized one is an error (a different model). */
export function restoreNamedParams(names: readonly string[], params: readonly Tensor[], saved: Record<string, Float32Array>): void {
  params.forEach((p, i) => {
    const src = saved[names[i]!];
    if (src === undefined || src.length !== p.size) {
      throw new Error(`checkpoint parameter ${names[i]} is missing or has the wrong size`);
    }
    p.data.set(src);
  });
}
