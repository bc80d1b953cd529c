import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { MultiBar } from 'cli-progress';
import { z } from 'zod';
import { ompWaitChosen } from '../kernels/index.js';
import { listMethods } from '../learners/index.js';
import { protocolNames, recordedConfig, resolveConfig, runConfigSchema, scenarioNames, streamNames, type PartialRunConfig, type RunConfig } from '../harness/index.js';
import { meanSd, type MeanSd } from '../metrics/index.js';
import type { CompareSummary, FailedRun, SummaryRow } from './compare-summary.js';
import { renderJson, renderMarkdown } from './compare-table.js';
import { writeAtomic } from './files.js';
import { refuseContradictions } from './flags.js';
import { formatDuration } from './progress-report.js';

/**
 * `engram compare`: runs a grid of `engram run` invocations (methods × seeds) in child processes, a few at a
 * time, and reports mean ± sd over seeds per method.
 */

/** Bad input: main's error handler prints the message on one line and exits 2. */
class CompareUsageError extends Error {
  readonly code = 'E_USAGE';
}

/** The part of a result file (`engram run --out`) that compare reads. */
export const resultSchema = z.object({
  protocol: z.string(),
  scenario: z.string(),
  stream: z.string(),
  method: z.string(),
  seed: z.number(),
  acc: z.number(),
  bwt: z.number(),
  forgetting: z.number(),
  wallSeconds: z.number(),
  storedRawSamples: z.object({ max: z.number(), atEnd: z.number() }),
  config: z.record(z.string(), z.unknown()).optional(),
});
export type ResultLike = z.infer<typeof resultSchema>;

/**
 * Mean ± sd over seeds (sample sd, see {@link meanSd}) per method and setting. Rows follow `methodOrder`,
 * then first appearance; results from different protocols/scenarios/streams never share a row.
 */
export function aggregate(results: readonly ResultLike[], methodOrder: readonly string[] = []): SummaryRow[] {
  const groups = new Map<string, ResultLike[]>();
  for (const r of results) {
    const key = JSON.stringify([r.method, r.protocol, r.scenario, r.stream]);
    const g = groups.get(key);
    if (g === undefined) groups.set(key, [r]);
    else g.push(r);
  }
  const rank = (m: string): number => {
    const i = methodOrder.indexOf(m);
    return i < 0 ? methodOrder.length : i;
  };
  const rows = [...groups.values()].map((rs): SummaryRow => {
    const sorted = [...rs].sort((a, b) => a.seed - b.seed);
    const first = sorted[0]!;
    const of = (f: (r: ResultLike) => number): MeanSd => meanSd(sorted.map(f));
    return {
      method: first.method,
      protocol: first.protocol,
      scenario: first.scenario,
      stream: first.stream,
      seeds: sorted.map((r) => r.seed),
      acc: of((r) => r.acc),
      bwt: of((r) => r.bwt),
      forgetting: of((r) => r.forgetting),
      wallSeconds: of((r) => r.wallSeconds),
      storedRawSamplesMax: of((r) => r.storedRawSamples.max),
      storedRawSamplesAtEnd: of((r) => r.storedRawSamples.atEnd),
    };
  });
  // Array.prototype.sort is stable: equal ranks keep their first-appearance order.
  return rows.sort((a, b) => rank(a.method) - rank(b.method));
}

/** The result file name of one run of the grid (`-pc` after the method under predictive coding). */
export function resultFileName(cfg: Pick<RunConfig, 'protocol' | 'scenario' | 'stream' | 'method' | 'seed'> & { engine?: RunConfig['engine'] }): string {
  return `${cfg.protocol}-${cfg.scenario}-${cfg.stream}-${cfg.method}${cfg.engine === 'pc' ? '-pc' : ''}-s${cfg.seed}.json`;
}

/** One planned `engram run`. */
export interface PlannedRun {
  method: string;
  seed: number;
  /** Result JSON it writes. */
  file: string;
  /** Arguments after `main.js`. */
  args: string[];
  /** The configuration it runs (for checking an existing result under --resume). */
  config: RunConfig;
}

/** The configuration a grid shares: everything but the method and the seed (each run resolves its own defaults). */
export type GridConfig = Omit<PartialRunConfig, 'method' | 'seed'>;

/**
 * The grid, seed by seed (every method for seed 1, then seed 2, …, so an interrupted grid has whole seeds).
 * Each run's configuration is resolved on its own (a method may have presets of its own); `runArgs` are passed
 * through to every run. Throws resolveConfig's ZodError on a bad configuration.
 */
