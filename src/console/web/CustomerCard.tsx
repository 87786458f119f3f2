// The customer card: {BASE}/app/customers/:id. Fields with type-aware editors (saved with PATCH
// /customers/:id, the API's messages shown per field), the assigns with a status picker, "record a
// call" with notes (as the agent's worker), and the history timeline.
import { useCallback, useEffect, useState } from 'react';
import { api, ApiError, type Card, type HistoryItem, type User } from './api.ts';
import { customerName, formatDateTime } from './format.ts';
import { useT } from './i18n.ts';
import { FieldInput } from './FieldInput.tsx';
import { NamedOptions } from './NamedOptions.tsx';
import { ListHead } from './ListHead.tsx';

export function CustomerCard({ id, user }: { id: number; user: User }) {
  const { t } = useT();
  const [card, setCard] = useState<Card | undefined>();
  const [error, setError] = useState('');
  const [historyTick, setHistoryTick] = useState(0);
  // The assign whose history shows: the one last worked on here, else the one called most recently.
  const [assignId, setAssignId] = useState<number | undefined>();

  const reload = useCallback(async () => {
    try {
      const c = await api<Card>('GET', `/admin/v1/console/customers/${id}`);
      setCard(c);
      setAssignId((cur) => cur ?? [...c.assigns].sort((a, b) => (b.last_call ?? '').localeCompare(a.last_call ?? ''))[0]?.id);
      setHistoryTick((n) => n + 1);
    } catch (err) {
      const e = err as ApiError;
      setError(e.status === 403 ? t.forbidden : e.status === 404 ? t.notFound : `${t.error}: ${e.message}`);
    }
  }, [id, t]);

  useEffect(() => {
    void reload();
  }, [id]);

  if (error) {
    return (
      <p className="error" role="alert">
        {error}
      </p>
    );
  }
  if (!card) return <p aria-live="polite">{t.loading}</p>;
  const name = customerName(card.customer.fields) || `#${card.customer.id}`;
  return (
    <article aria-labelledby="card-title" className="card">
      <h1 id="card-title">
        <bdi>{name}</bdi> <span className="muted">#{card.customer.id} · <bdi>{card.project.name}</bdi></span>
      </h1>
      <div className="card-grid">
        <FieldsForm card={card} onSaved={reload} />
        <div>
          <Assigns card={card} user={user} current={assignId} onChanged={(changed) => (setAssignId(changed), reload())} />
          <History card={card} tick={historyTick} assignId={assignId} setAssignId={setAssignId} />
        </div>
      </div>
    </article>
  );
}

function FieldsForm({ card, onSaved }: { card: Card; onSaved: () => Promise<void> }) {
  const { t } = useT();
  const [values, setValues] = useState<Record<string, string>>(card.customer.fields);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<{ ok: boolean; text: string } | undefined>();

  useEffect(() => setValues(card.customer.fields), [card.customer.updated_at]);

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    const changed = Object.fromEntries(card.fields.map((f) => f.display_name).filter((n) => (values[n] ?? '') !== (card.customer.fields[n] ?? '')).map((n) => [n, values[n] ?? '']));
    if (Object.keys(changed).length === 0) {
      setMessage({ ok: true, text: t.nothingChanged });
      return;
    }
    try {
      await api('PATCH', `/admin/v1/customers/${card.customer.id}`, { fields: changed });
      setErrors({});
      setMessage({ ok: true, text: t.saved });
      await onSaved();
    } catch (err) {
      const e2 = err as ApiError;
      const details = e2.details && typeof e2.details === 'object' ? (e2.details as Record<string, string>) : {};
      // A 409 names the unique field in details.field.
      if (e2.status === 409 && typeof (details as { field?: string }).field === 'string') setErrors({ [(details as { field: string }).field]: e2.message });
      else setErrors(details);
      setMessage({ ok: false, text: Object.keys(details).length > 0 ? `${t.fixErrors} ${e2.message}` : `${t.error}: ${e2.message}` });
    }
  };

  return (
    <form className="card-form" onSubmit={submit} noValidate aria-labelledby="details-title">
      <h2 id="details-title">{t.details}</h2>
      {card.fields.map((f) => (
        <FieldInput key={f.id} idPrefix="f" field={f} value={values[f.display_name] ?? ''} error={errors[f.display_name]} onChange={(v) => setValues((s) => ({ ...s, [f.display_name]: v }))} />
      ))}
      <p role="status" className={message?.ok === false ? 'error' : 'ok'}>
        {message?.text}
      </p>
      <button type="submit">{t.save}</button>
    </form>
  );
}

