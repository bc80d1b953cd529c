import { realpathSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { writeAtomic } from '../cli/files.js';
import { portableBackend, setBackend } from '../kernels/index.js';
import { chain } from '../optim/combine.js';
import { onlineImportance } from '../optim/synapse/importance.js';
import { metaplastic } from '../optim/synapse/metaplastic.js';
import {
  DIMS, SAMPLES, STEPS_A, STEPS_B, trainAB, trainMesu, type TwoTaskResult,
} from '../optim/synapse/two-task-regression.js';
import { viscosity } from '../optim/synapse/viscosity.js';
import { scaleByLearningRate } from '../optim/transform.js';

/**
 * `node dist/bench/synapse-compare.js [--seeds 1,2,3,4,5] [--json FILE]`: the synapse models on the two-task
 * regression of src/optim/synapse/two-task-regression.ts (the setup of forgetting.test.ts and mesu.test.ts,
 * with the same settings), as a markdown table of task-A loss after A, task-A loss after B and task-B loss
 * after B. Plain SGD, viscosity and metaplastic synapses are deterministic and run once; MESU samples its
 * weights and runs once per seed (mean ± sample sd over the seeds). Runs on the portable backend, so the
 * numbers are those the tests see. Takes well under a second.
 */

const LR = 0.1;
const importance = () => onlineImportance({ xi: 0.1, consolidateEvery: 50 });
const OMEGA = 'Ω: SI ξ 0.1, consolidated every 50 steps';

export interface MethodSpec {
  method: string;
  settings: string;
  /** Whether the result depends on the seed (else it runs once). */
  stochastic: boolean;
  run(seed: number): TwoTaskResult;
}

/** The compared models, with the settings of forgetting.test.ts and mesu.test.ts. */
export const METHODS: readonly MethodSpec[] = [
  {
    method: 'plain SGD',
    settings: `lr ${LR}`,
    stochastic: false,
    run: () => trainAB(chain({ importance: importance(), lr: scaleByLearningRate(LR) })),
  },
  {
    method: 'viscosity',
    settings: `c 100, lr ${LR}; ${OMEGA}`,
    stochastic: false,
    run: () => trainAB(chain({ importance: importance(), viscosity: viscosity({ c: 100 }), lr: scaleByLearningRate(LR) })),
  },
  {
    method: 'metaplastic',
    settings: `m 100, lr ${LR}; ${OMEGA}`,
    stochastic: false,
    run: () => trainAB(chain({ importance: importance(), lr: scaleByLearningRate(LR), metaplastic: metaplastic({ m: 100 }) })),
  },
  {
    method: 'MESU',
    settings: 'σp 0.8, N 1000, μp 0 (the paper’s rule)',
    stochastic: true,
    run: (seed) => trainMesu({ sigmaPrior: 0.8, memoryWindow: 1000 }, seed),
  },
  {
    method: 'MESU',
    settings: `σp 0.8, N 100 (window shorter than task B's ${STEPS_B} steps)`,
    stochastic: true,
    run: (seed) => trainMesu({ sigmaPrior: 0.8, memoryWindow: 100 }, seed),
  },
];

/** Mean and sample standard deviation (n − 1; null for a single run). */
export interface Stat { mean: number; sd: number | null; n: number }

export interface CompareRow {
  method: string;
  settings: string;
  stochastic: boolean;
  /** The seeds run, or null for a deterministic method (run once). */
  seeds: number[] | null;
  aAfterA: Stat;
  aAfterB: Stat;
  bAfterB: Stat;
  runs: ({ seed: number | null } & TwoTaskResult)[];
}

export function stat(xs: readonly number[]): Stat {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = n < 2 ? null : Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
  return { mean, sd, n };
}

/** Run every method (the stochastic ones once per seed) on the two-task regression. */
export function compareSynapses(seeds: readonly number[], methods: readonly MethodSpec[] = METHODS): CompareRow[] {
  if (seeds.length === 0) throw new RangeError('compareSynapses: no seeds');
  return methods.map((m) => {
    const runs = m.stochastic ? seeds.map((seed) => ({ seed, ...m.run(seed) })) : [{ seed: null, ...m.run(0) }];
    return {
      method: m.method,
      settings: m.settings,
      stochastic: m.stochastic,
      seeds: m.stochastic ? [...seeds] : null,
      aAfterA: stat(runs.map((r) => r.aAfterA)),
      aAfterB: stat(runs.map((r) => r.aAfterB)),
      bAfterB: stat(runs.map((r) => r.bAfterB)),
      runs,
    };
  });
}

const num = (x: number, digits = 3): string =>
  x === 0 ? '0' : Math.abs(x) >= 1e-2 ? x.toPrecision(digits) : x.toExponential(digits - 1);
const cell = (s: Stat): string => (s.sd === null ? num(s.mean) : `${num(s.mean)} ± ${num(s.sd, 2)}`);

/** The markdown table (losses: ½·mean squared error; mean ± sample sd where a method ran over several seeds). */
export function renderTable(rows: readonly CompareRow[]): string {
  const lines = [
    '| method | settings | seeds | task-A loss after A | task-A loss after B | task-B loss after B |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const seeds = r.seeds === null ? 'deterministic (1 run)' : r.seeds.join(',');
    lines.push(`| ${r.method} | ${r.settings} | ${seeds} | ${cell(r.aAfterA)} | ${cell(r.aAfterB)} | ${cell(r.bAfterB)} |`);
  }
  return lines.join('\n');
}

function describeSetup(): string {
  return `Two-task regression (src/optim/synapse/two-task-regression.ts): ${DIMS} weights, ${SAMPLES} samples per task, ` +
    `${STEPS_A} full-batch steps of A then ${STEPS_B} of B, no task boundary signal; portable backend. ` +
    'Losses are ½·mean squared error; MESU rows are mean ± sample sd over the seeds, the others are deterministic and run once.';
}

class UsageError extends Error {}

const seedList = (v: string): number[] => {
  const parts = v.split(',').map((s) => s.trim());
  if (parts.some((p) => !/^\d+$/.test(p)) || parts.some((p) => Number(p) > 0xffffffff)) {
    throw new InvalidArgumentError('--seeds must be comma-separated whole numbers from 0 to 4294967295, e.g. 1,2,3.');
  }
  const seeds = parts.map(Number);
  if (new Set(seeds).size !== seeds.length) throw new InvalidArgumentError('--seeds lists a seed twice.');
  return seeds;
};

function checkJsonPath(file: string): void {
  if (file.trim() === '') throw new UsageError('--json needs a file name');
  const dir = dirname(resolve(file));
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) throw new UsageError(`--json ${file}: directory ${dir} does not exist`);
  try {
    if (statSync(file).isDirectory()) throw new UsageError(`--json ${file} is a directory`);
  } catch (e) {
    if (e instanceof UsageError) throw e;
  }
}