export function planGrid(grid: GridConfig, methods: readonly string[], seeds: readonly number[], outDir: string,
  runArgs: readonly string[] = []): PlannedRun[] {
  const plan: PlannedRun[] = [];
  for (const seed of seeds) {
    for (const method of methods) {
      const config = resolveConfig({ ...grid, method, seed });
      const file = join(outDir, resultFileName(config));
      plan.push({
        method,
        seed,
        file,
        config,
        args: ['run', '--protocol', config.protocol, '--scenario', config.scenario, '--stream', config.stream,
          '--method', method, '--seed', String(seed), ...runArgs, '--out', file, '--no-progress'],
      });
    }
  }
  return plan;
}

/**
 * Runs at once by default: as many as the cores allow when each run uses `threadsPerRun` threads; a run
 * without --threads uses every core, so then one at a time.
 */
export function defaultJobs(cores: number, threadsPerRun: number | null): number {
  return Math.max(1, Math.floor(cores / (threadsPerRun ?? cores)));
}

/** A result file, or null when it is missing or does not parse as one. */
export function readResult(file: string): ResultLike | null {
  if (!existsSync(file)) return null;
  try {
    const parsed = resultSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/**
 * The first configuration key (threads aside: they change speed, not results) where `found` differs, or null.
 * A key that `found` predates counts as the value its code used (`recordedConfig`).
 */
export function configDifference(found: Record<string, unknown> | undefined, expected: RunConfig): string | null {
  if (found === undefined) return 'config';
  const upgraded = recordedConfig(found);
  const rec = 'config' in upgraded ? (upgraded.config as Record<string, unknown>) : found;
  const exp = expected as Record<string, unknown>;
  for (const k of new Set([...Object.keys(exp), ...Object.keys(rec)])) {
    if (k === 'threads') continue;
    if (JSON.stringify(rec[k]) !== JSON.stringify(exp[k])) return k;
  }
  return null;
}

/** Calls `fn` on every item with at most `limit` calls in flight; results in item order. */
export async function runPool<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

interface ChildOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Last non-empty stderr line. */
  lastStderrLine: string;
}

/** The environment for runs that share the cores: OpenMP workers sleep when idle, unless the user said otherwise. */
export function sharedCoresEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return ompWaitChosen(env) ? env : { ...env, OMP_WAIT_POLICY: 'passive' };
}

/** Runs `node cli args…`, stdout discarded, keeping the tail of stderr. */
function runChild(
  cli: string, args: readonly string[], children: Set<ChildProcess>, env: NodeJS.ProcessEnv,
): Promise<ChildOutcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env });
    children.add(child);
    let tail = '';
    let spawnError = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (s: string) => {
      tail = (tail + s).slice(-16_384);
    });
    child.on('error', (e) => {
      spawnError = `could not start: ${e.message}`;
    });
    child.on('close', (code, signal) => {
      children.delete(child);
      // The last line, or rather the last of engram's own message lines (an internal error ends with a hint line).
      const lines = tail.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
      const last = spawnError !== '' ? spawnError
        : lines.filter((l) => l.startsWith('engram: ')).at(-1) ?? lines.at(-1) ?? (signal !== null ? `killed by ${signal}` : '(no output)');
      resolve({ exitCode: code, signal, lastStderrLine: last });
    });
  });
}

interface CompareOptions {
  protocol: RunConfig['protocol'];
  scenario?: RunConfig['scenario'];
  stream?: RunConfig['stream'];
  methods: string[];
  seeds: number[];
  jobs?: number;
  outDir?: string;
  resume?: boolean;
}

/** The first item that occurs twice in `items`, or undefined. */
function repeated<T>(items: readonly T[]): T | undefined {
  return items.find((x, i) => items.indexOf(x) !== i);
}
const list = (what: string) => (v: string): string[] => {
  const parts = v.split(',').map((s) => s.trim());
  if (parts.some((p) => p === '')) throw new InvalidArgumentError(`${what} must be a comma-separated list, e.g. naive,er.`);
  const twice = repeated(parts);
  if (twice !== undefined) throw new InvalidArgumentError(`${what} names ${twice} twice; give each once.`);
  return parts;
};
const seedList = (v: string): number[] => {
  const parts = v.split(',').map((s) => s.trim());
  if (parts.some((p) => !/^\d+$/.test(p))) throw new InvalidArgumentError('--seeds must be comma-separated whole numbers, e.g. 1,2,3.');
  const seeds = parts.map(Number);
  const twice = repeated(seeds);
  if (twice !== undefined) throw new InvalidArgumentError(`--seeds names seed ${twice} twice (its runs would be identical); give each once, e.g. 1,2,3.`);
  return seeds;
};
const positiveInt = (what: string) => (v: string): number => {
  if (!/^\d+$/.test(v.trim()) || Number(v) < 1) throw new InvalidArgumentError(`${what} must be a positive whole number.`);
  return Number(v);
};

