import test from 'node:test';
import assert from 'node:assert/strict';
import { getBackend, loadNativeBackend, portableBackend, setBackend, type Backend } from '../kernels/index.js';
import * as op from './ops.js';
import { Rng } from './rng.js';
import { backward, Tensor, zeroGrad } from './tensor.js';

/** A check: builds a scalar from parameter tensors of given shapes. */
interface Case {
  name: string;
  shapes: number[][];
  /** Keep inputs away from kinks (relu at 0) and domains (log, sqrt) that finite differences cannot cross. */
  positive?: boolean;
  f: (xs: Tensor[]) => Tensor;
}

const rng = new Rng(7);
const weightsFor = new Map<string, Float32Array>();
/** Reduce any tensor to a scalar with fixed random weights, so every output element matters differently. */
function weighted(t: Tensor, key: string): Tensor {
  let w = weightsFor.get(key);
  if (w === undefined || w.length !== t.size) {
    w = new Float32Array(t.size);
    for (let i = 0; i < w.length; i++) w[i] = rng.normal();
    weightsFor.set(key, w);
  }
  return op.sum(op.mul(t, Tensor.from(w, t.shape)));
}

const labels3 = new Int32Array([2, 0, 3]);
const soft = new Float32Array([0.1, 0.2, 0.3, 0.4, 0.5, 0.5, 0, 0, 0.25, 0.25, 0.25, 0.25]);
const mask = new Uint8Array([1, 1, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1]);

