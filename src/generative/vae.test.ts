import test from 'node:test';
import assert from 'node:assert/strict';
import { add, backward, noGrad, Rng, Tensor, zeroGrad } from '../core/index.js';
import { getBackend } from '../kernels/index.js';
import { adam, applyUpdates } from '../optim/index.js';
import { oneHot, Vae, type VaeConfig } from './vae.js';

getBackend().setThreads(1);

const PIXELS = 16;

/** Two classes of 16-pixel images: class 0 lights the first half, class 1 the second, with noise. */
function data(n: number, rng: Rng): { x: Float32Array; y: Int32Array } {
  const x = new Float32Array(n * PIXELS);
  const y = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    y[r] = r % 2;
    for (let j = 0; j < PIXELS; j++) {
      const on = (j < PIXELS / 2) === (y[r] === 0);
      x[r * PIXELS + j] = Math.min(1, Math.max(0, (on ? 0.9 : 0.1) + 0.1 * (rng.uniform() - 0.5)));
    }
  }
  return { x, y };
}

const config = (over: Partial<VaeConfig> = {}): VaeConfig => ({
  inputSize: PIXELS, hidden: [24], zDim: 3, classes: 0, prior: 'standard', modes: 0, gates: null, ...over,
});

/** Train with Adam; returns the loss of the first and the last step. */
function train(vae: Vae, steps: number, conditional: boolean): [number, number] {
  const rng = new Rng(3);
  const opt = adam(1e-2);
  const params = vae.parameters();
  let state = opt.init(params.map((p) => p.data));
  let first = 0;
  let last = 0;
  for (let s = 0; s < steps; s++) {
    const { x, y } = data(32, rng);
    const labels = oneHot(y, 2);
    zeroGrad(params);
    const xt = Tensor.from(x, [32, PIXELS]);
    const pass = vae.forward(xt, rng, vae.config.gates === null ? null : labels);
    const loss = add(vae.reconstructionLoss(pass, xt), vae.variationalLoss(pass, conditional ? labels : null));
    backward(loss);
    const [updates, next] = opt.update(params.map((p) => p.grad!), state, params.map((p) => p.data));
    state = next;
    applyUpdates(params.map((p) => p.data), updates);
    if (s === 0) first = loss.item();
    last = loss.item();
  }
  return [first, last];
}

/** Mean brightness of the first and second half of each generated image, averaged over rows. */
function halves(x: Float32Array): [number, number] {
  let a = 0;
  let b = 0;
  const rows = x.length / PIXELS;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < PIXELS; j++) {
      if (j < PIXELS / 2) a += x[r * PIXELS + j]!;
      else b += x[r * PIXELS + j]!;
    }
  }
  return [a / (rows * PIXELS / 2), b / (rows * PIXELS / 2)];
}

test('a VAE learns to reconstruct: the loss per pixel falls well below its starting value', () => {
  const vae = new Vae(config(), new Rng(1));
  const [first, last] = train(vae, 300, false);
  assert.ok(last < 0.8 * first, `loss ${first} → ${last}`);
  // Reconstruction of a clean class-0 image keeps its halves apart.
  const { x } = data(2, new Rng(9));
  const recon = noGrad(() => vae.decode(vae.toMean.forward(vae.features(Tensor.from(x.subarray(0, PIXELS), [1, PIXELS]))), null));
  const probs = new Float32Array(PIXELS);
  getBackend().unary('sigmoid', recon.data, probs);
  const [a, b] = halves(probs);
  assert.ok(a > b + 0.3, `reconstruction halves ${a} / ${b}`);
});

test('a class-conditional VAE (mixture prior, gated decoder) dreams the class it is asked for', () => {
  const vae = new Vae(config({ prior: 'mixture', modes: 2, gates: { count: 2, proportion: 0.3 } }), new Rng(2));
  train(vae, 400, true);
  const rng = new Rng(5);
  const zero = vae.sample(200, rng, [1, 0]);
  const one = vae.sample(200, rng, [0, 1]);
  assert.ok(zero.classes!.every((c) => c === 0) && one.classes!.every((c) => c === 1));
  const [z0, z1] = halves(zero.x);
  const [o0, o1] = halves(one.x);
  assert.ok(z0 > z1 + 0.2, `class-0 dreams: halves ${z0} / ${z1}`);
  assert.ok(o1 > o0 + 0.2, `class-1 dreams: halves ${o0} / ${o1}`);
});

test('clone copies parameters and gate masks: the copy decodes identically and is independent', () => {
  const vae = new Vae(config({ prior: 'mixture', modes: 2, gates: { count: 2, proportion: 0.5 } }), new Rng(4));
  const copy = vae.clone();
  const z = Tensor.from(new Float32Array(2 * 3).map((_, i) => i / 5 - 0.5), [2, 3]);
  const gate = oneHot(new Int32Array([0, 1]), 2);
  assert.deepEqual(noGrad(() => copy.decode(z, gate)).data, noGrad(() => vae.decode(z, gate)).data);
  vae.decoder.at(-1)!.bias!.data[0]! += 1;
  assert.notDeepEqual(noGrad(() => copy.decode(z, gate)).data, noGrad(() => vae.decode(z, gate)).data);
  assert.equal(vae.parameterNames().length, vae.parameters().length);
});

test('vae sample: spread scales the prior standard deviations about the same modes', () => {
  const vae = new Vae({ inputSize: 12, hidden: [16], zDim: 4, classes: 2, prior: 'mixture', modes: 2, gates: null }, new Rng(2));
  const a = vae.sample(64, new Rng(9), [1, 0], null, 1).x.slice();
  const b = vae.sample(64, new Rng(9), [1, 0], null, 3).x.slice();
  const c = vae.sample(64, new Rng(9), [1, 0], null, 1).x.slice();
  assert.deepEqual(a, c);
  const spreadOf = (x: Float32Array): number => {
    let m = 0, v = 0;
    for (const e of x) m += e / x.length;
    for (const e of x) v += (e - m) ** 2 / x.length;
    return v;
  };
  assert.ok(spreadOf(b) > spreadOf(a), `wider latents give more varied samples: ${spreadOf(b)} vs ${spreadOf(a)}`);
});
