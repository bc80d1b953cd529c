import { noGrad, Rng, Tensor } from '../core/index.js';
import { getBackend } from '../kernels/index.js';
import type { Vae } from './vae.js';

/**
 * How log p(x|z) is scored from the decoder's pixel logits l (means μ = σ(l)):
 *
 * - `bernoulli`: Σ_i x_i·log μ_i + (1 − x_i)·log(1 − μ_i) = Σ_i x_i·l_i − softplus(l_i) (the model the VAE is
 *   trained with: its reconstruction loss is this BCE);
 * - `gaussian`: Σ_i log N(x_i; μ_i, 1) = −½ Σ_i (x_i − μ_i)² − (D/2)·log 2π, a unit-variance Gaussian around the
 *   decoder's output. This is what van de Ven et al.'s generative classifier evaluates
 *   (GMvandeVen/continual-learning `models/vae.py`, `estimate_lls`: `log_Normal_standard(x=x, mean=x_recon)`,
 *   x_recon = the sigmoid output), although they train with BCE.
 */
export type ObservationModel = 'bernoulli' | 'gaussian';

export interface LikelihoodOptions {
  /** Observation model of log p(x|z) (default `bernoulli`, the VAE's training model). */
  observation?: ObservationModel;
  /**
   * The standard-normal draws ε, laid out [row, sample, latent] (n·samples·zDim values or more; z = μ + σ·ε);
   * when given, `rng` is not used. Fixed draws make the estimate a deterministic function of the inputs.
   */
  noise?: Float32Array;
  /** Decoder rows (input rows × samples) per chunk: large enough for efficient GEMMs, small enough for cache. */
  chunkRows?: number;
}

/** Default decoder rows per chunk (measured on the native backend: larger chunks leave L2 and run slower). */
export const DEFAULT_CHUNK_ROWS = 512;

const LOG_2PI = Math.log(2 * Math.PI);

/**
 * Importance-sampled estimate of log p(x) under a VAE with the standard prior N(0, I), for each of `n` rows of
 * `x` (row-major n×inputSize):
 *
 *   log p(x) ≈ log (1/S) Σ_s p(x|z_s)·p(z_s) / q(z_s|x),   z_s ~ q(z|x) = N(μ(x), diag σ²(x)),
 *
 * with S = `samples` (Burda et al.'s importance-weighted bound; S = 1 is an unbiased one-sample ELBO estimate,
 * and the estimate rises to log p(x) as S grows). The log-mean-exp runs in double precision.
 *
 * For speed the decoder runs on the S·rows latents of a chunk of rows at once, straight on the backend's
 * kernels with reused buffers (GEMM, bias, ReLU), not through the autodiff ops; the observation model's sums
 * over pixels are GEMVs: x·v per input row over its S samples, and Σ_i f(v_i) against a vector of ones. The
 * only JavaScript loops run over rows × samples × latents.
 *
 * @example
 * const ll = logLikelihood(vae, x, n, 50, rng);               // Float64Array(n), Bernoulli decoder
 * const g = logLikelihood(vae, x, n, 50, rng, { observation: 'gaussian' });
 */
