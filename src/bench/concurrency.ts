import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { writeAtomic } from '../cli/files.js';
import { parseWaitPolicy, waitPolicyEnv, waitPolicyName, type WaitPolicy } from '../kernels/wait-policy.js';
import { gitState } from '../harness/provenance.js';

/**
 * `npm run concurrency -- [--full] [--json FILE]`: does an `engram run` hold up when another one shares the
 * machine? For each workload it times one run alone, then two identical runs started together, and prints each
 * concurrent run's wall time as a multiple of the solo one (the goal: at most 2.5× on a 2-core machine, where
 * perfect sharing gives about 2×). Short runs (300 iterations per context) by default; `--full` runs the
 * protocol's full length. `--policies` compares OpenMP wait policies (`inherit` = what `engram run` chooses).
 */

interface Workload { name: string; args: string[] }

const WORKLOADS: Record<string, string[]> = {
  naive: ['--method', 'naive'],
  engram: ['--method', 'engram', '--stream', 'task-free'],
};

interface Measurement {
  policy: string;
  workload: string;
  command: string;
  soloSeconds: number;
  concurrentSeconds: number[];
  /** Each concurrent run's wall time over the solo one. */
  ratios: number[];
  loadBefore: number[];
}

const CLI = join(dirname(fileURLToPath(import.meta.url)), '../cli/main.js');

/** Wall seconds of one `engram run`, from spawn to exit; rejects with its last stderr line if it fails. */
function timedRun(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [CLI, 'run', ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve((performance.now() - t0) / 1000);
      else {
        const last = stderr.trim().split('\n').pop() ?? '';
        const how = signal !== null ? `was killed by ${signal}` : `exited with ${String(code)}`;
        reject(new Error(`engram run ${args.join(' ')} ${how}: ${last}`));
      }
    });
  });
}

const round2 = (x: number): number => Math.round(x * 100) / 100;
const load = (): number[] => loadavg().map(round2);

async function measure(policy: WaitPolicy, w: Workload): Promise<Measurement> {
  const env = waitPolicyEnv(policy, process.env);
  const loadBefore = load();
  const solo = await timedRun(w.args, env);
  const pair = await Promise.all([timedRun(w.args, env), timedRun(w.args, env)]);
  return {
    policy: waitPolicyName(policy),
    workload: w.name,
    command: `engram run ${w.args.join(' ')}`,
    soloSeconds: round2(solo),
    concurrentSeconds: pair.map(round2),
    ratios: pair.map((s) => round2(s / solo)),
    loadBefore,
  };
}

const positive = (what: string) => (v: string): number => {
  if (!/^\d+$/.test(v.trim()) || Number(v) < 1) throw new InvalidArgumentError(`${what} must be a positive whole number.`);
  return Number(v);
};

function listOf<T>(what: string, parse: (s: string) => T) {
  return (v: string): T[] => v.split(',').map((s) => {
    try {
      return parse(s);
    } catch (e) {
      throw new InvalidArgumentError(`${what}: ${e instanceof Error ? e.message : String(e)}`);
    }
  });
}

function workloadName(s: string): string {
  const t = s.trim();
  if (WORKLOADS[t] === undefined) throw new Error(`unknown workload "${s}"; available: ${Object.keys(WORKLOADS).join(', ')}`);
  return t;
}

async function main(): Promise<void> {
  const program = new Command()
    .name('concurrency')
    .description('wall time of an engram run alone and of two identical runs started together')
    .option('--full', 'full-length runs (the protocol\'s iterations) instead of --iters')
    .option('--iters <n>', 'iterations per context of the short runs', positive('--iters'), 300)
    .option('--workloads <list>', `comma-separated: ${Object.keys(WORKLOADS).join(', ')}`, listOf('--workloads', workloadName), Object.keys(WORKLOADS))
    .option('--policies <list>', 'OpenMP wait policies to compare: inherit (engram run\'s own choice), passive, active, spin:N',
      listOf('--policies', parseWaitPolicy), [parseWaitPolicy('inherit')])
    .option('--json <file>', 'also write the results as JSON')
    // Bad input is a usage error (exit 2), after commander's one-line message; --help exits 0.
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2))
    .parse();
  const opts = program.opts<{ full?: boolean; iters: number; workloads: string[]; policies: WaitPolicy[]; json?: string }>();
  const length = opts.full === true ? [] : ['--iters', String(opts.iters)];

  const startLoad = load();
  console.log(`load average before: ${startLoad.join(' ')} (${cpus().length} cores); solo and concurrent times are wall seconds`);
  const measurements: Measurement[] = [];
  for (const policy of opts.policies) {
    for (const name of opts.workloads) {
      const w = { name, args: [...WORKLOADS[name]!, ...length, '--no-progress'] };
      const m = await measure(policy, w);
      measurements.push(m);
      console.log(`${m.policy.padEnd(12)} ${name.padEnd(7)} solo ${m.soloSeconds.toFixed(1)} s, together ${m.concurrentSeconds.map((s) => s.toFixed(1)).join(' s and ')} s: ` +
        `${m.ratios.map((r) => r.toFixed(2) + '×').join(', ')} (load before ${m.loadBefore.join(' ')})`);
    }
  }
  const worst = Math.max(...measurements.flatMap((m) => m.ratios));
  console.log(`worst concurrent/solo ratio: ${worst.toFixed(2)}× (goal ≤ 2.5×)`);

  if (opts.json !== undefined) {
    const result = {
      provenance: { ...gitState(), node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cpus: cpus().length },
      full: opts.full === true,
      itersPerContext: opts.full === true ? null : opts.iters,
      loadBefore: startLoad,
      loadAfter: load(),
      worstRatio: round2(worst),
      measurements,
    };
    writeAtomic(opts.json, JSON.stringify(result, null, 1) + '\n');
    console.log(`written to ${opts.json}`);
  }
}

main().catch((e: unknown) => {
  console.error(`concurrency: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
