#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ZodError } from 'zod';
import { issueText } from '../core/issue-text.js';
import { describeWaitPolicy, RUN_WAIT_POLICY, waitPolicyVars } from '../kernels/wait-policy.js';
import { listMethods } from '../learners/index.js';
import { engineNames } from '../predictive-coding/index.js';
import { protocolNames, resolveConfig, scenarioNames, streamNames, type RunConfig } from '../harness/index.js';
import { registerCompare } from './compare.js';
import { executeRun, setRunWaitPolicy } from './execute-run.js';
import { refuseContradictions } from './flags.js';
import { registerPlotCurves } from './plot-curves.js';
import { registerReproduce } from './reproduce.js';
import { setOption } from './set-option.js';

/** Exit code for bad input (usage, data, configuration). */
const EXIT_USAGE = 2;

const int = (what: string) => (v: string): number => {
  if (!/^-?\d+$/.test(v.trim())) throw new InvalidArgumentError(`${what} must be a whole number.`);
  return Number(v);
};
const num = (what: string) => (v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`${what} must be a number.`);
  return n;
};
const intList = (what: string, example: string) => (v: string): number[] => {
  const parts = v.split(',').map((s) => s.trim());
  if (parts.some((p) => !/^\d+$/.test(p))) throw new InvalidArgumentError(`${what} must be comma-separated whole numbers, e.g. ${example}.`);
  return parts.map(Number);
};
const classOrder = (v: string): number[] | 'random' => {
  if (v.trim() === 'random') return 'random';
  return intList('--class-order', '3,7,0,1,2,4,5,6,8,9, or random')(v);
};

interface RunOptions {
  protocol: RunConfig['protocol'];
  scenario?: RunConfig['scenario'];
  stream?: RunConfig['stream'];
  method?: string;
  seed?: number;
  iters?: number;
  batch?: number;
  lr?: number;
  optimizer?: RunConfig['optimizer'];
  momentum?: number;
  hidden?: number[];
  activation?: RunConfig['activation'];
  bias?: boolean;
  engine?: RunConfig['engine'];
  pcSteps?: number;
  pcIncremental?: boolean;
  contexts?: number;
  padding?: number;
  classOrder?: number[] | 'random';
  fuzziness?: number;
  valPerContext?: number;
  dataDir?: string;
  evalEvery?: number;
  curveSamples?: number;
  threads?: number;
  set?: Record<string, number | boolean | string>;
  evalSplit?: RunConfig['evalSplit'];
  out?: string;
  save?: string;
  load?: string;
  checkpoint?: string;
  checkpointEvery?: number;
  resume?: boolean;
  progress: boolean;
}

function runCommand(opts: RunOptions): void {
  setRunWaitPolicy();
  const methodNames = listMethods().map((m) => m.name);
  if (opts.method !== undefined && !methodNames.includes(opts.method)) {
    throw new UsageError(`unknown method "${opts.method}"; available: ${methodNames.join(', ')}`);
  }
  if (opts.resume === true && opts.checkpoint === undefined) throw new UsageError('--resume needs --checkpoint FILE');
  if (opts.checkpointEvery !== undefined && opts.checkpoint === undefined) throw new UsageError('--checkpoint-every needs --checkpoint FILE, e.g. --checkpoint run.ckpt --checkpoint-every 500');
  if (opts.checkpointEvery !== undefined && opts.checkpointEvery < 1) throw new UsageError('--checkpoint-every must be positive, e.g. --checkpoint-every 500');
  const cfg = resolveConfig({
    protocol: opts.protocol,
    scenario: opts.scenario,
    stream: opts.stream,
    method: opts.method,
    seed: opts.seed,
    iters: opts.iters,
    batch: opts.batch,
    lr: opts.lr,
    optimizer: opts.optimizer,
    momentum: opts.momentum,
    hidden: opts.hidden,
    activation: opts.activation,
    bias: opts.bias,
    engine: opts.engine,
    pcSteps: opts.pcSteps,
    pcIncremental: opts.pcIncremental,
    contexts: opts.contexts,
    padding: opts.padding,
    classOrder: opts.classOrder,
    fuzziness: opts.fuzziness,
    valPerContext: opts.valPerContext,
    dataDir: opts.dataDir,
    evalEvery: opts.evalEvery,
    curveSamples: opts.curveSamples,
    threads: opts.threads,
    methodOptions: opts.set,
    evalSplit: opts.evalSplit,
  });
  executeRun(cfg, opts, opts.progress);
}

