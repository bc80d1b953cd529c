import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/**
 * The PyTorch peer of `npm run bench`: Debian's python3-torch running the same MLP train step
 * (scripts/torch_mlp_step.py), with the BLAS it actually runs on, so that a ratio against it means something.
 */

export const PYTHON = '/usr/bin/python3';
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '../../scripts/torch_mlp_step.py');

const blasSchema = z.object({
  kind: z.enum(['openblas', 'mkl', 'blis', 'atlas', 'reference', 'unknown']),
  optimised: z.boolean(),
  /** One line, e.g. "OpenBLAS 0.3.21 (OpenMP, SkylakeX kernels)" or "reference BLAS (/usr/lib/…/blas/libblas.so.3)". */
  name: z.string(),
  /** The library torch's sgemm_ resolves to (null when torch carries its BLAS inside). */
  sgemmFrom: z.string().nullable(),
  /** Where the libblas.so.3 alternative points (Debian's update-alternatives), or null. */
  libblasAlternative: z.string().nullable(),
  torchBlasInfo: z.string().nullable(),
  blasLibrariesMapped: z.array(z.string()),
  core: z.string().optional(),
  config: z.string().optional(),
});

/** Which BLAS a PyTorch process runs on, as scripts/torch_mlp_step.py finds it. */
export type TorchBlas = z.infer<typeof blasSchema>;

const outputSchema = z.object({
  torch: z.string(),
  blas: blasSchema,
  results: z.array(z.object({
    threads: z.number().int().positive(),
    samplesPerSecond: z.number().nonnegative(),
    samplesPerCpuSecond: z.number().nonnegative(),
  })),
});

/** One measured PyTorch setting: threads, wait policy, the OpenBLAS kernel set asked for, the BLAS that ran. */
export interface TorchRun {
  threads: number;
  samplesPerSecond: number;
  /** Samples per second of CPU time (all threads): the cost of a step, much less sensitive to other load. */
  samplesPerCpuSecond: number;
  /** How its idle OpenMP threads waited (describeWaitPolicy's words). */
  waitPolicy: string;
  /** OPENBLAS_CORETYPE given to the process, or `default` (OpenBLAS's own choice). */
  openblasCoretype: string;
  blas: string;
}

/** An environment to run the peer under, named by its OpenMP wait policy. */
export interface PeerSetting { waitPolicy: string; env: NodeJS.ProcessEnv }

export interface TorchPeer {
  version: string;
  /** The BLAS with OpenBLAS's own kernel choice. */
  blas: TorchBlas;
  runs: TorchRun[];
}

/**
 * Whether a ratio against this PyTorch means something: only on an optimised BLAS. Otherwise `reason` is one
 * line saying why not and how to fix it.
 *
 * @example
 * peerVerdict({ ...blas, kind: 'reference', optimised: false }).ok; // false
 */
export function peerVerdict(blas: TorchBlas): { ok: true } | { ok: false; reason: string } {
  if (blas.optimised) return { ok: true };
  const fix = 'install an optimised one (`apt-get install libopenblas0-openmp`) or point the alternative at one ' +
    '(`update-alternatives --config libblas.so.3-x86_64-linux-gnu`)';
  if (blas.kind === 'reference') {
    return { ok: false, reason: `no ratio: PyTorch runs on the reference BLAS (${blas.sgemmFrom ?? 'libblas.so.3'}), 10-20× slower than an optimised one; ${fix}` };
  }
  return { ok: false, reason: `no ratio: cannot tell which BLAS PyTorch runs (sgemm_ from ${blas.sgemmFrom ?? 'nowhere visible'}); ${fix}` };
}

/**
 * OpenBLAS kernel sets to offer PyTorch besides its own choice: Debian's OpenBLAS 0.3.21 does not recognise
 * every recent CPU and may fall back to SSE3 kernels, which would make the peer look 2-3× slower than it can be.
 */
export function openblasCoretypes(cpuinfo: string): (string | null)[] {
  const out: (string | null)[] = [null];
  if (/\bavx512f\b/.test(cpuinfo)) out.push('SkylakeX');
  if (/\bavx2\b/.test(cpuinfo)) out.push('Haswell');
  return out;
}

/**
 * For each thread count, the fastest PyTorch run (over kernel sets and wait policies) at exactly that many
 * threads, by wall-clock samples/s or, with `by`, by samples per CPU-second.
 */
export function bestByThreads(runs: readonly TorchRun[], by: 'samplesPerSecond' | 'samplesPerCpuSecond' = 'samplesPerSecond'): Map<number, TorchRun> {
  const best = new Map<number, TorchRun>();
  for (const r of runs) {
    const b = best.get(r.threads);
    if (b === undefined || r[by] > b[by]) best.set(r.threads, r);
  }
  return best;
}

/** Make sure Debian's PyTorch is importable, installing python3-torch if it is not (needs root). */
function ensureTorch(): boolean {
  const probe = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' });
  if (probe.status === 0) return true;
  console.error('bench: PyTorch missing; installing Debian python3-torch (apt-get) …');
  const r = spawnSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch'], { stdio: 'inherit' });
  return r.status === 0 && spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
}

function runScript(args: string[], env: NodeJS.ProcessEnv): z.infer<typeof outputSchema> {
  const out = execFileSync(PYTHON, [SCRIPT, ...args], { encoding: 'utf8', env });
  return outputSchema.parse(JSON.parse(out.trim().split('\n').pop() ?? ''));
}

/**
 * PyTorch's samples/s at each of `threads` (torch.set_num_threads), under each of `settings` and, when it runs
 * on OpenBLAS, with each kernel set this CPU can run; null when PyTorch is not available.
 */
export function measureTorch(
  seconds: number, threads: readonly number[], settings: readonly PeerSetting[],
  net: { hidden: readonly number[]; activation: 'relu' | 'gelu' } = { hidden: [400, 400], activation: 'relu' },
): TorchPeer | null {
  if (!ensureTorch() || settings.length === 0) return null;
  const probe = runScript(['--blas-only'], settings[0]!.env);
  let cpuinfo = '';
  try {
    cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // No /proc: OpenBLAS's own choice only.
  }
  const coretypes = probe.blas.kind === 'openblas' ? openblasCoretypes(cpuinfo) : [null];
  const runs: TorchRun[] = [];
  for (const setting of settings) {
    for (const coretype of coretypes) {
      const e: NodeJS.ProcessEnv = { ...setting.env };
      if (coretype === null) delete e['OPENBLAS_CORETYPE'];
      else e['OPENBLAS_CORETYPE'] = coretype;
      const r = runScript(['--seconds', String(seconds), '--threads', threads.join(','), '--hidden', net.hidden.join(','), '--activation', net.activation], e);
      for (const x of r.results) {
        runs.push({ ...x, waitPolicy: setting.waitPolicy, openblasCoretype: coretype ?? 'default', blas: r.blas.name });
      }
    }
  }
  return { version: probe.torch, blas: probe.blas, runs };
}
