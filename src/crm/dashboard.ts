// The supervisor's dashboard of one project: the statistics queries (statistics.ts) turned into local
// days and hours of CRM_TIMEZONE, with the names of statuses, agents and repositories beside their ids.
import type { Db } from '../db/connect.ts';
import { getProject } from './setup.ts';
import { localDate, localDayStart, localParts } from './local-time.ts';
import { HOUR, hourlyCounts, missingHours, recentActivity, repositoryProgress, rollUp, settledEnd, type RecentItem } from './statistics.ts';

export interface DashboardOptions {
  /** days counted, today included (1..31) */
  days: number;
  now: number;
  timeZone: string;
  recent: number;
}

export interface Dashboard {
  project_id: number;
  time_zone: string;
  days: number;
  since: number;
  today_start: number;
  totals: { calls_today: number; calls: number; status_changes_today: number; status_changes: number };
  by_status: { status_id: number | null; name: string | null; calls_today: number; calls: number }[];
  by_agent: { worker_id: number | null; name: string | null; calls_today: number; calls: number }[];
  by_hour_today: { hour: number; calls: number; status_changes: number }[];
  by_day: { date: string; calls: number; status_changes: number }[];
  repositories: { repository_id: number; name: string | null; total: number; no_status: number; by_status: { status_id: number; name: string | null; count: number }[] }[];
  recent: RecentItem[];
}

export async function projectDashboard(db: Db, projectId: number, o: DashboardOptions): Promise<Dashboard> {
  const q = db.q;
  await getProject(q, projectId);
  const todayStart = localDayStart(o.now, o.timeZone);
  const since = localDayStart(o.now, o.timeZone, o.days - 1);
  const fromHour = Math.floor(since / HOUR);
  const settled = settledEnd(o.now);
  // The first dashboard of an hour rolls up what closed since; every other load only reads.
  if ((await missingHours(q, projectId, fromHour, settled)) > 0) await db.write((trx) => rollUp(trx, projectId, fromHour, settled));
  const [counts, progress, recent, statuses, workerRows, repoRows] = await Promise.all([
    hourlyCounts(q, projectId, fromHour, settled, o.now),
    repositoryProgress(q, projectId),
    recentActivity(q, projectId, o.recent),
    q.selectFrom('statuses').select(['id', 'name']).where('project_id', '=', projectId).execute(),
    q.selectFrom('workers').select(['id', 'name']).where('project_id', '=', projectId).execute(),
    q.selectFrom('repositories').select(['id', 'name']).where('project_id', '=', projectId).execute(),
  ]);
  const statusName = new Map(statuses.map((s) => [s.id, s.name]));
  const workerName = new Map(workerRows.map((w) => [w.id, w.name]));
  const repoName = new Map(repoRows.map((r) => [r.id, r.name]));

  const days = Array.from({ length: o.days }, (_, k) => localDate(localDayStart(o.now, o.timeZone, o.days - 1 - k), o.timeZone));
  const byDay = new Map(days.map((date) => [date, { date, calls: 0, status_changes: 0 }]));
  const byHour = Array.from({ length: 24 }, (_, hour) => ({ hour, calls: 0, status_changes: 0 }));
  type Row = { calls_today: number; calls: number };
  const byStatus = new Map<number | null, Row>();
  const byAgent = new Map<number | null, Row>();
  const totals = { calls_today: 0, calls: 0, status_changes_today: 0, status_changes: 0 };
  const bump = <K>(m: Map<K, Row>, key: K, calls: number, today: boolean) => {
    let r = m.get(key);
    if (!r) m.set(key, (r = { calls_today: 0, calls: 0 }));
    r.calls += calls;
    if (today) r.calls_today += calls;
  };

  for (const c of counts) {
    const start = c.hour_index * HOUR;
    // The rollup's first hour may begin before local midnight of the first day (a zone east of UTC
    // with a fractional offset); such events are outside the window.
    if (start + HOUR <= since) continue;
    const today = start >= todayStart;
    totals.calls += c.calls;
    totals.status_changes += c.status_changes;
    const day = byDay.get(localDate(start, o.timeZone));
    if (day) {
      day.calls += c.calls;
      day.status_changes += c.status_changes;
    }
    if (c.calls > 0) {
      bump(byStatus, c.status_id, c.calls, today);
      bump(byAgent, c.worker_id, c.calls, today);
    }
    if (today) {
      totals.calls_today += c.calls;
      totals.status_changes_today += c.status_changes;
      const h = byHour[localParts(start, o.timeZone).hour]!;
      h.calls += c.calls;
      h.status_changes += c.status_changes;
    }
  }

  return {
    project_id: projectId,
    time_zone: o.timeZone,
    days: o.days,
    since,
    today_start: todayStart,
    totals,
    by_status: [...byStatus].map(([id, r]) => ({ status_id: id, name: id === null ? null : (statusName.get(id) ?? null), ...r })).sort((a, b) => b.calls - a.calls),
    by_agent: [...byAgent].map(([id, r]) => ({ worker_id: id, name: id === null ? null : (workerName.get(id) ?? null), ...r })).sort((a, b) => b.calls - a.calls),
    by_hour_today: byHour,
    by_day: [...byDay.values()],
    repositories: progress.map((p) => ({
      repository_id: p.repository_id,
      name: repoName.get(p.repository_id) ?? null,
      total: p.total,
      no_status: p.no_status,
      by_status: p.by_status.map((b) => ({ ...b, name: statusName.get(b.status_id) ?? null })),
    })),
    recent,
  };
}
