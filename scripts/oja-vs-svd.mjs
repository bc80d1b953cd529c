#!/usr/bin/env node
// The Oja basis against the SVD basis (docs/PREDICTIVE-CODING.md, "Oja subspace"): on the first layer's inputs
// (training images, pixels / 255), GPM's eigenbasis of the Gram matrix R Rᵀ (the SVD's left singular vectors)
// for k directions against Oja's subspace rule learnt in a single stream of batches; principal angles and the
// share of the inputs' energy ‖R‖²_F each basis holds. Writes DIR/oja-vs-svd-DATA.json.
//   npm run build && node scripts/oja-vs-svd.mjs [data-dir=DIR] [out=docs/results/predictive-coding] [images=60000]
//     [epochs=3] [ks=5,20,K95] [seed=1]      (K95: the k that GPM's first-layer threshold 0.95 keeps)
import { basename, join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { Rng } from '../dist/core/index.js';
import { loadMnist } from '../dist/data/index.js';
import { getBackend } from '../dist/kernels/index.js';
import { provenance } from '../dist/harness/index.js';
import { writeAtomic } from '../dist/cli/files.js';
import { basisFrom, energyRank, OjaSubspace, principalAngles, representationGram, symmetricSpectrum } from '../dist/subspace/index.js';

const args = {};
for (const a of process.argv.slice(2)) {
  const m = /^([\w-]+)=(.*)$/.exec(a);
  if (m === null || !['data-dir', 'out', 'images', 'epochs', 'ks', 'seed'].includes(m[1])) {
    console.error(`oja-vs-svd: expected key=value (data-dir, out, images, epochs, ks, seed); got "${a}"`);
    process.exit(2);
  }
  args[m[1]] = m[2];
}
const whole = (k, d) => {
  const v = Number(args[k] ?? d);
  if (!Number.isInteger(v) || v < 1) {
    console.error(`oja-vs-svd: ${k} must be a positive whole number, got "${args[k]}"`);
    process.exit(2);
  }
  return v;
};
const images = whole('images', 60000), epochs = whole('epochs', 3), seed = whole('seed', 1);
let data;
try {
  data = loadMnist(args['data-dir'] ?? null);
} catch (e) {
  console.error(`oja-vs-svd: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(2);
}
const b = getBackend();
b.setThreads(1);
const D = data.pixels, n = Math.min(images, data.train.count);
const x = Float32Array.from(data.train.images.subarray(0, n * D), (v) => v / 255);
const t0 = performance.now();
const gram = representationGram(x, n, D);
const { values, vectors } = symmetricSpectrum(gram, D);
let total = 0;
for (let i = 0; i < D; i++) total += gram[i * D + i];
const k95 = energyRank(values, total, 0, 0.95);
const ks = (args.ks ?? '5,20,K95').split(',').map((s) => (s === 'K95' ? k95 : Number(s)));
const svdSeconds = (performance.now() - t0) / 1000;
const held = (basis) => {
  let e = 0;
  for (let j = 0; j < basis.k; j++) {
    for (let i = 0; i < D; i++) {
      const mi = basis.data[i * basis.k + j];
      if (mi === 0) continue;
      let row = 0;
      for (let l = 0; l < D; l++) row += gram[i * D + l] * basis.data[l * basis.k + j];
      e += mi * row;
    }
  }
  return e / total;
};
const rows = [];
for (const k of ks) {
  const eig = new Float32Array(D * k);
  for (let i = 0; i < D; i++) for (let j = 0; j < k; j++) eig[i * k + j] = vectors[i * D + j];
  const svd = basisFrom(D, eig);
  const oja = new OjaSubspace(D, k, new Rng(seed));
  const rng = new Rng(seed + 1);
  const t1 = performance.now();
  for (let e = 0; e < epochs; e++) {
    const order = rng.permutation(n);
    const batch = new Float32Array(128 * D);
    for (let s = 0; s + 128 <= n; s += 128) {
      for (let r = 0; r < 128; r++) batch.set(x.subarray(order[s + r] * D, (order[s + r] + 1) * D), r * D);
      oja.update(batch, 128);
    }
  }
  const ojaSeconds = (performance.now() - t1) / 1000;
  const basis = oja.basis();
  const angles = [...principalAngles(basis, svd)];
  const row = { k, anglesDegrees: angles.map((a) => +a.toFixed(2)), medianAngle: +angles[Math.floor(angles.length / 2)].toFixed(2),
    largestAngle: +angles[angles.length - 1].toFixed(2), energySvd: +held(svd).toFixed(4), energyOja: +held(basis).toFixed(4), ojaSeconds: +ojaSeconds.toFixed(2) };
  rows.push(row);
  console.log(`k ${k}: principal angles median ${row.medianAngle}°, largest ${row.largestAngle}°; energy held: SVD ${(100 * row.energySvd).toFixed(2)} %, Oja ${(100 * row.energyOja).toFixed(2)} %`);
}
const name = args['data-dir'] === undefined ? 'mnist' : basename(data.dir);
const out = args.out ?? 'docs/results/predictive-coding';
mkdirSync(out, { recursive: true });
const file = join(out, `oja-vs-svd-${name}.json`);
writeAtomic(file, JSON.stringify({ data: data.dir, images: n, epochs, seed, k95, lr: new OjaSubspace(D, 1, new Rng(0)).lr, svdSeconds, rows,
  provenance: provenance(b, null) }, null, 2) + '\n');
console.log(`written: ${file}`);
