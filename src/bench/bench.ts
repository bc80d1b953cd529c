import { cpus, loadavg } from 'node:os';
import { Command } from 'commander';
import { checkOutput, writeAtomic } from '../cli/files.js';
import { backward, crossEntropy, Rng, Tensor, zeroGrad } from '../core/index.js';
import { getBackend, loadNativeBackend, nativeHasOpenblas, nativeLoadError, ompWaitChosen, setBackend, type Backend } from '../kernels/index.js';
import { describeWaitPolicy, RUN_WAIT_POLICY, waitPolicyVars } from '../kernels/wait-policy.js';
import { Mlp } from '../nn/index.js';
import { defaultPcSettings, PcEngine } from '../predictive-coding/index.js';
import type { Activation } from '../kernels/backend.js';
import { adam, applyUpdates } from '../optim/index.js';
import { gitState } from '../harness/provenance.js';
import { synapseGradients, synapseRunner, synapseStepMs } from './synapse-step.js';
import { bestByThreads, measureTorch, peerVerdict, type PeerSetting, type TorchRun } from './torch-peer.js';

/**
 * `npm run bench -- --json FILE`: GEMM GFLOP/s of both native GEMMs on 1 and 2 threads, and samples/s of a
 * full MLP train step (784-400-400-10, batch 128, Adam) for Engram and, in the same run, PyTorch on the CPU at
 * the same thread counts and OpenMP wait policy, with the BLAS PyTorch runs on (no ratio against a reference BLAS),
 * the predictive-coding train step (T inference steps) beside the backprop step and PyTorch's on 784-128-128-128-10,
 * ms per update of the synapse-state optimiser (`optim/synapse`: SI importance, Adam, viscosity) on ~1.08 M parameters, and ms
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

interface StepSpeed { samplesPerSecond: number; samplesPerCpuSecond: number }

/** The MLP a step is timed on, and how it learns (predictive coding with T = `defaultPcSettings.steps`). */
interface StepNet { hidden: number[]; act: Activation; engine: 'bp' | 'pc' }

const BENCH_NET: StepNet = { hidden: [400, 400], act: 'relu', engine: 'bp' };
/** PCX's parity network, 784-128-128-128-10 GELU: the predictive-coding comparison runs on it. */
const PC_NET = { hidden: [128, 128, 128], act: 'gelu' } as const;

/**
 * Samples/s of Engram's full train step (forward, cross-entropy, backward, Adam — or predictive coding's T
 * inference steps and local updates, then Adam), wall clock and per second of the process's CPU time, each the
 * best of three windows.
 */
function mlpStepSpeed(b: Backend, threads: number, seconds: number, spec: StepNet = BENCH_NET, batch = 128): StepSpeed {
  setBackend(b);
  b.setThreads(threads);
  const rng = new Rng(1);
  const net = new Mlp([784, ...spec.hidden, 10], spec.act, rng);
  const params = net.parameters();
  const opt = adam(1e-3);
  let state = opt.init(params.map((p) => p.data));
  const x = Tensor.from(Float32Array.from({ length: batch * 784 }, () => rng.uniform()), [batch, 784]);
  const y = Int32Array.from({ length: batch }, () => rng.int(10));
  const adamStep = (): void => {
    const [u, s] = opt.update(params.map((p) => p.grad!), state, params.map((p) => p.data));
    state = s;
    applyUpdates(params.map((p) => p.data), u);
  };
  const pc = spec.engine === 'pc' ? new PcEngine(net, defaultPcSettings) : null;
  const step = (): void => {
    if (pc !== null) {
      pc.train(x.data, batch, y, null, adamStep);
      return;
    }
    zeroGrad(params);
    backward(crossEntropy(net.forward(x), y));
    adamStep();
  };
  for (let i = 0; i < 50; i++) step();
  const best: StepSpeed = { samplesPerSecond: 0, samplesPerCpuSecond: 0 };
  for (let w = 0; w < 3; w++) {
    let n = 0;
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    while (performance.now() - t0 < (seconds * 1000) / 3) {
      step();
      n++;
    }
    const wall = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    const cpu = (c.user + c.system) / 1e6;
    best.samplesPerSecond = Math.max(best.samplesPerSecond, (n * batch) / wall);
    best.samplesPerCpuSecond = Math.max(best.samplesPerCpuSecond, (n * batch) / Math.max(cpu, 1e-9));
  }
  return best;
}

