// Migrations are compiled in (no folder scan): the list below is the order, and it only grows.
// Each run of pending migrations is one transaction on both dialects (see CallcrmSqliteDialect in
// connect.ts), so a failing migration leaves nothing of the run behind and the next start retries it.
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { Q } from './connect.ts';
import { isPostgres } from './dialect.ts';
import * as m001 from './migrations/001_initial.ts';
import * as m002 from './migrations/002_assigns_repository_order.ts';
import * as m003 from './migrations/003_people.ts';
import * as m004 from './migrations/004_lifecycle.ts';
import * as m005 from './migrations/005_imports.ts';
import * as m006 from './migrations/006_integrations.ts';
import * as m007 from './migrations/007_id_bound.ts';
import * as m008 from './migrations/008_statistics.ts';
import * as m009 from './migrations/009_webhook_events.ts';

export const MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '001_initial': m001,
  '002_assigns_repository_order': m002,
  '003_people': m003,
  '004_lifecycle': m004,
  '005_imports': m005,
  '006_integrations': m006,
  '007_id_bound': m007,
  '008_statistics': m008,
  '009_webhook_events': m009,
});

/**
 * Brings the schema up to date and answers the names of the migrations it applied. Throws (and changes
 * nothing further) when a migration fails. `migrations` is for tests; the server always uses MIGRATIONS.
 */
export async function migrateToLatest(db: Q, migrations: Readonly<Record<string, Migration>> = MIGRATIONS): Promise<string[]> {
  const provider: MigrationProvider = {
    getMigrations: async () => Object.fromEntries(Object.entries(migrations).map(([name, m]) => [name, withoutStatementTimeout(m)])),
  };
  // Kysely finds its kysely_migration table through the dialect's introspector, which on PostgreSQL sees
  // the current schema only (pg-introspector.ts): another schema's migrations (a second app, a test run
  // beside this one) are never taken for ours.
  const migrator = new Migrator({ db, provider });
  // Nothing pending (every start but the first after an upgrade): take no lock. Kysely's PostgreSQL lock
  // is a session-level advisory lock, which a transaction-pooling PgBouncer may take on one server
  // connection and try to release on another; a start that only reads stays safe behind one.
  const known = await migrator.getMigrations();
  if (known.every((m) => m.executedAt !== undefined)) return [];

  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * The pool's statement_timeout (15 s, connect.ts) guards requests; a migration that builds an index on a
 * big table may take longer. On PostgreSQL each migration runs inside the migrator's transaction, so
 * SET LOCAL lifts the limit for that transaction only (also behind a transaction-pooling PgBouncer).
 */
function withoutStatementTimeout(m: Migration): Migration {
  const lift = async (db: Kysely<any>) => {
    if (isPostgres(db)) await sql`set local statement_timeout = 0`.execute(db);
  };
  const { up, down } = m;
  return {
    async up(db) {
      await lift(db);
      await up(db);
    },
    ...(down && {
      async down(db: Kysely<any>) {
        await lift(db);
        await down(db);
      },
    }),
  };
}
