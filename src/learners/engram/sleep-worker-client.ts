import { Worker } from 'node:worker_threads';
import type { SleepJob, SleepOutcome } from './sleep.js';

/**
 * The main thread's handle on the sleep worker: one worker thread, started on first use, that runs `runSleep`
 * on jobs posted to it. It does not keep the process alive between sleeps.
 */
export class SleepWorker {
  private readonly worker = new Worker(new URL('./sleep-worker.js', import.meta.url));
  private pending: { resolve: (o: SleepOutcome) => void; reject: (e: Error) => void } | null = null;

  constructor() {
    this.worker.unref();
    this.worker.on('message', (m: { outcome?: SleepOutcome; error?: string }) => {
      const p = this.pending;
      this.pending = null;
      this.worker.unref();
      if (p === null) return;
      if (m.error !== undefined) p.reject(new Error(`sleep failed: ${m.error}`));
      else p.resolve(m.outcome!);
    });
    this.worker.on('error', (e) => {
      const p = this.pending;
      this.pending = null;
      p?.reject(e);
    });
  }

  run(job: SleepJob): Promise<SleepOutcome> {
    if (this.pending !== null) return Promise.reject(new Error('the sleep worker is busy'));
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      // Keep the process alive while a sleep is in flight (its result must not be lost).
      this.worker.ref();
      this.worker.postMessage(job);
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