/** Run options compare sets itself, or that would make every run of the grid fight over one file. */
const forbidden: Record<string, string> = {
  method: '--method is set by compare: use --methods',
  seed: '--seed is set by compare: use --seeds',
  out: '--out is set by compare: use --out-dir',
  save: '--save cannot be passed through compare (every run would write the same file)',
  load: '--load cannot be passed through compare',
  checkpoint: '--checkpoint cannot be passed through compare (use compare --resume to continue a grid)',
  checkpointEvery: '--checkpoint-every cannot be passed through compare',
};

/**
 * Validates the options `compare` passes through to `run` with the run command's own parser (same messages,
 * nothing started on a typo); returns their parsed values.
 */
function parseRunOptions(runCmd: Command | undefined, runArgs: readonly string[]): Record<string, unknown> {
  if (runCmd === undefined) return {};
  const probe = new Command('run')
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: () => {} })
    .action(() => {});
  for (const o of runCmd.options) probe.addOption(o);
  refuseContradictions(probe);
  try {
    probe.parse([...runArgs], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.excessArguments') throw new CompareUsageError('unexpected argument: compare takes options only');
      throw new CompareUsageError(`${e.message.replace(/^error: /, '')} (compare passes options it does not know to each run)`);
    }
    throw e;
  }
  const opts = probe.opts();
  for (const [k, why] of Object.entries(forbidden)) {
    if (probe.getOptionValueSource(k) === 'cli') throw new CompareUsageError(why);
  }
  return opts;
}

/** Everything checked and resolved before anything starts. */
interface Prepared {
  plan: PlannedRun[];
  protocol: string;
  scenario: string;
  stream: string;
  /** Threads per run (null: every core). */
  threads: number | null;
  methods: string[];
  seeds: number[];
  runArgs: string[];
  outDir: string;
  jobs: number;
  resume: boolean;
}

/** Keys compare sets itself rather than taking from the passed-through run options. */
const ownKeys = new Set(['protocol', 'scenario', 'stream', 'method', 'seed']);

