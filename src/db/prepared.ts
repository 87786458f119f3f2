// Reads on the telephony hot path, compiled once. The SQL still comes from the one query builder; only
// its compilation (and, on SQLite, statement preparation) is done once instead of per call.
// SQLite: a better-sqlite3 statement on the read-only connection, run synchronously.
// PostgreSQL: the compiled query with fresh parameters through Kysely (the pool does the rest).
import type { Compilable, CompiledQuery } from 'kysely';
import type BetterSqlite3 from 'better-sqlite3';
import type { Db, Q } from './connect.ts';

/** A placeholder for the i-th run-time parameter, passed where the builder expects a value. */
export interface Slot {
  readonly slot: number;
}
const slots: Slot[] = Array.from({ length: 16 }, (_, i) => Object.freeze({ slot: i }));
export const slot = (i: number) => slots[i] as unknown as never;

export interface PreparedRead<R> {
  all(params: readonly unknown[]): Promise<R[]>;
}

export function prepareRead<R>(db: Db, build: (q: Q) => Compilable<R>): PreparedRead<R> {
  const compiled = build(db.read).compile() as CompiledQuery<R>;
  // Where each compiled parameter comes from: a run-time slot, or a constant fixed at build time.
  const sources = compiled.parameters.map((p) => (p !== null && typeof p === 'object' && 'slot' in p ? (p as Slot).slot : { value: p }));
  const bind = (params: readonly unknown[]) => sources.map((s) => (typeof s === 'number' ? params[s] : s.value));

  if (db.dialect === 'sqlite' && db.sqliteReader) {
    const stmt: BetterSqlite3.Statement = db.sqliteReader.prepare(compiled.sql);
    return { all: async (params) => stmt.all(...bind(params)) as R[] };
  }
  return { all: async (params) => (await db.read.executeQuery<R>({ ...compiled, parameters: bind(params) })).rows };
}
