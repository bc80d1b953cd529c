/**
 * Output heads, shared by Engram and the baselines: which outputs a learner has met (`KnownOutputs`, from the
 * labels, no boundary signal), per-row masks of the outputs a loss may use, and targets within a head (the
 * masked tempered softmax, the teacher's argmax).
 *
 * @example
 * const known = new KnownOutputs('class', 10, () => null);
 * known.see(batch);
 * const mask = rowMask(known.studentOutputs(), batch.size, 10);
 * const targets = maskedSoftmax(teacherLogits, mask, batch.size, 10, 2);
 */
export { KnownOutputs, headsFromState, headsToState, type ReplayHead } from './known-outputs.js';
export { contextMask, rowMask } from './masks.js';
export { hardTargets, maskedSoftmax, softTargets } from './targets.js';
