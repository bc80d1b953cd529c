import test from 'node:test';
import assert from 'node:assert/strict';
import { backward, crossEntropy, maskLogits, mul, Rng, square, sum, Tensor, zeroGrad } from '../../core/index.js';
import { getBackend, type Activation } from '../../kernels/index.js';
import { Mlp } from '../../nn/index.js';
import { accumulateFisher } from './ewc.js';
import { accumulateOutputSensitivity } from './mas.js';
import { maskedSoftmax } from '../heads/index.js';
import { forwardKeep, logitsOf, PerSampleStats } from './per-sample.js';

// Tiny networks: one thread avoids handing each small kernel to a second thread (costly on a shared machine).
getBackend().setThreads(1);

/** A tiny network and batch, with task-IL style masks (each row owns two of the four outputs). */
function fixture(act: Activation, bias = true) {
  const rng = new Rng(7);
  const net = new Mlp([5, 6, 4, 4], act, rng, bias);
  const n = 7;
  const x = new Float32Array(n * 5).map(() => rng.uniform() * 2 - 1);
  const mask = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    const head = i % 2;
    mask[i * 4 + 2 * head] = 1;
    mask[i * 4 + 2 * head + 1] = 1;
  }
  const y = new Int32Array(n).map((_, i) => 2 * (i % 2) + (i % 3 === 0 ? 1 : 0));
  return { net, n, x, mask, y, rng };
}

/** Σ_i f(∂loss_i/∂θ), one autodiff backward pass per sample. */
function bruteForce(net: Mlp, x: Float32Array, n: number, lossOf: (logits: Tensor, i: number) => Tensor | null,
  f: (g: number) => number, weightOf: (i: number) => number = () => 1): Float64Array[] {
  const params = net.parameters();
  const out = params.map((p) => new Float64Array(p.size));
  for (let i = 0; i < n; i++) {
    zeroGrad(params);
    const logits = net.forward(Tensor.from(x.slice(i * 5, (i + 1) * 5), [1, 5]));
    const loss = lossOf(logits, i);
    if (loss === null) continue;
    backward(loss);
    params.forEach((p, k) => {
      const g = p.grad!;
      for (let j = 0; j < g.length; j++) out[k]![j]! += weightOf(i) * f(g[j]!);
    });
  }
  return out;
}

function assertClose(got: readonly Float32Array[], want: readonly Float64Array[], rel = 1e-4): void {
  assert.equal(got.length, want.length);
  for (let k = 0; k < want.length; k++) {
    let scale = 0;
    for (const v of want[k]!) scale = Math.max(scale, Math.abs(v));
    assert.ok(scale > 0, `array ${k} is all zero: the check would be vacuous`);
    for (let j = 0; j < want[k]!.length; j++) {
      const d = Math.abs(got[k]![j]! - want[k]![j]!);
      assert.ok(d <= rel * scale, `param ${k}[${j}]: outer products ${got[k]![j]} vs autodiff ${want[k]![j]}`);
    }
  }
}

for (const act of ['tanh', 'relu', 'gelu'] as const) {
  test(`per-sample gradients as outer products equal per-sample autodiff (${act}): squares and magnitudes`, () => {
    const { net, n, x, rng } = fixture(act);
    const G = new Float32Array(n * 4).map(() => rng.uniform() * 2 - 1);
    const acts = forwardKeep(net, x, n);
    // Loss_i = Σ_k G_ik·logit_ik has logit-gradient G_i.
    const lossOf = (logits: Tensor, i: number) => sum(mul(logits, Tensor.from(G.slice(i * 4, (i + 1) * 4), [1, 4])));
    for (const [reduction, f] of [['square', (g: number) => g * g], ['abs', Math.abs]] as const) {
      const stats = new PerSampleStats(net);
      stats.accumulate(net, acts, G, reduction);
      assertClose(stats.sums, bruteForce(net, x, n, lossOf, f));
    }
  });
}

test('without biases the sums line up with the weight-only parameter list', () => {
  const { net, n, x, rng } = fixture('tanh', false);
  const G = new Float32Array(n * 4).map(() => rng.uniform() - 0.5);
  const stats = new PerSampleStats(net);
  stats.accumulate(net, forwardKeep(net, x, n), G, 'square');
  const lossOf = (logits: Tensor, i: number) => sum(mul(logits, Tensor.from(G.slice(i * 4, (i + 1) * 4), [1, 4])));
  assertClose(stats.sums, bruteForce(net, x, n, lossOf, (g) => g * g));
});

test('EWC Fisher ("all" labels, masked heads) equals Σ_i Σ_c p_ic (∇ −log p_ic)² by per-sample autodiff', () => {
  const { net, n, x, mask, y, rng } = fixture('relu');
  const acts = forwardKeep(net, x, n);
  const logits = logitsOf(acts).slice();
  for (let j = 0; j < logits.length; j++) if (mask[j] === 0) logits[j] = -Infinity;
  const p = maskedSoftmax(logits, null, n, 4, 1);
  const stats = new PerSampleStats(net);
  accumulateFisher(net, acts, logits, 'all', y, rng, stats);
  const want = net.parameters().map((q) => new Float64Array(q.size));
  for (let c = 0; c < 4; c++) {
    const part = bruteForce(net, x, n, (lg, i) => mask[i * 4 + c] === 0 ? null
      : crossEntropy(maskLogits(lg, mask.slice(i * 4, (i + 1) * 4)), new Int32Array([c])), (g) => g * g, (i) => p[i * 4 + c]!);
    part.forEach((a, k) => a.forEach((v, j) => (want[k]![j]! += v)));
  }
  assertClose(stats.sums, want);

  // The empirical Fisher ("true" labels) likewise.
  const emp = new PerSampleStats(net);
  accumulateFisher(net, acts, logits, 'true', y, rng, emp);
  assertClose(emp.sums, bruteForce(net, x, n,
    (lg, i) => crossEntropy(maskLogits(lg, mask.slice(i * 4, (i + 1) * 4)), new Int32Array([y[i]!])), (g) => g * g));
});

test('MAS importance equals Σ_i |∂‖f(x_i)‖²/∂θ| by per-sample autodiff, over each sample\'s head only', () => {
  const { net, n, x, mask } = fixture('tanh');
  const acts = forwardKeep(net, x, n);
  const logits = logitsOf(acts).slice();
  for (let j = 0; j < logits.length; j++) if (mask[j] === 0) logits[j] = -Infinity;
  const stats = new PerSampleStats(net);
  accumulateOutputSensitivity(net, acts, logits, stats);
  const m = Float32Array.from(mask);
  assertClose(stats.sums, bruteForce(net, x, n,
    (lg, i) => sum(square(mul(lg, Tensor.from(m.slice(i * 4, (i + 1) * 4), [1, 4])))), Math.abs));
});
