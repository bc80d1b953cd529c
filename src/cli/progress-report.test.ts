import assert from 'node:assert/strict';
import test from 'node:test';
import { formatDuration, ProgressReport } from './progress-report.js';

/** Lines a report writes (off a terminal) while iterations `from`..`to` of `total` each take `stepMs`. */
function simulate(o: { from: number; to: number; total: number; stepMs: number; loss: number; lines?: boolean }): string[] {
  let text = '';
  let now = 0;
  const stream = { write: (s: string) => ((text += s), true), isTTY: false };
  const report = new ProgressReport({ stream, lines: o.lines ?? true, now: () => now });
  for (let i = o.from; i <= o.to; i++) {
    now += o.stepMs;
    report.update(i, o.total, o.loss);
  }
  report.stop();
  return text.split('\n').filter((l) => l !== '');
}

test('progress off a terminal: a line at least every 25 s of a slow run and every 10 %, rate and ETA, no "eta 0s"', () => {
  // 1000 iterations at 0.5 s each: 10 % is 50 s, so the 25 s clock decides.
  const lines = simulate({ from: 1, to: 1000, total: 1000, stepMs: 500, loss: 0.5 });
  assert.ok(lines.length >= 500 / 25, `only ${lines.length} lines`);
  assert.match(lines[0]!, /^engram: iter 51\/1000 \(5%\) \| 2\.0 it\/s \| loss 0\.5000 \| eta 7m 55s$/);
  assert.match(lines.at(-1)!, /^engram: iter 1000\/1000 \(100%\)/);
  for (const l of lines) assert.doesNotMatch(l, /eta 0s/);
  // Iterations between two lines: never more than 25 s apart.
  const iters = lines.map((l) => Number(/iter (\d+)/.exec(l)![1]));
  for (let k = 1; k < iters.length; k++) assert.ok((iters[k]! - iters[k - 1]!) * 0.5 <= 25, `gap at ${iters[k]}`);
});

test('progress off a terminal: a fast run prints every 10 %; --no-progress prints nothing', () => {
  assert.equal(simulate({ from: 1, to: 200, total: 200, stepMs: 1, loss: 1 }).length, 10);
  assert.equal(simulate({ from: 1, to: 200, total: 200, stepMs: 1, loss: 1, lines: false }).length, 0);
});

test('a resumed run says so, and its rate counts only this invocation\'s iterations', () => {
  const lines = simulate({ from: 601, to: 1000, total: 1000, stepMs: 100, loss: 0.1 });
  assert.equal(lines[0], 'engram: resumed from iteration 600 of 1000');
  assert.match(lines[1]!, /iter 700\/1000 \(70%\) \| 10\.0 it\/s .*eta 30s/);
});

test('formatDuration', () => {
  assert.equal(formatDuration(0), '<1s');
  assert.equal(formatDuration(400), '<1s');
  assert.equal(formatDuration(59_400), '59s');
  assert.equal(formatDuration(185_000), '3m 05s');
  assert.equal(formatDuration(3_720_000), '1h 02m');
});
