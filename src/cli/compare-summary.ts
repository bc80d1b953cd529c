import type { MeanSd } from '../metrics/index.js';

// What `engram compare` reports, apart from how it runs the grid (compare.ts) and how it renders (compare-table.ts).

/** One method's results over seeds. */
export interface SummaryRow {
  method: string;
  protocol: string;
  scenario: string;
  stream: string;
  /** Seeds that contributed, ascending. */
  seeds: number[];
  acc: MeanSd;
  bwt: MeanSd;
  forgetting: MeanSd;
  wallSeconds: MeanSd;
  storedRawSamplesMax: MeanSd;
  storedRawSamplesAtEnd: MeanSd;
}

/** A run of the grid that did not produce a result. */
export interface FailedRun {
  method: string;
  seed: number;
  /** The result file it should have written. */
  file: string;
  /** The child's exit code (null when it was killed by a signal or did not start). */
  exitCode: number | null;
  /** The child's last stderr line, or what else went wrong. */
  error: string;
}

/** Everything `engram compare` reports: what ran, one row per method, and the runs that failed. */
export interface CompareSummary {
  protocol: string;
  scenario: string;
  stream: string;
  methods: string[];
  seeds: number[];
  /** Options passed through to every `engram run`. */
  runOptions: string[];
  jobs: number;
  /** Means and sds over seeds; acc, bwt and forgetting are fractions (0–1), as in the result files. */
  rows: SummaryRow[];
  failed: FailedRun[];
}
