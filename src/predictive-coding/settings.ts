/** How a network learns: backprop (`bp`) or predictive coding (`pc`, local updates, no autodiff). */
export const engineNames = ['bp', 'pc'] as const;
export type Engine = (typeof engineNames)[number];

/**
 * The predictive-coding engine's settings (the run options `--pc-steps`, `--pc-incremental`). The activity
 * optimiser's values are constants of the engine (below): only what a user has a reason to change is a setting.
 */
export interface PcSettings {
  /** Inference steps T per batch (PCX's MLP: 5; iPC: 8). */
  steps: number;
  /** iPC: a weight update at every inference step (T per batch) instead of one after the T steps. */
  incremental: boolean;
}

export const defaultPcSettings: PcSettings = { steps: 5, incremental: false };

/**
 * SGD on the activities: step size and momentum. Each sample's activities follow the gradient of its own
 * energy (not the batch mean), so the step does not depend on the batch size. Chosen on the validation split
 * (tuning seeds 101–103, iid, both data sets; docs/PREDICTIVE-CODING.md): with the weight updates summed over
 * the batch, 0.005 and backprop's learning rate put PC within 0.1 point of backprop on both; larger steps let
 * inference explain the output's error away near the top, and Fashion-MNIST degrades.
 */
export const ACTIVITY_LR = 0.005;
export const ACTIVITY_MOMENTUM = 0.35;
