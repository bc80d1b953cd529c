import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { backward, crossEntropy, Rng, Tensor, zeroGrad } from '../core/index.js';
import { loadNativeBackend, nativeHasOpenblas, nativeLoadError, setBackend, type Backend } from '../kernels/index.js';
import { Mlp } from '../nn/index.js';
import { adam, applyUpdates } from '../optim/index.js';
import { synapseGradients, synapseRunner, synapseStepMs } from './synapse-step.js';

/**
 * `npm run bench -- --json FILE`: GEMM GFLOP/s of both native GEMMs on 1 and 2 threads, and samples/s of a
 * full MLP train step (784-400-400-10, batch 128, Adam) for Engram and, in the same run, PyTorch on the CPU,
 * ms per update of Engram's synapse optimiser (SI importance, Adam, viscosity) on ~1.08 M parameters, and ms
 * per applied step of the same optimiser composed (update + applyUpdates) and fused (synapseAdam's step).
 * Each figure is the best of several short windows, since these machines are shared and noisy.
 */

const SHAPES: [number, number, number][] = [[128, 784, 400], [128, 400, 400], [784, 128, 400], [1024, 1024, 1024]];

interface GemmRow { shape: [number, number, number]; threads: number; blas: string; gflops: number }

function bestOf<T>(repeats: number, fn: () => T, score: (t: T) => number): number {
  let best = -Infinity;
  for (let i = 0; i < repeats; i++) best = Math.max(best, score(fn()));
  return best;
}

/** GFLOP/s of C = A·B for [m,k,n], timed over windows of ~`seconds`. */
function gemmGflops(b: Backend, [m, k, n]: [number, number, number], seconds: number): number {
  const rng = new Rng(1);
  const a = Float32Array.from({ length: m * k }, () => rng.uniform() - 0.5);
  const w = Float32Array.from({ length: k * n }, () => rng.uniform() - 0.5);
  const c = new Float32Array(m * n);
  for (let i = 0; i < 5; i++) b.gemm(false, false, m, n, k, 1, a, w, 0, c);
  return bestOf(5, () => {
    let reps = 0;
    const t0 = performance.now();
    let t = t0;
    while (t - t0 < (seconds * 1000) / 5) {
      b.gemm(false, false, m, n, k, 1, a, w, 0, c);
      reps++;
      t = performance.now();
    }
    return (2 * m * n * k * reps) / ((t - t0) / 1000) / 1e9;
  }, (g) => g);
}

/** Samples/s of Engram's full train step: forward, cross-entropy, backward, Adam. */
function mlpStepSamplesPerSecond(b: Backend, threads: number, seconds: number, batch = 128): number {
  setBackend(b);
  b.setThreads(threads);
  const rng = new Rng(1);
  const net = new Mlp([784, 400, 400, 10], 'relu', rng);
  const params = net.parameters();
  const opt = adam(1e-3);
  let state = opt.init(params.map((p) => p.data));
  const x = Tensor.from(Float32Array.from({ length: batch * 784 }, () => rng.uniform()), [batch, 784]);
  const y = Int32Array.from({ length: batch }, () => rng.int(10));
  const step = (): void => {
    zeroGrad(params);
    backward(crossEntropy(net.forward(x), y));
    const [u, s] = opt.update(params.map((p) => p.grad!), state, params.map((p) => p.data));
    state = s;
    applyUpdates(params.map((p) => p.data), u);
  };
  for (let i = 0; i < 50; i++) step();
  return bestOf(3, () => {
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < (seconds * 1000) / 3) {
      step();
      n++;
    }
    return (n * batch) / ((performance.now() - t0) / 1000);
  }, (s) => s);
}

/**
 * ms per update of withImportance(onlineImportance, scaleByAdam, viscosity, scaleByLearningRate) (synapseAdam's
 * `update`) on SYNAPSE_SHAPES: the update alone, applying it is not timed, with Ω > 0 as after a consolidation.
 */
function synapseUpdateMs(b: Backend, threads: number, seconds: number): number {
  setBackend(b);
  b.setThreads(threads);
  const rng = new Rng(2);
  const step = synapseRunner('update', rng, synapseGradients(rng));
  // The lowest mean over three windows (bestOf keeps the highest score).
  return -bestOf(3, () => {
    let n = 0;
    let total = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < (seconds * 1000) / 3) {
      total += step();
      n++;
    }
    return -total / n;
  }, (ms) => ms);
}

const PY = '/usr/bin/python3';

