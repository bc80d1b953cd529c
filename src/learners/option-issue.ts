import type { z } from 'zod';
import { issueText } from '../core/issue-text.js';

/**
 * The one-line message for a method's rejected `--set` options: the first issue, naming the option
 * (`engram option viscosity: …`, `gpm option nonsense: Unrecognized key …`).
 */
export function optionIssueMessage(method: string, error: z.ZodError): string {
  const issue = error.issues[0]!;
  const key = issue.path.length > 0 ? String(issue.path[0]) : issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : '';
  return `${method} option ${key}: ${issueText(issue)}`;
}
