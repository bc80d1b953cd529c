import { add, crossEntropy, maskLogits, scale, softCrossEntropy, Tensor } from '../../core/index.js';
import { hardTargets, rowMask, softTargets, type ReplayHead } from '../heads/index.js';

/**
 * The replay loss on the student's logits, from a teacher's logits on replayed (or current) inputs — shared
 * by the distillation and generative-replay methods. `heads` are the output groups the teacher knew: one group
 * (the classes seen so far) outside task-IL, one per earlier context in task-IL; the loss is averaged over
 * heads (van de Ven et al.'s per-context replay in task-IL).
 *
 * - hard targets (DGR): the teacher's argmax within the head, cross-entropy on the student's logits masked
 *   to the student's active outputs for that head;
 * - soft targets (distillation): softmax(teacher/T) within the head, zero elsewhere, and
 *   T²·CE(soft targets ‖ softmax(student/T)) — `loss_fn_kd` of the reference, whose zero-padding of the
 *   targets for classes the teacher never saw is the zeros here.
 */
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
