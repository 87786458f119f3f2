// Reads on the telephony hot path, compiled once. The SQL still comes from the one query builder; only
// its compilation (and statement preparation) is done once instead of per call.
// SQLite: a better-sqlite3 statement on the read-only connection, run synchronously.
// PostgreSQL: a named prepared statement (pg prepares it once per connection and PostgreSQL keeps its
// plan): get_data's six-table lookup takes ~1 ms to plan and ~0.1 ms to run, so an unnamed statement,
// planned on every call, spent most of each request planning. With DATABASE_PREPARED_STATEMENTS=false
// (an old PgBouncer in transaction pooling) the compiled query goes through Kysely unnamed.
import type { Compilable, CompiledQuery } from 'kysely';
import type BetterSqlite3 from 'better-sqlite3';
import type { Db, Q } from './connect.ts';
import { slotBinder } from './slots.ts';
import { statementName } from './pg-named.ts';

export interface PreparedRead<R> {
  all(params: readonly unknown[]): Promise<R[]>;
}

export function prepareRead<R>(db: Db, build: (q: Q) => Compilable<R>): PreparedRead<R> {
  const compiled = build(db.read).compile() as CompiledQuery<R>;
  const bind = slotBinder(compiled.parameters, compiled.sql);

  if (db.dialect === 'sqlite' && db.sqliteReader) {
    const stmt: BetterSqlite3.Statement = db.sqliteReader.prepare(compiled.sql);
    return { all: async (params) => stmt.all(...bind(params)) as R[] };
  }
  if (db.pgNamedPool) {
    const pool = db.pgNamedPool;
    const name = statementName(compiled.sql);
    return { all: async (params) => (await pool.query({ name, text: compiled.sql, values: bind(params) as unknown[] })).rows as R[] };
  }
  return { all: async (params) => (await db.read.executeQuery<R>({ ...compiled, parameters: bind(params) })).rows };
}

/**
 * Runs `start` (which must start its prepared reads synchronously, without awaiting between them) with
 * the SQLite reader's lock wait cut to `busyMs`: better-sqlite3 blocks the whole process while it waits
 * for a lock, so a bounded answer needs a bounded wait. The wait is restored before this returns; as
 * better-sqlite3 runs statements synchronously, no other read runs under the short wait meanwhile.
 * PostgreSQL reads are asynchronous: the caller bounds them with a timer.
 */
export function boundedReads<T>(db: Db, busyMs: number, start: () => T): T {
  const reader = db.dialect === 'sqlite' ? db.sqliteReader : undefined;
  if (!reader) return start();
  reader.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyMs))}`);
  try {
    return start();
  } finally {
    reader.pragma('busy_timeout = 10000');
  }
}
