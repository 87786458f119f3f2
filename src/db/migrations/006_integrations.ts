// Frozen: never edit a migration that has shipped; add a new one.
// Webhooks (events out) and per-project integration settings (3CX, VICIdial, Asterisk).
//
// webhook_deliveries is the outbox: one row per (webhook, event), inserted in the transaction of the
// change that caused the event, and the delivery log the admin API lists. The sender claims due rows
// by (status, next_attempt_at).
import { type Kysely, PostgresAdapter, type ColumnDefinitionBuilder } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const idType = pg ? 'bigint' : 'integer';
  // SQLite: AUTOINCREMENT, so an id is never reused after rows are deleted (pruned deliveries, a deleted
  // webhook): a delivery id is the body's `sequence` and the key an attempt is recorded under.
  const id = (c: ColumnDefinitionBuilder) => (pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement());
  const ref = 'bigint';
  const time = 'bigint';

  await db.schema.createTable('webhooks')
    .addColumn('id', idType, id)
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('secret', 'text', (c) => c.notNull())
    // ',assign.status_changed,call.recorded,': matched with LIKE '%,<type>,%' inside the writer's statement
    .addColumn('events', 'text', (c) => c.notNull())
    // ',10,11,' or null for every project
    .addColumn('project_ids', 'text')
    .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('updated_at', time, (c) => c.notNull())
    .execute();

  await db.schema.createTable('webhook_deliveries')
    .addColumn('id', idType, id)
    .addColumn('webhook_id', ref, (c) => c.notNull().references('webhooks.id').onDelete('cascade'))
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('project_id', ref)
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('at', time, (c) => c.notNull())
    // pending | delivered | failed
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', time, (c) => c.notNull())
    // start of the current retry window (creation, or a manual retry): gives up 24 h after it
    .addColumn('pending_since', time, (c) => c.notNull())
    .addColumn('last_attempt_at', time)
    .addColumn('last_status', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('delivered_at', time)
    .addColumn('created_at', time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('webhook_deliveries_due').on('webhook_deliveries').columns(['status', 'next_attempt_at']).execute();
  await db.schema.createIndex('webhook_deliveries_webhook').on('webhook_deliveries').columns(['webhook_id', 'id']).execute();

  await db.schema.createTable('integration_settings')
    .addColumn('project_id', ref, (c) => c.notNull().references('projects.id'))
    // 3cx | vicidial | asterisk
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('settings', 'text', (c) => c.notNull())
    .addColumn('updated_at', time, (c) => c.notNull())
    .addPrimaryKeyConstraint('integration_settings_pk', ['project_id', 'kind'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['integration_settings', 'webhook_deliveries', 'webhooks']) await db.schema.dropTable(t).execute();
}
