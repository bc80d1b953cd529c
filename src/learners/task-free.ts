/**
 * Task-free streams give no boundary signal, so the baselines that take a teacher or consolidate "after each
 * context" in a boundaries stream (lwf, dgr, dgr-distill, bi-r: teacher snapshots; ewc, ewc-online, mas, gpm:
 * consolidation) do it every this many training iterations instead. The interval is fixed: it is not derived
 * from the protocol (its iterations per context or its number of contexts), which a task-free learner cannot
 * know. Each method exposes it as an option (`--set snapshotEvery=…` or `--set consolidateEvery=…`).
 *
 * Why 2000: it is the interval these baselines used before it was fixed (the Split MNIST context length), so
 * their Split and Split Fashion-MNIST results with the default protocol are unchanged; with other lengths
 * (`--iters`, Permuted MNIST's 5000) the teacher no longer follows the protocol.
 *
 * SI keeps its own published interval, `SI_TASK_FREE_UPDATE_EVERY` (van de Ven's `--update-every 100`).
 *
 * @example
 * const every = opts.snapshotEvery ?? TASK_FREE_UPDATE_EVERY;
 */
export const TASK_FREE_UPDATE_EVERY = 2000;
