import type { Command } from 'commander';

/** Flags that set the same option to opposite values; commander would let the last one win silently. */
const opposites: readonly (readonly [string, string])[] = [['bias', 'no-bias']];

/** Contradictory flags on the command line: the CLI prints the message on one line and exits 2. */
export class ContradictionError extends Error {
  readonly code = 'E_USAGE';
}

/**
 * Make `cmd` refuse contradictory flags (`--bias --no-bias`) while parsing. Commander emits `option:<name>` for
 * each flag given, so this sees what was typed, not just the final value.
 *
 * @example
 * refuseContradictions(program.command('run').option('--bias').option('--no-bias'));
 */
export function refuseContradictions(cmd: Command): Command {
  for (const [a, b] of opposites) {
    const seen = new Set<string>();
    for (const flag of [a, b]) {
      cmd.on(`option:${flag}`, () => {
        seen.add(flag);
        if (seen.size === 2) throw new ContradictionError(`--${a} and --${b} contradict each other: give one of them`);
      });
    }
  }
  return cmd;
}