function Assigns({ card, user, current, onChanged }: { card: Card; user: User; current: number | undefined; onChanged: (assignId: number) => Promise<void> }) {
  const { t, lang } = useT();
  const [message, setMessage] = useState<{ ok: boolean; text: string } | undefined>();
  const repoName = (id: number) => card.repositories.find((r) => r.id === id)?.name ?? `#${id}`;

  const setStatus = async (assignId: number, statusId: number | null) => {
    try {
      try {
        await api('PATCH', `/admin/v1/assigns/${assignId}`, { status_id: statusId });
      } catch (err) {
        // Servers without PATCH /assigns/:id (added with the data lifecycle) take the status as a call event.
        const e = err as ApiError;
        if (!(e.status === 404 && /^No route/.test(e.message)) || statusId === null) throw err;
        await api('POST', `/admin/v1/assigns/${assignId}/calls`, { status_id: statusId, ...(user.worker_id ? { worker_id: user.worker_id } : {}) });
      }
      setMessage({ ok: true, text: t.statusSaved });
      await onChanged(assignId);
    } catch (err) {
      setMessage({ ok: false, text: `${t.error}: ${(err as Error).message}` });
    }
  };

  const record = async (e: React.FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const data = new FormData(form);
    const assignId = Number(data.get('assign'));
    const status = String(data.get('status') ?? '');
    const notes = String(data.get('notes') ?? '').trim();
    try {
      await api('POST', `/admin/v1/assigns/${assignId}/calls`, {
        ...(notes ? { notes } : {}),
        ...(status ? { status_id: Number(status) } : {}),
        ...(user.worker_id ? { worker_id: user.worker_id } : {}),
      });
      form.reset();
      setMessage({ ok: true, text: t.callRecorded });
      await onChanged(assignId);
    } catch (err) {
      setMessage({ ok: false, text: `${t.error}: ${(err as Error).message}` });
    }
  };

  if (card.assigns.length === 0) {
    return (
      <section aria-labelledby="assigns-title">
        <h2 id="assigns-title">{t.assigns}</h2>
        <p>{t.noAssigns}</p>
      </section>
    );
  }
  return (
    <section aria-labelledby="assigns-title">
      <h2 id="assigns-title">{t.assigns}</h2>
      <table className="list">
        <ListHead columns={[t.repository, t.status, t.lastCall, t.lastNotes]} />
        <tbody>
          {card.assigns.map((a) => (
            <tr key={a.id}>
              <th scope="row">
                <bdi>{repoName(a.repository_id)}</bdi>
              </th>
              <td>
                <select aria-label={`${t.status}: ${repoName(a.repository_id)}`} value={a.status_id ?? ''} onChange={(e) => setStatus(a.id, e.target.value === '' ? null : Number(e.target.value))}>
                  <option value="">{t.noStatus}</option>
                  <NamedOptions items={card.statuses} />
                </select>
              </td>
              <td>{formatDateTime(a.last_call, lang)}</td>
              <td>
                <bdi>{a.last_notes ?? ''}</bdi>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p role="status" className={message?.ok === false ? 'error' : 'ok'}>
        {message?.text}
      </p>
      <form className="card-form" onSubmit={record} aria-labelledby="call-title">
        <h3 id="call-title">{t.recordCall}</h3>
        {card.assigns.length > 1 ? (
          <div className="field">
            <label htmlFor="call-assign">{t.repository}</label>
            <select id="call-assign" name="assign" defaultValue={current}>
              {card.assigns.map((a) => (
                <option key={a.id} value={a.id}>
                  {repoName(a.repository_id)}
                </option>
              ))}
            </select>
          </div>
        ) : (
          <input type="hidden" name="assign" value={card.assigns[0]!.id} />
        )}
        <div className="field">
          <label htmlFor="call-notes">{t.notes}</label>
          <textarea id="call-notes" name="notes" rows={3} dir="auto" />
        </div>
        <div className="field">
          <label htmlFor="call-status">{t.callStatus}</label>
          <select id="call-status" name="status" defaultValue="">
            <option value="">{t.unchanged}</option>
            <NamedOptions items={card.statuses} />
          </select>
        </div>
        <button type="submit">{t.record}</button>
      </form>
    </section>
  );
}

function History({ card, tick, assignId, setAssignId }: { card: Card; tick: number; assignId: number | undefined; setAssignId: (id: number) => void }) {
  const { t, lang } = useT();
  const [items, setItems] = useState<HistoryItem[] | undefined>();
  const [error, setError] = useState('');

  useEffect(() => {
    if (assignId === undefined) return;
    api<{ items: HistoryItem[] }>('GET', `/admin/v1/assigns/${assignId}/history?limit=100`).then(
      (page) => setItems(page.items),
      (err: Error) => setError(`${t.error}: ${err.message}`),
    );
  }, [assignId, tick]);

  if (assignId === undefined) return null;
  const status = (id: number | null) => (id === null ? t.noStatus : (card.statuses.find((s) => s.id === id)?.name ?? `#${id}`));
  const fieldLabel = (name: string) => card.fields.find((f) => f.display_name === name)?.label || name;
  const who = (h: HistoryItem) =>
    h.user_name ?? (h.worker_id !== null ? (card.workers.find((w) => w.id === h.worker_id)?.name ?? `#${h.worker_id}`) : t.none);
  const value = (v: string | null) => (v === null || v === '' ? t.emptyValue : v);

  return (
    <section aria-labelledby="history-title">
      <h2 id="history-title">{t.history}</h2>
      {card.assigns.length > 1 && (
        <div className="field">
          <label htmlFor="history-assign">{t.assignOf}</label>
          <select id="history-assign" value={assignId} onChange={(e) => setAssignId(Number(e.target.value))}>
            {card.assigns.map((a) => (
              <option key={a.id} value={a.id}>
                {card.repositories.find((r) => r.id === a.repository_id)?.name ?? a.repository_id}
              </option>
            ))}
          </select>
        </div>
      )}
      {error && <p className="error">{error}</p>}
      {items && items.length === 0 && <p>{t.noHistory}</p>}
      {items && items.length > 0 && (
        <ol className="timeline">
          {items.map((h, i) => (
            <li key={`${h.at}-${i}`} className={`kind-${h.kind}`}>
              <div className="meta">
                <time dateTime={h.at}>{formatDateTime(h.at, lang)}</time> · <bdi>{who(h)}</bdi> · <span className="source">{h.source}</span>
              </div>
              <div className="what">
                {h.kind === 'field' && (
                  <>
                    <strong>{fieldLabel(h.field)}</strong>: <bdi>{value(h.old_value)}</bdi> → <bdi>{value(h.new_value)}</bdi>
                  </>
                )}
                {h.kind === 'status' && (
                  <>
                    <strong>{t.statusChange}</strong>: <bdi>{status(h.old_status_id)}</bdi> → <bdi>{status(h.new_status_id)}</bdi>
                  </>
                )}
                {h.kind === 'call' && (
                  <>
                    <strong>{t.callEvent}</strong>
                    {h.status_id !== null && <> ({status(h.status_id)})</>}
                    {h.notes && (
                      <>
                        : <bdi>{h.notes}</bdi>
                      </>
                    )}
                  </>
                )}
              </div>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