/**
 * ms per update of the chain { importance, adam, viscosity, lr } (synapseAdam's
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

function main(): void {
  const program = new Command()
    .name('bench')
    .description('GEMM GFLOP/s and MLP train-step samples/s, Engram beside PyTorch in the same run')
    .option('--json <file>', 'also write the results as JSON')
    .option('--seconds <s>', 'measuring time per figure', (v) => Number(v), 2)
    .option('--no-torch', 'skip the PyTorch peer')
    .option('--step-only', 'only the MLP train step (Engram and PyTorch), no GEMM or synapse-optimiser figures')
    .parse();
  const opts = program.opts<{ json?: string; seconds: number; torch: boolean; stepOnly?: boolean }>();
  checkOutput('--json', opts.json);
  if (!(opts.seconds > 0)) {
    console.error('bench: --seconds must be a positive number');
    process.exit(2);
  }

  // Engram idles its OpenMP threads as `engram run` does, unless the environment says otherwise (set before
  // the addon, and libgomp with it, loads). The peer gets the same policy and, unless the user chose one, also
  // libgomp's own default (spin a while, then sleep); its faster one counts.
  const userChose = ompWaitChosen(process.env);
  const peerSettings: PeerSetting[] = [{ waitPolicy: describeWaitPolicy(process.env), env: { ...process.env } }];
  if (!userChose) {
    Object.assign(process.env, waitPolicyVars(RUN_WAIT_POLICY));
    peerSettings.unshift({ waitPolicy: describeWaitPolicy(process.env), env: { ...process.env } });
  }
  const waitPolicy = describeWaitPolicy(process.env);
  const loadBefore = loadavg();
  console.log(`load average ${loadBefore.map((x) => x.toFixed(2)).join(' ')} on ${cpus().length} cores; idle OpenMP threads: ${waitPolicy}`);

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
  // The step runs on the backend `engram run` uses (ENGRAM_BACKEND / ENGRAM_GEMM, default the builtin GEMM).
  const stepBackend = getBackend();

  const gemm: GemmRow[] = [];
  if (opts.stepOnly !== true) {
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
  }

  const threadCounts = [1, 2];
  const engramRuns = threadCounts.map((t) => ({ threads: t, ...mlpStepSpeed(stepBackend, t, opts.seconds) }));
  const torch = opts.torch ? measureTorch(opts.seconds, threadCounts, peerSettings) : null;
  // Measure Engram again after the peer, so neither side profits from a quiet moment alone.
  for (const r of engramRuns) {
    const again = mlpStepSpeed(stepBackend, r.threads, opts.seconds);
    r.samplesPerSecond = Math.max(r.samplesPerSecond, again.samplesPerSecond);
    r.samplesPerCpuSecond = Math.max(r.samplesPerCpuSecond, again.samplesPerCpuSecond);
  }
  const verdict = torch === null ? null : peerVerdict(torch.blas);
  const torchBest = bestByThreads(torch?.runs ?? []);
  const torchCheapest = bestByThreads(torch?.runs ?? [], 'samplesPerCpuSecond');
  const rows = engramRuns.map((e) => {
    const t = torchBest.get(e.threads);
    const tc = torchCheapest.get(e.threads);
    return {
      threads: e.threads,
      engram: e.samplesPerSecond,
      torch: t?.samplesPerSecond ?? null,
      torchBlas: t?.blas ?? null,
      torchWait: t?.waitPolicy ?? null,
      ratio: t !== undefined && verdict?.ok === true ? e.samplesPerSecond / t.samplesPerSecond : null,
      engramPerCpuSecond: e.samplesPerCpuSecond,
      torchPerCpuSecond: tc?.samplesPerCpuSecond ?? null,
      cpuRatio: tc !== undefined && verdict?.ok === true ? e.samplesPerCpuSecond / tc.samplesPerCpuSecond : null,
    };
  });
  const engramBest = Math.max(...engramRuns.map((r) => r.samplesPerSecond));
  const torchFastest = [...torchBest.values()].reduce<TorchRun | null>((a, b) => (a === null || b.samplesPerSecond > a.samplesPerSecond ? b : a), null);
  const torchBestAll = torchFastest?.samplesPerSecond ?? null;
  const ratio = torchBestAll !== null && verdict?.ok === true ? engramBest / torchBestAll : null;

  console.log('\nMLP 784-400-400-10 train step, batch 128, Adam (samples/s); each row: both at that many threads');
  if (torch !== null) console.log(`  torch ${torch.version} runs on ${torch.blas.name} (sgemm_ from ${torch.blas.sgemmFrom ?? 'torch itself'})`);
  for (const r of torch?.runs ?? []) {
    console.log(`  torch ${r.threads} thread(s), OpenMP wait ${r.waitPolicy}, OPENBLAS_CORETYPE ${r.openblasCoretype}: ` +
      `${Math.round(r.samplesPerSecond)} (${Math.round(r.samplesPerCpuSecond)} per CPU-second)`);
  }
  for (const r of rows) {
    const against = r.torch === null ? '' : `, torch ${Math.round(r.torch)} (${r.torchBlas ?? '?'}, wait ${r.torchWait ?? '?'})`;
    const x = r.ratio === null ? '' : `: ${r.ratio.toFixed(2)}×`;
    console.log(`  ${r.threads} thread(s): engram (${stepBackend.blas} GEMM, wait ${waitPolicy}) ${Math.round(r.engram)}${against}${x}`);
  }
  // Per CPU-second, a step's cost hardly depends on what else runs: on a shared machine the 1-thread figure
  // is the steadier comparison (at 2 threads it does not show how well each side uses the second core).
  for (const r of rows) {
    if (r.cpuRatio === null || r.torchPerCpuSecond === null) continue;
    console.log(`  ${r.threads} thread(s), per CPU-second: engram ${Math.round(r.engramPerCpuSecond)}, torch ${Math.round(r.torchPerCpuSecond)}: ${r.cpuRatio.toFixed(2)}×`);
  }
  if (torch === null) console.log('  no ratio: no torch');
  else if (verdict !== null && !verdict.ok) console.log(`  ${verdict.reason}`);
  else if (ratio !== null && torchFastest !== null) {
    console.log(`  best engram / best torch: ${ratio.toFixed(2)}× (torch on ${torchFastest.blas}, ${torchFastest.threads} thread(s), wait ${torchFastest.waitPolicy})`);
  }

  // Predictive coding beside backprop on the parity network, and PyTorch's backprop step on it.
  const T = defaultPcSettings.steps;
  const pcRows = threadCounts.map((t) => {
    const bp = mlpStepSpeed(stepBackend, t, opts.seconds, { ...PC_NET, hidden: [...PC_NET.hidden], engine: 'bp' });
    const pc = mlpStepSpeed(stepBackend, t, opts.seconds, { ...PC_NET, hidden: [...PC_NET.hidden], engine: 'pc' });
    return { threads: t, bp: bp.samplesPerSecond, pc: pc.samplesPerSecond, costRatio: bp.samplesPerSecond / pc.samplesPerSecond, torch: null as number | null };
  });
  const pcTorch = opts.torch ? measureTorch(opts.seconds, threadCounts, peerSettings.slice(0, 1), { hidden: PC_NET.hidden, activation: 'gelu' }) : null;
  const pcTorchBest = bestByThreads(pcTorch?.runs ?? []);
  for (const r of pcRows) r.torch = verdict?.ok === true ? pcTorchBest.get(r.threads)?.samplesPerSecond ?? null : null;
  console.log(`\nPredictive coding (T = ${T} inference steps) and backprop, MLP 784-${PC_NET.hidden.join('-')}-10 ${PC_NET.act}, batch 128, Adam (samples/s)`);
  for (const r of pcRows) {
    const torchText = r.torch === null ? '' : `, torch backprop ${Math.round(r.torch)}`;
    console.log(`  ${r.threads} thread(s): engram pc ${Math.round(r.pc)}, engram backprop ${Math.round(r.bp)}${torchText}; ` +
      `a pc step costs ${r.costRatio.toFixed(2)} backprop steps (${r.costRatio <= T ? 'within' : 'above'} T = ${T})`);
  }

  const synapseUpdate = opts.stepOnly === true ? [] : threadCounts.map((t) => ({ threads: t, ms: synapseUpdateMs(stepBackend, t, opts.seconds) }));
  const synapseStep = opts.stepOnly === true ? [] : threadCounts.map((t) => synapseStepMs(stepBackend, t, opts.seconds));
  if (opts.stepOnly !== true) {
    console.log('\nSynapse optimiser update (SI importance, Adam, viscosity), 1.08 M parameters (ms)');
    for (const r of synapseUpdate) console.log(`  ${r.threads} thread(s): ${r.ms.toFixed(2)}`);
    console.log('\nSynapse optimiser step applied to the parameters, composed vs fused, 1.08 M parameters (ms)');
    for (const r of synapseStep) {
      console.log(`  ${r.threads} thread(s): ${r.composedMs.toFixed(2)} composed, ${r.fusedMs.toFixed(2)} fused`);
    }
  }

  const result = {
    provenance: gitState(),
    machine: {
      cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version,
      loadBefore, loadAfter: loadavg(), waitPolicy,
    },
    gemm,
    mlpStep: {
      engram: engramBest,
      torch: torchBestAll,
      ratio,
      ratioRefused: verdict !== null && !verdict.ok ? verdict.reason : null,
      byThreads: rows,
      engramBackend: stepBackend.blas,
      torchVersion: torch?.version ?? null,
      torchBlas: torch?.blas ?? null,
      torchRuns: torch?.runs ?? null,
    },
    predictiveCoding: { network: `784-${PC_NET.hidden.join('-')}-10 ${PC_NET.act}`, steps: T, batch: 128, byThreads: pcRows },
    synapseUpdate,
    synapseStep,
  };
  if (opts.json !== undefined) {
    writeAtomic(opts.json, JSON.stringify(result, null, 1) + '\n');
    console.log(`written to ${opts.json}`);
  }
}

main();
