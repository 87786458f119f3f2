// Argument parsers for commander: a bad value is a usage error (exit 2) naming the option.
import { InvalidArgumentError } from 'commander';

/** A positive integer id, as the admin API takes them. */
export function idArg(value: string): number {
  const v = value.trim();
  if (!/^\d{1,16}$/.test(v) || Number(v) < 1 || Number(v) > Number.MAX_SAFE_INTEGER) {
    throw new InvalidArgumentError('must be a positive whole number');
  }
  return Number(v);
}
