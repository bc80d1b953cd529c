import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeBackend, type Backend } from '../kernels/index.js';
import { nativeInfo } from '../kernels/native.js';
import { describeWaitPolicy } from '../kernels/wait-policy.js';

/** Where a result came from: enough to tell whether another run could give the same numbers. */
export interface Provenance {
  /** Full commit hash of the code that ran, or null (see `commitUnavailable`). */
  commit: string | null;
  /** Why there is no commit (git missing, not a repository), or null. */
  commitUnavailable: string | null;
  /** The checkout had changes (`git status --porcelain` not empty, untracked files included); null without git. */
  dirty: boolean | null;
  /** The first lines of `git status --porcelain` when dirty (at most 20), so a reader sees what differed. */
  changes: string[];
  /** Engram's package version. */
  engram: string | null;
  node: string;
  platform: string;
  /** Backend and GEMM that ran, as the banner shows them. */
  backend: { name: string; blas: string; description: string };
  /** The native addon (null with the portable backend or without the addon): compiler, GEMM kernel, OpenMP, OpenBLAS. */
  addon: {
    compiler: string; builtinKernel: string; openmp: boolean; processors: number;
    openblas: string | null; openblasCore: string | null;
  } | null;
  cpu: { model: string; cores: number };
  /** Threads the native kernels used. */
  threads: number;
  /** How idle OpenMP threads wait, in `describeWaitPolicy`'s words (`passive`, `active`, `spin:N`, `default`). */
  ompWaitPolicy: string;
  /** Iteration a resumed run continued from (null: it ran from the start in one go). */
  resumedAt: number | null;
}

/** The package's root directory (dist/harness/ → the package). */
const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `git args…` in `root`; its stdout without the final newline, or the reason it failed. */
function git(root: string, args: readonly string[]): { out: string } | { error: string } {
  try {
    const out = execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
    return { out: out.replace(/\n+$/, '') };
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') return { error: 'git is not installed' };
    const first = (err.stderr ?? err.message).split('\n').find((l) => l.trim() !== '') ?? 'git failed';
    return { error: /not a git repository/i.test(first) ? `${root} is not a git repository` : first.trim() };
  }
}

/**
 * The commit and state of the checkout at `root` (default: the one this code runs from); never throws.
 *
 * @example
 * gitState().commit; // "2d1d5e6…" (40 hex digits), or null with commitUnavailable saying why
 */
export function gitState(root = packageRoot): Pick<Provenance, 'commit' | 'commitUnavailable' | 'dirty' | 'changes'> {
  const none = (why: string): Pick<Provenance, 'commit' | 'commitUnavailable' | 'dirty' | 'changes'> =>
    ({ commit: null, commitUnavailable: why, dirty: null, changes: [] });
  const top = git(root, ['rev-parse', '--show-toplevel']);
  if ('error' in top) return none(top.error);
  // An installed package (node_modules/engram) sits inside its user's repository, whose commit is not ours.
  if (realpath(top.out) !== realpath(root)) return none(`${root} is not a git checkout of its own (it lies inside ${top.out})`);
  const head = git(root, ['rev-parse', 'HEAD']);
  if ('error' in head) return none(head.error);
  const status = git(root, ['status', '--porcelain']);
  if ('error' in status) return { commit: head.out, commitUnavailable: null, dirty: null, changes: [] };
  const lines = status.out === '' ? [] : status.out.split('\n');
  return { commit: head.out, commitUnavailable: null, dirty: lines.length > 0, changes: lines.slice(0, 20) };
}

function realpath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

function packageVersion(): string | null {
  try {
    const pkg: unknown = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8'));
    return typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string' ? pkg.version : null;
  } catch {
    return null;
  }
}

/**
 * The provenance of a run on backend `b` now: commit, checkout state, versions, machine, threads.
 *
 * @example
 * const p = provenance(getBackend(), null);
 * p.commit; // "2d1d5e6862e1abc4a08be4da1db1bc6bceb27f97", or null with p.commitUnavailable saying why
 */
export function provenance(b: Backend, resumedAt: number | null): Provenance {
  const info = b.name === 'native' ? nativeInfo() : null;
  const cpu = cpus()[0];
  return {
    ...gitState(),
    engram: packageVersion(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    backend: { name: b.name, blas: b.blas, description: describeBackend(b) },
    addon: info === null ? null : {
      compiler: info.compiler, builtinKernel: info.builtinKernel, openmp: info.openmp, processors: info.processors,
      openblas: info.openblasConfig, openblasCore: info.openblasCore,
    },
    cpu: { model: cpu?.model.trim() ?? 'unknown', cores: availableParallelism() },
    threads: b.getThreads(),
    ompWaitPolicy: describeWaitPolicy(process.env),
    resumedAt,
  };
}