function prepare(opts: CompareOptions, cmd: Command): Prepared {
  const known = listMethods().map((m) => m.name);
  const unknown = opts.methods.filter((m) => !known.includes(m));
  if (unknown.length > 0) {
    throw new CompareUsageError(`unknown method${unknown.length > 1 ? 's' : ''} ${unknown.map((m) => `"${m}"`).join(', ')}; available: ${known.join(', ')}`);
  }
  const runArgs = [...cmd.args];
  const ro = parseRunOptions(cmd.parent?.commands.find((c) => c.name() === 'run'), runArgs);
  // The run options are named after the configuration keys (--class-order → classOrder), as `engram run` maps them.
  const grid: Record<string, unknown> = { protocol: opts.protocol, scenario: opts.scenario, stream: opts.stream };
  for (const k of Object.keys(runConfigSchema.shape)) if (!ownKeys.has(k) && ro[k] !== undefined) grid[k] = ro[k];
  // `--set key=value` is the configuration's methodOptions.
  if (ro['set'] !== undefined) grid['methodOptions'] = ro['set'];
  const gridConfig = grid as GridConfig;
  const first = resolveConfig({ ...gridConfig, method: opts.methods[0], seed: opts.seeds[0] }); // bad options fail here
  const outDir = opts.outDir ?? join('results', `${first.protocol}-${first.scenario}-${first.stream}`);
  const plan = planGrid(gridConfig, opts.methods, opts.seeds, outDir, runArgs); // resolves (validates) every run first
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (e) {
    throw new CompareUsageError(`cannot create --out-dir ${outDir}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return {
    plan,
    protocol: first.protocol,
    scenario: first.scenario,
    stream: first.stream,
    threads: first.threads,
    methods: opts.methods,
    seeds: opts.seeds,
    runArgs,
    outDir,
    jobs: opts.jobs ?? defaultJobs(availableParallelism(), first.threads),
    resume: opts.resume === true,
  };
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

/** Runs the grid, prints and writes the summary; resolves to the exit code (0, or 1 when a run failed). */
async function execute(p: Prepared): Promise<number> {
  const cli = fileURLToPath(new URL('./main.js', import.meta.url));
  const results = new Map<PlannedRun, ResultLike>();
  const failed: FailedRun[] = [];
  const todo: PlannedRun[] = [];
  const total = p.plan.length;
  const width = Math.max(...p.methods.map((m) => m.length));
  const name = (r: PlannedRun): string => `${r.method.padEnd(width)} s${r.seed}`;
  let done = 0;

  const tty = process.stderr.isTTY === true;
  const multibar = tty
    ? new MultiBar({
      format: '{bar} {value}/{total} runs | {duration_formatted} | running: {running}',
      stream: process.stderr,
      hideCursor: true,
      gracefulExit: false,
      clearOnComplete: false,
    })
    : null;
  const say = (line: string): void => {
    if (multibar !== null) multibar.log(line + '\n');
    else process.stderr.write(line + '\n');
  };

  for (const run of p.plan) {
    const existing = p.resume ? readResult(run.file) : null;
    const differs = existing !== null ? configDifference(existing.config, run.config) : null;
    if (existing !== null && differs === null) {
      results.set(run, existing);
      done++;
      say(`[${done}/${total}] ${name(run)}  ACC ${pct(existing.acc)}  wall ${existing.wallSeconds.toFixed(1)} s  (existing result, skipped)`);
    } else {
      if (existing !== null) say(`${name(run)}: ${run.file} was run with another ${differs}; running it again`);
      todo.push(run);
    }
  }

  const jobs = Math.min(p.jobs, Math.max(1, todo.length));
  const cores = availableParallelism();
  if (todo.length > 0) {
    process.stderr.write(`engram compare: ${todo.length} run${todo.length === 1 ? '' : 's'}, ${jobs} at a time, results in ${p.outDir}\n`);
    if (jobs > 1 && jobs * (p.threads ?? cores) > cores) {
      process.stderr.write(`engram compare: note: ${jobs} runs at once with ${p.threads ?? 'all'} thread(s) each on ${cores} cores; pass --threads to share the cores\n`);
    }
  }

  const running = new Set<PlannedRun>();
  const label = (r: PlannedRun): string => `${r.method} s${r.seed}`;
  const startedAt = new Map<PlannedRun, number>();
  const bar = multibar?.create(total, done, { running: '' }) ?? null;
  // Off a terminal a run can take an hour between two "[k/n]" lines: say what is running every 30 s.
  const heartbeat = multibar === null && todo.length > 0
    ? setInterval(() => {
      const now = Date.now();
      process.stderr.write(heartbeatLine(done, total, [...running].map((r) => ({ name: label(r), ms: now - (startedAt.get(r) ?? now) }))) + '\n');
    }, HEARTBEAT_MS)
    : null;
  heartbeat?.unref();
  const showRunning = (): void => bar?.update(done, { running: [...running].map(label).join(', ') });

  const children = new Set<ChildProcess>();
  const onSignal = (signal: NodeJS.Signals): void => {
    for (const c of children) c.kill(signal);
    multibar?.stop();
    process.stderr.write(`\nengram compare: interrupted; run the same command with --resume to continue where it stopped\n`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // Runs side by side must not spin their idle OpenMP threads, or each one's spinning threads take the cores
  // the others' main threads need: passive even if `engram run`'s own default (cli/main.ts) ever changes.
  const env = jobs > 1 ? sharedCoresEnv(process.env) : process.env;
  try {
    await runPool(todo, jobs, async (run) => {
      running.add(run);
      startedAt.set(run, Date.now());
      showRunning();
      const outcome = await runChild(cli, run.args, children, env);
      running.delete(run);
      done++;
      const result = outcome.exitCode === 0 ? readResult(run.file) : null;
      if (result !== null) {
        results.set(run, result);
        say(`[${done}/${total}] ${name(run)}  ACC ${pct(result.acc)}  wall ${result.wallSeconds.toFixed(1)} s`);
      } else {
        const error = outcome.exitCode === 0 ? `exited 0 but ${run.file} is missing or not a result file` : outcome.lastStderrLine;
        failed.push({ method: run.method, seed: run.seed, file: run.file, exitCode: outcome.exitCode, error });
        say(`[${done}/${total}] ${name(run)}  FAILED${outcome.exitCode !== null ? ` (exit ${outcome.exitCode})` : ''}: ${error}`);
      }
      showRunning();
    });
  } finally {
    if (heartbeat !== null) clearInterval(heartbeat);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (multibar !== null) {
      multibar.update(); // flush the logged lines
      multibar.stop();
    }
  }

  const summary: CompareSummary = {
    protocol: p.protocol,
    scenario: p.scenario,
    stream: p.stream,
    methods: p.methods,
    seeds: p.seeds,
    runOptions: p.runArgs,
    jobs,
    rows: aggregate(p.plan.flatMap((r) => results.get(r) ?? []), p.methods),
    failed,
  };
  const md = renderMarkdown(summary);
  const mdFile = join(p.outDir, 'summary.md');
  const jsonFile = join(p.outDir, 'summary.json');
  writeAtomic(mdFile, md);
  writeAtomic(jsonFile, renderJson(summary));
  process.stdout.write(`\n${md}\nsummary written to ${mdFile} and ${jsonFile}\n`);
  if (failed.length > 0) {
    process.stderr.write(`engram compare: ${failed.length} of ${total} runs failed (listed above); the table has the others\n`);
    return 1;
  }
  return 0;
}

/** Interval of compare's progress lines when stderr is not a terminal. */
const HEARTBEAT_MS = 30_000;

/** compare's progress line off a terminal: runs done, and each running one with its time so far. */
export function heartbeatLine(done: number, total: number, running: readonly { name: string; ms: number }[]): string {
  const now = running.length === 0 ? '' : ` | running: ${running.map((r) => `${r.name} (${formatDuration(r.ms)})`).join(', ')}`;
  return `engram compare: ${done}/${total} runs done${now}`;
}

/** Registers `engram compare` on the program (after `run`, whose options it validates and passes through). */
export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description('run a grid of methods × seeds (each an `engram run` in its own process) and tabulate mean ± sd over seeds per method')
    .addOption(new Option('--protocol <name>', 'benchmark').choices([...protocolNames]).default('split-mnist'))
    .addOption(new Option('--scenario <s>', 'task-, domain- or class-incremental (default: class for split, domain otherwise)').choices([...scenarioNames]))
    .addOption(new Option('--stream <kind>', 'boundaries or task-free (default boundaries)').choices([...streamNames]))
    .requiredOption('--methods <list>', 'comma-separated methods, e.g. naive,er,ewc (see engram run --help)', list('--methods'))
    .requiredOption('--seeds <list>', 'comma-separated seeds, e.g. 1,2,3', seedList)
    .option('--jobs <n>', 'runs at once (default: max(1, floor(cores / threads per run)); threads per run is the --threads ' +
      'passed through, and without --threads a run uses every core, so the default is 1)', positiveInt('--jobs'))
    .option('--out-dir <dir>', 'result JSON of every run, summary.md and summary.json (default results/<protocol>-<scenario>-<stream>)')
    .option('--resume', 'skip runs whose result JSON already exists, parses and has the same configuration')
    .allowUnknownOption()
    .allowExcessArguments()
    .addHelpText('after', `
Any other option is passed through to every \`engram run\` (e.g. --iters, --batch, --lr, --hidden, --data-dir,
--eval-every, --curve-samples, --threads, --contexts, --fuzziness, --class-order random, --set key=value) and
checked before anything starts for every method of the grid; --method, --seed, --out, --save, --load and
--checkpoint are not allowed. --class-order random draws each seed's own class order.

Each run writes <out-dir>/<protocol>-<scenario>-<stream>-<method>-s<seed>.json. A failed run is reported with
its child's last stderr line; the others go on and compare exits 1 with the table of those that succeeded.

Wall times: runs in parallel compete for cores and memory bandwidth and distort each other's wall times;
for timings that mean something use --jobs 1 (the default without --threads).

Example:
  engram compare --protocol split-mnist --scenario class --methods naive,er,ewc --seeds 1,2,3 --threads 1 --jobs 2`)
    .action((opts: CompareOptions, cmd: Command) => {
      const prepared = prepare(opts, cmd); // throws usage errors before anything starts
      void execute(prepared).then(
        (code) => {
          process.exitCode = code;
        },
        (e: unknown) => {
          process.stderr.write(`engram: error: ${e instanceof Error ? e.message : String(e)}\n`);
          process.exitCode = 1;
        },
      );
    });
}
