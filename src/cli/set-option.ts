import { InvalidArgumentError } from 'commander';

/** A method option's value as typed on the command line: numbers and true/false are typed, anything else stays a string. */
export function typedOptionValue(raw: string): number | boolean | string {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  return raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
}

/** `--set key=value`, repeatable. */
export const setOption = (v: string, prev: Record<string, number | boolean | string> = {}): Record<string, number | boolean | string> => {
  const m = /^([A-Za-z][\w]*)=(.*)$/.exec(v.trim());
  if (m === null) throw new InvalidArgumentError('--set takes key=value, e.g. --set dreams=false.');
  return { ...prev, [m[1]!]: typedOptionValue(m[2]!) };
};
