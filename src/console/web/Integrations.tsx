// Integrations (admins), per project: 3CX (field roles, the template download), VICIdial (the Dispo Call
// URL to paste, the status map) and Asterisk (caller-name fields, the dialplan lines). Settings are the
// admin API's /projects/:id/integrations/{3cx,vicidial,asterisk}; URLs are built as docs/integrations.md
// shows them, on the address this page was opened at.
import { useEffect, useState } from 'react';
import { api, BASE, type Named } from './api.ts';
import { CopyText } from './CopyText.tsx';
import { useT, type Lang } from './i18n.ts';
import { APP, navigate } from './router.ts';
import { errorText } from './Setup.tsx';
import { ListHead } from './ListHead.tsx';

const TEXT = {
  en: {
    title: 'Integrations',
    project: 'Project',
    noProjects: 'No project yet: create one in Setup.',
    save: 'Save',
    done: 'Saved.',
    byDefault: 'Default',
    none: '(none)',
    key: 'key, to fill into the lines below (stays in this page)',
    keyHint: 'Behind a proxy or NAT, replace the address with the one the PBX reaches this server at.',
    threecxIntro: "Which fields are the contact's name, company, email and phones in 3CX's lookup.",
    first: 'First name',
    last: 'Last name',
    company: 'Company',
    email: 'Email',
    phones: 'Phone fields',
    phonesHint: 'None checked: every phone field of the project.',
    template: 'Download the 3CX template (template.xml)',
    templateHint: 'Upload it in 3CX: Settings → CRM Integration → Server Side → Add, then fill in the get_data and set_status keys.',
    dispoUrl: 'Dispo Call URL (Admin → Campaigns → Detail view → Dispo Call URL)',
    statusMap: 'Status map: VICIdial dispo code → callcrm status',
    statusMapHint: 'A code missing from the map is recorded as a call without a status change.',
    code: 'VICIdial code',
    status: 'callcrm status',
    addRow: 'Add a code',
    removeRow: 'Remove',
    duplicate: 'This code is in the map twice:',
    nameFields: 'Caller-name fields, in order (joined with spaces)',
    dialplan: 'Dialplan (extensions.conf), before the call rings an agent',
  },
  he: {
    title: 'אינטגרציות',
    project: 'פרויקט',
    noProjects: 'אין עדיין פרויקט: צרו אחד בהגדרות.',
    save: 'שמירה',
    done: 'נשמר.',
    byDefault: 'ברירת מחדל',
    none: '(ללא)',
    key: 'מפתח, למילוי בשורות שלמטה (נשאר בדף זה)',
    keyHint: 'מאחורי proxy או NAT, החליפו את הכתובת בזו שבה המרכזיה מגיעה לשרת.',
    threecxIntro: 'אילו שדות הם שם איש הקשר, החברה, הדוא"ל והטלפונים בחיפוש של 3CX.',
    first: 'שם פרטי',
    last: 'שם משפחה',
    company: 'חברה',
    email: 'דוא"ל',
    phones: 'שדות טלפון',
    phonesHint: 'אם לא סומן אף שדה: כל שדות הטלפון של הפרויקט.',
    template: 'הורדת תבנית 3CX ‏(template.xml)',
    templateHint: 'העלו אותה ב-3CX: Settings → CRM Integration → Server Side → Add, ומלאו את מפתחות get_data ו-set_status.',
    dispoUrl: 'כתובת Dispo Call URL ‏(Admin → Campaigns → Detail view → Dispo Call URL)',
    statusMap: 'מיפוי סטטוסים: קוד dispo של VICIdial → סטטוס ב-callcrm',
    statusMapHint: 'קוד שאינו במיפוי נרשם כשיחה ללא שינוי סטטוס.',
    code: 'קוד VICIdial',
    status: 'סטטוס callcrm',
    addRow: 'הוספת קוד',
    removeRow: 'הסרה',
    duplicate: 'קוד זה מופיע במיפוי פעמיים:',
    nameFields: 'שדות שם המתקשר, לפי הסדר (מחוברים ברווחים)',
    dialplan: 'Dialplan ‏(extensions.conf), לפני שהשיחה מצלצלת אצל נציג',
  },
};
type X = (typeof TEXT)['en'];
export const integrationsText = (lang: Lang) => TEXT[lang];

