// Webhooks (admins): subscriptions (create, enable/disable, delete), the signing secret shown once right
// after creation, and a chosen webhook's delivery log with manual retry. All through /admin/v1/webhooks
// (docs/integrations.md "Webhooks"); the API's validation messages are shown as they come.
import { useEffect, useState } from 'react';
import { api } from './api.ts';
import { CopyText } from './CopyText.tsx';
import { formatDateTime } from './format.ts';
import { useT, type Lang } from './i18n.ts';
import { APP, navigate } from './router.ts';
import { errorText } from './Setup.tsx';
import { ListHead } from './ListHead.tsx';

/** The events of src/crm/events.ts, in the order the docs list them. */
const EVENTS = ['assign.status_changed', 'customer.fields_changed', 'call.recorded', 'customer.created', 'customer.erased', 'import.finished'];
const STATUSES = ['pending', 'delivered', 'failed'] as const;

const TEXT = {
  en: {
    title: 'Webhooks',
    url: 'URL',
    events: 'Events',
    projects: 'Project ids (comma-separated, empty = every project)',
    allProjects: 'every project',
    projectsCol: 'Projects',
    state: 'State',
    enabled: 'enabled',
    disabled: 'disabled',
    enable: 'Enable',
    disable: 'Disable',
    remove: 'Delete',
    confirm: 'Delete this webhook and its delivery log?',
    yes: 'Yes, delete',
    cancel: 'Cancel',
    add: 'Add webhook',
    none: 'No webhook yet.',
    done: 'Saved.',
    secret: 'The signing secret, shown this once: copy it into the receiver now (it verifies X-Callcrm-Signature).',
    secretLabel: 'Signing secret',
    deliveries: 'Deliveries',
    deliveriesOf: 'Deliveries of',
    show: 'Show deliveries',
    any: 'Any',
    status: 'Status',
    attempts: 'Attempts',
    last: 'Last answer',
    created: 'Queued',
    lastAttempt: 'Last attempt',
    next: 'Next attempt / delivered',
    retry: 'Retry',
    retried: 'Sent again.',
    refresh: 'Refresh',
    more: 'More',
    noDeliveries: 'No delivery.',
    pending: 'pending',
    delivered: 'delivered',
    failed: 'failed',
  },
  he: {
    title: 'Webhooks',
    url: 'כתובת',
    events: 'אירועים',
    projects: 'מזהי פרויקטים (מופרדים בפסיק, ריק = כל הפרויקטים)',
    allProjects: 'כל הפרויקטים',
    projectsCol: 'פרויקטים',
    state: 'מצב',
    enabled: 'פעיל',
    disabled: 'מושבת',
    enable: 'הפעלה',
    disable: 'השבתה',
    remove: 'מחיקה',
    confirm: 'למחוק את ה-webhook הזה ואת יומן המשלוחים שלו?',
    yes: 'כן, למחוק',
    cancel: 'ביטול',
    add: 'הוספת webhook',
    none: 'אין עדיין webhook.',
    done: 'נשמר.',
    secret: 'סוד החתימה מוצג פעם אחת בלבד: העתיקו אותו עכשיו למקבל (הוא מאמת את X-Callcrm-Signature).',
    secretLabel: 'סוד החתימה',
    deliveries: 'משלוחים',
    deliveriesOf: 'משלוחים של',
    show: 'הצגת משלוחים',
    any: 'הכול',
    status: 'מצב',
    attempts: 'ניסיונות',
    last: 'תשובה אחרונה',
    created: 'נכנס לתור',
    lastAttempt: 'ניסיון אחרון',
    next: 'ניסיון הבא / נמסר',
    retry: 'שליחה חוזרת',
    retried: 'נשלח שוב.',
    refresh: 'רענון',
    more: 'עוד',
    noDeliveries: 'אין משלוחים.',
    pending: 'ממתין',
    delivered: 'נמסר',
    failed: 'נכשל',
  },
};
type X = (typeof TEXT)['en'];
export const webhooksText = (lang: Lang) => TEXT[lang];

interface Webhook {
  id: number;
  url: string;
  events: string[];
  project_ids: number[] | null;
  disabled: boolean;
}
interface Delivery {
  id: number;
  event: string;
  status: (typeof STATUSES)[number];
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  last_attempt_at: string | null;
  next_attempt_at: string | null;
  delivered_at: string | null;
  created_at: string;
}
type Msg = { ok: boolean; text: string } | null;

