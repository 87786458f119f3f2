// A repository's assigns, filtered as a supervisor works a campaign: by status (or none yet), by agent,
// by last call older than N days; paged; exported with the same filters. The filters live in the
// address, so a list can be bookmarked and shared.
import { useEffect, useState } from 'react';
import { api, ApiError, BASE, type Named } from './api.ts';
import { formatDateTime } from './format.ts';
import { useT, type Lang } from './i18n.ts';
import { APP, navigate, onLinkClick } from './router.ts';
import { NamedOptions } from './NamedOptions.tsx';
import { ListHead } from './ListHead.tsx';

interface Assign {
  id: number;
  customer_id: number;
  status_id: number | null;
  worker_id: number | null;
  last_call: string | null;
}

const TEXT = {
  en: {
    title: 'Lists',
    project: 'Project',
    repository: 'Repository',
    status: 'Status',
    anyStatus: 'Any status',
    noStatus: 'No status yet',
    agent: 'Agent',
    anyAgent: 'Any agent',
    notCalled: 'Not called for (days)',
    show: 'Show',
    assign: 'Assign',
    customer: 'Customer',
    lastCall: 'Last call',
    never: 'never',
    more: 'More',
    none: 'No assign matches.',
    export: 'Export this list',
  },
  he: {
    title: 'רשימות',
    project: 'פרויקט',
    repository: 'מאגר',
    status: 'סטטוס',
    anyStatus: 'כל סטטוס',
    noStatus: 'עדיין ללא סטטוס',
    agent: 'נציג',
    anyAgent: 'כל נציג',
    notCalled: 'לא התקשרו (ימים)',
    show: 'הצג',
    assign: 'רשומה',
    customer: 'לקוח',
    lastCall: 'שיחה אחרונה',
    never: 'אף פעם',
    more: 'עוד',
    none: 'אין רשומות מתאימות.',
    export: 'ייצוא הרשימה',
  },
};

export const listsText = (lang: Lang) => TEXT[lang];

const FILTERS = ['status_id', 'worker_id', 'not_called_days'] as const;

