// The SQL texts PostgreSQL should keep prepared: the write path's statements (compiled.ts) register here,
// and the pool's clients (connect.ts) send a registered text as a named prepared statement. PostgreSQL
// then parses and plans it once per connection instead of on every call: for the handful of short
// statements of a disposition, parsing and planning were a large part of the database's CPU per request.
// Only texts registered here are named, never an arbitrary query, so the set of prepared statements per
// connection stays small and fixed.
import { createHash } from 'node:crypto';

const names = new Map<string, string>();

/** A statement's name, by content: the same SQL gets the same name in every process, another SQL another one. */
export function statementName(text: string): string {
  return `callcrm_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
}

/** Registers a statement text to be sent named. */
export function registerNamed(text: string): void {
  if (!names.has(text)) names.set(text, statementName(text));
}

/** The statement name of a registered text, else undefined. */
export function namedStatement(text: string): string | undefined {
  return names.get(text);
}
