import { parentPort } from 'node:worker_threads';
import { runSleep, type SleepJob } from './sleep.js';

// Worker-thread entry: run each posted sleep job and send its outcome back (parameters transferred, not copied).
parentPort?.on('message', (job: SleepJob) => {
  try {
    const outcome = runSleep(job);
    parentPort!.postMessage({ outcome }, outcome.params.map((p) => p.buffer as ArrayBuffer));
  } catch (e) {
    parentPort!.postMessage({ error: e instanceof Error ? e.message : String(e) });
  }
});
