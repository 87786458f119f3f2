// The audit log viewer (admins): telephony writes with their key's name, client address, worker and
// result, filtered and paged like GET /admin/v1/audit.
import { useEffect, useState } from 'react';
import { api } from './api.ts';
import { formatDateTime } from './format.ts';
import { useT, type Lang } from './i18n.ts';
import { APP, navigate } from './router.ts';
import { errorText } from './Setup.tsx';
import { ListHead } from './ListHead.tsx';

const TEXT = {
  en: { title: 'Audit log', endpoint: 'Endpoint', any: 'Any', code: 'Code', project: 'Project id', worker: 'Worker id', since: 'From (date)', until: 'Until (date)', show: 'Show', at: 'When', key: 'Key', client: 'Client', assign: 'Assign', latency: 'ms', more: 'More', none: 'Nothing recorded.' },
  he: { title: 'יומן ביקורת', endpoint: 'נקודת קצה', any: 'הכול', code: 'קוד', project: 'מזהה פרויקט', worker: 'מזהה נציג', since: 'מתאריך', until: 'עד תאריך', show: 'הצג', at: 'מתי', key: 'מפתח', client: 'לקוח', assign: 'רשומה', latency: 'מ"ש', more: 'עוד', none: 'לא נרשם דבר.' },
};
export const auditText = (lang: Lang) => TEXT[lang];

interface Entry {
  id: number;
  at: string;
  endpoint: string;
  code: number;
  latency_ms: number;
  key_id: string | null;
  key_name?: string | null;
  client_ip: string | null;
  worker_id: string | null;
  assign_id: number | null;
  project_id: number | null;
}

const FILTERS = ['endpoint', 'code', 'project_id', 'worker_id', 'since', 'until'] as const;

export function Audit({ params }: { params: URLSearchParams }) {
  const { lang } = useT();
  const x = TEXT[lang];
  const [rows, setRows] = useState<Entry[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const filter = new URLSearchParams();
  for (const f of FILTERS) if (params.get(f)) filter.set(f, params.get(f)!);
  const key = filter.toString();
  const load = (after: string | null) => {
    const q = new URLSearchParams(key);
    q.set('limit', '100');
    if (after) q.set('cursor', after);
    api<{ items: Entry[]; next_cursor: string | null }>('GET', `/admin/v1/audit?${q}`).then(
      (r) => {
        setRows((old) => (after ? [...old, ...r.items] : r.items));
        setCursor(r.next_cursor);
        setError(null);
      },
      (e) => setError(errorText(e)),
    );
  };
  useEffect(() => load(null), [key]);
  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">{x.title}</h1>
      <form
        className="filters"
        key={key}
        onSubmit={(e) => {
          e.preventDefault();
          const q = new URLSearchParams();
          for (const [k, v] of new FormData(e.currentTarget)) if (typeof v === 'string' && v !== '') q.set(k, v);
          navigate(`${APP}/audit?${q}`, true);
        }}
      >
        <label className="field">
          <span>{x.endpoint}</span>
          <select name="endpoint" defaultValue={params.get('endpoint') ?? ''}>
            <option value="">{x.any}</option>
            <option>set_data</option>
            <option>set_status</option>
          </select>
        </label>
        <label className="field">
          <span>{x.code}</span>
          <input name="code" type="number" min={0} max={999} defaultValue={params.get('code') ?? ''} />
        </label>
        <label className="field">
          <span>{x.project}</span>
          <input name="project_id" type="number" min={1} defaultValue={params.get('project_id') ?? ''} />
        </label>
        <label className="field">
          <span>{x.worker}</span>
          <input name="worker_id" defaultValue={params.get('worker_id') ?? ''} />
        </label>
        <label className="field">
          <span>{x.since}</span>
          <input name="since" type="date" defaultValue={params.get('since') ?? ''} />
        </label>
        <label className="field">
          <span>{x.until}</span>
          <input name="until" type="date" defaultValue={params.get('until') ?? ''} />
        </label>
        <button type="submit">{x.show}</button>
      </form>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {rows.length === 0 ? (
        <p>{x.none}</p>
      ) : (
        <table className="list" data-testid="audit-list">
          <ListHead columns={[x.at, x.endpoint, x.code, x.key, x.client, x.worker, x.assign, x.latency]} />
          <tbody>
            {rows.map((r) => (
              <tr key={r.id}>
                <td>{formatDateTime(r.at, lang)}</td>
                <td>{r.endpoint}</td>
                <td>{r.code}</td>
                <td>
                  <bdi>{r.key_name ?? r.key_id ?? ''}</bdi>
                </td>
                <td dir="ltr">{r.client_ip ?? ''}</td>
                <td>{r.worker_id ?? ''}</td>
                <td>{r.assign_id ?? ''}</td>
                <td>{r.latency_ms}</td>
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