export function logLikelihood(
  vae: Vae, x: Float32Array, n: number, samples: number, rng: Rng, options: LikelihoodOptions = {},
): Float64Array {
  const { inputSize: d, zDim, prior, gates } = vae.config;
  if (prior !== 'standard' || gates !== null) {
    throw new Error('logLikelihood needs a VAE with the standard prior and an ungated decoder');
  }
  if (!Number.isInteger(samples) || samples < 1) throw new Error(`samples must be a positive integer, got ${samples}`);
  if (x.length < n * d) throw new Error(`x has ${x.length} values for ${n} rows of ${d}`);
  const out = new Float64Array(n);
  if (n === 0) return out;
  const S = samples;
  const observation = options.observation ?? 'bernoulli';
  let noise = options.noise;
  if (noise === undefined) {
    noise = new Float32Array(n * S * zDim);
    for (let i = 0; i < noise.length; i++) noise[i] = rng.normal();
  } else if (noise.length < n * S * zDim) {
    throw new Error(`noise has ${noise.length} values, ${n * S * zDim} needed`);
  }

  // Gaussian observation: Σ x² per row and the normalising constant.
  const gaussConst = -0.5 * d * LOG_2PI;
  let xSquares: Float64Array | null = null;
  if (observation === 'gaussian') {
    xSquares = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      let q = 0;
      for (let i = r * d; i < r * d + d; i++) q += x[i]! * x[i]!;
      xSquares[r] = q;
    }
  }

  // Encoder once per input row.
  const { mu, logvar } = noGrad(() => {
    const h = vae.features(Tensor.from(x.subarray(0, n * d), [n, d]));
    return { mu: vae.toMean.forward(h).data, logvar: vae.toLogvar.forward(h).data };
  });

  const b = getBackend();
  const rowsPerChunk = Math.max(1, Math.min(n, Math.floor((options.chunkRows ?? DEFAULT_CHUNK_ROWS) / S)));
  const maxR = rowsPerChunk * S;
  const layers = vae.decoder;
  const bufs = layers.map((l) => new Float32Array(maxR * l.outSize));
  const z = new Float32Array(maxR * zDim);
  const work = observation === 'bernoulli' ? new Float32Array(maxR * d) : null;
  const ones = new Float32Array(d).fill(1);
  const xDot = new Float32Array(maxR);
  const rowSums = new Float32Array(maxR);
  // Per latent sample: log p(z) − log q(z|x) (the −½ log 2π constants cancel); with z = μ + σε it is
  // Σ_j −½ z_j² + ½ log σ_j² + ½ ε_j². Then the whole log-weight.
  const logW = new Float64Array(maxR);
  const sd = new Float64Array(zDim);

  for (let r0 = 0; r0 < n; r0 += rowsPerChunk) {
    const rows = Math.min(rowsPerChunk, n - r0);
    const R = rows * S;
    for (let r = 0; r < rows; r++) {
      const row = r0 + r;
      let halfLogDet = 0;
      for (let j = 0; j < zDim; j++) {
        const lv = logvar[row * zDim + j]!;
        sd[j] = Math.exp(0.5 * lv);
        halfLogDet += 0.5 * lv;
      }
      const m = mu.subarray(row * zDim, row * zDim + zDim);
      for (let s = 0; s < S; s++) {
        const k = r * S + s;
        const e0 = (row * S + s) * zDim;
        let w = halfLogDet;
        for (let j = 0; j < zDim; j++) {
          const e = noise[e0 + j]!;
          const zj = m[j]! + sd[j]! * e;
          z[k * zDim + j] = zj;
          w += 0.5 * (e * e - zj * zj);
        }
        logW[k] = w;
      }
    }
    // Decoder: z → ReLU hidden layers → pixel logits.
    let h = z.subarray(0, R * zDim);
    for (let l = 0; l < layers.length; l++) {
      const layer = layers[l]!;
      const o = bufs[l]!.subarray(0, R * layer.outSize);
      b.gemm(false, false, R, layer.outSize, layer.inSize, 1, h, layer.weight.data, 0, o);
      if (layer.bias !== null) b.addRowVector(o, layer.bias.data, R, layer.outSize, o);
      if (l + 1 < layers.length) b.unary('relu', o, o);
      h = o;
    }
    const logits = h;
    // x·v for each latent sample's row v of `m` (R×d): one GEMV per input row over its S samples.
    const dotX = (m: Float32Array): void => {
      for (let r = 0; r < rows; r++) {
        const row = r0 + r;
        b.gemm(false, false, S, 1, d, 1, m.subarray(r * S * d, (r + 1) * S * d), x.subarray(row * d, row * d + d), 0,
          xDot.subarray(r * S, r * S + S));
      }
    };
    if (observation === 'gaussian') {
      // −½ Σ (x − μ)² = −½ (Σ x² − 2 x·μ + Σ μ²), μ = σ(l).
      b.unary('sigmoid', logits, logits);
      dotX(logits);
      b.binary('mul', logits, logits, logits);
      b.gemm(false, false, R, 1, d, 1, logits, ones, 0, rowSums);
      for (let r = 0; r < rows; r++) {
        const sq = xSquares![r0 + r]!;
        for (let s = 0; s < S; s++) {
          const k = r * S + s;
          logW[k] += -0.5 * (sq - 2 * xDot[k]! + rowSums[k]!) + gaussConst;
        }
      }
    } else {
      // Σ x·l − softplus(l), softplus(l) = relu(l) − log σ(|l|) (σ(|l|) ≥ ½: no underflow), |l| = 2·relu(l) − l.
      const t = work!.subarray(0, R * d);
      dotX(logits);
      b.unary('relu', logits, t);
      b.axpby(2, t, -1, logits, logits);
      b.unary('sigmoid', logits, logits);
      b.unary('log', logits, logits);
      b.binary('sub', t, logits, t);
      b.gemm(false, false, R, 1, d, 1, t, ones, 0, rowSums);
      for (let k = 0; k < R; k++) logW[k] += xDot[k]! - rowSums[k]!;
    }
    for (let r = 0; r < rows; r++) out[r0 + r] = logMeanExp(logW, r * S, S);
  }
  return out;
}

/** log (1/S) Σ_s exp(v[start + s]) in double precision; NaN if any term is NaN. */
function logMeanExp(v: Float64Array, start: number, S: number): number {
  let m = -Infinity;
  for (let s = 0; s < S; s++) {
    const a = v[start + s]!;
    if (Number.isNaN(a)) return Number.NaN;
    if (a > m) m = a;
  }
  if (!Number.isFinite(m)) return m;
  let acc = 0;
  for (let s = 0; s < S; s++) acc += Math.exp(v[start + s]! - m);
  return m + Math.log(acc / S);
}
