// The supervisor's dashboard (crm/statistics.ts): an hourly rollup of call events and status changes,
// and the indexes its queries read.
//
// stats_hourly holds, per project and closed UTC hour (at / 3600000), the number of call events and of
// status changes per (worker, status); 0 stands for "none" in both (a key column cannot be null). A row
// with worker_id = status_id = -1 marks an hour as computed, so an hour without any call is not computed
// again. Rows are computed on demand by the dashboard, for hours closed for a while, never written by
// the telephony path: a disposition touches no shared counter row (no lock contention, no deadlock
// between two dispositions). A call event or status change that lands in an hour already computed (a
// CDR backfilled with an old `at`, an erasure) deletes that hour's rows through the triggers below, so the
// next dashboard computes it again.
//
// Indexes: call_events (project_id, at, status_id, worker_id) and history (project_id, kind, at) serve
// the computation and the live part (the last hour) without reading the tables; history (project_id, id)
// the recent activity; assigns (project_id, repository_id, status_id) each repository's progress.
import { PostgresAdapter, sql, type Kysely } from 'kysely';

const HOUR = 3_600_000;

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema.createIndex('call_events_project_at').ifNotExists().on('call_events').columns(['project_id', 'at', 'status_id', 'worker_id']).execute();
  await db.schema.createIndex('history_project_kind_at').ifNotExists().on('history').columns(['project_id', 'kind', 'at']).execute();
  await db.schema.createIndex('history_project_id').ifNotExists().on('history').columns(['project_id', 'id']).execute();
  await db.schema.createIndex('assigns_project_repository_status').ifNotExists().on('assigns').columns(['project_id', 'repository_id', 'status_id']).execute();

  await db.schema
    .createTable('stats_hourly')
    .addColumn('project_id', 'bigint', (c) => c.notNull())
    .addColumn('hour_index', 'bigint', (c) => c.notNull())
    .addColumn('worker_id', 'bigint', (c) => c.notNull())
    .addColumn('status_id', 'bigint', (c) => c.notNull())
    .addColumn('calls', 'integer', (c) => c.notNull())
    .addColumn('status_changes', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('stats_hourly_pk', ['project_id', 'hour_index', 'worker_id', 'status_id'])
    .execute();

  const hour = (row: 'NEW' | 'OLD') => sql.raw(`${row}.at / ${HOUR}`);
  if (pg) {
    await sql`create function stats_hour_changed() returns trigger language plpgsql as $$
      declare r record;
      begin
        if tg_op = 'DELETE' then r := old; else r := new; end if;
        delete from stats_hourly where project_id = r.project_id and hour_index = r.at / ${sql.lit(HOUR)};
        return null;
      end $$`.execute(db);
    await sql`create trigger stats_call_events after insert or delete on call_events for each row execute function stats_hour_changed()`.execute(db);
    await sql`create trigger stats_history_insert after insert on history for each row when (new.kind = 'status') execute function stats_hour_changed()`.execute(db);
    await sql`create trigger stats_history_delete after delete on history for each row when (old.kind = 'status') execute function stats_hour_changed()`.execute(db);
  } else {
    for (const [name, event, row, when] of [
      ['stats_call_events_insert', 'insert on call_events', 'NEW', ''],
      ['stats_call_events_delete', 'delete on call_events', 'OLD', ''],
      ['stats_history_insert', 'insert on history', 'NEW', `when NEW.kind = 'status'`],
      ['stats_history_delete', 'delete on history', 'OLD', `when OLD.kind = 'status'`],
    ] as const) {
      await sql`create trigger ${sql.raw(name)} after ${sql.raw(event)} for each row ${sql.raw(when)}
        begin delete from stats_hourly where project_id = ${sql.raw(row)}.project_id and hour_index = ${hour(row)}; end`.execute(db);
    }
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  if (pg) {
    for (const [t, table] of [['stats_call_events', 'call_events'], ['stats_history_insert', 'history'], ['stats_history_delete', 'history']]) {
      await sql`drop trigger if exists ${sql.raw(t!)} on ${sql.raw(table!)}`.execute(db);
    }
    await sql`drop function if exists stats_hour_changed()`.execute(db);
  } else {
    for (const t of ['stats_call_events_insert', 'stats_call_events_delete', 'stats_history_insert', 'stats_history_delete']) await sql`drop trigger if exists ${sql.raw(t)}`.execute(db);
  }
  await db.schema.dropTable('stats_hourly').ifExists().execute();
  for (const name of ['call_events_project_at', 'history_project_kind_at', 'history_project_id', 'assigns_project_repository_status']) {
    await db.schema.dropIndex(name).ifExists().execute();
  }
}