interface FieldRow {
  display_name: string;
  label: string;
  type: string;
}
type Msg = { ok: boolean; text: string } | null;
type ThreeCx = { first_name_field?: string; last_name_field?: string; company_field?: string; email_field?: string; phone_fields?: string[] };

const listAll = async <T,>(path: string) => (await api<{ items: T[] }>('GET', `${path}?limit=1000`)).items;
/** This server's address as the admin's browser reaches it, with CRM_BASE_PATH. */
const serverBase = () => `${location.origin}${BASE}`;

function Outcome({ msg }: { msg: Msg }) {
  return (
    <p className={msg?.ok === false ? 'error' : 'ok'} role={msg?.ok === false ? 'alert' : 'status'}>
      {msg?.text ?? ''}
    </p>
  );
}

async function outcome(f: () => Promise<unknown>, x: X, set: (m: Msg) => void) {
  try {
    await f();
    set({ ok: true, text: x.done });
  } catch (e) {
    set({ ok: false, text: errorText(e) });
  }
}

export function Integrations({ params }: { params: URLSearchParams }) {
  const { lang } = useT();
  const x = TEXT[lang];
  const [projects, setProjects] = useState<Named[] | null>(null);
  const [fields, setFields] = useState<FieldRow[] | null>(null);
  const [statuses, setStatuses] = useState<Named[]>([]);
  const projectId = Number(params.get('project_id')) || projects?.[0]?.id;
  useEffect(() => {
    listAll<Named>('/admin/v1/projects').then(setProjects, () => setProjects([]));
  }, []);
  useEffect(() => {
    if (!projectId) return;
    setFields(null);
    listAll<FieldRow>(`/admin/v1/projects/${projectId}/fields`).then(setFields, () => setFields([]));
    listAll<Named>(`/admin/v1/projects/${projectId}/statuses`).then(setStatuses, () => setStatuses([]));
  }, [projectId]);

  return (
    <section aria-labelledby="integrations-title">
      <h1 id="integrations-title">{x.title}</h1>
      {projects && projects.length === 0 && <p>{x.noProjects}</p>}
      {projects && projects.length > 0 && (
        <div className="filters">
          <label className="field">
            <span>{x.project}</span>
            <select value={projectId ?? ''} onChange={(e) => navigate(`${APP}/integrations?project_id=${e.target.value}`, true)}>
              {projects.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name} ({p.id})
                </option>
              ))}
            </select>
          </label>
        </div>
      )}
      {projectId && fields && (
        <div key={projectId}>
          <ThreeCxSection projectId={projectId} fields={fields} x={x} />
          <VicidialSection projectId={projectId} statuses={statuses} x={x} />
          <AsteriskSection projectId={projectId} fields={fields} x={x} />
        </div>
      )}
    </section>
  );
}

