import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The checkout's commit and whether tracked files differ from it, for a benchmark's JSON; nulls outside a git
 * checkout (an installed package).
 *
 * @example
 * const { commit, dirty } = gitState(); // { commit: '70364f9…', dirty: false }
 */
export function gitState(): { commit: string | null; dirty: boolean | null } {
  const repo = join(dirname(fileURLToPath(import.meta.url)), '../..');
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return { commit, dirty: status.trim() !== '' };
  } catch {
    return { commit: null, dirty: null };
  }
}
