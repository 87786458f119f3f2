// Search: {BASE}/app/search?q= by phone in any spelling, name, email or id; paged. With no result (or
// from a screen pop that found no one) it offers a new-customer form holding the number.
import { useEffect, useState } from 'react';
import { api, ApiError, type Customer, type Field } from './api.ts';
import { customerName, formatPhone } from './format.ts';
import { useT } from './i18n.ts';
import { APP, navigate, onLinkClick } from './router.ts';
import { FieldInput } from './FieldInput.tsx';
import { NamedOptions } from './NamedOptions.tsx';
import { ListHead } from './ListHead.tsx';

type Found = Customer & { phones?: string[] };

export function Search({ params, home }: { params: URLSearchParams; home?: boolean }) {
  const { t } = useT();
  const q = params.get('q') ?? '';
  const [items, setItems] = useState<Found[] | undefined>();
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [showNew, setShowNew] = useState(params.get('new') === '1');

  const load = async (cursor?: string) => {
    setBusy(true);
    try {
      const qs = new URLSearchParams({ q, limit: '20' });
      if (cursor) qs.set('cursor', cursor);
      const page = await api<{ items: Found[]; next_cursor: string | null }>('GET', `/admin/v1/console/search?${qs}`);
      setItems((prev) => (cursor ? [...(prev ?? []), ...page.items] : page.items));
      setNext(page.next_cursor);
      if (!cursor && page.items.length === 0 && /\d/.test(q)) setShowNew(true);
    } catch (err) {
      setError((err as ApiError).status === 403 ? t.searchForbidden : `${t.error}: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  };

  useEffect(() => {
    if (q.trim()) void load();
  }, [q]);

  const submit = (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const value = String(new FormData(e.currentTarget).get('q') ?? '').trim();
    navigate(`${APP}/search${value ? `?q=${encodeURIComponent(value)}` : ''}`);
  };

  return (
    <section aria-labelledby="search-title">
      <h1 id="search-title">{t.search}</h1>
      {home && <p>{t.home}</p>}
      <form role="search" onSubmit={submit} className="search-form">
        <label htmlFor="q">{t.searchLabel}</label>
        <div className="row">
          <input id="q" name="q" type="search" defaultValue={q} dir="auto" autoFocus={!q} />
          <button type="submit">{t.searchButton}</button>
        </div>
      </form>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {busy && !items && <p aria-live="polite">{t.loading}</p>}
      {items && items.length === 0 && <p role="status">{t.noResults}</p>}
      {items && items.length > 0 && (
        <>
          <h2 className="visually-hidden">{t.results}</h2>
          <CustomerList items={items} />
        </>
      )}
      {next && (
        <button type="button" onClick={() => load(next)} disabled={busy}>
          {t.more}
        </button>
      )}
      {!showNew && items !== undefined && (
        <p>
          <button type="button" className="link-button" onClick={() => setShowNew(true)}>
            {t.newCustomer}
          </button>
        </p>
      )}
      {showNew && <NewCustomer phone={/\d/.test(q) ? q : ''} projectId={Number(params.get('project_id')) || undefined} />}
    </section>
  );
}

/** Customers as a table of links to their cards (search results, the screen pop's chooser). */
export function CustomerList({ items }: { items: Found[] }) {
  const { t } = useT();
  return (
    <table className="list">
      <ListHead columns={[t.name, t.phones, t.email, t.project, t.id]} />
      <tbody>
        {items.map((c) => (
          <tr key={c.id}>
            <td>
              <a href={`${APP}/customers/${c.id}`} onClick={onLinkClick}>
                <bdi>{customerName(c.fields) || `#${c.id}`}</bdi>
              </a>
            </td>
            <td>
              {(c.phones ?? []).map((p) => (
                <span key={p} className="phone">
                  <bdi dir="ltr">{formatPhone(p)}</bdi>
                </span>
              ))}
            </td>
            <td>
              <bdi>{c.fields.email ?? ''}</bdi>
            </td>
            <td>
              <bdi>{c.project_name ?? c.project_id}</bdi>
            </td>
            <td>{c.id}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

type Project = { id: number; name: string; fields: Field[] };

function NewCustomer({ phone, projectId }: { phone: string; projectId?: number }) {
  const { t } = useT();
  const [projects, setProjects] = useState<Project[] | undefined>();
  const [pid, setPid] = useState<number | undefined>(projectId);
  const [values, setValues] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState('');

  // The number from the pop goes into the chosen project's first phone field.
  const choose = (p: Project | undefined) => {
    setPid(p?.id);
    const first = p?.fields.find((f) => f.type === 'phone');
    setValues(first && phone ? { [first.display_name]: phone } : {});
    setErrors({});
  };

  useEffect(() => {
    api<{ items: Project[] }>('GET', '/admin/v1/console/projects').then(({ items }) => {
      setProjects(items);
      choose(items.find((p) => p.id === projectId) ?? items[0]);
    }, (err: Error) => setMessage(`${t.error}: ${err.message}`));
  }, []);

  const project = projects?.find((p) => p.id === pid);

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    if (!project) return;
    const fields = Object.fromEntries(Object.entries(values).filter(([, v]) => v.trim() !== ''));
    try {
      const created = await api<Customer>('POST', `/admin/v1/projects/${project.id}/customers`, { fields });
      navigate(`${APP}/customers/${created.id}`);
    } catch (err) {
      const e2 = err as ApiError;
      setErrors(e2.details && typeof e2.details === 'object' ? e2.details : {});
      setMessage(e2.details ? t.fixErrors : `${t.error}: ${e2.message}`);
    }
  };

  return (
    <form className="card-form" onSubmit={submit} noValidate aria-labelledby="new-title">
      <h2 id="new-title">{t.newCustomer}</h2>
      {projects && projects.length > 1 && (
        <div className="field">
          <label htmlFor="new-project">{t.project}</label>
          <select id="new-project" value={pid} onChange={(e) => choose(projects.find((p) => p.id === Number(e.target.value)))}>
            <NamedOptions items={projects} />
          </select>
        </div>
      )}
      {project?.fields.map((f) => (
        <FieldInput key={f.id} idPrefix="new" field={f} value={values[f.display_name] ?? ''} error={errors[f.display_name]} onChange={(v) => setValues((s) => ({ ...s, [f.display_name]: v }))} />
      ))}
      {message && (
        <p className="error" role="alert">
          {message}
        </p>
      )}
      <button type="submit" disabled={!project}>
        {t.create}
      </button>
    </form>
  );
}
