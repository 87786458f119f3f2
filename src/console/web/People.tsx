// The admin's people screens: console users (roles, projects, worker link, disable, new password) and
// named telephony keys (the secret is shown once, right after creation; revoking is immediate).
import { useEffect, useState } from 'react';
import { api } from './api.ts';
import { formatDateTime } from './format.ts';
import { useT, type Lang } from './i18n.ts';
import { errorText } from './Setup.tsx';
import { ListHead } from './ListHead.tsx';

const TEXT = {
  en: {
    users: 'Users',
    keys: 'Telephony keys',
    username: 'Username',
    password: 'Password',
    newPassword: 'New password',
    role: 'Role',
    displayName: 'Display name',
    worker: 'Worker id',
    projects: 'Project ids (comma-separated, empty = all)',
    allProjects: 'all',
    disabled: 'disabled',
    disable: 'Disable',
    enable: 'Enable',
    add: 'Add',
    save: 'Save',
    done: 'Saved.',
    name: 'Name',
    endpoints: 'Endpoints',
    lastUsed: 'Last used',
    never: 'never',
    revoke: 'Revoke',
    secret: 'The key, shown this once: copy it into the phone system now.',
  },
  he: {
    users: 'משתמשים',
    keys: 'מפתחות טלפוניה',
    username: 'שם משתמש',
    password: 'סיסמה',
    newPassword: 'סיסמה חדשה',
    role: 'תפקיד',
    displayName: 'שם לתצוגה',
    worker: 'מזהה נציג',
    projects: 'מזהי פרויקטים (מופרדים בפסיק, ריק = כולם)',
    allProjects: 'כולם',
    disabled: 'מושבת',
    disable: 'השבתה',
    enable: 'הפעלה',
    add: 'הוספה',
    save: 'שמירה',
    done: 'נשמר.',
    name: 'שם',
    endpoints: 'נקודות קצה',
    lastUsed: 'שימוש אחרון',
    never: 'אף פעם',
    revoke: 'ביטול',
    secret: 'המפתח מוצג פעם אחת בלבד: העתיקו אותו עכשיו למערכת הטלפוניה.',
  },
};
export const peopleText = (lang: Lang) => TEXT[lang];

interface UserRow {
  id: number;
  username: string;
  role: string;
  display_name: string | null;
  worker_id: number | null;
  project_ids: number[] | null;
  disabled: boolean;
}
interface KeyRow {
  id: number;
  name: string;
  endpoints: string[];
  project_ids: number[] | null;
  last_used_at: string | null;
}

