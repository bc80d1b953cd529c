import test from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../core/index.js';
import { portableBackend, setBackend } from '../kernels/index.js';
import { basisFrom, emptyBasis, projectOut, representationGram, updateBasis, type Basis } from '../subspace/index.js';
import { chain } from './combine.js';
import { project } from './project.js';
import { applyUpdates, sgd } from './transform.js';

setBackend(portableBackend);

const random = (rng: Rng, n: number): Float32Array => Float32Array.from({ length: n }, () => rng.uniform() - 0.5);

/** A basis of `k` directions of a `dim`-dimensional input space, from random inputs (as GPM builds one). */
function basisOf(rng: Rng, dim: number, k: number): Basis {
  const inputs = random(rng, k * dim); // k samples span k directions
  return updateBasis(emptyBasis(dim), representationGram(inputs, k, dim), 1).basis;
}

/** x·W + b for one input x (length fan-in), W [in, out]. */
function layerOutput(x: Float32Array, w: Float32Array, b: Float32Array | null, out: number): number[] {
  return Array.from({ length: out }, (_, o) => x.reduce((acc, xi, i) => acc + xi * w[i * out + o]!, b?.[o] ?? 0));
}

test('project: each layer\'s stacked weight-and-bias update loses its part in the span of the basis, the rest is untouched', () => {
  const rng = new Rng(3);
  const [fanIn, out] = [5, 3];
  const withBias = basisOf(rng, fanIn + 1, 2);
  const noBias = basisOf(rng, fanIn, 2);
  // Parameters: layer 0 (weight, bias), layer 1 (weight only), a tensor of no layer, layer 2 with an empty basis.
  const shapes = [fanIn * out, out, fanIn * out, 7, fanIn * out];
  const grads = shapes.map((n) => random(rng, n));
  const want = grads.map((g) => Float32Array.from(g));
  const stacked = new Float32Array([...want[0]!, ...want[1]!]);
  projectOut(withBias, stacked, out);
  want[0]!.set(stacked.subarray(0, fanIn * out));
  want[1]!.set(stacked.subarray(fanIn * out));
  projectOut(noBias, want[2]!, out);
  const t = project([
    { weight: 0, bias: 1, basis: withBias }, { weight: 2, bias: null, basis: noBias }, { weight: 4, bias: null, basis: emptyBasis(fanIn) },
  ]);
  const [u, s] = t.update(grads, t.init(grads), grads);
  assert.deepEqual(u, want);
  assert.deepEqual(s, {});
  // The projected update is orthogonal to every basis vector: Mᵀ·G = 0.
  const mt = new Float32Array(withBias.k * out);
  for (let j = 0; j < withBias.k; j++) {
    for (let o = 0; o < out; o++) {
      let acc = 0;
      for (let i = 0; i <= fanIn; i++) acc += withBias.data[i * withBias.k + j]! * (i < fanIn ? u[0]![i * out + o]! : u[1]![o]!);
      mt[j * out + o] = acc;
    }
  }
  assert.ok(mt.every((x) => Math.abs(x) < 1e-6), `Mᵀ·G = ${[...mt]}`);
});

test('project before SGD with momentum: outputs on protected inputs do not move, on others they do', () => {
  const rng = new Rng(8);
  const [fanIn, out] = [6, 4];
  // Protected inputs: x in span(e0 + e1, e2), with the constant bias input 1 as the last coordinate.
  const s2 = Math.SQRT1_2;
  const basis = basisFrom(fanIn + 1, new Float32Array([
    s2, 0, 0, //  x0
    s2, 0, 0, //  x1
    0, 1, 0, //   x2
    0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 1, //   the bias input
  ]));
  const params = [random(rng, fanIn * out), random(rng, out)];
  const opt = chain({ project: project([{ weight: 0, bias: 1, basis }]), ...sgd(0.1, 0.9).links });
  assert.deepEqual(Object.keys(opt.links), ['project', 'momentum', 'lr']);
  const protectedX = new Float32Array([0.7, 0.7, -1.2, 0, 0, 0]);
  const freeX = new Float32Array([0, 0, 0, 1, 0, 0]);
  const before = [layerOutput(protectedX, params[0]!, params[1]!, out), layerOutput(freeX, params[0]!, params[1]!, out)];
  let state = opt.init(params);
  for (let k = 0; k < 5; k++) {
    const [u, next] = opt.update([random(rng, fanIn * out), random(rng, out)], state, params);
    state = next;
    applyUpdates(params, u);
  }
  const after = [layerOutput(protectedX, params[0]!, params[1]!, out), layerOutput(freeX, params[0]!, params[1]!, out)];
  after[0]!.forEach((y, o) => assert.ok(Math.abs(y - before[0]![o]!) < 1e-5, `protected output ${o}: ${before[0]![o]} → ${y}`));
  assert.ok(after[1]!.some((y, o) => Math.abs(y - before[1]![o]!) > 1e-2), 'unprotected outputs still learn');
});

test('project refuses a layer whose parameters do not fit its basis', () => {
  const t = project([{ weight: 0, bias: 1, basis: emptyBasis(4) }]);
  const g = [new Float32Array(10), new Float32Array(3)]; // 10 is not a multiple of fan-in 3
  assert.throws(() => t.update(g, {}, g), /parameter 0 \(and bias 1\) do not fit a 4-dimensional input basis/);
});
