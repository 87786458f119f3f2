// The supervisor's dashboard: one request (GET /projects/:id/statistics) draws everything; it refreshes
// itself every 30 seconds while the page is open. The project is in the address (?project_id=), so a
// supervisor can bookmark their campaign.
import { useEffect, useState } from 'react';
import { api, ApiError, type Named } from './api.ts';
import { BarChart, Meter } from './BarChart.tsx';
import { formatDateTime } from './format.ts';
import { useT, type Lang } from './i18n.ts';
import { APP, navigate, onLinkClick } from './router.ts';
import { NamedOptions } from './NamedOptions.tsx';
import { ListHead } from './ListHead.tsx';

const REFRESH_MS = 30_000;

interface Stats {
  project_id: number;
  days: number;
  totals: { calls_today: number; calls: number; status_changes_today: number; status_changes: number };
  by_status: { status_id: number | null; name: string | null; calls_today: number; calls: number }[];
  by_agent: { worker_id: number | null; name: string | null; calls_today: number; calls: number }[];
  by_hour_today: { hour: number; calls: number; status_changes: number }[];
  by_day: { date: string; calls: number; status_changes: number }[];
  repositories: { repository_id: number; name: string | null; total: number; no_status: number; by_status: { status_id: number; name: string | null; count: number }[] }[];
  recent: { id: number; kind: string; customer_id: number; assign_id: number | null; field: string | null; new_status_id: number | null; status_id: number | null; worker_id: number | null; source: string; at: string }[];
}

const TEXT = {
  en: {
    title: 'Dashboard',
    project: 'Project',
    callsToday: 'Calls today',
    calls7: (d: number) => `Calls, last ${d} days`,
    changesToday: 'Status changes today',
    changes7: (d: number) => `Status changes, last ${d} days`,
    byHour: 'Calls today by hour',
    byDay: 'Calls by day',
    byStatus: 'Calls by status',
    byAgent: 'Calls by agent',
    status: 'Status',
    agent: 'Agent',
    today: 'Today',
    period: (d: number) => `${d} days`,
    noStatus: 'No status',
    unregistered: 'Agent',
    repositories: 'Repository progress',
    repository: 'Repository',
    total: 'Assigns',
    recent: 'Recent activity',
    calls: 'calls',
    updated: 'Updated',
    kind: { field: 'Field changed', status: 'Status changed', call: 'Call' } as Record<string, string>,
    noProjects: 'No project to show.',
    customer: 'Customer',
    lists: 'Lists',
  },
  he: {
    title: 'לוח בקרה',
    project: 'פרויקט',
    callsToday: 'שיחות היום',
    calls7: (d: number) => `שיחות ב-${d} הימים האחרונים`,
    changesToday: 'שינויי סטטוס היום',
    changes7: (d: number) => `שינויי סטטוס ב-${d} הימים האחרונים`,
    byHour: 'שיחות היום לפי שעה',
    byDay: 'שיחות לפי יום',
    byStatus: 'שיחות לפי סטטוס',
    byAgent: 'שיחות לפי נציג',
    status: 'סטטוס',
    agent: 'נציג',
    today: 'היום',
    period: (d: number) => `${d} ימים`,
    noStatus: 'ללא סטטוס',
    unregistered: 'נציג',
    repositories: 'התקדמות מאגרים',
    repository: 'מאגר',
    total: 'רשומות',
    recent: 'פעילות אחרונה',
    calls: 'שיחות',
    updated: 'עודכן',
    kind: { field: 'שדה שונה', status: 'סטטוס שונה', call: 'שיחה' } as Record<string, string>,
    noProjects: 'אין פרויקט להצגה.',
    customer: 'לקוח',
    lists: 'רשימות',
  },
};

export const dashboardText = (lang: Lang) => TEXT[lang];

