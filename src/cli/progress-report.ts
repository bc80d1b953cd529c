import { SingleBar } from 'cli-progress';

/** Where progress goes: stderr, or a stand-in in tests. */
export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

export interface ProgressOptions {
  stream: ProgressStream;
  /** Lines when the stream is not a terminal (`--no-progress` turns them off; a terminal always gets the bar). */
  lines: boolean;
  now?: () => number;
  /** Longest gap between two lines when not on a terminal. */
  lineEveryMs?: number;
  /**
   * A line printed when the run starts training (`--no-progress` too): held back until then so that a run
   * refused during its setup prints its one error line and nothing else.
   */
  header?: string;
}

/** "3m 05s", "42s", "1h 02m"; under half a second "<1s" (a bare "0s" reads as "done"). */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s === 0) return '<1s';
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

/**
 * Progress of one run. On a terminal, a bar redrawn as iterations pass. Elsewhere (nohup, CI, a pipe) one line
 * every 10 % of the run or every `lineEveryMs` (25 s), whichever comes first: the training loop is synchronous,
 * so nothing timer-driven could draw while it runs, and a line is the only output a log keeps. The ETA comes
 * from this invocation's own rate and is shown only once there is one (never "eta 0s" at the start). A run
 * that continues from a checkpoint says so first.
 */
export class ProgressReport {
  private readonly now: () => number;
  private readonly lineEveryMs: number;
  private readonly tty: boolean;
  private bar: SingleBar | null = null;
  private startIter = 0;
  private startMs = 0;
  private lastLineIter = 0;
  private lastLineMs = 0;
  private total = 0;
  private begun = false;
  private headerDone = false;

  constructor(private readonly o: ProgressOptions) {
    this.now = o.now ?? Date.now;
    this.lineEveryMs = o.lineEveryMs ?? 25_000;
    this.tty = o.stream.isTTY === true;
  }

  /** Iteration `i` (1-based) of `total` is done, with the training loss it gave. */
  update(i: number, total: number, loss: number): void {
    if (!this.begun) this.begin(i - 1, total);
    const t = this.now();
    if (this.bar !== null) {
      if (i % 20 === 0 || i === total) this.bar.update(i, { loss: loss.toFixed(4), etaText: this.eta(i, t) });
      return;
    }
    if (!this.o.lines) return;
    const due = i - this.lastLineIter >= Math.max(1, Math.ceil(total / 10)) || t - this.lastLineMs >= this.lineEveryMs || i === total;
    if (!due) return;
    this.lastLineIter = i;
    this.lastLineMs = t;
    const rate = this.rate(i, t);
    const pct = Math.floor((100 * i) / total);
    const parts = [`iter ${i}/${total} (${pct}%)`, rate === null ? null : `${rate.toFixed(1)} it/s`, `loss ${loss.toFixed(4)}`];
    if (i < total) parts.push(`eta ${this.eta(i, t)}`);
    this.o.stream.write(`engram: ${parts.filter((p) => p !== null).join(' | ')}\n`);
  }

  /** Whether any iteration has been reported (a resumed run that had already finished reports none). */
  get started(): boolean {
    return this.begun;
  }

  /** Print the header now if it has not been (a resumed run that had already finished trains no iteration). */
  printHeader(): void {
    if (this.o.header !== undefined && !this.headerDone) this.o.stream.write(`${this.o.header}\n`);
    this.headerDone = true;
  }

  /** Stop drawing (the bar's line is finished); safe to call more than once. */
  stop(): void {
    if (this.bar !== null) this.bar.stop();
    this.bar = null;
  }

  private begin(done: number, total: number): void {
    this.begun = true;
    this.printHeader();
    this.total = total;
    // The clock starts when the first iteration is reported, so that iteration is not in the rate.
    this.startIter = done + 1;
    this.lastLineIter = done;
    this.startMs = this.now();
    this.lastLineMs = this.startMs;
    if (done > 0) this.o.stream.write(`engram: resumed from iteration ${done} of ${total}\n`);
    if (this.tty) {
      this.bar = new SingleBar({
        format: '{bar} {percentage}% | iter {value}/{total} | loss {loss} | eta {etaText}',
        stream: this.o.stream as NodeJS.WritableStream,
        hideCursor: true,
      });
      this.bar.start(total, done, { loss: 'n/a', etaText: '…' });
    }
  }

  private rate(i: number, t: number): number | null {
    const dt = t - this.startMs;
    return dt <= 0 || i <= this.startIter ? null : ((i - this.startIter) * 1000) / dt;
  }

  private eta(i: number, t: number): string {
    const r = this.rate(i, t);
    return r === null ? '…' : formatDuration(((this.total - i) / r) * 1000);
  }
}