const cases: Case[] = [
  { name: 'matmul', shapes: [[3, 4], [4, 5]], f: ([a, b]) => weighted(op.matmul(a!, b!), 'mm') },
  { name: 'matmul transA', shapes: [[4, 3], [4, 5]], f: ([a, b]) => weighted(op.matmul(a!, b!, true), 'mmA') },
  { name: 'matmul transB', shapes: [[3, 4], [5, 4]], f: ([a, b]) => weighted(op.matmul(a!, b!, false, true), 'mmB') },
  { name: 'matmul transA transB', shapes: [[4, 3], [5, 4]], f: ([a, b]) => weighted(op.matmul(a!, b!, true, true), 'mmAB') },
  { name: 'addBias', shapes: [[3, 4], [4]], f: ([a, b]) => weighted(op.addBias(a!, b!), 'bias') },
  { name: 'affine', shapes: [[3, 4], [4, 5], [5]], f: ([a, b, c]) => weighted(op.affine(a!, b!, c!), 'affine') },
  { name: 'relu', shapes: [[3, 4]], f: ([a]) => weighted(op.relu(a!), 'relu') },
  { name: 'sigmoid', shapes: [[3, 4]], f: ([a]) => weighted(op.sigmoid(a!), 'sig') },
  { name: 'tanh', shapes: [[3, 4]], f: ([a]) => weighted(op.tanh(a!), 'tanh') },
  { name: 'gelu', shapes: [[3, 4]], f: ([a]) => weighted(op.gelu(a!), 'gelu') },
  { name: 'exp', shapes: [[3, 4]], f: ([a]) => weighted(op.exp(a!), 'exp') },
  { name: 'log', shapes: [[3, 4]], positive: true, f: ([a]) => weighted(op.log(a!), 'log') },
  { name: 'sqrt', shapes: [[3, 4]], positive: true, f: ([a]) => weighted(op.sqrt(a!), 'sqrt') },
  { name: 'neg', shapes: [[3, 4]], f: ([a]) => weighted(op.neg(a!), 'neg') },
  { name: 'square', shapes: [[3, 4]], f: ([a]) => weighted(op.square(a!), 'sq') },
  { name: 'add', shapes: [[3, 4], [3, 4]], f: ([a, b]) => weighted(op.add(a!, b!), 'add') },
  { name: 'sub', shapes: [[3, 4], [3, 4]], f: ([a, b]) => weighted(op.sub(a!, b!), 'sub') },
  { name: 'mul', shapes: [[3, 4], [3, 4]], f: ([a, b]) => weighted(op.mul(a!, b!), 'mul') },
  { name: 'mul (same input twice)', shapes: [[3, 4]], f: ([a]) => weighted(op.mul(a!, a!), 'mul2') },
  { name: 'scale', shapes: [[3, 4]], f: ([a]) => weighted(op.scale(a!, -2.5), 'scale') },
  { name: 'logSoftmax', shapes: [[3, 4]], f: ([a]) => weighted(op.logSoftmax(a!), 'lsm') },
  { name: 'crossEntropy', shapes: [[3, 4]], f: ([a]) => op.crossEntropy(a!, labels3) },
  { name: 'crossEntropy T=2', shapes: [[3, 4]], f: ([a]) => op.crossEntropy(a!, labels3, 2) },
  { name: 'softCrossEntropy T=3', shapes: [[3, 4]], f: ([a]) => op.softCrossEntropy(a!, Tensor.from(soft, [3, 4]), 3) },
  { name: 'masked crossEntropy', shapes: [[3, 4]], f: ([a]) => op.crossEntropy(op.maskLogits(a!, mask), new Int32Array([3, 1, 2])) },
  // exp(log-softmax) is 0 at masked entries, so the weighted sum stays finite.
  { name: 'masked logSoftmax', shapes: [[3, 4]], f: ([a]) => weighted(op.exp(op.logSoftmax(op.maskLogits(a!, mask))), 'mlsm') },
  { name: 'masked softCrossEntropy', shapes: [[3, 4]], f: ([a]) => op.softCrossEntropy(op.maskLogits(a!, new Uint8Array([1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1])), Tensor.from(soft, [3, 4]), 2) },
  { name: 'mse', shapes: [[3, 4], [3, 4]], f: ([a, b]) => op.mse(a!, b!) },
  { name: 'gaussianKL', shapes: [[3, 4], [3, 4]], f: ([a, b]) => op.gaussianKL(a!, b!) },
  { name: 'sigmoidBce', shapes: [[3, 4]], f: ([a]) => op.sigmoidBce(a!, Tensor.from(soft, [3, 4])) },
  {
    name: 'mixtureLogDensity',
    shapes: [[3, 2], [4, 2], [4, 2]],
    f: ([z, m, lv]) => op.mixtureLogDensity(z!, m!, lv!, new Float32Array([1, 0, 0, 0, 0.2, 0.3, 0.5, 0, 0.25, 0.25, 0.25, 0.25])),
  },
  { name: 'sum', shapes: [[3, 4]], f: ([a]) => op.sum(a!) },
  { name: 'mean', shapes: [[3, 4]], f: ([a]) => op.mean(a!) },
  { name: 'sliceRows', shapes: [[4, 3]], f: ([a]) => weighted(op.sliceRows(a!, 1, 3), 'slice') },
  { name: 'concatRows', shapes: [[2, 3], [3, 3]], f: ([a, b]) => weighted(op.concatRows([a!, b!]), 'cat') },
  {
    name: 'two-layer MLP with CE',
    shapes: [[5, 6], [6, 4], [4], [4, 3], [3]],
    f: ([x, w1, b1, w2, b2]) => op.crossEntropy(
      op.addBias(op.matmul(op.tanh(op.addBias(op.matmul(x!, w1!), b1!)), w2!), b2!), new Int32Array([0, 2, 1, 1, 0])),
  },
];

function makeInputs(c: Case, seed: number): Float32Array[] {
  const r = new Rng(seed);
  return c.shapes.map((s) => {
    const n = s.reduce((a, b) => a * b, 1);
    const d = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let v = r.normal();
      // Stay away from relu's kink, where a central difference straddles two slopes.
      if (Math.abs(v) < 0.05) v += v < 0 ? -0.1 : 0.1;
      d[i] = c.positive === true ? 0.5 + Math.abs(v) : v;
    }
    return d;
  });
}

function gradients(c: Case, inputs: Float32Array[]): { value: number; grads: Float32Array[] } {
  const ts = inputs.map((d, i) => Tensor.param(d.slice(), c.shapes[i]!));
  const y = c.f(ts);
  backward(y);
  return { value: y.item(), grads: ts.map((t) => t.grad ?? new Float32Array(t.size)) };
}

function evalAt(c: Case, inputs: Float32Array[]): number {
  return c.f(inputs.map((d, i) => Tensor.from(d, c.shapes[i]!))).item();
}

function withBackend<T>(b: Backend, fn: () => T): T {
  const prev = getBackend();
  setBackend(b);
  try {
    return fn();
  } finally {
    setBackend(prev);
  }
}

