import type { z } from 'zod';

/**
 * An issue's message in the words a user of the CLI reads: zod's own defaults ("Too small: expected number to
 * be >=1", "Invalid input: expected boolean, received string") become "must be ≥ 1", "must be true or false";
 * messages a schema wrote itself are kept.
 */
export function issueText(issue: z.core.$ZodIssue): string {
  const m = issue.message;
  if (issue.code === 'too_small' && m.startsWith('Too small')) {
    const bound = Number(issue.minimum);
    if (issue.origin === 'number' && bound === 0 && issue.inclusive === false) return 'must be positive';
    if (issue.origin === 'number') return `must be ${issue.inclusive === false ? '>' : '≥'} ${bound}`;
    return `needs at least ${bound} ${issue.origin === 'array' ? 'entries' : 'characters'}`;
  }
  if (issue.code === 'too_big' && m.startsWith('Too big')) {
    const bound = Number(issue.maximum);
    if (issue.origin === 'number') return `must be ${issue.inclusive === false ? '<' : '≤'} ${bound}`;
    return `takes at most ${bound} ${issue.origin === 'array' ? 'entries' : 'characters'}`;
  }
  if (issue.code === 'invalid_type' && m.startsWith('Invalid input')) {
    if (m.endsWith('received undefined')) return 'is missing';
    if (issue.expected === 'boolean') return 'must be true or false';
    if (issue.expected === 'number') return 'must be a number';
    if (issue.expected === 'int') return 'must be a whole number';
    return `must be ${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`;
  }
  if (issue.code === 'invalid_value' && m.startsWith('Invalid option')) return `must be one of ${issue.values.map(String).join(', ')}`;
  return m;
}
