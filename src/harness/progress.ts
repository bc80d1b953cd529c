import type { Learner } from '../learners/index.js';
import { isStateRecord, type State } from '../optim/index.js';
import { CheckpointError, loadCheckpoint, saveCheckpoint } from '../state/index.js';
import type { RunConfig } from './config.js';
import { learnerState, restoreLearner } from './persist.js';

/** Everything a run has measured so far: enough to resume it and still report the whole run. */
export interface RunProgress {
  /** Iterations done. */
  iteration: number;
  phase: number;
  initialAccuracy: number[];
  matrix: number[][];
  curve: { iteration: number; accuracy: number[]; loss: number }[];
  paramsCurve: { iteration: number; params: number }[];
  stored: { max: number; atEnd: number };
  trainMs: number;
  samples: number;
  /** Wall time spent in earlier invocations of a resumed run. */
  elapsedMs: number;
}

/** The configuration that must match for a run to resume (threads only change speed, not results). */
function resumeKey(cfg: RunConfig): Record<string, unknown> {
  const { threads: _threads, ...rest } = cfg;
  return { kind: 'run', ...rest };
}

function encodeProgress(p: RunProgress): State {
  return {
    iteration: p.iteration,
    phase: p.phase,
    initialAccuracy: p.initialAccuracy,
    matrix: p.matrix,
    curve: { iteration: p.curve.map((c) => c.iteration), accuracy: p.curve.map((c) => c.accuracy), loss: p.curve.map((c) => c.loss) },
    paramsCurve: { iteration: p.paramsCurve.map((c) => c.iteration), params: p.paramsCurve.map((c) => c.params) },
    stored: p.stored,
    trainMs: p.trainMs,
    samples: p.samples,
    elapsedMs: p.elapsedMs,
  };
}

/** Numbers out of a decoded checkpoint, or a CheckpointError naming what is missing. */
class Reader {
  constructor(private readonly file: string) {}
  fail(what: string): never {
    throw new CheckpointError(`${this.file}: run checkpoint lacks ${what}`);
  }
  rec(s: State | undefined, what: string): { readonly [k: string]: State } {
    return isStateRecord(s) ? s : this.fail(what);
  }
  num(s: State | undefined, what: string): number {
    return typeof s === 'number' ? s : this.fail(what);
  }
  nums(s: State | undefined, what: string): number[] {
    if (!Array.isArray(s)) this.fail(what);
    return (s as readonly State[]).map((x) => this.num(x, what));
  }
  rows(s: State | undefined, what: string): number[][] {
    if (!Array.isArray(s)) this.fail(what);
    return (s as readonly State[]).map((x) => this.nums(x, what));
  }
}

function decodeProgress(s: State, file: string): RunProgress {
  const r = new Reader(file);
  const p = r.rec(s, 'progress');
  const curve = r.rec(p['curve'], 'curve');
  const its = r.nums(curve['iteration'], 'curve');
  const accs = r.rows(curve['accuracy'], 'curve');
  const losses = r.nums(curve['loss'], 'curve');
  const pc = r.rec(p['paramsCurve'], 'paramsCurve');
  const pcIts = r.nums(pc['iteration'], 'paramsCurve');
  const pcParams = r.nums(pc['params'], 'paramsCurve');
  const stored = r.rec(p['stored'], 'stored');
  return {
    iteration: r.num(p['iteration'], 'iteration'),
    phase: r.num(p['phase'], 'phase'),
    initialAccuracy: r.nums(p['initialAccuracy'], 'initialAccuracy'),
    matrix: r.rows(p['matrix'], 'matrix'),
    curve: its.map((iteration, i) => ({ iteration, accuracy: accs[i] ?? r.fail('curve'), loss: losses[i] ?? r.fail('curve') })),
    paramsCurve: pcIts.map((iteration, i) => ({ iteration, params: pcParams[i] ?? r.fail('paramsCurve') })),
    stored: { max: r.num(stored['max'], 'stored'), atEnd: r.num(stored['atEnd'], 'stored') },
    trainMs: r.num(p['trainMs'], 'trainMs'),
    samples: r.num(p['samples'], 'samples'),
    elapsedMs: r.num(p['elapsedMs'], 'elapsedMs'),
  };
}

/** Save a run in progress (learner and measurements), atomically. */
export function saveRun(file: string, cfg: RunConfig, learner: Learner, progress: RunProgress): void {
  saveCheckpoint(file, { config: resumeKey(cfg), state: { learner: learnerState(learner), progress: encodeProgress(progress) } });
}

/** Restore a run saved by {@link saveRun} into `learner`; returns its progress. */
export function loadRun(file: string, cfg: RunConfig, learner: Learner): RunProgress {
  const { state } = loadCheckpoint(file, resumeKey(cfg));
  const r = new Reader(file);
  const rec = r.rec(state, 'state');
  restoreLearner(learner, rec['learner'] ?? r.fail('the learner'), file);
  return decodeProgress(rec['progress'] ?? r.fail('progress'), file);
}
