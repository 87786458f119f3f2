// Argument parsers for commander: a bad value is a usage error (exit 2) naming the option.
import { InvalidArgumentError } from 'commander';
import { parseId } from '../ids.ts';

/** A positive integer id, as the admin API takes them. */
export function idArg(value: string): number {
  const id = parseId(value.trim());
  if (id === undefined) throw new InvalidArgumentError('must be a positive whole number (at most 9007199254740991)');
  return id;
}