/** "3, 4" → [3, 4]; anything not a number is passed on for the API to refuse with its message. */
const projectIds = (v: string) => {
  const list = v.split(',').map((s) => s.trim()).filter(Boolean);
  return list.length ? list.map((s) => (/^\d+$/.test(s) ? Number(s) : s)) : undefined;
};

function Outcome({ msg }: { msg: Msg }) {
  return (
    <p className={msg?.ok === false ? 'error' : 'ok'} role={msg?.ok === false ? 'alert' : 'status'}>
      {msg?.text ?? ''}
    </p>
  );
}

export function Webhooks({ params }: { params: URLSearchParams }) {
  const { lang } = useT();
  const x = TEXT[lang];
  const [rows, setRows] = useState<Webhook[] | null>(null);
  const [tick, setTick] = useState(0);
  const [created, setCreated] = useState<{ url: string; secret: string } | null>(null);
  const [confirming, setConfirming] = useState<number | null>(null);
  const [msg, setMsg] = useState<Msg>(null);
  const chosen = Number(params.get('id')) || null;
  useEffect(() => {
    api<{ items: Webhook[] }>('GET', '/admin/v1/webhooks').then((r) => setRows(r.items), (e) => setMsg({ ok: false, text: errorText(e) }));
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
  const hook = rows?.find((w) => w.id === chosen);

  return (
    <section aria-labelledby="webhooks-title">
      <h1 id="webhooks-title">{x.title}</h1>
      {created && (
        <div className="card-form" data-testid="new-webhook-secret">
          <p>
            {x.secret} <bdi dir="ltr">{created.url}</bdi>
          </p>
          <CopyText label={x.secretLabel} value={created.secret} testId="webhook-secret" />
        </div>
      )}
      {rows && rows.length === 0 && <p>{x.none}</p>}
      {rows && rows.length > 0 && (
        <table className="list" data-testid="webhook-list">
          <ListHead columns={[x.url, x.events, x.projectsCol, x.state]} action={x.deliveries} />
          <tbody>
            {rows.map((w) => (
              <tr key={w.id} aria-current={w.id === chosen ? 'true' : undefined}>
                <td dir="ltr" className="wrap">
                  {w.url}
                </td>
                <td dir="ltr">{w.events.join(', ')}</td>
                <td>{w.project_ids?.length ? w.project_ids.join(', ') : x.allProjects}</td>
                <td>{w.disabled ? x.disabled : x.enabled}</td>
                <td>
                  <div className="row wrap-row">
                    <a href={`${APP}/webhooks?id=${w.id}`} onClick={(e) => (e.preventDefault(), navigate(`${APP}/webhooks?id=${w.id}`, true))}>
                      {x.show} <span className="visually-hidden">{w.url}</span>
                    </a>
                    <button type="button" className="link-button" onClick={() => act(() => api('PATCH', `/admin/v1/webhooks/${w.id}`, { disabled: !w.disabled }))}>
                      {w.disabled ? x.enable : x.disable} <span className="visually-hidden">{w.url}</span>
                    </button>
                    {confirming === w.id ? (
                      <span role="group" aria-label={x.confirm} className="row">
                        <span>{x.confirm}</span>
                        <button
                          type="button"
                          onClick={async () => {
                            setConfirming(null);
                            if ((await act(() => api('DELETE', `/admin/v1/webhooks/${w.id}`))) && w.id === chosen) navigate(`${APP}/webhooks`, true);
                          }}
                        >
                          {x.yes}
                        </button>
                        <button type="button" className="link-button" onClick={() => setConfirming(null)}>
                          {x.cancel}
                        </button>
                      </span>
                    ) : (
                      <button type="button" className="link-button" onClick={() => setConfirming(w.id)}>
                        {x.remove} <span className="visually-hidden">{w.url}</span>
                      </button>
                    )}
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form
        className="card-form"
        aria-label={x.add}
        onSubmit={async (e) => {
          e.preventDefault();
          const form = e.currentTarget;
          const d = new FormData(form);
          const body: Record<string, unknown> = { url: String(d.get('url') ?? ''), events: EVENTS.filter((ev) => d.get(ev) === 'on') };
          const projects = projectIds(String(d.get('project_ids') ?? ''));
          if (projects) body.project_ids = projects;
          try {
            const made = await api<Webhook & { secret: string }>('POST', '/admin/v1/webhooks', body);
            setCreated({ url: made.url, secret: made.secret });
            setMsg(null);
            form.reset();
            setTick((n) => n + 1);
          } catch (err) {
            setMsg({ ok: false, text: errorText(err) });
          }
        }}
      >
        <h2>{x.add}</h2>
        <label className="field">
          <span>{x.url}</span>
          {/* type=text, not url: the API's own message explains a bad address (http or https only). */}
          <input name="url" dir="ltr" inputMode="url" autoComplete="off" placeholder="https://receiver.example.com/callcrm" />
        </label>
        <fieldset>
          <legend>{x.events}</legend>
          <div className="checks">
            {EVENTS.map((ev) => (
              <label key={ev} className="row">
                <input type="checkbox" name={ev} defaultChecked={ev === 'assign.status_changed'} /> <span dir="ltr">{ev}</span>
              </label>
            ))}
          </div>
        </fieldset>
        <label className="field">
          <span>{x.projects}</span>
          <input name="project_ids" inputMode="numeric" />
        </label>
        <div>
          <button type="submit">{x.add}</button>
        </div>
      </form>
      <Outcome msg={msg} />
      {hook && <Deliveries key={hook.id} hook={hook} x={x} lang={lang} />}
    </section>
  );
}

function Deliveries({ hook, x, lang }: { hook: Webhook; x: X; lang: Lang }) {
  const [status, setStatus] = useState('');
  const [rows, setRows] = useState<Delivery[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const [msg, setMsg] = useState<Msg>(null);
  const base = `/admin/v1/webhooks/${hook.id}/deliveries`;
  const load = (after: string | null) => {
    const q = new URLSearchParams({ limit: '50' });
    if (status) q.set('status', status);
    if (after) q.set('cursor', after);
    api<{ items: Delivery[]; next_cursor: string | null }>('GET', `${base}?${q}`).then(
      (r) => {
        setRows((old) => (after ? [...(old ?? []), ...r.items] : r.items));
        setCursor(r.next_cursor);
      },
      (e) => setMsg({ ok: false, text: errorText(e) }),
    );
  };
  useEffect(() => load(null), [status, tick]);
  const label = (s: string) => (s === 'pending' ? x.pending : s === 'delivered' ? x.delivered : s === 'failed' ? x.failed : s);
  return (
    <section aria-labelledby="deliveries-title" className="card-form">
      <h2 id="deliveries-title">
        {x.deliveriesOf} <bdi dir="ltr">{hook.url}</bdi>
      </h2>
      <div className="filters">
        <label className="field">
          <span>{x.status}</span>
          <select value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">{x.any}</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {label(s)}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={() => setTick((n) => n + 1)}>
          {x.refresh}
        </button>
      </div>
      {rows && rows.length === 0 && <p>{x.noDeliveries}</p>}
      {rows && rows.length > 0 && (
        <table className="list" data-testid="delivery-list">
          <ListHead columns={[x.events, x.status, x.attempts, x.last, x.created, x.lastAttempt, x.next]} action={x.retry} />
          <tbody>
            {rows.map((d) => (
              <tr key={d.id} data-status={d.status}>
                <td dir="ltr">{d.event}</td>
                <td>{label(d.status)}</td>
                <td>{d.attempts}</td>
                <td dir="ltr" className="wrap">
                  {[d.last_status, d.last_error].filter((v) => v !== null && v !== '').join(' · ')}
                </td>
                <td>{formatDateTime(d.created_at, lang)}</td>
                <td>{formatDateTime(d.last_attempt_at, lang)}</td>
                <td>{formatDateTime(d.delivered_at ?? d.next_attempt_at, lang)}</td>
                <td>
                  {/* Failed ones wait for this; a pending one may also be sent now rather than at its next attempt. */}
                  {d.status !== 'delivered' && (
                    <button
                      type="button"
                      onClick={async () => {
                        try {
                          await api('POST', `${base}/${d.id}/retry`);
                          setMsg({ ok: true, text: x.retried });
                          setTick((n) => n + 1);
                        } catch (e) {
                          setMsg({ ok: false, text: errorText(e) });
                        }
                      }}
                    >
                      {x.retry} <span className="visually-hidden">{d.event} #{d.id}</span>
                    </button>
                  )}
                </td>
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
      <Outcome msg={msg} />
    </section>
  );
}