/** Make sure Debian's PyTorch is importable, installing python3-torch if it is not (needs root). */
function ensureTorch(): boolean {
  const probe = spawnSync(PY, ['-c', 'import torch'], { stdio: 'ignore' });
  if (probe.status === 0) return true;
  console.error('bench: PyTorch missing; installing Debian python3-torch (apt-get) …');
  const r = spawnSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch'], { stdio: 'inherit' });
  return r.status === 0 && spawnSync(PY, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
}

interface TorchRun { threads: number; samplesPerSecond: number; openblasCoretype: string }
interface TorchResult { torch: string; results: TorchRun[] }

/**
 * OpenBLAS kernel sets to offer PyTorch besides its own choice: Debian's OpenBLAS 0.3.21 does not recognise
 * recent CPUs and falls back to SSE3 kernels, which would make the peer look 2-3x slower than it can be.
 */
function torchCoretypes(): (string | null)[] {
  const flags = (() => {
    try {
      return readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return '';
    }
  })();
  const out: (string | null)[] = [null];
  if (/\bavx512f\b/.test(flags)) out.push('SkylakeX');
  if (/\bavx2\b/.test(flags)) out.push('Haswell');
  return out;
}

/** PyTorch's samples/s for each thread count and OpenBLAS kernel set (the best of them is the peer). */
function torchStep(seconds: number): TorchResult | null {
  if (!ensureTorch()) return null;
  const script = join(dirname(fileURLToPath(import.meta.url)), '../../scripts/torch_mlp_step.py');
  let version = '';
  const results: TorchRun[] = [];
  for (const coretype of torchCoretypes()) {
    const env = { ...process.env };
    if (coretype === null) delete env['OPENBLAS_CORETYPE'];
    else env['OPENBLAS_CORETYPE'] = coretype;
    const out = execFileSync(PY, [script, '--seconds', String(seconds), '--threads', '1,2'], { encoding: 'utf8', env });
    const r = JSON.parse(out.trim().split('\n').pop()!) as { torch: string; results: { threads: number; samplesPerSecond: number }[] };
    version = r.torch;
    for (const x of r.results) results.push({ ...x, openblasCoretype: coretype ?? 'default' });
  }
  return { torch: version, results };
}

function main(): void {
  const program = new Command()
    .name('bench')
    .description('GEMM GFLOP/s and MLP train-step samples/s, Engram beside PyTorch in the same run')
    .option('--json <file>', 'also write the results as JSON')
    .option('--seconds <s>', 'measuring time per figure', (v) => Number(v), 2)
    .option('--no-torch', 'skip the PyTorch peer')
    .parse();
  const opts = program.opts<{ json?: string; seconds: number; torch: boolean }>();

  const variants: Backend[] = [];
  if (nativeHasOpenblas()) {
    const ob = loadNativeBackend({ gemm: 'openblas' });
    if (ob !== null) variants.push(ob);
  }
  const builtin = loadNativeBackend({ gemm: 'builtin' });
  if (builtin !== null) variants.push(builtin);
  if (variants.length === 0) {
    console.error(`bench: the native addon is unavailable (${nativeLoadError() ?? 'unknown'}); nothing to measure`);
    process.exit(1);
  }

  const gemm: GemmRow[] = [];
  console.log('GEMM  [M,K,N]           threads  blas       GFLOP/s');
  for (const shape of SHAPES) {
    for (const threads of [1, 2]) {
      for (const b of variants) {
        b.setThreads(threads);
        const gflops = gemmGflops(b, shape, opts.seconds);
        gemm.push({ shape, threads, blas: b.blas, gflops });
        console.log(`      ${JSON.stringify(shape).padEnd(18)} ${String(threads).padStart(7)}  ${b.blas.padEnd(9)} ${gflops.toFixed(1).padStart(8)}`);
      }
    }
  }

  // The step uses the default GEMM (OpenBLAS where present); best of thread settings, like the peer.
  const stepBackend = variants[0]!;
  const engramRuns = [1, 2].map((t) => ({ threads: t, samplesPerSecond: mlpStepSamplesPerSecond(stepBackend, t, opts.seconds) }));
  const torch = opts.torch ? torchStep(opts.seconds) : null;
  // Measure Engram again after the peer, so neither side profits from a quiet moment alone.
  for (const r of engramRuns) r.samplesPerSecond = Math.max(r.samplesPerSecond, mlpStepSamplesPerSecond(stepBackend, r.threads, opts.seconds));
  const engramBest = Math.max(...engramRuns.map((r) => r.samplesPerSecond));
  const torchBest = torch === null ? null : Math.max(...torch.results.map((r) => r.samplesPerSecond));
  console.log('\nMLP 784-400-400-10 train step, batch 128, Adam (samples/s)');
  for (const r of engramRuns) console.log(`  engram (${stepBackend.blas}) ${r.threads} thread(s): ${Math.round(r.samplesPerSecond)}`);
  if (torch !== null) {
    for (const r of torch.results) {
      console.log(`  torch ${torch.torch} ${r.threads} thread(s), OpenBLAS kernels ${r.openblasCoretype}: ${Math.round(r.samplesPerSecond)}`);
    }
  }
  const ratio = torchBest === null ? null : engramBest / torchBest;
  console.log(`  best engram / best torch: ${ratio === null ? 'n/a (no torch)' : ratio.toFixed(2) + '×'}`);

  const synapseUpdate = [1, 2].map((t) => ({ threads: t, ms: synapseUpdateMs(stepBackend, t, opts.seconds) }));
  console.log('\nSynapse optimiser update (SI importance, Adam, viscosity), 1.08 M parameters (ms)');
  for (const r of synapseUpdate) console.log(`  ${r.threads} thread(s): ${r.ms.toFixed(2)}`);
  const synapseStep = [1, 2].map((t) => synapseStepMs(stepBackend, t, opts.seconds));
  console.log('\nSynapse optimiser step applied to the parameters, composed vs fused, 1.08 M parameters (ms)');
  for (const r of synapseStep) {
    console.log(`  ${r.threads} thread(s): ${r.composedMs.toFixed(2)} composed, ${r.fusedMs.toFixed(2)} fused`);
  }

  const result = {
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version },
    gemm,
    mlpStep: {
      engram: engramBest,
      torch: torchBest,
      ratio,
      engramByThreads: engramRuns,
      torchByThreads: torch?.results ?? null,
      torchVersion: torch?.torch ?? null,
      blas: stepBackend.blas,
    },
    synapseUpdate,
    synapseStep,
  };
  if (opts.json !== undefined) {
    const tmp = join(dirname(opts.json), `.${basename(opts.json)}.${process.pid}.tmp`);
    writeFileSync(tmp, JSON.stringify(result, null, 1) + '\n');
    renameSync(tmp, opts.json);
    console.log(`written to ${opts.json}`);
  }
}

main();