class UsageError extends Error {
  readonly code = 'E_USAGE';
}

/** The package's version, from the package.json beside `dist/` (the file npm installs with the package). */
function packageVersion(): string {
  const file = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json');
  const pkg = JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('engram')
    .description('Continual learning in parameter space: train and measure learners on continual-learning protocols.')
    .version(packageVersion(), '-V, --version', 'print the version of engram')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  const width = Math.max(...listMethods().map((m) => m.name.length));
  const methods = listMethods().map((m) => `  ${m.name.padEnd(width)}  ${m.description}`).join('\n');
  const pcMethods = listMethods().filter((m) => m.engines?.includes('pc') === true).map((m) => m.name).join(', ');
  const runCmd = program
    .command('run')
    .description('train one method on one protocol and report the accuracy matrix, ACC, BWT, FWT, forgetting, speed and memory')
    .addOption(new Option('--protocol <name>', 'benchmark (iid: every class at once in one context, the reference for a learning rule)').choices([...protocolNames]).default('split-mnist'))
    .addOption(new Option('--scenario <s>', 'task-, domain- or class-incremental (default: class for split, domain otherwise)').choices([...scenarioNames]))
    .addOption(new Option('--stream <kind>', 'boundaries: the learner is told when a context ends; task-free: fuzzy boundaries, no signal (default boundaries)').choices([...streamNames]))
    .option('--method <name>', 'learning method (see list below; default naive); some methods bring their paper’s protocol as a preset (gpm on permuted-mnist)')
    .option('--seed <n>', 'random seed (default 1)', int('--seed'))
    .option('--iters <n>', 'training iterations per context (default 2000 split, 5000 permuted/rotated, 10000 iid)', int('--iters'))
    .option('--batch <n>', 'batch size (default 128)', int('--batch'))
    .option('--lr <x>', 'learning rate (default 1e-3 split, 1e-4 permuted/rotated)', num('--lr'))
    .addOption(new Option('--optimizer <name>', 'optimiser (default adam)').choices(['adam', 'sgd']))
    .option('--momentum <x>', 'SGD momentum (default 0)', num('--momentum'))
    .option('--hidden <sizes>', 'hidden layer sizes (default 400,400 split, 1000,1000 permuted/rotated, 128,128,128 iid)', intList('--hidden', '400,400'))
    .addOption(new Option('--activation <fn>', 'hidden activation (default relu; gelu on iid)').choices(['relu', 'sigmoid', 'tanh', 'gelu']))
    // Both forms, so that "not given" stays undefined and a method preset (gpm: no bias) can apply.
    .option('--bias', 'linear layers with biases (default, except where a method preset says otherwise)')
    .option('--no-bias', 'linear layers without biases')
    .addOption(new Option('--engine <name>', `how the network learns: bp (backprop, default) or pc (predictive coding: local updates, no backward pass; ${pcMethods})`).choices([...engineNames]))
    .option('--pc-steps <n>', 'predictive coding: inference steps per batch (default 5)', int('--pc-steps'))
    .option('--pc-incremental', 'predictive coding: iPC, a weight update at every inference step')
    .option('--contexts <n>', 'number of contexts: permuted/rotated MNIST any (default 10); split-mnist 5 (pairs of classes, default) or 10 (one class each, class-IL only); iid 1', int('--contexts'))
    .option('--padding <n>', 'zero pixels around each image before permuting/rotating (default 2 on permuted MNIST, as van de Ven\'s MNIST32; 0 otherwise and for gpm)', int('--padding'))
    .option('--class-order <perm>', 'split-mnist: permutation of the 10 classes deciding which classes form which context, e.g. 3,7,0,1,…, or random (drawn from the seed; the result records it)', classOrder)
    .option('--fuzziness <n>', 'task-free streams: half-width in iterations of the ramps between contexts (default min(500, iters/4)); at most iters/2', int('--fuzziness'))
    .option('--val-per-context <n>', 'training samples per context held out for validation (default 500; 5000 on iid)', int('--val-per-context'))
    .option('--data-dir <dir>', 'IDX files in MNIST layout and names (plain or .gz) to use instead of MNIST')
    .option('--eval-every <n>', 'iterations between online-curve evaluations (default 100 split, 250 permuted/rotated)', int('--eval-every'))
    .option('--curve-samples <n>', 'test samples per context for each online-curve point (default 500 split, 300 otherwise)', int('--curve-samples'))
    .option('--threads <n>', 'threads for the native kernels, at most the machine\'s (default: all cores)', int('--threads'))
    .addOption(new Option('--eval-split <split>', 'measure accuracies on the test set or on the held-out validation split (tune on validation; default test)').choices(['test', 'validation']))
    .option('--set <key=value>', 'a method\'s own option, repeatable (e.g. --set lambda=1e9 for ewc, --set dreams=false for engram); an unknown key is refused, naming the method\'s options (docs/USAGE.md lists them)', setOption)
    .option('--out <file.json>', 'write the full result as JSON')
    .option('--save <file>', 'save the trained learner (all its state) when the run ends')
    .option('--load <file>', 'start from a learner saved with --save (same method and architecture)')
    .option('--checkpoint <file>', 'save the whole run (learner + measurements) every --checkpoint-every iterations, atomically')
    .option('--checkpoint-every <n>', 'iterations between run checkpoints (default 1000)', int('--checkpoint-every'))
    .option('--resume', 'continue from --checkpoint FILE if it exists (same configuration; results as if never stopped)')
    .option('--no-progress', 'no progress output when stderr is not a terminal')
    .addHelpText('after', `\nMethods:\n${methods}\n\nIdle OpenMP threads sleep between kernels (${describeWaitPolicy(waitPolicyVars(RUN_WAIT_POLICY))}), so runs side by side share the\n` +
      `cores instead of slowing each other. OMP_WAIT_POLICY or GOMP_SPINCOUNT in the environment wins; spinning\n` +
      `(OMP_WAIT_POLICY=active) only pays on an otherwise idle machine (docs/USAGE.md, Shared machines).\n\nExample:\n  engram run --protocol split-mnist --scenario class --method naive --seed 1 --out naive.json`)
    .action((opts: RunOptions) => runCommand(opts));
  refuseContradictions(runCmd);
  registerCompare(program);
  registerReproduce(program);
  registerPlotCurves(program);
  return program;
}

