import assert from 'node:assert/strict';
import test from 'node:test';
import { formatDuration, ProgressReport } from './progress-report.js';

function capture(isTTY = false): { stream: { write(s: string): boolean; isTTY: boolean }; lines: () => string[] } {
  let text = '';
  return {
    stream: { write: (s: string) => ((text += s), true), isTTY },
    lines: () => text.split('\n').filter((l) => l !== ''),
  };
}

test('progress off a terminal: a line at least every 25 s of a slow run and every 10 %, rate and ETA, no "eta 0s"', () => {
  const out = capture();
  let now = 0;
  const report = new ProgressReport({ stream: out.stream, lines: true, now: () => now });
  // 1000 iterations at 0.5 s each: 10 % is 50 s, so the 25 s clock decides.
  for (let i = 1; i <= 1000; i++) {
    now += 500;
    report.update(i, 1000, 0.5);
  }
  report.stop();
  const lines = out.lines();
  assert.ok(lines.length >= 500 / 25, `only ${lines.length} lines`);
  assert.match(lines[0]!, /^engram: iter 51\/1000 \(5%\) \| 2\.0 it\/s \| loss 0\.5000 \| eta 7m 55s$/);
  assert.match(lines.at(-1)!, /^engram: iter 1000\/1000 \(100%\)/);
  for (const l of lines) assert.doesNotMatch(l, /eta 0s/);
  // Iterations between two lines: never more than 25 s apart.
  const iters = lines.map((l) => Number(/iter (\d+)/.exec(l)![1]));
  for (let k = 1; k < iters.length; k++) assert.ok((iters[k]! - iters[k - 1]!) * 0.5 <= 25, `gap at ${iters[k]}`);
});

test('progress off a terminal: a fast run prints every 10 %; --no-progress prints nothing', () => {
  const out = capture();
  let now = 0;
  const report = new ProgressReport({ stream: out.stream, lines: true, now: () => now });
  for (let i = 1; i <= 200; i++) {
    now += 1;
    report.update(i, 200, 1);
  }
  assert.equal(out.lines().length, 10);
  const quiet = capture();
  const off = new ProgressReport({ stream: quiet.stream, lines: false, now: () => now });
  for (let i = 1; i <= 200; i++) off.update(i, 200, 1);
  assert.equal(quiet.lines().length, 0);
});

test('a resumed run says so, and its rate counts only this invocation\'s iterations', () => {
  const out = capture();
  let now = 0;
  const report = new ProgressReport({ stream: out.stream, lines: true, now: () => now });
  for (let i = 601; i <= 1000; i++) {
    now += 100;
    report.update(i, 1000, 0.1);
  }
  const lines = out.lines();
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
