import assert from 'node:assert/strict';
import test from 'node:test';
import { z } from 'zod';
import { issueText } from './issue-text.js';

const first = (schema: z.ZodType, value: unknown) => {
  const r = schema.safeParse(value);
  assert.ok(!r.success);
  return issueText(r.error.issues[0]!);
};

test('issueText: zod\'s default messages in the words of a flag\'s rule; a schema\'s own message is kept', () => {
  assert.equal(first(z.number().min(1), 0), 'must be ≥ 1');
  assert.equal(first(z.number().gt(2), 2), 'must be > 2');
  assert.equal(first(z.number().positive(), 0), 'must be positive');
  assert.equal(first(z.number().max(1), 2), 'must be ≤ 1');
  assert.equal(first(z.number().int(), 1.5), 'must be a whole number');
  assert.equal(first(z.number(), 'x'), 'must be a number');
  assert.equal(first(z.boolean(), 'maybe'), 'must be true or false');
  assert.equal(first(z.array(z.number()), 3), 'must be an array');
  assert.equal(first(z.object({ a: z.number() }), {}), 'is missing');
  assert.equal(first(z.enum(['all', 'true']), 'most'), 'must be one of all, true');
  assert.equal(first(z.array(z.number()).min(2), [1]), 'needs at least 2 entries');
  assert.equal(first(z.number().min(0, 'must be ≥ 0, e.g. 0.5'), -1), 'must be ≥ 0, e.g. 0.5');
});
