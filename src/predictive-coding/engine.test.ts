import test from 'node:test';
import assert from 'node:assert/strict';
import { backward, crossEntropy, noGrad, Rng, Tensor, zeroGrad } from '../core/index.js';
import { getBackend, loadNativeBackend, portableBackend, setBackend, type Activation } from '../kernels/index.js';
import { Mlp } from '../nn/index.js';
import { adam, applyUpdates } from '../optim/index.js';
import { PcEngine } from './engine.js';
import { defaultPcSettings } from './settings.js';

function batch(n: number, d: number, k: number, seed: number): { x: Float32Array; y: Int32Array } {
  const rng = new Rng(seed);
  const x = new Float32Array(n * d);
  for (let i = 0; i < x.length; i++) x[i] = rng.uniform();
  const y = new Int32Array(n);
  for (let r = 0; r < n; r++) y[r] = Math.floor(rng.uniform() * k);
  return { x, y };
}

/** Backprop's gradients of the mean cross-entropy, per parameter. */
function bpGradients(net: Mlp, x: Float32Array, n: number, y: Int32Array): Float32Array[] {
  const params = net.parameters();
  zeroGrad(params);
  backward(crossEntropy(net.forward(Tensor.from(x, [n, net.sizes[0]!])), y));
  return params.map((p) => p.grad!.slice());
}

/** PC's local gradients for one batch, without moving the weights. */
function pcGradients(engine: PcEngine, x: Float32Array, n: number, y: Int32Array): Float32Array[] {
  let grads: Float32Array[] = [];
  engine.train(x, n, y, null, () => (grads = engine.net.parameters().map((p) => p.grad!.slice())));
  return grads;
}

function cosine(a: Float32Array, b: Float32Array): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}

for (const act of ['gelu', 'tanh', 'relu'] as Activation[]) {
  test(`${act}: with small inference steps PC's local updates point along backprop's gradient, layer by layer`, () => {
    const net = new Mlp([12, 9, 8, 7, 4], act, new Rng(3));
    const { x, y } = batch(16, 12, 4, 5);
    const bp = bpGradients(net, x, 16, y);
    // Errors reach one layer further down per inference step: T = depth brings them to the first layer, about
    // η³ times smaller than at the top. Held as displacements they keep their precision however small they are
    // (as differences of two float32 activities the first layer's cosine here was 0.04).
    const pc = pcGradients(new PcEngine(net, { steps: 4, incremental: false }, { lr: 1e-3, momentum: 0 }), x, 16, y);
    net.parameters().forEach((_, i) => assert.ok(cosine(pc[i]!, bp[i]!) > 0.999, `parameter ${i}: cosine ${cosine(pc[i]!, bp[i]!)}`));
  });
}

test('with the value nodes held at the feedforward pass, the energy is the cross-entropy and the output layer learns as under backprop', () => {
  const net = new Mlp([12, 9, 8, 4], 'gelu', new Rng(3));
  const { x, y } = batch(16, 12, 4, 5);
  const ce = noGrad(() => crossEntropy(net.forward(Tensor.from(x, [16, 12])), y).item());
  const bp = bpGradients(net, x, 16, y);
  const engine = new PcEngine(net, { steps: 1, incremental: false }, { lr: 0, momentum: 0 });
  let pc: Float32Array[] = [];
  engine.train(x, 16, y, null, () => (pc = net.parameters().map((p) => p.grad!.slice())));
  const energy = engine.energies().reduce((s, e) => s + e, 0) / 16;
  assert.ok(Math.abs(energy - ce) < 1e-5, `${energy} against ${ce}`);
  // PC's updates are of the batch's summed energy, backprop's of the mean loss.
  for (const i of [4, 5]) pc[i]!.forEach((g, j) => assert.ok(Math.abs(g / 16 - bp[i]![j]!) < 1e-6, `parameter ${i}[${j}]`));
});

test('too few inference steps leave the first layer without an error to learn from', () => {
  const net = new Mlp([12, 9, 8, 4], 'gelu', new Rng(3));
  const { x, y } = batch(8, 12, 4, 6);
  const pc = pcGradients(new PcEngine(net, { steps: 1, incremental: false }), x, 8, y);
  assert.ok(pc[0]!.every((g) => g === 0), 'one step reaches only the last hidden layer');
  assert.ok(pc[2]!.some((g) => g !== 0));
});

