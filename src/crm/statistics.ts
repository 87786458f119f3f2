// Campaign statistics for the supervisor's dashboard: calls and status changes per UTC hour, worker and
// status; each repository's progress; recent activity.
//
// Hours closed for a while come from stats_hourly, a rollup computed on demand by the first dashboard
// that needs an hour and kept (migration 008 explains the table and the triggers that drop an hour's rows
// when a late event lands in it). The hours since then are aggregated live from the indexes. So a
// dashboard over 7 days reads a few thousand rollup rows plus about an hour of events, whatever the size
// of call_events and history (bench/statistics.ts: 1M customers, 10M history rows).
//
// Why a margin (SETTLE_MS): an hour is rolled up only when it ended more than 5 minutes ago. A
// transaction that inserted an event at 10:59:59 and commits at 11:00:01 is invisible to a rollup taken
// at 11:00:00, and its trigger ran before the rollup existed, so nothing would ever correct that hour.
// Transactions here last milliseconds (statement_timeout 15 s bounds them); 5 minutes is far beyond.
//
// Buckets are UTC hours, the same integer expression in both dialects; crm/dashboard.ts turns them into
// local days and hours of CRM_TIMEZONE (exact for zones whose offset is a whole number of hours).
import { sql } from 'kysely';
import type { Q } from '../db/connect.ts';

export const HOUR = 3_600_000;
const SETTLE_MS = 5 * 60_000;
/** worker_id and status_id of the row marking an hour as computed */
const MARK = -1;

export interface HourlyCount {
  hour_index: number;
  /** null: no worker / no status */
  worker_id: number | null;
  status_id: number | null;
  calls: number;
  status_changes: number;
}

