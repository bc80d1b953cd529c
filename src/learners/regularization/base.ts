import type { Tensor } from '../../core/index.js';
import type { State } from '../../optim/index.js';
import type { Batch } from '../../protocols/types.js';
import { ClassifierLearner } from '../classifier.js';
import type { LearnerSetup } from '../learner.js';
import { QuadraticPenalty } from './penalty.js';

/**
 * The shared skeleton of the parameter-regularisation baselines (EWC, online EWC, SI, MAS): cross-entropy plus
 * a diagonal quadratic penalty (scale/2)·Σ Ω (θ − θ*)² whose gradient is added in `adjustGradients`, and a
 * consolidation schedule that updates Ω and θ*:
 * - `boundaries` streams: at every context boundary (`onBoundary`);
 * - `task-free` streams (no boundary signal): every `consolidateEvery` iterations.
 * Subclasses say how importance is gathered (`afterPenalisedStep`) and consolidated (`consolidate`).
 *
 * @example
 * class L2 extends QuadraticPenaltyLearner {
 *   protected scale() { return 1; }
 *   protected consolidate() { this.penalty.accumulate(ones, this.paramData()); }
 * }
 */
export abstract class QuadraticPenaltyLearner extends ClassifierLearner {
  protected readonly penalty: QuadraticPenalty;
  /** Task-free streams: iterations between consolidations (null in boundaries streams, which use the boundaries). */
  readonly consolidateEvery: number | null;
  /** Training iterations since the last consolidation (or since the start). */
  protected sinceConsolidation = 0;
  /** Consolidations done so far. */
  protected consolidations = 0;

  constructor(method: string, setup: LearnerSetup, consolidateEvery: number | null) {
    super(method, { storesRawSamples: false, cumulativeStream: false }, setup);
    if (setup.stream === 'task-free') {
      if (consolidateEvery === null) throw new RangeError(`${method}: a task-free stream needs consolidateEvery`);
      assertPositiveInt(consolidateEvery, 'consolidateEvery');
    }
    this.consolidateEvery = setup.stream === 'task-free' ? consolidateEvery : null;
    this.penalty = new QuadraticPenalty(this.paramData());
  }

  /** The coefficient of the penalty's gradient, scale · Ω ⊙ (θ − θ*). */
  protected abstract scale(): number;

  /** Fold what was gathered since the last consolidation into Ω and θ*. */
  protected abstract consolidate(): void;

  /** Gather importance after a step (default: nothing). `sinceConsolidation` already counts this step. */
  protected afterPenalisedStep(_params: Tensor[], _updates: readonly Float32Array[], _batch: Batch): void {}

  /** Iterations in the current consolidation period: a context (boundaries) or `consolidateEvery` (task-free). */
  protected periodLength(): number {
    return this.consolidateEvery ?? this.setup.itersPerContext;
  }

  protected override adjustGradients(params: Tensor[], _batch: Batch): void {
    this.penalty.addGradient(params, this.scale());
  }

  protected override afterStep(params: Tensor[], updates: readonly Float32Array[], batch: Batch): void {
    this.sinceConsolidation++;
    this.afterPenalisedStep(params, updates, batch);
    if (this.consolidateEvery !== null && this.sinceConsolidation >= this.consolidateEvery) this.runConsolidation();
  }

  onBoundary(_context: number): void {
    if (this.setup.stream === 'boundaries') this.runConsolidation();
  }

  private runConsolidation(): void {
    this.consolidate();
    this.consolidations++;
    this.sinceConsolidation = 0;
  }

  /** Consolidations done so far (for tests and diagnostics). */
  consolidationCount(): number {
    return this.consolidations;
  }

  /** The penalty's current value (for tests and diagnostics). */
  penaltyValue(): number {
    return this.penalty.value(this.paramData(), this.scale());
  }

  /** The live parameter arrays, in `net.parameters()` order. */
  protected paramData(): Float32Array[] {
    return this.net.parameters().map((p) => p.data);
  }

  protected override extraState(): State {
    return {
      penalty: this.penalty.getState(),
      sinceConsolidation: this.sinceConsolidation,
      consolidations: this.consolidations,
      method: this.methodState(),
    };
  }

  protected override restoreExtraState(extra: State): void {
    const e = extra as { penalty: State; sinceConsolidation: number; consolidations: number; method: State };
    this.penalty.setState(e.penalty);
    this.sinceConsolidation = e.sinceConsolidation;
    this.consolidations = e.consolidations;
    this.restoreMethodState(e.method);
  }

  /** A subclass's own state (default: none). */
  protected methodState(): State {
    return {};
  }

  protected restoreMethodState(_state: State): void {}
}

export function assertPositiveInt(v: number, what: string): void {
  if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${what} must be a positive whole number, got ${v}`);
}

export function assertNonNegative(v: number, what: string): void {
  if (!(Number.isFinite(v) && v >= 0)) throw new RangeError(`${what} must be a finite number ≥ 0, got ${v}`);
}
