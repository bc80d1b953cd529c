import type { Learner } from '../learners/index.js';
import type { Protocol } from '../protocols/types.js';
import { isStateRecord, type State } from '../optim/index.js';
import { CheckpointError, loadCheckpoint, saveCheckpoint } from '../state/index.js';
import type { RunConfig } from './config.js';

/** The configuration a saved learner must share with the run that loads it. */
export function learnerCheckpointConfig(cfg: RunConfig, protocol: Protocol): Record<string, unknown> {
  return {
    method: cfg.method,
    inputSize: protocol.inputSize,
    numOutputs: protocol.numOutputs,
    hidden: cfg.hidden,
    activation: cfg.activation,
    bias: cfg.bias,
    optimizer: cfg.optimizer,
    scenario: cfg.scenario,
  };
}

/** A learner's whole state as checkpoint state. */
export function learnerState(learner: Learner): State {
  const { params, optimizer, rng, extra } = learner.getState();
  return { params, optimizer, rng, extra };
}

/** Save every piece of a learner's state (atomic write). */
export function saveLearner(learner: Learner, file: string, config: Record<string, unknown>): void {
  saveCheckpoint(file, { config, state: learnerState(learner) });
}

/** Restore a learner saved by {@link saveLearner}; a different configuration fails with a clear message. */
export function loadLearner(learner: Learner, file: string, config: Record<string, unknown>): void {
  restoreLearner(learner, loadCheckpoint(file, config).state, file);
}

/** Put state made by {@link learnerState} back into a learner. */
export function restoreLearner(learner: Learner, state: State, file: string): void {
  const bad = (what: string): CheckpointError => new CheckpointError(`${file}: checkpoint ${what}`);
  if (!isStateRecord(state)) throw bad('state is not a learner state');
  const { params, optimizer, rng, extra } = state;
  if (!isStateRecord(params)) throw bad('lacks parameters');
  const arrays: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(params)) {
    if (!(v instanceof Float32Array)) throw bad(`parameter ${k} is not an array`);
    arrays[k] = v;
  }
  if (!Array.isArray(rng) || !rng.every((x): x is number => typeof x === 'number')) throw bad('lacks the RNG state');
  if (optimizer === undefined || extra === undefined) throw bad('lacks optimiser or method state');
  learner.setState({ method: learner.method, params: arrays, optimizer, rng, extra });
}