export interface RepositoryProgress {
  repository_id: number;
  total: number;
  no_status: number;
  by_status: { status_id: number; count: number }[];
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

// Literals, not parameters: PostgreSQL must see the SELECT and GROUP BY expressions as the same one.
const hourOf = sql<number>`(at / ${sql.lit(HOUR)})`;
const workerKey = sql<number>`coalesce(worker_id, 0)`;
const callStatusKey = sql<number>`coalesce(status_id, 0)`;
const changeStatusKey = sql<number>`coalesce(new_status_id, 0)`;

/** The first hour that is not rolled up at `now`: hours before it are closed and settled. */
export function settledEnd(now: number): number {
  return Math.floor((now - SETTLE_MS) / HOUR);
}

/** Counts of [fromMs, toMs) straight from call_events and history, per hour, worker and status. */
async function aggregate(q: Q, projectId: number, fromMs: number, toMs: number): Promise<HourlyCount[]> {
  const [calls, changes] = await Promise.all([
    q
      .selectFrom('call_events')
      .select([hourOf.as('h'), workerKey.as('w'), callStatusKey.as('s'), (eb) => eb.fn.countAll<number>().as('n')])
      .where('project_id', '=', projectId)
      .where('at', '>=', fromMs)
      .where('at', '<', toMs)
      .groupBy([hourOf, workerKey, callStatusKey])
      .execute(),
    q
      .selectFrom('history')
      .select([hourOf.as('h'), workerKey.as('w'), changeStatusKey.as('s'), (eb) => eb.fn.countAll<number>().as('n')])
      .where('project_id', '=', projectId)
      .where('kind', '=', 'status')
      .where('at', '>=', fromMs)
      .where('at', '<', toMs)
      .groupBy([hourOf, workerKey, changeStatusKey])
      .execute(),
  ]);
  const merged = new Map<string, HourlyCount>();
  const add = (h: number, w: number, s: number, field: 'calls' | 'status_changes', n: number) => {
    const key = `${h}:${w}:${s}`;
    let row = merged.get(key);
    if (!row) merged.set(key, (row = { hour_index: h, worker_id: w, status_id: s, calls: 0, status_changes: 0 }));
    row[field] += n;
  };
  for (const r of calls) add(Number(r.h), Number(r.w), Number(r.s), 'calls', Number(r.n));
  for (const r of changes) add(Number(r.h), Number(r.w), Number(r.s), 'status_changes', Number(r.n));
  return [...merged.values()];
}

/** How many hours of [fromHour, toHour) are not rolled up yet (a read, so a warm dashboard never writes). */
export async function missingHours(q: Q, projectId: number, fromHour: number, toHour: number): Promise<number> {
  const row = await q
    .selectFrom('stats_hourly')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('project_id', '=', projectId)
    .where('worker_id', '=', MARK)
    .where('status_id', '=', MARK)
    .where('hour_index', '>=', fromHour)
    .where('hour_index', '<', toHour)
    .executeTakeFirstOrThrow();
  return Math.max(0, toHour - fromHour) - Number(row.n);
}

/**
 * Rolls up the settled hours of [fromHour, toHour) that are not rolled up yet. Idempotent: two
 * dashboards computing the same hour write the same rows (ON CONFLICT sets, never adds).
 */
export async function rollUp(trx: Q, projectId: number, fromHour: number, toHour: number): Promise<number> {
  const done = await trx
    .selectFrom('stats_hourly')
    .select('hour_index')
    .where('project_id', '=', projectId)
    .where('worker_id', '=', MARK)
    .where('status_id', '=', MARK)
    .where('hour_index', '>=', fromHour)
    .where('hour_index', '<', toHour)
    .execute();
  const computed = new Set(done.map((r) => Number(r.hour_index)));
  // Missing hours, as contiguous runs: one aggregate per run.
  const runs: [number, number][] = [];
  for (let h = fromHour; h < toHour; h++) {
    if (computed.has(h)) continue;
    const last = runs[runs.length - 1];
    if (last && last[1] === h) last[1] = h + 1;
    else runs.push([h, h + 1]);
  }
  let hours = 0;
  for (const [a, b] of runs) {
    const rows = await aggregate(trx, projectId, a * HOUR, b * HOUR);
    const marks = Array.from({ length: b - a }, (_, k) => ({ hour_index: a + k, worker_id: MARK, status_id: MARK, calls: 0, status_changes: 0 }));
    const all = [...rows.map((r) => ({ ...r, worker_id: r.worker_id ?? 0, status_id: r.status_id ?? 0 })), ...marks];
    for (let i = 0; i < all.length; i += 500) {
      await trx
        .insertInto('stats_hourly')
        .values(all.slice(i, i + 500).map((r) => ({ project_id: projectId, ...r })))
        .onConflict((oc) =>
          oc.columns(['project_id', 'hour_index', 'worker_id', 'status_id']).doUpdateSet((eb) => ({ calls: eb.ref('excluded.calls'), status_changes: eb.ref('excluded.status_changes') })),
        )
        .execute();
    }
    hours += b - a;
  }
  return hours;
}

/** Counts per hour, worker and status from `fromHour` on: rolled-up hours, then the live rest. */
export async function hourlyCounts(q: Q, projectId: number, fromHour: number, settled: number, now: number): Promise<HourlyCount[]> {
  const rolled = await q
    .selectFrom('stats_hourly')
    .select(['hour_index', 'worker_id', 'status_id', 'calls', 'status_changes'])
    .where('project_id', '=', projectId)
    .where('hour_index', '>=', fromHour)
    .where('hour_index', '<', settled)
    .where('worker_id', '<>', MARK)
    .execute();
  const live = await aggregate(q, projectId, Math.max(fromHour, settled) * HOUR, now + 60_000);
  return [
    ...rolled.map((r) => ({
      hour_index: Number(r.hour_index),
      worker_id: Number(r.worker_id) === 0 ? null : Number(r.worker_id),
      status_id: Number(r.status_id) === 0 ? null : Number(r.status_id),
      calls: Number(r.calls),
      status_changes: Number(r.status_changes),
    })),
    ...live.map((r) => ({ ...r, worker_id: r.worker_id === 0 ? null : r.worker_id, status_id: r.status_id === 0 ? null : r.status_id })),
  ];
}

/** Every repository of the project with its assigns counted by current status (null = no status yet). */
export async function repositoryProgress(q: Q, projectId: number): Promise<RepositoryProgress[]> {
  const [rows, repos] = await Promise.all([
    q
      .selectFrom('assigns')
      .select(['repository_id', 'status_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('project_id', '=', projectId)
      .groupBy(['repository_id', 'status_id'])
      .execute(),
    q.selectFrom('repositories').select('id').where('project_id', '=', projectId).orderBy('id').execute(),
  ]);
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
  if (limit === 0) return [];
  const rows = await q
    .selectFrom('history')
    .select(['id', 'kind', 'customer_id', 'assign_id', 'field', 'old_status_id', 'new_status_id', 'status_id', 'worker_id', 'source', 'at'])
    .where('project_id', '=', projectId)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ ...r, at: Number(r.at) }));
}
