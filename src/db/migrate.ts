// Migrations are compiled in (no folder scan): the list below is the order, and it only grows.
import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { Q } from './connect.ts';
import * as m001 from './migrations/001_initial.ts';

const MIGRATIONS: Record<string, Migration> = {
  '001_initial': m001,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

/** Brings the schema up to date. Throws (and changes nothing further) when a migration fails. */
export async function migrateToLatest(db: Q): Promise<string[]> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