function main(argv: string[]): void {
  // A reader that stops early (`engram run --help | head`) closes the pipe: stop quietly, as Unix tools do,
  // instead of dying on the unhandled EPIPE with a stack trace.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    process.stderr.write(`engram: error: standard output: ${e.message}\n`);
    process.exit(1);
  });
  const program = buildProgram();
  try {
    program.parse(argv);
  } catch (e) {
    process.exitCode = exitCodeFor(e);
  }
}

function exitCodeFor(e: unknown): number {
  if (e instanceof CommanderError) {
    // Commander has already printed its message (or the help text).
    return e.exitCode === 0 ? 0 : EXIT_USAGE;
  }
  if (e instanceof ZodError) {
    const issue = e.issues[0];
    const where = issue !== undefined && issue.path.length > 0 ? `--${String(issue.path[0]).replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}: ` : '';
    process.stderr.write(`engram: error: ${where}${issue !== undefined ? issueText(issue) : e.message}\n`);
    return EXIT_USAGE;
  }
  if (e instanceof Error && 'code' in e && typeof e.code === 'string' && e.code.startsWith('E_')) {
    process.stderr.write(`engram: error: ${e.message}\n`);
    return EXIT_USAGE;
  }
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`engram: internal error: ${msg}\n(set ENGRAM_DEBUG=1 for the stack trace)\n`);
  if (process.env['ENGRAM_DEBUG'] === '1' && e instanceof Error) process.stderr.write(`${e.stack ?? ''}\n`);
  return 1;
}

main(process.argv);
