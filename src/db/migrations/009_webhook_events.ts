// Frozen: never edit a migration that has shipped; add a new one.
// The webhook outbox becomes one row per write instead of one row per (event, webhook).
//
// Before: the write's transaction fanned its events out to every subscribed webhook with an
// INSERT … SELECT into webhook_deliveries, a table with two secondary indexes and a foreign key: 46 µs
// of a 201 µs set_status in the 1M benchmark (23 %). Now the transaction appends the write's events, as
// one JSON array, to webhook_events (no secondary index), and the sender fans them out into
// webhook_deliveries in its own transactions (crm/webhooks.ts fanOutEvents), deleting the event rows it
// has fanned out. The delivery log and everything after the fan-out is unchanged.
//
// The fan-out takes rows in id order and deletes what it took, always the oldest rows first. So no
// AUTOINCREMENT on SQLite (it costs a sqlite_sequence write per insert): a new rowid is the largest
// present plus one, greater than every row still waiting, and an id reused after the table emptied is
// never compared with the row it once named. Event ids (the body's `id`) are made at the fan-out.
import { PostgresAdapter, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createTable('webhook_events')
    .addColumn('id', pg ? 'bigint' : 'integer', (c) => (pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey()))
    // JSON array of [type, project_id, at, webhook ids, data] (crm/events.ts StoredEvent): the events of
    // one write, in the order they happened
    .addColumn('events', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('webhook_events').execute();
}
