import { add, crossEntropy, maskLogits, scale, softCrossEntropy, Tensor } from '../../core/index.js';
import { getBackend } from '../../kernels/index.js';
import { argmaxRows } from '../classifier.js';

/**
 * Replay targets from a teacher's logits on replayed inputs, and the replay loss on the student's logits —
 * shared by the generative-replay methods. `heads` are the output groups the teacher knew: one group (the
 * classes seen so far) outside task-IL, one per earlier context in task-IL; the loss is averaged over heads
 * (van de Ven et al.'s per-context replay in task-IL).
 *
 * - hard targets (DGR): the teacher's argmax within the head, cross-entropy on the student's logits masked
 *   to the student's active outputs for that head;
 * - soft targets (distillation): softmax(teacher/T) within the head, zero elsewhere, and
 *   T²·CE(soft targets ‖ softmax(student/T)) — `loss_fn_kd` of the reference, whose zero-padding of the
 *   targets for classes the teacher never saw is the zeros here.
 */
export interface ReplayHead {
  /** Output units the teacher knew in this head. */
  teacher: readonly number[];
  /** Output units the student may use for this head now (in class-IL: every class seen so far). */
  student: readonly number[];
}

export function replayLoss(
  student: Tensor, teacherLogits: Float32Array, heads: readonly ReplayHead[], soft: boolean, temperature: number,
): Tensor {
  const rows = student.rows;
  const cols = student.cols;
  let total: Tensor | null = null;
  for (const head of heads) {
    const studentMask = rowMask(head.student, rows, cols);
    const logits = maskLogits(student, studentMask);
    let term: Tensor;
    if (soft) {
      const targets = softTargets(teacherLogits, head.teacher, rows, cols, temperature);
      term = scale(softCrossEntropy(logits, Tensor.from(targets, [rows, cols]), temperature), temperature * temperature);
    } else {
      term = crossEntropy(logits, hardTargets(teacherLogits, head.teacher, rows, cols));
    }
    total = total === null ? term : add(total, term);
  }
  if (total === null) throw new Error('replay needs at least one head');
  return heads.length === 1 ? total : scale(total, 1 / heads.length);
}

/** A rows×cols 0/1 mask keeping the listed columns. */
export function rowMask(keep: readonly number[], rows: number, cols: number): Uint8Array {
  const row = new Uint8Array(cols);
  for (const o of keep) row[o] = 1;
  const m = new Uint8Array(rows * cols);
  for (let r = 0; r < rows; r++) m.set(row, r * cols);
  return m;
}

/** softmax(z/T) over the kept columns, 0 elsewhere. */
export function softTargets(z: Float32Array, keep: readonly number[], rows: number, cols: number, T: number): Float32Array {
  const k = keep.length;
  const sub = new Float32Array(rows * k);
  for (let r = 0; r < rows; r++) for (let j = 0; j < k; j++) sub[r * k + j] = z[r * cols + keep[j]!]! / T;
  getBackend().logSoftmax(sub, rows, k, sub);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let j = 0; j < k; j++) out[r * cols + keep[j]!] = Math.exp(sub[r * k + j]!);
  return out;
}

/** The teacher's most likely output within the kept columns, per row. */
export function hardTargets(z: Float32Array, keep: readonly number[], rows: number, cols: number): Int32Array {
  const k = keep.length;
  const sub = new Float32Array(rows * k);
  for (let r = 0; r < rows; r++) for (let j = 0; j < k; j++) sub[r * k + j] = z[r * cols + keep[j]!]!;
  const idx = argmaxRows(sub, rows, k);
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) out[r] = keep[idx[r]!]!;
  return out;
}
