// The admin's setup screens: a project and everything that sets it up (fields, statuses, groups, sites,
// workers, repositories, DIDs). Every action is an admin API call with the session, so the API's
// validation messages are shown as they come (details per field beside the form).
import { useEffect, useState } from 'react';
import { api, ApiError, type Named } from './api.ts';
import { useT, type Lang } from './i18n.ts';
import { APP, navigate } from './router.ts';
import { NamedOptions } from './NamedOptions.tsx';
import { ListHead } from './ListHead.tsx';

const TEXT = {
  en: {
    title: 'Setup',
    project: 'Project',
    newProject: 'New project',
    rename: 'Rename',
    name: 'Name',
    add: 'Add',
    save: 'Save',
    archive: 'Archive',
    restore: 'Restore',
    archived: 'archived',
    showArchived: 'Show archived',
    fields: 'Fields',
    statuses: 'Statuses',
    groups: 'Groups',
    sites: 'Sites',
    workers: 'Workers',
    repositories: 'Repositories',
    dids: 'DIDs',
    displayName: 'Name in the API (display_name)',
    label: 'Label',
    type: 'Type',
    unique: 'Unique',
    required: 'Required',
    options: 'Options (comma-separated)',
    up: 'Move up',
    down: 'Move down',
    group: 'Group',
    site: 'Site',
    none: '(none)',
    did: 'DID number',
    repository: 'Repository',
    remove: 'Remove',
    done: 'Saved.',
    id: 'Id',
    noProjects: 'No project yet: create the first one.',
  },
  he: {
    title: 'הגדרות',
    project: 'פרויקט',
    newProject: 'פרויקט חדש',
    rename: 'שינוי שם',
    name: 'שם',
    add: 'הוספה',
    save: 'שמירה',
    archive: 'העברה לארכיון',
    restore: 'שחזור',
    archived: 'בארכיון',
    showArchived: 'הצגת ארכיון',
    fields: 'שדות',
    statuses: 'סטטוסים',
    groups: 'קבוצות',
    sites: 'אתרים',
    workers: 'נציגים',
    repositories: 'מאגרים',
    dids: 'מספרי DID',
    displayName: 'שם ב-API (display_name)',
    label: 'תווית',
    type: 'סוג',
    unique: 'ייחודי',
    required: 'חובה',
    options: 'אפשרויות (מופרדות בפסיק)',
    up: 'למעלה',
    down: 'למטה',
    group: 'קבוצה',
    site: 'אתר',
    none: '(ללא)',
    did: 'מספר DID',
    repository: 'מאגר',
    remove: 'הסרה',
    done: 'נשמר.',
    id: 'מזהה',
    noProjects: 'אין עדיין פרויקט: צרו את הראשון.',
  },
};
type X = (typeof TEXT)['en'];
export const setupText = (lang: Lang) => TEXT[lang];

type Row = Named & { archived?: boolean; group_id?: number | null; site_id?: number | null };
interface FieldRow {
  id: number;
  display_name: string;
  label: string;
  type: string;
  unique: boolean;
  required: boolean;
  options: string[] | null;
  position: number;
  archived?: boolean;
}

/** An API error as one line, with its per-field details. */
export function errorText(e: unknown): string {
  if (!(e instanceof ApiError)) return String(e);
  const details = e.details && typeof e.details === 'object' ? Object.entries(e.details).map(([k, v]) => `${k}: ${v}`) : [];
  return details.length ? `${e.message} (${details.join('; ')})` : e.message;
}

/** Runs an API action and reports its outcome in a live region. */
function useAction() {
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const run = async (f: () => Promise<unknown>, ok: string) => {
    try {
      await f();
      setMsg({ ok: true, text: ok });
      return true;
    } catch (e) {
      setMsg({ ok: false, text: errorText(e) });
      return false;
    }
  };
  const view = (
    <p className={msg?.ok === false ? 'error' : 'ok'} role={msg?.ok === false ? 'alert' : 'status'}>
      {msg?.text ?? ''}
    </p>
  );
  return { run, view };
}

const listAll = async <T,>(path: string) => (await api<{ items: T[] }>('GET', `${path}${path.includes('?') ? '&' : '?'}limit=1000`)).items;

