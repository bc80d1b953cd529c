/**
 * Errors raised while reading data sets from disk. They carry a machine-readable `code` (like Node's system
 * errors) so that the CLI can print a one-line message instead of a stack trace.
 */

/**
 * A data file or directory is missing, unreadable, corrupt or not in the expected layout. The message is one
 * line and names the file (or directory) and what is wrong with it.
 *
 * @example
 * try { readIdx('/tmp/x-idx1-ubyte'); }
 * catch (e) { if (e instanceof EngramDataError) console.error(e.code, e.message); }
 */
export class EngramDataError extends Error {
  readonly code = 'E_DATA';
  /** The file or directory the error is about. */
  readonly path: string;

  constructor(path: string, problem: string) {
    super(`${path}: ${problem}`);
    this.name = 'EngramDataError';
    this.path = path;
  }
}
