// Named dialect differences. Everything else is the same SQL on both databases.
import { PostgresAdapter, sql, type Kysely } from 'kysely';

export function isPostgres(q: Kysely<any>): boolean {
  return q.getExecutor().adapter instanceof PostgresAdapter;
}

/** A unique or primary-key violation (SQLite SQLITE_CONSTRAINT_UNIQUE/PRIMARYKEY, PostgreSQL 23505). */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string } | undefined;
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** A foreign-key violation (SQLite SQLITE_CONSTRAINT_FOREIGNKEY, PostgreSQL 23503). */
export function isForeignKeyViolation(err: unknown): boolean {
  const e = err as { code?: string } | undefined;
  return e?.code === '23503' || e?.code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

/**
 * PostgreSQL identity sequences do not move when a row is inserted with an explicit id (kept from the
 * old system), so the next generated id could collide. Move the sequence past it. SQLite's rowid needs
 * nothing: a generated id is max(id)+1.
 */
export async function advanceIdSequence(q: Kysely<any>, table: string, id: number): Promise<void> {
  if (!isPostgres(q)) return;
  await sql`select setval(s, greatest(${id}::bigint, coalesce(pg_sequence_last_value(s), 0)))
            from (select pg_get_serial_sequence(${table}, 'id')::regclass as s) x`.execute(q);
}

/** SELECT … FOR UPDATE where the dialect has it; SQLite serializes writers already. */
export function lockRows<T extends { forUpdate(): T }>(q: Kysely<any>, query: T): T {
  return isPostgres(q) ? query.forUpdate() : query;
}

// SQLSTATE classes and codes that mean "the database cannot be reached or is going away", not "this
// query is wrong": 08 connection exception, 57P01-57P03 shutdown / cannot connect now, 53300 too many
// connections. https://www.postgresql.org/docs/current/errcodes-appendix.html
const PG_DOWN = /^(08...|57P0[123]|53300)$/;
// Socket errors from node:net (pg connects through it), and SQLite's "the file cannot be used now".
const NET_DOWN = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);
const SQLITE_DOWN = /^SQLITE_(BUSY|LOCKED|IOERR|CANTOPEN|FULL|READONLY_DBMOVED)/;
// pg raises these as plain Errors without a code: a dropped socket, a connect timeout (the pool's
// "timeout exceeded…", the client's own "timeout expired"), a client whose connection already failed (a
// rollback after the socket died throws this one), a client-side query timeout.
const PG_DOWN_MESSAGE = /Connection terminated|timeout exceeded when trying to connect|^timeout expired$|is not queryable|Query read timeout|connect ECONNREFUSED/i;

/**
 * A connection-level failure: the database is down, unreachable or restarting, as opposed to a bad
 * query or a constraint. The admin API answers these with 503 and the telephony API with its failure
 * code; both recover by themselves once the database is back (the pool drops broken connections).
 */
export function isConnectionFailure(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return false;
  const e = err as { code?: unknown; message?: unknown; errors?: unknown; cause?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  if (NET_DOWN.has(code) || PG_DOWN.test(code) || SQLITE_DOWN.test(code)) return true;
  if (typeof e.message === 'string' && PG_DOWN_MESSAGE.test(e.message)) return true;
  // Node reports a refused connection to a name with several addresses (localhost: ::1 and 127.0.0.1)
  // as an AggregateError holding one error per address.
  if (Array.isArray(e.errors) && e.errors.some(isConnectionFailure)) return true;
  return e.cause !== undefined && e.cause !== err && isConnectionFailure(e.cause);
}

/**
 * Reserves `count` new ids of a table for rows inserted later with explicit ids (the import's multi-row
 * inserts), all above `above`. PostgreSQL: values of the identity sequence (moved past `above` first), so
 * concurrent inserts never get them. SQLite: max(id)+1 onwards, which is what SQLite itself would assign;
 * the caller's transaction holds the write lock once it writes, and a collision with another process's
 * insert before that is a unique violation, not a silent overwrite.
 */
export async function reserveIds(q: Kysely<any>, table: string, count: number, above = 0): Promise<number[]> {
  if (isPostgres(q)) {
    if (above > 0) await advanceIdSequence(q, table, above);
    if (count === 0) return [];
    const { rows } = await sql<{ id: number | string }>`select nextval(pg_get_serial_sequence(${table}, 'id')) as id from generate_series(1, ${count})`.execute(q);
    return rows.map((r) => Number(r.id));
  }
  if (count === 0) return [];
  const row = await q.selectFrom(table).select((eb) => eb.fn.max('id').as('m')).executeTakeFirst();
  const start = Math.max(Number(row?.m ?? 0), above) + 1;
  return Array.from({ length: count }, (_, i) => start + i);
}

/** Slices of at most n: a multi-row insert stays under the databases' bind-parameter limits. */
export function chunks<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/**
 * PostgreSQL: this transaction's commit does not wait for its WAL flush (SET LOCAL synchronous_commit =
 * off). For bookkeeping whose loss in a database crash is harmless (the webhook sender's claims and
 * attempt records: a lost one means a delivery is sent again, which at-least-once allows). SQLite: nothing.
 */
export async function relaxCommit(trx: Kysely<any>): Promise<void> {
  if (isPostgres(trx)) await sql`set local synchronous_commit = off`.execute(trx);
}