export function Dashboard({ params }: { params: URLSearchParams }) {
  const { lang } = useT();
  const x = TEXT[lang];
  const [projects, setProjects] = useState<Named[] | null>(null);
  const [stats, setStats] = useState<Stats | null>(null);
  const [updated, setUpdated] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const chosen = Number(params.get('project_id')) || projects?.[0]?.id;

  useEffect(() => {
    api<{ items: Named[] }>('GET', '/admin/v1/projects?limit=1000').then(
      (r) => setProjects(r.items),
      (e: ApiError) => setError(e.message),
    );
  }, []);

  useEffect(() => {
    if (!chosen) return;
    let live = true;
    const load = () =>
      api<Stats>('GET', `/admin/v1/projects/${chosen}/statistics?days=7&recent=15`).then(
        (s) => {
          if (!live) return;
          setStats(s);
          setError(null);
          setUpdated(new Date().toISOString());
        },
        (e: ApiError) => live && setError(e.message),
      );
    load();
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [chosen]);

  if (projects && projects.length === 0) return <p>{x.noProjects}</p>;
  const statusName = (id: number | null, name: string | null) => (id === null ? x.noStatus : (name ?? `#${id}`));
  const agentName = (id: number | null, name: string | null) => (id === null ? '—' : (name ?? `${x.unregistered} ${id}`));
  const shortDate = (date: string) => date.slice(5).replace('-', '/');

  return (
    <section aria-labelledby="dash-title">
      <div className="dash-head">
        <h1 id="dash-title">{x.title}</h1>
        {projects && (
          <label className="field inline">
            <span>{x.project}</span>
            <select value={chosen ?? ''} onChange={(e) => navigate(`${APP}/dashboard?project_id=${e.target.value}`, true)}>
              <NamedOptions items={projects} />
            </select>
          </label>
        )}
        {updated && (
          <p className="muted" aria-live="polite">
            {x.updated} {formatDateTime(updated, lang)}
          </p>
        )}
      </div>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {stats && (
        <>
          <ul className="tiles">
            <li>
              <span className="tile-value" data-testid="calls-today">{stats.totals.calls_today.toLocaleString()}</span> <span>{x.callsToday}</span>
            </li>
            <li>
              <span className="tile-value" data-testid="calls-period">{stats.totals.calls.toLocaleString()}</span> <span>{x.calls7(stats.days)}</span>
            </li>
            <li>
              <span className="tile-value" data-testid="changes-today">{stats.totals.status_changes_today.toLocaleString()}</span> <span>{x.changesToday}</span>
            </li>
            <li>
              <span className="tile-value">{stats.totals.status_changes.toLocaleString()}</span> <span>{x.changes7(stats.days)}</span>
            </li>
          </ul>
          <div className="chart-grid">
            <BarChart title={x.byHour} valueLabel={x.calls} bars={stats.by_hour_today.map((h) => ({ label: String(h.hour), value: h.calls }))} />
            <BarChart title={x.byDay} valueLabel={x.calls} bars={stats.by_day.map((d) => ({ label: shortDate(d.date), value: d.calls }))} />
          </div>
          <div className="chart-grid">
            <CountTable caption={x.byStatus} head={x.status} x={x} rows={stats.by_status.map((s) => ({ key: String(s.status_id), name: statusName(s.status_id, s.name), today: s.calls_today, period: s.calls }))} days={stats.days} />
            <CountTable caption={x.byAgent} head={x.agent} x={x} rows={stats.by_agent.map((a) => ({ key: String(a.worker_id), name: agentName(a.worker_id, a.name), today: a.calls_today, period: a.calls }))} days={stats.days} />
          </div>
          <h2>{x.repositories}</h2>
          <table className="list" data-testid="repositories">
            <ListHead columns={[x.repository, x.total, x.noStatus, x.status]} />
            <tbody>
              {stats.repositories.map((r) => (
                <tr key={r.repository_id}>
                  <th scope="row">
                    <a href={`${APP}/lists?project_id=${stats.project_id}&repository_id=${r.repository_id}`} onClick={onLinkClick}>
                      {r.name ?? `#${r.repository_id}`}
                    </a>
                  </th>
                  <td>{r.total.toLocaleString()}</td>
                  <td>
                    <Meter value={r.no_status} max={r.total} />
                  </td>
                  <td>
                    <ul className="plain">
                      {r.by_status.map((s) => (
                        <li key={s.status_id}>
                          {statusName(s.status_id, s.name)}: <Meter value={s.count} max={r.total} />
                        </li>
                      ))}
                    </ul>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>{x.recent}</h2>
          <ul className="timeline">
            {stats.recent.map((r) => (
              <li key={r.id} className={`kind-${r.kind}`}>
                {x.kind[r.kind] ?? r.kind}
                {r.field ? `: ${r.field}` : ''}
                {r.new_status_id !== null || r.status_id !== null ? ` → ${statusName(r.new_status_id ?? r.status_id, stats.by_status.find((s) => s.status_id === (r.new_status_id ?? r.status_id))?.name ?? null)}` : ''}{' '}
                <a href={`${APP}/customers/${r.customer_id}`} onClick={onLinkClick}>
                  {x.customer} {r.customer_id}
                </a>
                <div className="meta">
                  {formatDateTime(r.at, lang)} · {r.source}
                  {r.worker_id !== null ? ` · ${x.agent} ${r.worker_id}` : ''}
                </div>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function CountTable({ caption, head, rows, days, x }: { caption: string; head: string; rows: { key: string; name: string; today: number; period: number }[]; days: number; x: (typeof TEXT)['en'] }) {
  const max = Math.max(1, ...rows.map((r) => r.period));
  return (
    <table className="list">
      <caption>{caption}</caption>
      <ListHead columns={[head, x.today, x.period(days)]} />
      <tbody>
        {rows.map((r) => (
          <tr key={r.key}>
            <th scope="row">{r.name}</th>
            <td>{r.today.toLocaleString()}</td>
            <td>
              <Meter value={r.period} max={max} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
