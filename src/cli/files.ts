import { accessSync, closeSync, constants, openSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';

/** Write a file atomically: temp file in the same directory, then rename (readers never see a half-written file). */
export function writeAtomic(file: string, text: string): void {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  writeFileSync(tmp, text);
  try {
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** An output path that cannot be written; `code` makes the CLI print it as one line and exit 2. */
export class OutputPathError extends Error {
  readonly code = 'E_OUTPUT';
}

/**
 * Why `file` could not be written as an output (its directory missing, not a directory or not writable; the path
 * itself a directory or read-only), or null when it can. Checked before any work starts, so that a long run never
 * ends in an error about where to put what it made.
 */
export function outputProblem(file: string): string | null {
  const dir = dirname(resolve(file));
  const stat = (p: string) => {
    try {
      return statSync(p);
    } catch {
      return null;
    }
  };
  const d = stat(dir);
  if (d === null) return `directory ${dir} does not exist`;
  if (!d.isDirectory()) return `${dir} is not a directory`;
  // Create and remove a probe file rather than ask access(2): root passes every permission check, yet cannot
  // create files in /proc or on a read-only mount.
  const probe = join(dir, `.engram-write-check-${process.pid}`);
  try {
    closeSync(openSync(probe, 'wx'));
    rmSync(probe, { force: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return `directory ${dir} is not writable${code !== undefined ? ` (${code})` : ''}`;
  }
  const f = stat(file);
  if (f !== null && f.isDirectory()) return `${file} is a directory`;
  if (f !== null) {
    try {
      accessSync(file, constants.W_OK);
    } catch {
      return `${file} is not writable`;
    }
  }
  return null;
}

/** Throws an {@link OutputPathError} naming the flag when `file` cannot be written. */
export function checkOutput(flag: string, file: string | undefined): void {
  if (file === undefined) return;
  const problem = outputProblem(file);
  if (problem !== null) throw new OutputPathError(`${flag} ${file}: ${problem}`);
}

/**
 * Write `text` to `file` atomically; if that fails, to a fallback file in the system's temporary directory.
 * Returns where it went and, when it is the fallback, why the named file could not be written.
 */
export function writeWithFallback(file: string, text: string): { written: string; failure: string | null } {
  try {
    writeAtomic(file, text);
    return { written: file, failure: null };
  } catch (e) {
    const fallback = join(tmpdir(), `engram-${basename(file, '.json')}-${process.pid}-${Date.now()}.json`);
    writeAtomic(fallback, text);
    return { written: fallback, failure: e instanceof Error ? e.message : String(e) };
  }
}
