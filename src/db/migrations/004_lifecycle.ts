// Frozen: never edit a migration that has shipped; add a new one.
// The data lifecycle (admin-api.md "Changing and removing"):
// - archived_at on the setup rows that can be retired (fields, statuses, groups, sites, workers,
//   repositories): null while in use. Archived rows stay, so old history still names them.
// - setup_version: one row, bumped in the same transaction as any setup change; every server process
//   polls it to know when its setup cache is stale (crm/setup-cache.ts).
// - removed_assigns: what is left of an assign that left its repository (DELETE /assigns/:id, erasure),
//   so its history stays readable by id and the id is never handed out again.
// - audit_log.actor and audit_log.detail: who made an admin change, and what it was (ids, never values).
import { type Kysely, PostgresAdapter } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  for (const table of ['fields', 'statuses', 'groups', 'sites', 'workers', 'repositories']) {
    await db.schema.alterTable(table).addColumn('archived_at', 'bigint').execute();
  }

  await db.schema.createTable('setup_version')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('version', 'bigint', (c) => c.notNull())
    .execute();
  await db.insertInto('setup_version').values({ id: 1, version: 1 }).execute();

  await db.schema.createTable('removed_assigns')
    .addColumn('id', pg ? 'bigint' : 'integer', (c) => c.primaryKey())
    .addColumn('project_id', 'bigint', (c) => c.notNull())
    .addColumn('repository_id', 'bigint', (c) => c.notNull())
    .addColumn('customer_id', 'bigint', (c) => c.notNull())
    .addColumn('removed_at', 'bigint', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('removed_assigns_customer').on('removed_assigns').columns(['customer_id']).execute();

  await db.schema.alterTable('audit_log').addColumn('actor', 'text').execute();
  await db.schema.alterTable('audit_log').addColumn('detail', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('audit_log').dropColumn('detail').execute();
  await db.schema.alterTable('audit_log').dropColumn('actor').execute();
  await db.schema.dropTable('removed_assigns').execute();
  await db.schema.dropTable('setup_version').execute();
  for (const table of ['fields', 'statuses', 'groups', 'sites', 'workers', 'repositories']) {
    await db.schema.alterTable(table).dropColumn('archived_at').execute();
  }
}
