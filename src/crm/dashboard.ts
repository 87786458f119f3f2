// The supervisor's dashboard of one project: the statistics queries (statistics.ts) turned into local
// days and hours of CRM_TIMEZONE, with the names of statuses, agents and repositories beside their ids.
import type { Q } from '../db/connect.ts';
import { getProject } from './setup.ts';
import { localDate, localDayStart, localParts } from './local-time.ts';
import { callsByHourAndStatus, callsByWorker, recentActivity, repositoryProgress, statusChangesByHour, type RecentItem } from './statistics.ts';

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

export async function projectDashboard(q: Q, projectId: number, o: DashboardOptions): Promise<Dashboard> {
  await getProject(q, projectId);
  const todayStart = localDayStart(o.now, o.timeZone);
  const since = localDayStart(o.now, o.timeZone, o.days - 1);
  const [hourly, workers, changes, progress, recent, statuses, workerRows, repoRows] = await Promise.all([
    callsByHourAndStatus(q, projectId, since),
    callsByWorker(q, projectId, since, todayStart),
    statusChangesByHour(q, projectId, since),
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
  const byStatus = new Map<number | null, { status_id: number | null; name: string | null; calls_today: number; calls: number }>();
  const totals = { calls_today: 0, calls: 0, status_changes_today: 0, status_changes: 0 };

  for (const h of hourly) {
    const today = h.hour_start >= todayStart;
    totals.calls += h.calls;
    const day = byDay.get(localDate(h.hour_start, o.timeZone));
    if (day) day.calls += h.calls;
    let s = byStatus.get(h.status_id);
    if (!s) byStatus.set(h.status_id, (s = { status_id: h.status_id, name: h.status_id === null ? null : (statusName.get(h.status_id) ?? null), calls_today: 0, calls: 0 }));
    s.calls += h.calls;
    if (today) {
      totals.calls_today += h.calls;
      s.calls_today += h.calls;
      byHour[localParts(h.hour_start, o.timeZone).hour]!.calls += h.calls;
    }
  }
  for (const c of changes) {
    totals.status_changes += c.changes;
    const day = byDay.get(localDate(c.hour_start, o.timeZone));
    if (day) day.status_changes += c.changes;
    if (c.hour_start >= todayStart) {
      totals.status_changes_today += c.changes;
      byHour[localParts(c.hour_start, o.timeZone).hour]!.status_changes += c.changes;
    }
  }

  return {
    project_id: projectId,
    time_zone: o.timeZone,
    days: o.days,
    since,
    today_start: todayStart,
    totals,
    by_status: [...byStatus.values()].sort((a, b) => b.calls - a.calls),
    by_agent: workers
      .map((w) => ({ worker_id: w.worker_id, name: w.worker_id === null ? null : (workerName.get(w.worker_id) ?? null), calls_today: w.today, calls: w.calls }))
      .sort((a, b) => b.calls - a.calls),
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
