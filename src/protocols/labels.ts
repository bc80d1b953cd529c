/**
 * The label space of a scenario (van de Ven & Tolias' three scenarios, as implemented in van de Ven's
 * data/load.py and train/train_task_based.py). With c classes per context and n contexts, class i (0-based
 * position within its context's class list) of context t gets target:
 * - class-IL: t·c + i over n·c outputs (split MNIST: the class's position in classOrder; permuted MNIST:
 *   y + 10·t, so every context has its own 10 outputs);
 * - task-IL: the same targets and outputs, with the learner restricted to context t's block of c outputs;
 * - domain-IL: i over c outputs (split MNIST: "first or second class of the context"; permuted: the digit).
 */
import type { Scenario } from './types.js';

export interface LabelSpace {
  numOutputs: number;
  /** table[t][y] = target of original class y in context t, or -1 where y is not one of t's classes. */
  table: Int32Array[];
  targetOf(context: number, originalClass: number): number;
  activeOutputs(context: number): number[] | null;
}

/**
 * Build the label space for contexts with the given class lists (all of the same length).
 *
 * @example
 * const ls = labelSpace('task', [[0, 1], [2, 3]]);
 * ls.targetOf(1, 3);     // 3
 * ls.activeOutputs(1);   // [2, 3]
 */
export function labelSpace(scenario: Scenario, contextClasses: readonly (readonly number[])[]): LabelSpace {
  const n = contextClasses.length;
  const c = contextClasses[0]?.length ?? 0;
  if (contextClasses.some((cls) => cls.length !== c)) throw new RangeError('every context needs the same number of classes');
  const table = contextClasses.map((classes, t) => {
    const row = new Int32Array(256).fill(-1);
    classes.forEach((y, i) => {
      row[y] = scenario === 'domain' ? i : t * c + i;
    });
    return row;
  });
  const heads = contextClasses.map((_, t) => Array.from({ length: c }, (_, i) => t * c + i));
  return {
    numOutputs: scenario === 'domain' ? c : n * c,
    table,
    targetOf(context: number, originalClass: number): number {
      const row = table[context];
      if (row === undefined) throw new RangeError(`no context ${context} (there are ${n})`);
      const target = row[originalClass] ?? -1;
      if (target < 0) throw new RangeError(`class ${originalClass} is not in context ${context}`);
      return target;
    },
    activeOutputs(context: number): number[] | null {
      if (scenario !== 'task') return null;
      const h = heads[context];
      if (h === undefined) throw new RangeError(`no context ${context} (there are ${n})`);
      return [...h];
    },
  };
}
