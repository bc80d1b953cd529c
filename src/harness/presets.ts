import type { RunConfig } from './config.js';

/**
 * Method-specific protocol defaults: where a method's paper used a protocol of its own, `--method M
 * --protocol P` runs that protocol unless the user's options say otherwise (user option > method preset >
 * protocol default; applied in `resolveConfig`).
 */
export interface MethodPreset {
  /** Settings that replace the protocol's defaults. */
  readonly config: Partial<RunConfig>;
  /**
   * Training length as epochs over a context's training set; when the user gives no `iters`, it becomes
   * iters = ⌈epochs × training samples per context / batch⌉, from the resolved batch and validation sizes
   * (see {@link trainSamplesPerContext}).
   */
  readonly epochsPerContext?: number;
}

/** MNIST's training images; permuted and rotated MNIST train every context on all of them but the validation ones. */
export const MNIST_TRAIN_IMAGES = 60_000;

/**
 * Training samples of one context, or null where contexts differ in size (split MNIST, whose classes are not
 * equally frequent). Permuted / rotated MNIST hold out one shared validation set (`valPerContext` images).
 */
export function trainSamplesPerContext(protocol: RunConfig['protocol'], valPerContext: number): number | null {
  return protocol === 'split-mnist' ? null : MNIST_TRAIN_IMAGES - valPerContext;
}

/**
 * The preset of `method` on `protocol`, or null when the method runs the protocol's defaults.
 *
 * - `gpm` on permuted MNIST: the protocol of Saha, Garg & Roy (2021) (their `main_pmnist.py`): 784-100-100-10
 *   ReLU without biases, plain SGD lr 0.01 (their `--momentum 0.9` argument is never passed to the optimiser),
 *   batch 10, 5 epochs per context, 10 contexts. They train on 54 000 samples per context (10 % validation
 *   split), i.e. 27 000 iterations; here 5 epochs of this protocol's training set (60 000 − valPerContext; with
 *   the default 500: 29 750 iterations). The stream draws whole shuffled batches and starts a new epoch when
 *   fewer than a batch remain (`drop_last`), where theirs ends each epoch with a partial batch; with 59 500
 *   samples and batch 10 there is no remainder and the two coincide.
 */
export function methodPreset(method: string, protocol: RunConfig['protocol']): MethodPreset | null {
  if (method === 'gpm' && protocol === 'permuted-mnist') {
    return {
      config: {
        hidden: [100, 100], activation: 'relu', bias: false, optimizer: 'sgd', lr: 0.01, momentum: 0, batch: 10, contexts: 10,
        padding: 0, // `x.view(-1, 28*28)`: GPM permutes the 784 raw pixels
      },
      epochsPerContext: 5,
    };
  }
  return null;
}

/** Iterations per context for `epochs` over a context's training set, or null where that size is not fixed. */
export function itersForEpochs(epochs: number, protocol: RunConfig['protocol'], valPerContext: number, batch: number): number | null {
  const n = trainSamplesPerContext(protocol, valPerContext);
  if (n === null || !(n > 0) || !(batch > 0)) return null;
  return Math.ceil((epochs * n) / batch);
}
