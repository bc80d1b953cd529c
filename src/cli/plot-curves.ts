import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { z } from 'zod';
import { issueText } from '../core/issue-text.js';
import { contextSwitches, stabilityGap, type StabilityGap } from '../metrics/index.js';
import { checkOutput, writeAtomic } from './files.js';

/**
 * `engram plot-curves`: the online accuracy curves of several result files (`engram run --out`) on one SVG
 * chart, with the context switches marked, and each file's stability gap (metrics/stability-gap.ts).
 */

/** Bad input: main's error handler prints the message on one line and exits 2. */
class PlotUsageError extends Error {
  readonly code = 'E_USAGE';
}

/** The part of a result file that the plot reads. */
const curveResultSchema = z.object({
  method: z.string(),
  stream: z.string(),
  seed: z.number(),
  onlineCurve: z.array(z.object({ iteration: z.number(), accuracy: z.array(z.number()) })).min(1),
  config: z.object({ iters: z.number().int().positive() }),
});
export type CurveResult = z.infer<typeof curveResultSchema>;

/** Reads a result file; a missing, unreadable or malformed file is a usage error (one line). */
export function readCurveResult(file: string): CurveResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = e instanceof Error && 'code' in e ? String(e.code) : '';
    throw new PlotUsageError(code === 'ENOENT' ? `${file}: no such file` : `cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new PlotUsageError(`${file} is not JSON (expected a result file written by engram run --out)`);
  }
  const parsed = curveResultSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue !== undefined && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    throw new PlotUsageError(`${file} is not a result file with an online curve (${where}${issue !== undefined ? issueText(issue) : 'invalid'})`);
  }
  const r = parsed.data;
  const T = r.onlineCurve[0]!.accuracy.length;
  if (T === 0 || r.onlineCurve.some((p) => p.accuracy.length !== T)) {
    throw new PlotUsageError(`${file}: the online curve's points must all have the same, non-zero number of accuracies`);
  }
  if (r.stream !== 'boundaries' && r.stream !== 'task-free') throw new PlotUsageError(`${file}: unknown stream "${r.stream}"`);
  return r;
}

/** Number of contexts of a result. */
const contextsOf = (r: CurveResult): number => r.onlineCurve[0]!.accuracy.length;

/** "<method> (<stream>, seed s)". */
export const seriesLabel = (r: Pick<CurveResult, 'method' | 'stream' | 'seed'>): string => `${r.method} (${r.stream}, seed ${r.seed})`;

/** One plotted point: accuracy in %. `segment` separates the pieces of a line that must not be joined. */
export interface PlotPoint {
  series: string;
  segment: string;
  iteration: number;
  accuracy: number;
}

/**
 * The points of one result's line. With `context` = N: accuracy on context N over the whole run. Without:
 * for each context t ≥ 1, the mean accuracy over contexts j < t from the last point at or before the switch
 * to t up to the switch to t+1; one segment per t, so every segment starts at the accuracy its contexts had
 * before the switch and the dip after it is the (mean) stability gap. Before the first switch there are no
 * earlier contexts and no points.
 */
export function seriesPoints(r: CurveResult, label: string, context: number | null): PlotPoint[] {
  const curve = r.onlineCurve;
  if (context !== null) {
    return curve.map((p) => ({ series: label, segment: label, iteration: p.iteration, accuracy: 100 * p.accuracy[context]! }));
  }
  const T = contextsOf(r);
  const switches = contextSwitches(r.stream, r.config.iters, T);
  const out: PlotPoint[] = [];
  switches.forEach((s, idx) => {
    const t = idx + 1;
    const next = switches[idx + 1] ?? Number.POSITIVE_INFINITY;
    let start = -1;
    curve.forEach((p, i) => {
      if (p.iteration <= s) start = i;
    });
    const segment = `${label}#${t}`;
    curve.forEach((p, i) => {
      const inSegment = i === start || (p.iteration > s && p.iteration <= next);
      if (!inSegment) return;
      let sum = 0;
      for (let j = 0; j < t; j++) sum += p.accuracy[j]!;
      out.push({ series: label, segment, iteration: p.iteration, accuracy: (100 * sum) / t });
    });
  });
  return out;
}

/** The vega-lite specification of the chart. */
export function chartSpec(points: readonly PlotPoint[], rules: readonly { iteration: number; switch: string }[], opts: {
  title: string; yTitle: string; seriesOrder: readonly string[];
}): TopLevelSpec {
  const kinds = [...new Set(rules.map((r) => r.switch))];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: opts.title,
    width: 720,
    height: 360,
    background: 'white',
    layer: [
      {
        data: { values: rules.map((r) => ({ ...r })) },
        mark: { type: 'rule', color: '#999999', strokeWidth: 1 },
        encoding: {
          x: { field: 'iteration', type: 'quantitative', title: 'iteration' },
          strokeDash: {
            field: 'switch', type: 'nominal', title: null,
            scale: { domain: kinds, range: kinds.map((_, i) => (i === 0 ? [4, 4] : [1, 3])) },
            legend: kinds.length > 1 ? { orient: 'bottom', labelLimit: 0 } : null,
          },
        },
      },
      {
        data: { values: points.map((p) => ({ ...p })) },
        mark: { type: 'line', strokeWidth: 1.5, clip: true },
        encoding: {
          x: { field: 'iteration', type: 'quantitative', title: 'iteration' },
          y: { field: 'accuracy', type: 'quantitative', title: opts.yTitle, scale: { domain: [0, 100] } },
          color: { field: 'series', type: 'nominal', title: null, sort: [...opts.seriesOrder], legend: { orient: 'bottom', labelLimit: 0, columns: 1 } },
          detail: { field: 'segment', type: 'nominal' },
          order: { field: 'iteration', type: 'quantitative' },
        },
      },
    ],
  };
}

