import test from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../core/rng.js';
import { ReplayBuffer } from './buffer.js';

test('the reservoir keeps at most the budget per key and a uniform sample of what it saw', () => {
  const rng = new Rng(1);
  const buf = new ReplayBuffer(1, 50, rng);
  const counts = new Map<number, number>();
  // 200 trials of streaming 1000 values of one key: each value should be kept with probability 50/1000.
  for (let trial = 0; trial < 200; trial++) {
    const b = new ReplayBuffer(1, 50, new Rng(trial));
    for (let v = 0; v < 1000; v++) b.offer(7, new Float32Array([v]), 0, 7, 0);
    assert.equal(b.size, 50);
    const st = b.getState();
    for (const v of st.x[0]!) counts.set(Math.floor(v / 100), (counts.get(Math.floor(v / 100)) ?? 0) + 1);
  }
  // Ten deciles of the stream: each holds ~10% of the kept samples (1000 of 10000).
  for (let d = 0; d < 10; d++) {
    const c = counts.get(d) ?? 0;
    assert.ok(c > 850 && c < 1150, `decile ${d}: ${c}`);
  }
  // Keys are balanced: a rare key keeps all its samples, a frequent one only the budget.
  for (let i = 0; i < 500; i++) buf.offer(1, new Float32Array([i]), 0, 1, 0);
  for (let i = 0; i < 5; i++) buf.offer(2, new Float32Array([i]), 0, 2, 1);
  assert.equal(buf.size, 55);
});

test('sampling respects eligibility, and state round-trips', () => {
  const buf = new ReplayBuffer(2, 10, new Rng(3));
  for (let i = 0; i < 10; i++) buf.offer(i % 2, new Float32Array([i, -i]), 0, i % 2, i % 2);
  const s = buf.sample(50, (ctx) => ctx === 1)!;
  assert.ok([...s.contexts].every((c) => c === 1));
  assert.ok([...s.y].every((y) => y === 1));
  for (let r = 0; r < 50; r++) assert.equal(s.x[2 * r + 1], -s.x[2 * r]!);
  assert.equal(buf.sample(5, (ctx) => ctx === 9), null);
  const copy = new ReplayBuffer(2, 10, new Rng(3));
  copy.setState(buf.getState());
  assert.deepEqual(copy.getState(), buf.getState());
  assert.equal(copy.count(() => true), 10);
});
