/**
 * The proportion of decoder units each class (or context) gate switches off, as BI-R publishes it (`dg_prop`,
 * GMvandeVen/continual-learning `params/param_values.py`, "gating based on internal context"): Split MNIST
 * task 0 (no gates), domain 0.1, class 0.1; other protocols task 0, domain 0.5, class 0.7. BI-R's
 * default, and Engram's in class-IL.
 *
 * @example
 * new Vae({ ...config, gates: { count: 10, proportion: biRGateProportion('split-mnist', 'class') } }, rng); // 0.1
 */
export function biRGateProportion(protocol: string, scenario: string): number {
  if (scenario === 'task') return 0;
  if (protocol === 'split-mnist') return 0.1;
  return scenario === 'domain' ? 0.5 : 0.7;
}