export function Setup({ params }: { params: URLSearchParams }) {
  const { lang } = useT();
  const x = TEXT[lang];
  const [projects, setProjects] = useState<Named[] | null>(null);
  const [tick, setTick] = useState(0);
  const { run, view } = useAction();
  const projectId = Number(params.get('project_id')) || projects?.[0]?.id;
  const project = projects?.find((p) => p.id === projectId);

  useEffect(() => {
    listAll<Named>('/admin/v1/projects').then(setProjects, () => setProjects([]));
  }, [tick]);

  return (
    <section aria-labelledby="setup-title">
      <h1 id="setup-title">{x.title}</h1>
      <div className="filters">
        {projects && projects.length > 0 && (
          <label className="field">
            <span>{x.project}</span>
            <select value={projectId ?? ''} onChange={(e) => navigate(`${APP}/setup?project_id=${e.target.value}`, true)}>
              {projects.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name} ({p.id})
                </option>
              ))}
            </select>
          </label>
        )}
        <form
          className="row"
          aria-label={x.newProject}
          onSubmit={async (e) => {
            e.preventDefault();
            const form = e.currentTarget;
            const name = String(new FormData(form).get('name') ?? '');
            let created: Named | undefined;
            if (await run(async () => (created = await api<Named>('POST', '/admin/v1/projects', { name })), x.done)) {
              form.reset();
              setTick((n) => n + 1);
              if (created) navigate(`${APP}/setup?project_id=${created.id}`, true);
            }
          }}
        >
          <label className="field">
            <span>{x.newProject}</span>
            <input name="name" required />
          </label>
          <button type="submit">{x.add}</button>
        </form>
        {project && (
          <form
            className="row"
            aria-label={x.rename}
            key={project.id}
            onSubmit={async (e) => {
              e.preventDefault();
              const name = String(new FormData(e.currentTarget).get('name') ?? '');
              if (await run(() => api('PATCH', `/admin/v1/projects/${project.id}`, { name }), x.done)) setTick((n) => n + 1);
            }}
          >
            <label className="field">
              <span>{x.rename}</span>
              <input name="name" defaultValue={project.name} required />
            </label>
            <button type="submit">{x.save}</button>
          </form>
        )}
      </div>
      {view}
      {projects && projects.length === 0 && <p>{x.noProjects}</p>}
      {projectId && (
        <div key={projectId}>
          <FieldsSection projectId={projectId} x={x} />
          <PartsSection projectId={projectId} kind="statuses" title={x.statuses} x={x} withId />
          <PartsSection projectId={projectId} kind="groups" title={x.groups} x={x} withId />
          <PartsSection projectId={projectId} kind="sites" title={x.sites} x={x} withId />
          <PartsSection projectId={projectId} kind="workers" title={x.workers} x={x} withId staffed />
          <PartsSection projectId={projectId} kind="repositories" title={x.repositories} x={x} withId staffed />
          <DidsSection projectId={projectId} x={x} />
        </div>
      )}
    </section>
  );
}