for (const c of cases) {
  test(`gradient of ${c.name} matches central finite differences`, () => {
    withBackend(portableBackend, () => {
      const inputs = makeInputs(c, 11);
      const { grads } = gradients(c, inputs);
      // Finite differences in float64 on a copy promoted through float32 storage: eps large enough for fp32.
      const eps = 1e-2;
      for (let k = 0; k < inputs.length; k++) {
        for (let i = 0; i < inputs[k]!.length; i++) {
          const plus = inputs.map((d) => d.slice());
          const minus = inputs.map((d) => d.slice());
          plus[k]![i]! += eps;
          minus[k]![i]! -= eps;
          const numeric = (evalAt(c, plus) - evalAt(c, minus)) / (2 * eps);
          const analytic = grads[k]![i]!;
          const tol = 2e-3 + 2e-2 * Math.abs(numeric);
          assert.ok(Math.abs(numeric - analytic) <= tol,
            `${c.name}: input ${k}[${i}] analytic ${analytic} vs numeric ${numeric}`);
        }
      }
    });
  });
}

const native = loadNativeBackend();
for (const c of cases) {
  test(`native and portable agree on ${c.name}, value and gradients`, { skip: native === null ? 'native addon not built' : false }, () => {
    const inputs = makeInputs(c, 23);
    const ref = withBackend(portableBackend, () => gradients(c, inputs));
    const got = withBackend(native!, () => gradients(c, inputs));
    assert.ok(Math.abs(ref.value - got.value) <= 1e-4 * (1 + Math.abs(ref.value)), `${ref.value} vs ${got.value}`);
    for (let k = 0; k < ref.grads.length; k++) {
      for (let i = 0; i < ref.grads[k]!.length; i++) {
        const a = ref.grads[k]![i]!;
        const b = got.grads[k]![i]!;
        assert.ok(Math.abs(a - b) <= 1e-4 * (1 + Math.abs(a)), `${c.name}: grad ${k}[${i}] ${a} vs ${b}`);
      }
    }
  });
}

test('gradients accumulate on leaves across backward passes and zero when released', () => {
  withBackend(portableBackend, () => {
    const x = Tensor.param(new Float32Array([1, 2, 3]), [1, 3]);
    backward(op.sum(op.scale(x, 2)));
    backward(op.sum(op.scale(x, 3)));
    assert.deepEqual([...x.grad!], [5, 5, 5]);
  });
});

test('gradient buffers are reused after zeroGrad, and still correct', () => {
  withBackend(portableBackend, () => {
    const w = Tensor.param(new Float32Array([1, 2, 3, 4]), [2, 2]);
    const x = Tensor.from(new Float32Array([1, 0, 0, 1]), [2, 2]);
    backward(op.sum(op.matmul(x, w)));
    const buf = w.grad!;
    zeroGrad([w]);
    assert.equal(w.grad, null);
    backward(op.sum(op.scale(op.matmul(x, w), 3)));
    assert.equal(w.grad, buf, 'the same buffer is reused');
    assert.deepEqual([...w.grad!], [3, 3, 3, 3]);
    // A leaf used twice by one op (w·wᵀ) must not get its buffer twice.
    zeroGrad([w]);
    backward(op.sum(op.matmul(w, w, false, true)));
    const fresh = Tensor.param(new Float32Array([1, 2, 3, 4]), [2, 2]);
    backward(op.sum(op.matmul(fresh, fresh, false, true)));
    assert.deepEqual([...w.grad!], [...fresh.grad!]);
  });
});

test('noGrad records no tape and constants get no gradient', () => {
  const x = Tensor.param(new Float32Array([1, 2]), [1, 2]);
  const y = op.noGrad(() => op.sum(x));
  assert.equal(y.node, null);
  assert.equal(y.requiresGrad, false);
  const c = Tensor.from(new Float32Array([1, 1]), [1, 2]);
  backward(op.sum(op.mul(x, c)));
  assert.equal(c.grad, null);
  assert.deepEqual([...x.grad!], [1, 1]);
});

test('shape errors are reported, not silently broadcast', () => {
  const a = Tensor.from(new Float32Array(6), [2, 3]);
  const b = Tensor.from(new Float32Array(6), [3, 2]);
  assert.throws(() => op.add(a, b), /shapes \[2,3\] and \[3,2\] differ/);
  assert.throws(() => op.matmul(a, a), /inner dimensions 3 and 2 differ/);
  assert.throws(() => op.sliceRows(a, 1, 3), /not inside/);
});
