import { getBackend } from '../kernels/index.js';

/**
 * The output layer's energy: how a PC network's last prediction a_L (logits) is scored against the clamped
 * target. Each writes δ_L = ∂E_out/∂a_L per sample (the energy is per sample, so nothing is averaged) and the
 * per-sample energies.
 */
export interface OutputEnergy {
  /** Writes δ_L into `delta` (n × k) and returns the batch's summed output energy. */
  gradient(logits: Float32Array, n: number, k: number, delta: Float32Array): number;
  /** Adds each sample's output energy to `out` (n values). */
  addPerSample(logits: Float32Array, n: number, k: number, out: Float32Array): void;
}

/**
 * Class labels: the cross-entropy of softmax(a_L) against the label (PCX's `ce_energy`), over the outputs in
 * play (`mask`, n × k, 1 = in play; null: all). δ_L = softmax(a_L) − onehot(y).
 */
export function labelEnergy(y: Int32Array, mask: Uint8Array | null): OutputEnergy {
  let masked: Float32Array | null = null;
  let logp: Float32Array | null = null;
  const logitsInPlay = (logits: Float32Array): Float32Array => {
    if (mask === null) return logits;
    if (masked?.length !== logits.length) masked = new Float32Array(logits.length);
    for (let i = 0; i < logits.length; i++) masked[i] = mask[i] === 1 ? logits[i]! : -Infinity;
    return masked;
  };
  return {
    gradient: (logits, n, k, delta) => getBackend().softmaxCrossEntropy(logitsInPlay(logits), y, n, k, 1, 1, delta),
    addPerSample: (logits, n, k, out) => {
      if (logp?.length !== logits.length) logp = new Float32Array(logits.length);
      getBackend().logSoftmax(logitsInPlay(logits), n, k, logp);
      for (let r = 0; r < n; r++) out[r] = out[r]! - logp[r * k + y[r]!]!;
    },
  };
}

/**
 * Pixel intensities in [0, 1] (n × k): the Bernoulli energy of sigmoid(a_L) against them (binary cross-entropy
 * from the logits, Σ softplus(a) − x·a), the observation model of a generative network. δ_L = σ(a_L) − x.
 */
export function pixelEnergy(x: Float32Array): OutputEnergy {
  return {
    gradient: (logits, _n, _k, delta) => getBackend().sigmoidBce(logits, x, 1, delta),
    addPerSample: (logits, n, k, out) => {
      // The same kernel row by row, so the samples' energies add up to the batch's.
      const b = getBackend();
      const scratch = new Float32Array(k);
      for (let r = 0; r < n; r++) out[r] = out[r]! + b.sigmoidBce(logits.subarray(r * k, (r + 1) * k), x.subarray(r * k, (r + 1) * k), 1, scratch);
    },
  };
}