/** Renders a vega-lite specification to SVG, headless (no canvas, no browser). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

interface PlotOptions {
  out: string;
  context?: number;
  title?: string;
}

/** One result, its label and its stability gap. */
interface Loaded {
  file: string;
  result: CurveResult;
  label: string;
  gap: StabilityGap;
}

const contextOption = (v: string): number => {
  if (!/^\d+$/.test(v.trim())) throw new InvalidArgumentError('--context must be a whole number ≥ 0.');
  return Number(v);
};

const pts = (x: number): string => (Number.isNaN(x) ? 'n/a' : `${(100 * x).toFixed(1)}`);

function prepare(files: readonly string[], opts: PlotOptions): { loaded: Loaded[]; spec: TopLevelSpec } {
  checkOutput('--out', opts.out);
  const context = opts.context ?? null;
  const loaded: Loaded[] = files.map((file) => {
    const result = readCurveResult(file);
    if (context !== null && context >= contextsOf(result)) {
      throw new PlotUsageError(`--context ${context}: ${file} has contexts 0–${contextsOf(result) - 1}`);
    }
    const gap = stabilityGap(result.onlineCurve, { stream: result.stream, itersPerContext: result.config.iters });
    return { file, result, label: seriesLabel(result), gap };
  });
  // Two files with the same method, stream and seed (e.g. two variants of one method): tell them apart by file.
  for (const l of loaded) {
    if (loaded.filter((o) => o.label === l.label).length > 1) l.label = `${l.label} [${basename(l.file)}]`;
  }
  const points = loaded.flatMap((l) => seriesPoints(l.result, l.label, context));
  const rules = new Map<string, { iteration: number; switch: string }>();
  for (const l of loaded) {
    const kind = l.result.stream === 'boundaries' ? 'context switch (boundaries)' : 'nominal context start (task-free)';
    for (const s of contextSwitches(l.result.stream, l.result.config.iters, contextsOf(l.result))) rules.set(`${kind}@${s}`, { iteration: s, switch: kind });
  }
  const title = opts.title ?? (context === null ? 'Online accuracy on earlier contexts' : `Online accuracy on context ${context}`);
  const yTitle = context === null ? 'accuracy on earlier contexts (mean, %)' : `accuracy on context ${context} (%)`;
  const spec = chartSpec(points, [...rules.values()], { title, yTitle, seriesOrder: loaded.map((l) => l.label) });
  return { loaded, spec };
}

function report(loaded: readonly Loaded[], out: string): string {
  const lines: string[] = [];
  for (const l of loaded) {
    const g = l.gap;
    const perSwitch = g.switches.map((s) => `${s.context}: ${pts(s.meanGap)}`).join(', ');
    lines.push(`${l.label}  ${l.file}`);
    lines.push(`  stability gap ${pts(g.meanGap)} pts (mean over ${g.pairs} (switch, earlier context) pairs; per new context ${perSwitch})`);
    lines.push(`  min accuracy on earlier contexts after a switch ${pts(g.meanMinAccuracy)}% (same pairs, within ${g.window} iterations)`);
  }
  lines.push(`chart written to ${out}`);
  return lines.join('\n') + '\n';
}

/** Registers `engram plot-curves` on the program. */
export function registerPlotCurves(program: Command): void {
  program
    .command('plot-curves')
    .description('plot the online accuracy curves of result files on one SVG chart and print each file\u2019s stability gap')
    .argument('<result.json...>', 'result files written by engram run --out')
    .requiredOption('--out <file.svg>', 'the SVG chart to write (atomically)')
    .option('--context <n>', 'plot the accuracy on context n (0-based) instead of the mean over earlier contexts', contextOption)
    .option('--title <text>', 'chart title')
    .addHelpText('after', `
The y axis is accuracy in %: by default, after the switch to context t, the mean accuracy over the earlier
contexts 0…t−1 (one line segment per t, starting at the last point before the switch); with --context n, the
accuracy on context n throughout. Vertical rules mark the switches: t·iters on boundaries streams, the nominal
start ⌊iters/2⌋ + (t−1)·iters on task-free streams.

For each file it prints the stability gap (De Lange et al., ICLR 2023): for every switch and earlier context j,
the accuracy on j at the last curve point at or before the switch minus its minimum over the curve points in the
next iters/2 iterations, averaged over all (switch, j) pairs, in percentage points; and the mean of those minima.

Example:
  engram plot-curves results/a.json results/b.json --out curves.svg`)
    .action((files: string[], opts: PlotOptions) => {
      const { loaded, spec } = prepare(files, opts); // throws usage errors before rendering
      void renderSvg(spec).then(
        (svg) => {
          writeAtomic(opts.out, svg);
          process.stdout.write(report(loaded, opts.out));
        },
      ).catch((e: unknown) => {
        process.stderr.write(`engram: error: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exitCode = 1;
      });
    });
}