const ids = (v: FormDataEntryValue | null) => {
  const list = String(v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  return list.length ? list : undefined;
};

function Outcome({ msg }: { msg: { ok: boolean; text: string } | null }) {
  return (
    <p className={msg?.ok === false ? 'error' : 'ok'} role={msg?.ok === false ? 'alert' : 'status'}>
      {msg?.text ?? ''}
    </p>
  );
}

export function Users() {
  const { lang } = useT();
  const x = TEXT[lang];
  const [rows, setRows] = useState<UserRow[]>([]);
  const [tick, setTick] = useState(0);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  useEffect(() => {
    api<{ items: UserRow[] }>('GET', '/admin/v1/users?limit=1000').then((r) => setRows(r.items), (e) => setMsg({ ok: false, text: errorText(e) }));
  }, [tick]);
  const act = async (f: () => Promise<unknown>) => {
    try {
      await f();
      setMsg({ ok: true, text: x.done });
      setTick((n) => n + 1);
      return true;
    } catch (e) {
      setMsg({ ok: false, text: errorText(e) });
      return false;
    }
  };
  return (
    <section aria-labelledby="users-title">
      <h1 id="users-title">{x.users}</h1>
      <table className="list">
        <ListHead columns={[x.username, x.role, x.worker, x.projects, x.newPassword]} action={x.disable} />
        <tbody>
          {rows.map((u) => (
            <tr key={u.id}>
              <td>
                <bdi>{u.username}</bdi> {u.display_name && <span className="muted">({u.display_name})</span>} {u.disabled && <span className="muted">· {x.disabled}</span>}
              </td>
              <td>{u.role}</td>
              <td>{u.worker_id ?? ''}</td>
              <td>{u.project_ids?.join(', ') ?? x.allProjects}</td>
              <td>
                <form
                  className="row"
                  onSubmit={async (e) => {
                    e.preventDefault();
                    const form = e.currentTarget;
                    const password = String(new FormData(form).get('password') ?? '');
                    if (await act(() => api('PATCH', `/admin/v1/users/${u.id}`, { password }))) form.reset();
                  }}
                >
                  <input name="password" type="password" autoComplete="new-password" aria-label={`${x.newPassword}: ${u.username}`} required />
                  <button type="submit">{x.save}</button>
                </form>
              </td>
              <td>
                <button type="button" className="link-button" onClick={() => act(() => api('PATCH', `/admin/v1/users/${u.id}`, { disabled: !u.disabled }))}>
                  {u.disabled ? x.enable : x.disable} <span className="visually-hidden">{u.username}</span>
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        className="filters"
        aria-label={`${x.add}: ${x.users}`}
        onSubmit={async (e) => {
          e.preventDefault();
          const form = e.currentTarget;
          const d = new FormData(form);
          const body: Record<string, unknown> = { username: d.get('username'), password: d.get('password'), role: d.get('role') };
          if (d.get('display_name')) body.display_name = d.get('display_name');
          if (d.get('worker_id')) body.worker_id = Number(d.get('worker_id'));
          const projects = ids(d.get('project_ids'));
          if (projects) body.project_ids = projects;
          if (await act(() => api('POST', '/admin/v1/users', body))) form.reset();
        }}
      >
        <label className="field">
          <span>{x.username}</span>
          <input name="username" required autoComplete="off" />
        </label>
        <label className="field">
          <span>{x.password}</span>
          <input name="password" type="password" required autoComplete="new-password" />
        </label>
        <label className="field">
          <span>{x.role}</span>
          <select name="role" defaultValue="agent">
            <option>agent</option>
            <option>supervisor</option>
            <option>admin</option>
          </select>
        </label>
        <label className="field">
          <span>{x.displayName}</span>
          <input name="display_name" dir="auto" />
        </label>
        <label className="field">
          <span>{x.worker}</span>
          <input name="worker_id" type="number" min={1} inputMode="numeric" />
        </label>
        <label className="field">
          <span>{x.projects}</span>
          <input name="project_ids" inputMode="numeric" />
        </label>
        <button type="submit">{x.add}</button>
      </form>
      <Outcome msg={msg} />
    </section>
  );
}

const ENDPOINTS = ['get_data', 'set_data', 'set_status'];

export function Keys() {
  const { lang } = useT();
  const x = TEXT[lang];
  const [rows, setRows] = useState<KeyRow[]>([]);
  const [tick, setTick] = useState(0);
  const [secret, setSecret] = useState<string | null>(null);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  useEffect(() => {
    api<{ items: KeyRow[] }>('GET', '/admin/v1/keys?limit=1000').then((r) => setRows(r.items), (e) => setMsg({ ok: false, text: errorText(e) }));
  }, [tick]);
  return (
    <section aria-labelledby="keys-title">
      <h1 id="keys-title">{x.keys}</h1>
      {secret && (
        <div className="card-form" role="status">
          <p>{x.secret}</p>
          <code dir="ltr" data-testid="new-secret">
            {secret}
          </code>
        </div>
      )}
      <table className="list">
        <ListHead columns={[x.name, x.endpoints, x.projects, x.lastUsed]} action={x.revoke} />
        <tbody>
          {rows.map((k) => (
            <tr key={k.id}>
              <td>
                <bdi>{k.name}</bdi>
              </td>
              <td>{k.endpoints.join(', ')}</td>
              <td>{k.project_ids?.join(', ') ?? x.allProjects}</td>
              <td>{k.last_used_at ? formatDateTime(k.last_used_at, lang) : x.never}</td>
              <td>
                <button
                  type="button"
                  className="link-button"
                  onClick={async () => {
                    try {
                      await api('DELETE', `/admin/v1/keys/${k.id}`);
                      setMsg({ ok: true, text: x.done });
                      setTick((n) => n + 1);
                    } catch (e) {
                      setMsg({ ok: false, text: errorText(e) });
                    }
                  }}
                >
                  {x.revoke} <span className="visually-hidden">{k.name}</span>
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        className="filters"
        aria-label={`${x.add}: ${x.keys}`}
        onSubmit={async (e) => {
          e.preventDefault();
          const form = e.currentTarget;
          const d = new FormData(form);
          const body: Record<string, unknown> = { name: d.get('name'), endpoints: ENDPOINTS.filter((ep) => d.get(ep) === 'on') };
          const projects = ids(d.get('project_ids'));
          if (projects) body.project_ids = projects;
          try {
            const created = await api<{ secret: string }>('POST', '/admin/v1/keys', body);
            setSecret(created.secret);
            setMsg(null);
            form.reset();
            setTick((n) => n + 1);
          } catch (err) {
            setMsg({ ok: false, text: errorText(err) });
          }
        }}
      >
        <label className="field">
          <span>{x.name}</span>
          <input name="name" required />
        </label>
        <fieldset className="row">
          <legend>{x.endpoints}</legend>
          {ENDPOINTS.map((ep) => (
            <label key={ep} className="row">
              <input type="checkbox" name={ep} defaultChecked={ep !== 'set_data'} /> {ep}
            </label>
          ))}
        </fieldset>
        <label className="field">
          <span>{x.projects}</span>
          <input name="project_ids" inputMode="numeric" />
        </label>
        <button type="submit">{x.add}</button>
      </form>
      <Outcome msg={msg} />
    </section>
  );
}
