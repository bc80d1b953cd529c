import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import { z } from 'zod';
import { issueText } from '../core/issue-text.js';
import { gitState, recordedConfig, type RunConfig } from '../harness/index.js';
import { methodEntry } from '../learners/index.js';
import { executeRun, setRunWaitPolicy } from './execute-run.js';

/**
 * `engram reproduce RESULT.json`: run again exactly what a result file records (its resolved configuration:
 * method options, seed, data, evaluation split, threads) and say whether the accuracy matrix comes out the same.
 */

/** A result file that cannot be reproduced as it stands: one line, exit 2. */
export class ReproduceError extends Error {
  readonly code = 'E_USAGE';
}

/** The part of a result file that reproduce reads. */
const recordSchema = z.object({
  accuracyMatrix: z.array(z.array(z.number())),
  config: z.record(z.string(), z.unknown()),
  provenance: z.object({ commit: z.string().nullable(), dirty: z.boolean().nullable() }).partial().optional(),
});

/** What reproduce needs from a result file. */
export interface RecordedRun {
  config: RunConfig;
  accuracyMatrix: number[][];
  /** The recorded commit (null: none recorded) and whether its checkout was dirty. */
  commit: string | null;
  dirty: boolean | null;
  hasProvenance: boolean;
}

/** Read and check a result file; a file from before a configuration key existed gets the value its code used. */
export function readRecordedRun(file: string): RecordedRun {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ReproduceError(`cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ReproduceError(`${file} is not JSON (a result file of engram run --out is)`);
  }
  const r = recordSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new ReproduceError(`${file} is not a result file: ${issue.path.join('.') || 'its top level'}: ${issueText(issue)}`);
  }
  const cfg = recordedConfig(r.data.config);
  if ('issue' in cfg) {
    const { issue } = cfg;
    throw new ReproduceError(`${file}: its config is not a run configuration of this version (${issue.path.join('.') || 'config'}: ${issue.message})`);
  }
  return {
    config: cfg.config,
    accuracyMatrix: r.data.accuracyMatrix,
    commit: r.data.provenance?.commit ?? null,
    dirty: r.data.provenance?.dirty ?? null,
    hasProvenance: r.data.provenance !== undefined,
  };
}

/** The first entry where two accuracy matrices differ, or null when they are identical. */
export function firstDifference(recorded: readonly (readonly number[])[], now: readonly (readonly number[])[]): string | null {
  if (recorded.length !== now.length) return `${recorded.length} rows recorded, ${now.length} now`;
  for (let t = 0; t < recorded.length; t++) {
    const a = recorded[t]!;
    const b = now[t]!;
    if (a.length !== b.length) return `row ${t + 1}: ${a.length} entries recorded, ${b.length} now`;
    for (let j = 0; j < a.length; j++) {
      if (a[j] !== b[j]) return `R[${t + 1}][${j + 1}] (context ${j + 1} after context ${t + 1}) is ${a[j]} recorded, ${b[j]} now`;
    }
  }
  return null;
}

/**
 * Options where `now` differs from `recorded`, as "key: recorded → now" (missing ones as "unset"). A list
 * recorded as typed on the command line ("0.97,0.99") and resolved to an array is the same option.
 */
export function optionDifferences(recorded: Readonly<Record<string, unknown>>, now: Readonly<Record<string, unknown>>): string[] {
  const show = (v: unknown): string => (v === undefined ? 'unset' : JSON.stringify(v));
  const same = (a: unknown, b: unknown): boolean =>
    JSON.stringify(a) === JSON.stringify(b) || (typeof a === 'string' && Array.isArray(b) && a.replace(/\s/g, '') === b.join(','));
  const keys = [...new Set([...Object.keys(recorded), ...Object.keys(now)])].sort();
  return keys.filter((k) => !same(recorded[k], now[k])).map((k) => `${k}: ${show(recorded[k])} → ${show(now[k])}`);
}

const short = (commit: string | null): string => (commit === null ? 'unknown' : commit.slice(0, 12));

/** Warnings on stderr about how the code or the options differ from the recorded run's. */
function warnDifferences(file: string, rec: RecordedRun, cfg: RunConfig): void {
  const warn = (line: string): boolean => process.stderr.write(`engram reproduce: warning: ${line}\n`);
  const here = gitState();
  if (!rec.hasProvenance) {
    warn(`${file} records no provenance: it may come from other code than this (commit ${short(here.commit)}); results may differ`);
  } else if (rec.commit === null) {
    warn(`${file} records no commit; this is commit ${short(here.commit)}; results may differ`);
  } else if (rec.commit !== here.commit) {
    warn(`${file} was produced by commit ${short(rec.commit)}${rec.dirty === true ? ' with uncommitted changes' : ''}, ` +
      `this is ${short(here.commit)}; the commit differs, so results may differ`);
  } else if (rec.dirty === true) {
    warn(`${file} was produced by this commit (${short(rec.commit)}) with uncommitted changes`);
  }
  if (here.dirty === true) warn(`this checkout has uncommitted changes (${here.changes.length} path${here.changes.length === 1 ? '' : 's'})`);
  const diff = optionDifferences(rec.config.methodOptions, cfg.methodOptions);
  if (diff.length > 0) warn(`this code resolves ${cfg.method}'s options differently: ${diff.join('; ')}`);
}

interface ReproduceOptions {
  out?: string;
  threads?: number;
  progress: boolean;
}

const positiveInt = (what: string) => (v: string): number => {
  if (!/^\d+$/.test(v.trim()) || Number(v) < 1) throw new InvalidArgumentError(`${what} must be a positive whole number.`);
  return Number(v);
};

function reproduce(file: string, opts: ReproduceOptions): number {
  setRunWaitPolicy();
  const rec = readRecordedRun(file);
  const entry = methodEntry(rec.config.method);
  // The options as this code resolves them (an old file may record only those given).
  let cfg: RunConfig = { ...rec.config, methodOptions: entry.resolveOptions(rec.config.methodOptions, rec.config) };
  warnDifferences(file, rec, cfg);
  const cores = availableParallelism();
  const threads = opts.threads ?? (cfg.threads !== null && cfg.threads > cores ? cores : cfg.threads);
  if (threads !== null && threads > cores) throw new ReproduceError(`--threads ${threads}: this machine runs ${cores} threads at once`);
  if (threads !== cfg.threads) {
    process.stderr.write(`engram reproduce: ${threads} thread(s) instead of the recorded ${cfg.threads ?? 'all cores'} (threads change speed, not results)\n`);
    cfg = { ...cfg, threads };
  }
  const result = executeRun(cfg, { out: opts.out }, opts.progress);
  const diff = firstDifference(rec.accuracyMatrix, result.accuracyMatrix);
  const T = rec.accuracyMatrix.length;
  if (diff === null) {
    process.stdout.write(`reproduced: the accuracy matrix (${T}×${rec.accuracyMatrix[0]?.length ?? 0}) matches ${file} exactly\n`);
    return 0;
  }
  process.stdout.write(`NOT reproduced: the accuracy matrix differs from ${file}; first difference: ${diff}\n`);
  return 1;
}

/** Registers `engram reproduce` on the program. */
export function registerReproduce(program: Command): void {
  program
    .command('reproduce')
    .description('run again exactly the run a result file records and check that the accuracy matrix comes out the same')
    .argument('<result.json>', 'a result file written by engram run --out (or by engram compare)')
    .option('--out <file.json>', 'write the new result as JSON')
    .option('--threads <n>', 'threads for the native kernels (default: the recorded ones, at most the machine\'s; results do not depend on them)', positiveInt('--threads'))
    .option('--no-progress', 'no progress output when stderr is not a terminal')
    .addHelpText('after', `
Exit status: 0 when the accuracy matrix matches exactly, 1 when it differs (the first difference is shown),
2 when the file cannot be read as a result file. A file without provenance, or from another commit, is run
all the same, with a warning.

Example:
  engram run --method naive --iters 50 --out naive.json && engram reproduce naive.json`)
    .action((file: string, opts: ReproduceOptions) => {
      process.exitCode = reproduce(file, opts);
    });
}