export function Lists({ params }: { params: URLSearchParams }) {
  const { lang } = useT();
  const x = TEXT[lang];
  const [projects, setProjects] = useState<Named[]>([]);
  const [repos, setRepos] = useState<Named[]>([]);
  const [statuses, setStatuses] = useState<Named[]>([]);
  const [workers, setWorkers] = useState<Named[]>([]);
  // The project whose repositories, statuses and workers are loaded: the filter form waits for them, so
  // its selects start with their options (a form re-made when they arrive would drop a choice made meanwhile).
  const [loadedFor, setLoadedFor] = useState<number | null>(null);
  const [rows, setRows] = useState<Assign[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const projectId = Number(params.get('project_id')) || projects[0]?.id;
  const repositoryId = Number(params.get('repository_id')) || repos[0]?.id;
  const filter = new URLSearchParams();
  for (const f of FILTERS) {
    const v = params.get(f);
    if (v !== null && v !== '') filter.set(f, v);
  }
  const filterKey = filter.toString();

  useEffect(() => {
    api<{ items: Named[] }>('GET', '/admin/v1/projects?limit=1000').then((r) => setProjects(r.items), (e: ApiError) => setError(e.message));
  }, []);
  useEffect(() => {
    if (!projectId) return;
    const list = (what: string) => api<{ items: Named[] }>('GET', `/admin/v1/projects/${projectId}/${what}?limit=1000`).then((r) => r.items);
    Promise.all([list('repositories'), list('statuses'), list('workers')]).then(
      ([r, s, w]) => {
        setRepos(r);
        setStatuses(s);
        setWorkers(w);
        setLoadedFor(projectId);
      },
      (e: ApiError) => setError(e.message),
    );
  }, [projectId]);

  const load = (after: string | null) => {
    if (!repositoryId) return;
    const q = new URLSearchParams(filterKey);
    q.set('limit', '50');
    if (after) q.set('cursor', after);
    api<{ items: Assign[]; next_cursor: string | null }>('GET', `/admin/v1/repositories/${repositoryId}/assigns?${q}`).then(
      (r) => {
        setRows((old) => (after ? [...old, ...r.items] : r.items));
        setCursor(r.next_cursor);
        setError(null);
      },
      (e: ApiError) => setError(e.message),
    );
  };
  useEffect(() => load(null), [repositoryId, filterKey]);

  const go = (form: HTMLFormElement) => {
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (typeof v === 'string' && v !== '') q.set(k, v);
    navigate(`${APP}/lists?${q}`, true);
  };
  const statusName = (id: number | null) => (id === null ? '' : (statuses.find((s) => s.id === id)?.name ?? `#${id}`));
  const workerName = (id: number | null) => (id === null ? '' : (workers.find((w) => w.id === id)?.name ?? `${x.agent} ${id}`));
  // The export takes the list's filters: it downloads exactly the rows listed (all pages).
  const exportHref = (format: string) => {
    const q = new URLSearchParams(filterKey);
    q.set('repository_id', String(repositoryId));
    q.set('format', format);
    return `${BASE}/admin/v1/projects/${projectId}/export?${q}`;
  };

  return (
    <section aria-labelledby="lists-title">
      <h1 id="lists-title">{x.title}</h1>
      {projectId !== undefined && loadedFor === projectId && (
        <form
          className="filters"
          key={`${projectId}:${repositoryId}:${filterKey}`}
          onSubmit={(e) => {
            e.preventDefault();
            go(e.currentTarget);
          }}
        >
          <label className="field">
            <span>{x.project}</span>
            <select name="project_id" defaultValue={projectId ?? ''} onChange={(e) => navigate(`${APP}/lists?project_id=${e.target.value}`, true)}>
              <NamedOptions items={projects} />
            </select>
          </label>
          <label className="field">
            <span>{x.repository}</span>
            <select name="repository_id" defaultValue={repositoryId ?? ''}>
              <NamedOptions items={repos} />
            </select>
          </label>
          <label className="field">
            <span>{x.status}</span>
            <select name="status_id" defaultValue={params.get('status_id') ?? ''}>
              <option value="">{x.anyStatus}</option>
              <option value="0">{x.noStatus}</option>
              <NamedOptions items={statuses} />
            </select>
          </label>
          <label className="field">
            <span>{x.agent}</span>
            <select name="worker_id" defaultValue={params.get('worker_id') ?? ''}>
              <option value="">{x.anyAgent}</option>
              <NamedOptions items={workers} />
            </select>
          </label>
          <label className="field">
            <span>{x.notCalled}</span>
            <input name="not_called_days" type="number" min={0} max={36500} inputMode="numeric" defaultValue={params.get('not_called_days') ?? ''} />
          </label>
          <button type="submit">{x.show}</button>
        </form>
      )}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {repositoryId && (
        <p>
          {x.export}:{' '}
          {['csv', 'excel', 'xlsx'].map((f) => (
            <a key={f} href={exportHref(f)} download className="export-link">
              {f.toUpperCase()}
            </a>
          ))}
        </p>
      )}
      {rows.length === 0 ? (
        <p>{x.none}</p>
      ) : (
        <table className="list" data-testid="assign-list">
          <ListHead columns={[x.assign, x.customer, x.status, x.agent, x.lastCall]} />
          <tbody>
            {rows.map((a) => (
              <tr key={a.id}>
                <td>{a.id}</td>
                <td>
                  <a href={`${APP}/customers/${a.customer_id}`} onClick={onLinkClick}>
                    {a.customer_id}
                  </a>
                </td>
                <td>{statusName(a.status_id)}</td>
                <td>{workerName(a.worker_id)}</td>
                <td>{a.last_call ? formatDateTime(a.last_call, lang) : x.never}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {cursor && (
        <button type="button" onClick={() => load(cursor)}>
          {x.more}
        </button>
      )}
    </section>
  );
}
