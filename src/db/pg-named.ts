// The SQL texts PostgreSQL should keep prepared: the write path's statements (compiled.ts) register here,
// and the pool's clients (connect.ts) send a registered text as a named prepared statement. PostgreSQL
// then parses and plans it once per connection instead of on every call: for the handful of short
// statements of a disposition, parsing and planning were a large part of the database's CPU per request.
// Only texts registered here are named, never an arbitrary query, so the set of prepared statements per
// connection stays small and fixed.
import { createHash } from 'node:crypto';

const names = new Map<string, string>();

/** Registers a statement text; its name is derived from its content (the same in every process). */
export function registerNamed(text: string): void {
  if (!names.has(text)) names.set(text, `callcrm_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`);
}

/** The statement name of a registered text, else undefined. */
export function namedStatement(text: string): string | undefined {
  return names.get(text);
}
