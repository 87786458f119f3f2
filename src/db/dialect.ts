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
