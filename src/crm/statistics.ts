// Campaign statistics for the supervisor's dashboard: calls and status changes over the last days, by
// status, by agent and by hour; each repository's progress; recent activity. Plain aggregate SQL on the
// indexes of migration 008 (index-only scans), so a dashboard load stays fast at 1M customers and 10M
// history rows (bench/statistics.ts measures it).
//
// Time buckets: the database groups by UTC hour (floor(at / 3600000)), the same expression in both
// dialects; this file turns each UTC hour into the local day and hour of CRM_TIMEZONE. That is exact for
// every zone whose offset is a whole number of hours (Israel, all of Europe and the Americas); a zone with
// a half-hour offset would see each bucket attributed to the local hour its first minute falls in.
import { sql } from 'kysely';
import type { Q } from '../db/connect.ts';

const HOUR = 3_600_000;

export interface StatusCount {
  status_id: number | null;
  calls: number;
}
export interface WorkerCount {
  worker_id: number | null;
  calls: number;
  today: number;
}
export interface RepositoryProgress {
  repository_id: number;
  total: number;
  no_status: number;
  by_status: { status_id: number; count: number }[];
}
export interface HourCount {
  /** Unix ms of the start of the UTC hour */
  hour_start: number;
  status_id: number | null;
  calls: number;
}
export interface HourChanges {
  hour_start: number;
  changes: number;
}
export interface RecentItem {
  id: number;
  kind: string;
  customer_id: number;
  assign_id: number | null;
  field: string | null;
  old_status_id: number | null;
  new_status_id: number | null;
  status_id: number | null;
  worker_id: number | null;
  source: string;
  at: number;
}

// A literal, not a parameter: PostgreSQL must see the SELECT and GROUP BY expressions as the same one.
const hourBucket = sql<number>`(at / ${sql.lit(HOUR)})`;

/** Call events of a project since `since` (ms), counted per UTC hour and status. */
export async function callsByHourAndStatus(q: Q, projectId: number, since: number): Promise<HourCount[]> {
  // Integer division in both dialects: `at` is an integer column (bigint on PostgreSQL).
  const rows = await q
    .selectFrom('call_events')
    .select([hourBucket.as('hour'), 'status_id', (eb) => eb.fn.countAll<number>().as('calls')])
    .where('project_id', '=', projectId)
    .where('at', '>=', since)
    .groupBy([hourBucket, 'status_id'])
    .execute();
  return rows.map((r) => ({ hour_start: Number(r.hour) * HOUR, status_id: r.status_id, calls: Number(r.calls) }));
}

/** Call events per worker since `since`, with the part of them at or after `todayStart`. */
export async function callsByWorker(q: Q, projectId: number, since: number, todayStart: number): Promise<WorkerCount[]> {
  const rows = await q
    .selectFrom('call_events')
    .select([
      'worker_id',
      (eb) => eb.fn.countAll<number>().as('calls'),
      sql<number>`sum(case when at >= ${todayStart} then 1 else 0 end)`.as('today'),
    ])
    .where('project_id', '=', projectId)
    .where('at', '>=', since)
    .groupBy('worker_id')
    .execute();
  return rows.map((r) => ({ worker_id: r.worker_id, calls: Number(r.calls), today: Number(r.today ?? 0) }));
}

/** Status changes (history rows of kind "status") per UTC hour since `since`. */
export async function statusChangesByHour(q: Q, projectId: number, since: number): Promise<HourChanges[]> {
  const rows = await q
    .selectFrom('history')
    .select([hourBucket.as('hour'), (eb) => eb.fn.countAll<number>().as('changes')])
    .where('project_id', '=', projectId)
    .where('kind', '=', 'status')
    .where('at', '>=', since)
    .groupBy(hourBucket)
    .execute();
  return rows.map((r) => ({ hour_start: Number(r.hour) * HOUR, changes: Number(r.changes) }));
}

/** Every repository of the project with its assigns counted by current status (null = no status yet). */
export async function repositoryProgress(q: Q, projectId: number): Promise<RepositoryProgress[]> {
  const rows = await q
    .selectFrom('assigns')
    .select(['repository_id', 'status_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('project_id', '=', projectId)
    .groupBy(['repository_id', 'status_id'])
    .execute();
  const repos = await q.selectFrom('repositories').select('id').where('project_id', '=', projectId).orderBy('id').execute();
  const byRepo = new Map<number, RepositoryProgress>(repos.map((r) => [r.id, { repository_id: r.id, total: 0, no_status: 0, by_status: [] }]));
  for (const r of rows) {
    let p = byRepo.get(r.repository_id);
    if (!p) byRepo.set(r.repository_id, (p = { repository_id: r.repository_id, total: 0, no_status: 0, by_status: [] }));
    const n = Number(r.n);
    p.total += n;
    if (r.status_id === null) p.no_status += n;
    else p.by_status.push({ status_id: r.status_id, count: n });
  }
  for (const p of byRepo.values()) p.by_status.sort((a, b) => a.status_id - b.status_id);
  return [...byRepo.values()];
}

/** The newest history rows of the project (field changes carry the field name only: values stay on the card). */
export async function recentActivity(q: Q, projectId: number, limit: number): Promise<RecentItem[]> {
  const rows = await q
    .selectFrom('history')
    .select(['id', 'kind', 'customer_id', 'assign_id', 'field', 'old_status_id', 'new_status_id', 'status_id', 'worker_id', 'source', 'at'])
    .where('project_id', '=', projectId)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ ...r, at: Number(r.at) }));
}