function ThreeCxSection({ projectId, fields, x }: { projectId: number; fields: FieldRow[]; x: X }) {
  const [s, setS] = useState<ThreeCx | null>(null);
  const [msg, setMsg] = useState<Msg>(null);
  const path = `/admin/v1/projects/${projectId}/integrations/3cx`;
  useEffect(() => {
    api<ThreeCx>('GET', path).then(setS, (e) => setMsg({ ok: false, text: errorText(e) }));
  }, [path]);
  // What the server uses when a role is not set (src/integrations/threecx.ts roles()).
  const has = (n: string) => (fields.some((f) => f.display_name === n) ? n : '');
  const defaults: Record<string, string> = {
    first_name_field: has('first_name'),
    last_name_field: has('last_name'),
    company_field: has('company'),
    email_field: fields.find((f) => f.type === 'email')?.display_name ?? '',
  };
  const roles = [
    ['first_name_field', x.first],
    ['last_name_field', x.last],
    ['company_field', x.company],
    ['email_field', x.email],
  ] as const;
  const template = `${serverBase()}/integrations/3cx/template.xml?project_id=${projectId}`;
  return (
    <section aria-labelledby="sec-3cx" className="card-form">
      <h2 id="sec-3cx">3CX</h2>
      <p>{x.threecxIntro}</p>
      {s && (
        <form
          className="grid-form"
          onSubmit={async (e) => {
            e.preventDefault();
            const d = new FormData(e.currentTarget);
            const body: ThreeCx = {};
            for (const [name] of roles) if (d.get(name)) body[name] = String(d.get(name));
            const phones = fields.filter((f) => d.get(`phone:${f.display_name}`) === 'on').map((f) => f.display_name);
            if (phones.length) body.phone_fields = phones;
            await outcome(async () => setS(await api<ThreeCx>('PUT', path, body)), x, setMsg);
          }}
        >
          {roles.map(([name, label]) => (
            <label key={name} className="field">
              <span>{label}</span>
              <select name={name} defaultValue={s[name] ?? ''}>
                <option value="">
                  {x.byDefault}: {defaults[name] || x.none}
                </option>
                {fields.map((f) => (
                  <option key={f.display_name} value={f.display_name}>
                    {f.label || f.display_name} ({f.display_name})
                  </option>
                ))}
              </select>
            </label>
          ))}
          <fieldset>
            <legend>{x.phones}</legend>
            <p className="muted">{x.phonesHint}</p>
            <div className="checks">
              {fields.map((f) => (
                <label key={f.display_name} className="row">
                  <input type="checkbox" name={`phone:${f.display_name}`} defaultChecked={s.phone_fields?.includes(f.display_name) ?? false} /> {f.label || f.display_name}{' '}
                  <span className="muted">({f.display_name})</span>
                </label>
              ))}
            </div>
          </fieldset>
          <div>
            <button type="submit">{x.save}</button>
          </div>
        </form>
      )}
      <Outcome msg={msg} />
      <p>
        <a href={template} download={`callcrm-3cx-project-${projectId}.xml`} data-testid="template-link">
          {x.template}
        </a>
      </p>
      <p className="muted">{x.templateHint}</p>
    </section>
  );
}

/** The Dispo Call URL of docs/integrations.md: VAR, then VICIdial's --A--name--B-- variables. */
export function dispoUrl(base: string, projectId: number, key: string): string {
  const vars = ['phone_number', 'lead_id', 'vendor_lead_code', 'list_id', 'dispo', 'user', 'talk_time', 'uniqueid', 'call_notes', 'did_pattern'];
  const q = [`authkey=${encodeURIComponent(key || 'SET_STATUS_KEY')}`, `project_id=${projectId}`, ...vars.map((v) => `${v}=--A--${v}--B--`)];
  return `VAR${base}/integrations/vicidial/dispo?${q.join('&')}`;
}