test('inference lowers the energy below the feedforward pass’s cross-entropy, and the energies are per sample', () => {
  const net = new Mlp([20, 16, 16, 5], 'gelu', new Rng(4));
  const { x, y } = batch(32, 20, 5, 7);
  const ce = noGrad(() => crossEntropy(net.forward(Tensor.from(x, [32, 20])), y).item());
  const engine = new PcEngine(net, defaultPcSettings);
  const loss = engine.train(x, 32, y, null, () => {});
  assert.ok(Math.abs(loss - ce) < 1e-5, `the reported loss ${loss} is the feedforward cross-entropy ${ce}`);
  const per = engine.energies();
  assert.equal(per.length, 32);
  const energy = per.reduce((s, e) => s + e, 0) / 32;
  assert.ok(energy < ce - 1e-3, `energy ${energy} against the feedforward cross-entropy ${ce}`);
  assert.ok(per.every((e) => e > 0));
});

test('a mask keeps outputs out of play: they get no update, as under a masked softmax', () => {
  const net = new Mlp([10, 8, 6], 'tanh', new Rng(5));
  const { x } = batch(4, 10, 6, 8);
  const y = Int32Array.from([0, 1, 0, 1]);
  const mask = new Uint8Array(4 * 6);
  for (let r = 0; r < 4; r++) mask.fill(1, r * 6, r * 6 + 2);
  const engine = new PcEngine(net, defaultPcSettings);
  let grads: Float32Array[] = [];
  engine.train(x, 4, y, mask, () => (grads = net.parameters().map((p) => p.grad!.slice())));
  const outBias = grads[3]!;
  assert.ok(outBias[0] !== 0 && outBias[1] !== 0);
  for (let k = 2; k < 6; k++) assert.equal(outBias[k], 0);
});

test('training on a separable problem: PC and iPC learn it without a single backward pass', () => {
  for (const incremental of [false, true]) {
    const rng = new Rng(9);
    const net = new Mlp([2, 16, 16, 2], 'gelu', rng);
    const engine = new PcEngine(net, { steps: incremental ? 8 : 5, incremental });
    // Adam, as the learners use: the local updates of lower layers are small (they scale with the inference
    // step), and Adam's per-parameter normalisation is what makes them count.
    const params = net.parameters();
    const opt = adam(0.01);
    let state = opt.init(params.map((p) => p.data));
    const sample = (n: number) => {
      const x = new Float32Array(2 * n);
      const y = new Int32Array(n);
      for (let r = 0; r < n; r++) {
        x[2 * r] = 2 * rng.uniform() - 1;
        x[2 * r + 1] = 2 * rng.uniform() - 1;
        y[r] = x[2 * r]! * x[2 * r + 1]! > 0 ? 1 : 0;
      }
      return { x, y };
    };
    for (let it = 0; it < 600; it++) {
      const { x, y } = sample(32);
      engine.train(x, 32, y, null, () => {
        const [u, next] = opt.update(params.map((p) => p.grad!), state, params.map((p) => p.data));
        state = next;
        applyUpdates(params.map((p) => p.data), u);
      });
    }
    const { x, y } = sample(400);
    const logits = noGrad(() => net.forward(Tensor.from(x, [400, 2]))).data;
    let right = 0;
    for (let r = 0; r < 400; r++) if ((logits[2 * r + 1]! > logits[2 * r]! ? 1 : 0) === y[r]) right++;
    assert.ok(right / 400 > 0.9, `${incremental ? 'iPC' : 'PC'}: XOR accuracy ${right / 400}`);
  }
});

const native = loadNativeBackend();
test('native and portable backends agree on a PC batch', { skip: native === null ? 'native addon unavailable' : false }, () => {
  const before = getBackend();
  const run = () => {
    const net = new Mlp([30, 20, 20, 6], 'gelu', new Rng(11));
    const { x, y } = batch(24, 30, 6, 12);
    const engine = new PcEngine(net, defaultPcSettings);
    const grads = pcGradients(engine, x, 24, y);
    return { grads, energies: engine.energies().slice() };
  };
  try {
    setBackend(portableBackend);
    const a = run();
    setBackend(native!);
    const b = run();
    a.grads.forEach((g, i) => g.forEach((v, j) => assert.ok(Math.abs(v - b.grads[i]![j]!) < 1e-5 + 1e-4 * Math.abs(v), `param ${i}[${j}]`)));
    a.energies.forEach((e, r) => assert.ok(Math.abs(e - b.energies[r]!) < 1e-4 * (1 + e)));
  } finally {
    setBackend(before);
  }
});