function PartsSection({ projectId, kind, title, x, withId, staffed }: { projectId: number; kind: string; title: string; x: X; withId?: boolean; staffed?: boolean }) {
  const [rows, setRows] = useState<Row[]>([]);
  const [groups, setGroups] = useState<Named[]>([]);
  const [sites, setSites] = useState<Named[]>([]);
  const [archived, setArchived] = useState(false);
  const [tick, setTick] = useState(0);
  const { run, view } = useAction();
  const base = `/admin/v1/projects/${projectId}/${kind}`;
  useEffect(() => {
    listAll<Row>(`${base}${archived ? '?archived=true' : ''}`).then(setRows, () => setRows([]));
    if (staffed) {
      listAll<Named>(`/admin/v1/projects/${projectId}/groups`).then(setGroups, () => {});
      listAll<Named>(`/admin/v1/projects/${projectId}/sites`).then(setSites, () => {});
    }
  }, [base, archived, tick]);
  const refresh = () => setTick((n) => n + 1);
  const id = `sec-${kind}`;
  const optional = (v: FormDataEntryValue | null) => (v === null || v === '' ? undefined : Number(v));

  return (
    <section aria-labelledby={id} className="card-form">
      <h2 id={id}>{title}</h2>
      <label className="row">
        <input type="checkbox" checked={archived} onChange={(e) => setArchived(e.target.checked)} /> {x.showArchived}
      </label>
      <table className="list">
        <ListHead columns={[x.id, x.name, ...(staffed ? [x.group, x.site] : [])]} action={x.archive} />
        <tbody>
          {rows.map((r) => (
            <tr key={r.id}>
              <td>{r.id}</td>
              <td>
                <form
                  className="row"
                  onSubmit={async (e) => {
                    e.preventDefault();
                    const name = String(new FormData(e.currentTarget).get('name') ?? '');
                    if (await run(() => api('PATCH', `${base}/${r.id}`, { name }), x.done)) refresh();
                  }}
                >
                  <input name="name" defaultValue={r.name} aria-label={`${x.name} ${r.id}`} required />
                  <button type="submit">{x.save}</button>
                  {r.archived && <span className="muted">{x.archived}</span>}
                </form>
              </td>
              {staffed && <td>{groups.find((g) => g.id === r.group_id)?.name ?? x.none}</td>}
              {staffed && <td>{sites.find((s) => s.id === r.site_id)?.name ?? x.none}</td>}
              <td>
                <button type="button" className="link-button" onClick={async () => (await run(() => api('PATCH', `${base}/${r.id}`, { archived: !r.archived }), x.done)) && refresh()}>
                  {r.archived ? x.restore : x.archive} <span className="visually-hidden">{r.name}</span>
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        className="filters"
        aria-label={`${x.add}: ${title}`}
        onSubmit={async (e) => {
          e.preventDefault();
          const form = e.currentTarget;
          const d = new FormData(form);
          const body: Record<string, unknown> = { name: String(d.get('name') ?? '') };
          if (withId && d.get('id')) body.id = Number(d.get('id'));
          if (staffed) {
            body.group_id = optional(d.get('group_id'));
            body.site_id = optional(d.get('site_id'));
          }
          if (await run(() => api('POST', base, body), x.done)) {
            form.reset();
            refresh();
          }
        }}
      >
        {withId && (
          <label className="field">
            <span>{x.id}</span>
            <input name="id" type="number" min={1} inputMode="numeric" />
          </label>
        )}
        <label className="field">
          <span>{x.name}</span>
          <input name="name" required />
        </label>
        {staffed && (
          <label className="field">
            <span>{x.group}</span>
            <select name="group_id">
              <option value="">{x.none}</option>
              <NamedOptions items={groups} />
            </select>
          </label>
        )}
        {staffed && (
          <label className="field">
            <span>{x.site}</span>
            <select name="site_id">
              <option value="">{x.none}</option>
              <NamedOptions items={sites} />
            </select>
          </label>
        )}
        <button type="submit">{x.add}</button>
      </form>
      {view}
    </section>
  );
}

const TYPES = ['text', 'phone', 'email', 'number', 'date', 'select'];

function FieldsSection({ projectId, x }: { projectId: number; x: X }) {
  const [rows, setRows] = useState<FieldRow[]>([]);
  const [archived, setArchived] = useState(false);
  const [tick, setTick] = useState(0);
  const { run, view } = useAction();
  const base = `/admin/v1/projects/${projectId}/fields`;
  useEffect(() => {
    listAll<FieldRow>(`${base}${archived ? '?archived=true' : ''}`).then(setRows, () => setRows([]));
  }, [base, archived, tick]);
  const refresh = () => setTick((n) => n + 1);
  const patch = (f: FieldRow, body: Record<string, unknown>) => run(() => api('PATCH', `${base}/${f.id}`, body), x.done).then((ok) => ok && refresh());
  const splitOptions = (v: FormDataEntryValue | null) =>
    String(v ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);

  return (
    <section aria-labelledby="sec-fields" className="card-form">
      <h2 id="sec-fields">{x.fields}</h2>
      <label className="row">
        <input type="checkbox" checked={archived} onChange={(e) => setArchived(e.target.checked)} /> {x.showArchived}
      </label>
      <table className="list">
        <ListHead columns={[x.displayName, x.type, x.label, x.options]} action={x.up} />
        <tbody>
          {rows.map((f, i) => (
            <tr key={f.id}>
              <td>
                <bdi>{f.display_name}</bdi>
                {f.unique && <span className="muted"> · {x.unique}</span>}
                {f.required && <span className="muted"> · {x.required}</span>}
                {f.archived && <span className="muted"> · {x.archived}</span>}
              </td>
              <td>{f.type}</td>
              <td>
                <form
                  className="row"
                  onSubmit={(e) => {
                    e.preventDefault();
                    void patch(f, { label: String(new FormData(e.currentTarget).get('label') ?? '') });
                  }}
                >
                  <input name="label" defaultValue={f.label} aria-label={`${x.label}: ${f.display_name}`} />
                  <button type="submit">{x.save}</button>
                </form>
              </td>
              <td>
                {f.type === 'select' && (
                  <form
                    className="row"
                    onSubmit={(e) => {
                      e.preventDefault();
                      void patch(f, { options: splitOptions(new FormData(e.currentTarget).get('options')) });
                    }}
                  >
                    <input name="options" defaultValue={(f.options ?? []).join(', ')} aria-label={`${x.options}: ${f.display_name}`} />
                    <button type="submit">{x.save}</button>
                  </form>
                )}
              </td>
              <td className="row">
                <button type="button" className="link-button" disabled={i === 0} onClick={() => patch(f, { position: rows[i - 1]!.position })} aria-label={`${x.up}: ${f.display_name}`}>
                  ↑
                </button>
                <button type="button" className="link-button" disabled={i === rows.length - 1} onClick={() => patch(f, { position: rows[i + 1]!.position })} aria-label={`${x.down}: ${f.display_name}`}>
                  ↓
                </button>
                <button type="button" className="link-button" onClick={() => patch(f, { archived: !f.archived })}>
                  {f.archived ? x.restore : x.archive} <span className="visually-hidden">{f.display_name}</span>
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        className="filters"
        aria-label={`${x.add}: ${x.fields}`}
        onSubmit={async (e) => {
          e.preventDefault();
          const form = e.currentTarget;
          const d = new FormData(form);
          const type = String(d.get('type') ?? 'text');
          const body: Record<string, unknown> = { display_name: String(d.get('display_name') ?? ''), type, unique: d.get('unique') === 'on', required: d.get('required') === 'on' };
          const label = String(d.get('label') ?? '');
          if (label) body.label = label;
          if (type === 'select') body.options = splitOptions(d.get('options'));
          if (await run(() => api('POST', base, body), x.done)) {
            form.reset();
            refresh();
          }
        }}
      >
        <label className="field">
          <span>{x.displayName}</span>
          <input name="display_name" required dir="auto" />
        </label>
        <label className="field">
          <span>{x.label}</span>
          <input name="label" dir="auto" />
        </label>
        <label className="field">
          <span>{x.type}</span>
          <select name="type" defaultValue="text">
            {TYPES.map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>{x.options}</span>
          <input name="options" dir="auto" />
        </label>
        <label className="row">
          <input type="checkbox" name="unique" /> {x.unique}
        </label>
        <label className="row">
          <input type="checkbox" name="required" /> {x.required}
        </label>
        <button type="submit">{x.add}</button>
      </form>
      {view}
    </section>
  );
}

function DidsSection({ projectId, x }: { projectId: number; x: X }) {
  const [rows, setRows] = useState<{ id: number; did: string; repository_id: number | null }[]>([]);
  const [repos, setRepos] = useState<Named[]>([]);
  const [tick, setTick] = useState(0);
  const { run, view } = useAction();
  const base = `/admin/v1/projects/${projectId}/dids`;
  useEffect(() => {
    listAll<{ id: number; did: string; repository_id: number | null }>(base).then(setRows, () => setRows([]));
    listAll<Named>(`/admin/v1/projects/${projectId}/repositories`).then(setRepos, () => {});
  }, [base, tick]);
  const refresh = () => setTick((n) => n + 1);
  return (
    <section aria-labelledby="sec-dids" className="card-form">
      <h2 id="sec-dids">{x.dids}</h2>
      <table className="list">
        <ListHead columns={[x.did, x.repository]} action={x.remove} />
        <tbody>
          {rows.map((d) => (
            <tr key={d.id}>
              <td>
                <bdi>{d.did}</bdi>
              </td>
              <td>{d.repository_id === null ? x.none : (repos.find((r) => r.id === d.repository_id)?.name ?? d.repository_id)}</td>
              <td>
                <button type="button" className="link-button" onClick={async () => (await run(() => api('DELETE', `${base}/${encodeURIComponent(d.did)}`), x.done)) && refresh()}>
                  {x.remove} <span className="visually-hidden">{d.did}</span>
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        className="filters"
        aria-label={`${x.add}: ${x.dids}`}
        onSubmit={async (e) => {
          e.preventDefault();
          const form = e.currentTarget;
          const d = new FormData(form);
          const body: Record<string, unknown> = { did: String(d.get('did') ?? '') };
          if (d.get('repository_id')) body.repository_id = Number(d.get('repository_id'));
          if (await run(() => api('POST', base, body), x.done)) {
            form.reset();
            refresh();
          }
        }}
      >
        <label className="field">
          <span>{x.did}</span>
          <input name="did" required inputMode="tel" dir="ltr" />
        </label>
        <label className="field">
          <span>{x.repository}</span>
          <select name="repository_id">
            <option value="">{x.none}</option>
            <NamedOptions items={repos} />
          </select>
        </label>
        <button type="submit">{x.add}</button>
      </form>
      {view}
    </section>
  );
}