const PROG = 'synapse-compare';

/** Where {@link main} writes (the process's stdout and stderr by default). */
export interface Io { out(text: string): void; err(text: string): void }
const processIo: Io = { out: (t) => void process.stdout.write(t), err: (t) => void process.stderr.write(t) };

/** The CLI on the user's arguments (`process.argv.slice(2)`); returns the exit code: 0, 1 (write failed) or 2 (bad input). */
export function main(args: readonly string[], io: Io = processIo): number {
  const program = new Command()
    .name(PROG)
    .description('Compare plain SGD, viscosity, metaplastic and MESU synapses on the two-task regression ' +
      '(task-A loss after A, task-A loss after B, task-B loss after B) and print a markdown table.')
    .addOption(new Option('--seeds <list>', 'seeds for the stochastic methods (MESU); the deterministic ones run once')
      .argParser(seedList).default([1, 2, 3, 4, 5], '1,2,3,4,5'))
    .option('--json <file>', 'also write the table and every run as JSON (atomically)')
    .addHelpText('after', '\nExample:\n  node dist/bench/synapse-compare.js --seeds 1,2,3,4,5 --json synapse-compare.json')
    .exitOverride()
    .configureOutput({ writeOut: (t) => io.out(t), writeErr: () => {} });
  let opts: { seeds: number[]; json?: string };
  try {
    program.parse([...args], { from: 'user' });
    opts = program.opts<{ seeds: number[]; json?: string }>();
    if (opts.json !== undefined) checkJsonPath(opts.json);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return 0; // --help
      io.err(`${PROG}: ${e.message.replace(/\s*\n\s*/g, ' ')} (see --help)\n`);
      return 2;
    }
    if (e instanceof UsageError) {
      io.err(`${PROG}: error: ${e.message}\n`);
      return 2;
    }
    throw e;
  }

  setBackend(portableBackend);
  const rows = compareSynapses(opts.seeds);
  io.out(`${describeSetup()}\n\n${renderTable(rows)}\n`);
  if (opts.json !== undefined) {
    const result = {
      benchmark: 'two-task-regression',
      setup: { dims: DIMS, samplesPerTask: SAMPLES, stepsA: STEPS_A, stepsB: STEPS_B, backend: 'portable', lossIs: '½·mean squared error' },
      seeds: opts.seeds,
      rows,
      node: process.version,
    };
    try {
      writeAtomic(opts.json, JSON.stringify(result, null, 1) + '\n');
    } catch (e) {
      io.err(`${PROG}: error: cannot write ${opts.json}: ${e instanceof Error ? e.message : String(e)}\n`);
      return 1;
    }
    io.out(`\nwritten to ${opts.json}\n`);
  }
  return 0;
}

/** Run the CLI only when this file is the script node was started with (the test imports it). */
function isMain(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) process.exitCode = main(process.argv.slice(2));