function VicidialSection({ projectId, statuses, x }: { projectId: number; statuses: Named[]; x: X }) {
  const [rows, setRows] = useState<{ code: string; status: string }[] | null>(null);
  const [key, setKey] = useState('');
  const [msg, setMsg] = useState<Msg>(null);
  const path = `/admin/v1/projects/${projectId}/integrations/vicidial`;
  const load = (m: Record<string, number>) => setRows(Object.entries(m).map(([code, id]) => ({ code, status: String(id) })));
  useEffect(() => {
    api<{ status_map: Record<string, number> }>('GET', path).then((r) => load(r.status_map), (e) => setMsg({ ok: false, text: errorText(e) }));
  }, [path]);
  const edit = (i: number, change: Partial<{ code: string; status: string }>) => setRows((old) => old!.map((r, j) => (j === i ? { ...r, ...change } : r)));
  return (
    <section aria-labelledby="sec-vicidial" className="card-form">
      <h2 id="sec-vicidial">VICIdial</h2>
      <label className="field">
        <span>set_status {x.key}</span>
        <input value={key} onChange={(e) => setKey(e.target.value.trim())} dir="ltr" autoComplete="off" spellCheck={false} />
      </label>
      <CopyText label={x.dispoUrl} value={dispoUrl(serverBase(), projectId, key)} rows={4} testId="dispo-url" />
      <p className="muted">{x.keyHint}</p>
      <h3>{x.statusMap}</h3>
      <p className="muted">{x.statusMapHint}</p>
      {rows && (
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            const map: Record<string, number | string> = {};
            for (const r of rows) {
              const code = r.code.trim();
              if (code === '') continue;
              if (code in map) return setMsg({ ok: false, text: `${x.duplicate} ${code}` });
              map[code] = /^\d+$/.test(r.status) ? Number(r.status) : r.status;
            }
            await outcome(async () => load((await api<{ status_map: Record<string, number> }>('PUT', path, { status_map: map })).status_map), x, setMsg);
          }}
        >
          <table className="list" data-testid="status-map">
            <ListHead columns={[x.code, x.status]} action={x.removeRow} />
            <tbody>
              {rows.map((r, i) => (
                <tr key={i}>
                  <td>
                    <input aria-label={`${x.code} ${i + 1}`} value={r.code} dir="ltr" maxLength={20} onChange={(e) => edit(i, { code: e.target.value })} />
                  </td>
                  <td>
                    <select aria-label={`${x.status} ${i + 1}`} value={r.status} onChange={(e) => edit(i, { status: e.target.value })}>
                      {!statuses.some((s) => String(s.id) === r.status) && <option value={r.status}>{r.status}</option>}
                      {statuses.map((s) => (
                        <option key={s.id} value={s.id}>
                          {s.name} ({s.id})
                        </option>
                      ))}
                    </select>
                  </td>
                  <td>
                    <button type="button" className="link-button" onClick={() => setRows((old) => old!.filter((_, j) => j !== i))}>
                      {x.removeRow} <span className="visually-hidden">{r.code}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="row">
            <button type="button" className="link-button" onClick={() => setRows((old) => [...old!, { code: '', status: String(statuses[0]?.id ?? '') }])}>
              {x.addRow}
            </button>
            <button type="submit">{x.save}</button>
          </div>
        </form>
      )}
      <Outcome msg={msg} />
    </section>
  );
}

/** The dialplan of docs/integrations.md with this server's address. */
export function dialplan(base: string, projectId: number, key: string): string {
  const url = `${base}/integrations/asterisk/caller-name?authkey=${encodeURIComponent(key || 'GET_DATA_KEY')}&project_id=${projectId}&number=\${URIENCODE(\${CALLERID(num)})}&did=\${EXTEN}`;
  return ['exten => _X.,1,Set(CURLOPT(conntimeout)=1)', ' same => n,Set(CURLOPT(httptimeout)=2)', ` same => n,Set(CALLERID(name)=\${CURL(${url})})`].join('\n');
}

function AsteriskSection({ projectId, fields, x }: { projectId: number; fields: FieldRow[]; x: X }) {
  const [names, setNames] = useState<string | null>(null);
  const [key, setKey] = useState('');
  const [msg, setMsg] = useState<Msg>(null);
  const path = `/admin/v1/projects/${projectId}/integrations/asterisk`;
  useEffect(() => {
    api<{ name_fields: string[] }>('GET', path).then((r) => setNames(r.name_fields.join(' ')), (e) => setMsg({ ok: false, text: errorText(e) }));
  }, [path]);
  return (
    <section aria-labelledby="sec-asterisk" className="card-form">
      <h2 id="sec-asterisk">Asterisk</h2>
      {names !== null && (
        <form
          className="row"
          onSubmit={async (e) => {
            e.preventDefault();
            const name_fields = names.split(/[\s,]+/).filter(Boolean);
            await outcome(async () => setNames((await api<{ name_fields: string[] }>('PUT', path, { name_fields })).name_fields.join(' ')), x, setMsg);
          }}
        >
          <label className="field grow">
            <span>{x.nameFields}</span>
            <input value={names} onChange={(e) => setNames(e.target.value)} dir="ltr" placeholder={fields.slice(0, 2).map((f) => f.display_name).join(' ')} />
          </label>
          <button type="submit">{x.save}</button>
        </form>
      )}
      <Outcome msg={msg} />
      <label className="field">
        <span>get_data {x.key}</span>
        <input value={key} onChange={(e) => setKey(e.target.value.trim())} dir="ltr" autoComplete="off" spellCheck={false} />
      </label>
      <CopyText label={x.dialplan} value={dialplan(serverBase(), projectId, key)} rows={5} testId="dialplan" />
      <p className="muted">{x.keyHint}</p>
    </section>
  );
}
