import test from 'node:test';
import assert from 'node:assert/strict';
import { noGrad, Rng, Tensor } from '../core/index.js';
import { getBackend } from '../kernels/index.js';
import { logLikelihood, type ObservationModel } from './likelihood.js';
import { Vae, type VaeConfig } from './vae.js';

// Tiny networks: one thread avoids handing each small kernel to a second thread (costly on a shared machine).
getBackend().setThreads(1);

const config = (over: Partial<VaeConfig> = {}): VaeConfig => ({
  inputSize: 3, hidden: [4], zDim: 1, classes: 0, prior: 'standard', modes: 0, gates: null, ...over,
});

/** log p(x|z) of each row of pixel logits, straight from the definitions. */
function logPxGivenZ(logits: Float32Array, x: Float32Array, d: number, observation: ObservationModel): number[] {
  const out: number[] = [];
  for (let r = 0; r < logits.length / d; r++) {
    let s = 0;
    for (let i = 0; i < d; i++) {
      const l = logits[r * d + i]!;
      const xi = x[i]!;
      if (observation === 'bernoulli') {
        const p = 1 / (1 + Math.exp(-l));
        s += xi * Math.log(p) + (1 - xi) * Math.log(1 - p);
      } else {
        const mu = 1 / (1 + Math.exp(-l));
        s += -0.5 * (xi - mu) ** 2 - 0.5 * Math.log(2 * Math.PI);
      }
    }
    out.push(s);
  }
  return out;
}

/** log p(x) = log ∫ p(x|z) N(z; 0, 1) dz for a 1-d latent, by the trapezoid rule on [−10, 10]. */
function exactLogLikelihood(vae: Vae, x: Float32Array, observation: ObservationModel): number {
  const points = 8001;
  const zs = new Float32Array(points);
  for (let i = 0; i < points; i++) zs[i] = -10 + (20 * i) / (points - 1);
  const logits = noGrad(() => vae.decode(Tensor.from(zs, [points, 1]), null)).data;
  const lp = logPxGivenZ(logits, x, vae.config.inputSize, observation);
  const terms = lp.map((v, i) => v - 0.5 * zs[i]! ** 2 - 0.5 * Math.log(2 * Math.PI));
  const m = Math.max(...terms);
  const h = 20 / (points - 1);
  let acc = 0;
  terms.forEach((t, i) => (acc += (i === 0 || i === points - 1 ? 0.5 : 1) * Math.exp(t - m)));
  return m + Math.log(acc * h);
}

test('the importance-sampled estimate converges to log p(x) computed by quadrature (1-d latent)', () => {
  const vae = new Vae(config(), new Rng(3));
  // A decoder that depends clearly on z.
  for (const p of vae.decoder[0]!.parameters()) p.data.forEach((_, i, a) => (a[i] = a[i]! * 3));
  // A proposal q(z|x) = N(0.3, σ² ≥ 1) no narrower than the prior, so that the importance weights have finite
  // variance (a narrower q gives heavy-tailed weights and a slowly converging estimate).
  vae.toMean.weight.data.fill(0);
  vae.toMean.bias!.data.fill(0.3);
  vae.toLogvar.weight.data.fill(0.2);
  const x = new Float32Array([1, 0, 0.7, 0, 1, 0.2]);
  for (const observation of ['bernoulli', 'gaussian'] as const) {
    const est = logLikelihood(vae, x, 2, 20000, new Rng(5), { observation });
    for (let r = 0; r < 2; r++) {
      const exact = exactLogLikelihood(vae, x.subarray(r * 3, r * 3 + 3), observation);
      assert.ok(Math.abs(est[r]! - exact) < 0.01, `${observation} row ${r}: estimate ${est[r]} vs exact ${exact}`);
    }
  }
});

test('with q(z|x) = p(z) and a decoder that ignores z, a single sample gives log p(x) exactly', () => {
  const vae = new Vae(config({ inputSize: 5, hidden: [6, 3], zDim: 2 }), new Rng(4));
  vae.toMean.weight.data.fill(0);
  vae.toMean.bias!.data.fill(0);
  vae.toLogvar.weight.data.fill(0);
  vae.decoder.at(-1)!.weight.data.fill(0);
  const bias = vae.decoder.at(-1)!.bias!.data;
  const x = new Float32Array([0, 1, 0.5, 0.25, 1]);
  for (const observation of ['bernoulli', 'gaussian'] as const) {
    const want = logPxGivenZ(bias, x, 5, observation)[0]!;
    for (const S of [1, 7]) {
      const got = logLikelihood(vae, x, 1, S, new Rng(S), { observation })[0]!;
      assert.ok(Math.abs(got - want) < 1e-5, `${observation} S=${S}: ${got} vs ${want}`);
    }
  }
});

test('chunking does not change the estimate, and fixed noise makes it deterministic', () => {
  const vae = new Vae(config({ inputSize: 20, hidden: [8, 8], zDim: 3 }), new Rng(6));
  const rng = new Rng(7);
  const n = 9;
  const S = 5;
  const x = new Float32Array(n * 20).map(() => rng.uniform());
  const noise = new Float32Array(n * S * 3).map(() => rng.normal());
  for (const observation of ['bernoulli', 'gaussian'] as const) {
    const ref = logLikelihood(vae, x, n, S, rng, { observation, noise });
    for (const chunkRows of [1, 7, 10, 1000]) {
      const got = logLikelihood(vae, x, n, S, rng, { observation, noise, chunkRows });
      for (let r = 0; r < n; r++) assert.ok(Math.abs(got[r]! - ref[r]!) < 1e-4, `${observation} chunk ${chunkRows} row ${r}`);
    }
    // Each row depends only on its own pixels and draws.
    const one = logLikelihood(vae, x.subarray(20 * 4, 20 * 5), 1, S, rng, { observation, noise: noise.subarray(4 * S * 3) });
    assert.ok(Math.abs(one[0]! - ref[4]!) < 1e-4);
  }
});

test('rejects a mixture prior or a gated decoder', () => {
  const rng = new Rng(1);
  const mix = new Vae(config({ prior: 'mixture', modes: 2 }), rng);
  assert.throws(() => logLikelihood(mix, new Float32Array(3), 1, 1, rng), /standard prior/);
  const gated = new Vae(config({ hidden: [4, 4], gates: { count: 2, proportion: 0.5 } }), rng);
  assert.throws(() => logLikelihood(gated, new Float32Array(3), 1, 1, rng), /ungated/);
});
