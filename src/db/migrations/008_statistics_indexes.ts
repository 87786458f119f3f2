// Indexes for the supervisor's dashboard (crm/statistics.ts): each aggregate reads one index only.
// - call_events (project_id, at, status_id, worker_id): calls of a project in a time range, by hour,
//   status and agent, without touching the table.
// - history (project_id, kind, at): status changes of a project in a time range; (project_id, id): the
//   project's recent activity, newest first.
// - assigns (project_id, repository_id, status_id): each repository's progress by status.
// Each costs one more B-tree entry per call event, history row or assign (bench: issue 16's per-feature
// cost table). On a big PostgreSQL database build them beforehand with CREATE INDEX CONCURRENTLY under
// the same names; IF NOT EXISTS then skips them here.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('call_events_project_at').ifNotExists().on('call_events').columns(['project_id', 'at', 'status_id', 'worker_id']).execute();
  await db.schema.createIndex('history_project_kind_at').ifNotExists().on('history').columns(['project_id', 'kind', 'at']).execute();
  await db.schema.createIndex('history_project_id').ifNotExists().on('history').columns(['project_id', 'id']).execute();
  await db.schema.createIndex('assigns_project_repository_status').ifNotExists().on('assigns').columns(['project_id', 'repository_id', 'status_id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const name of ['call_events_project_at', 'history_project_kind_at', 'history_project_id', 'assigns_project_repository_status']) {
    await db.schema.dropIndex(name).ifExists().execute();
  }
}
