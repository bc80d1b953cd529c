import { describeBackend, getBackend, nativeLoaded, ompWaitChosen } from '../kernels/index.js';
import { describeWaitPolicy, RUN_WAIT_POLICY, waitPolicyVars } from '../kernels/wait-policy.js';
import { runExperiment, type RunConfig, type RunResult } from '../harness/index.js';
import { checkOutput, OutputPathError, writeWithFallback } from './files.js';
import { summary } from './format.js';
import { ProgressReport } from './progress-report.js';

/** Where a run reads and writes besides its result (`engram run`'s file options). */
export interface RunFiles {
  out?: string | undefined;
  save?: string | undefined;
  load?: string | undefined;
  checkpoint?: string | undefined;
  checkpointEvery?: number | undefined;
  resume?: boolean | undefined;
}

/**
 * Idle OpenMP workers sleep at once (RUN_WAIT_POLICY, passive) instead of spinning: a spinning worker takes
 * the core another process's main thread needs, and two runs side by side (or one beside any busy process)
 * slowed each other up to 7× with OMP_WAIT_POLICY=active (`npm run concurrency` measures it). OMP_WAIT_POLICY
 * or GOMP_SPINCOUNT set by the user wins. Must run before the native addon (and with it libgomp, which reads the
 * variables once) loads.
 */
export function setRunWaitPolicy(): void {
  if (!ompWaitChosen(process.env) && !nativeLoaded()) Object.assign(process.env, waitPolicyVars(RUN_WAIT_POLICY));
}

/**
 * Run `cfg` with progress on stderr (a bar on a terminal, else lines unless `progress` is false), print the
 * summary table, write the result to `files.out`; returns the result. Every output path is checked before the
 * run starts; if the result still cannot be written when the run ends (the path became unwritable meanwhile),
 * the summary has been printed and the result goes to a fallback file that the error names.
 */
export function executeRun(cfg: RunConfig, files: RunFiles, progress: boolean): RunResult {
  checkOutput('--out', files.out);
  checkOutput('--save', files.save);
  checkOutput('--checkpoint', files.checkpoint);
  // The run sets the thread count itself; set it here too so that the banner says what will be used.
  if (cfg.threads !== null) getBackend().setThreads(cfg.threads);
  const header = `engram: backend ${describeBackend(getBackend())}, idle OpenMP threads: ${describeWaitPolicy(process.env)}`;
  const report = new ProgressReport({ stream: process.stderr, lines: progress, header });
  try {
    const result = runExperiment(cfg, {
      ...(files.load !== undefined ? { loadFrom: files.load } : {}),
      ...(files.save !== undefined ? { saveTo: files.save } : {}),
      ...(files.checkpoint !== undefined
        ? { checkpoint: { file: files.checkpoint, every: files.checkpointEvery ?? 1000, resume: files.resume === true } }
        : {}),
      onIteration: (i, total, loss) => report.update(i, total, loss),
    });
    report.stop();
    report.printHeader();
    const resumedAt = result.provenance.resumedAt;
    if (!report.started && resumedAt !== null) process.stderr.write(`engram: resumed from iteration ${resumedAt}: the checkpoint holds the finished run\n`);
    process.stdout.write(summary(result) + '\n');
    if (files.out !== undefined) {
      const { written, failure } = writeWithFallback(files.out, JSON.stringify(result, null, 1) + '\n');
      if (failure !== null) throw new OutputPathError(`could not write --out ${files.out} (${failure}); the result is in ${written}`);
      process.stdout.write(`result written to ${files.out}\n`);
    }
    return result;
  } finally {
    // An error mid-run must not leave the bar redrawing (its timer would keep the process alive).
    report.stop();
  }
}
