// The import wizard (console.md "Import wizard"): a CSV or XLSX file previewed through the import route's
// dry run (the same engine as the CLI and the API: no second importer), its encoding, delimiter, date order
// and column mapping changed until the preview is right, then the same route runs it, with upload
// progress, a summary, the rejects download and an undo.
import { useEffect, useRef, useState } from 'react';
import { api, ApiError, BASE, type Field, type Named } from './api.ts';
import { useT, type Lang } from './i18n.ts';
import { ImportPreviewTable, type Preview } from './ImportPreviewTable.tsx';
import { upload } from './upload.ts';
import { NamedOptions } from './NamedOptions.tsx';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
/** A CSV preview sends the file's start only (cut at a line end): a big file is not uploaded twice. */
const PREVIEW_BYTES = 1024 * 1024;
const CHARSETS = ['utf-8', 'windows-1255', 'iso-8859-8', 'utf-16le', 'windows-1252'];

interface Summary {
  import_id: number;
  created: number;
  updated: number;
  skipped: number;
  error_count: number;
  errors: { line: number; message: string }[];
}

const TEXT = {
  en: {
    nav: 'Import',
    title: 'Import customers',
    project: 'Project',
    repository: 'Repository',
    file: 'File (CSV or XLSX)',
    encoding: 'Encoding',
    delimiter: 'Delimiter',
    dateOrder: 'Date order',
    detected: (v: string) => `Detected: ${v}`,
    byDefault: (v: string) => `Default: ${v}`,
    delimiters: { comma: 'Comma', semicolon: 'Semicolon', tab: 'Tab' } as Record<string, string>,
    onDuplicate: 'When the customer exists',
    skip: 'Skip the row',
    update: 'Update the customer',
    preview: 'Preview of the first rows',
    previewing: 'Reading the file…',
    run: 'Import',
    progress: 'Upload progress',
    processing: 'Finishing the import…',
    summary: 'Import finished',
    created: 'Created',
    updated: 'Updated',
    skipped: 'Skipped',
    errors: 'Rejected rows',
    rejects: 'Download the rejected rows (CSV)',
    undo: 'Undo this import',
    undoConfirm: 'Remove the customers this import created?',
    undone: (removed: number, kept: number) => `Undone: ${removed} customers removed, ${kept} kept (changed since).`,
    another: 'Import another file',
  },
  he: {
    nav: 'ייבוא',
    title: 'ייבוא לקוחות',
    project: 'פרויקט',
    repository: 'מאגר',
    file: 'קובץ (CSV או XLSX)',
    encoding: 'קידוד',
    delimiter: 'מפריד',
    dateOrder: 'סדר תאריך',
    detected: (v: string) => `זוהה: ${v}`,
    byDefault: (v: string) => `ברירת מחדל: ${v}`,
    delimiters: { comma: 'פסיק', semicolon: 'נקודה-פסיק', tab: 'טאב' } as Record<string, string>,
    onDuplicate: 'כשהלקוח קיים',
    skip: 'לדלג על השורה',
    update: 'לעדכן את הלקוח',
    preview: 'תצוגה מקדימה של השורות הראשונות',
    previewing: 'קורא את הקובץ…',
    run: 'ייבוא',
    progress: 'התקדמות ההעלאה',
    processing: 'מסיים את הייבוא…',
    summary: 'הייבוא הסתיים',
    created: 'נוצרו',
    updated: 'עודכנו',
    skipped: 'דולגו',
    errors: 'שורות שנדחו',
    rejects: 'הורדת השורות שנדחו (CSV)',
    undo: 'ביטול הייבוא',
    undoConfirm: 'להסיר את הלקוחות שהייבוא הזה יצר?',
    undone: (removed: number, kept: number) => `בוטל: ${removed} לקוחות הוסרו, ${kept} נשארו (שונו מאז).`,
    another: 'ייבוא קובץ נוסף',
  },
};

export type ImportText = (typeof TEXT)['en'];
export const importText = (lang: Lang): ImportText => TEXT[lang];

/** The start of a CSV up to its last full line; an XLSX (a zip) only whole. */
async function previewBody(file: File, xlsx: boolean): Promise<Blob> {
  if (xlsx || file.size <= PREVIEW_BYTES) return file;
  const bytes = new Uint8Array(await file.slice(0, PREVIEW_BYTES).arrayBuffer());
  let end = bytes.lastIndexOf(10) + 1;
  if (end === 0) return file.slice(0, PREVIEW_BYTES);
  // UTF-16 LE writes a line end as 0A 00: keep the pair whole.
  if (bytes[0] === 0xff && bytes[1] === 0xfe) end += 1;
  return file.slice(0, end);
}

export function ImportWizard() {
  const { lang } = useT();
  const x = TEXT[lang];
  const [projects, setProjects] = useState<Named[]>([]);
  const [projectId, setProjectId] = useState<number>();
  const [repos, setRepos] = useState<Named[]>([]);
  const [repositoryId, setRepositoryId] = useState<number>();
  const [fields, setFields] = useState<Field[]>([]);
  const [file, setFile] = useState<File | null>(null);
  const [encoding, setEncoding] = useState('');
  const [delimiter, setDelimiter] = useState('');
  const [dateOrder, setDateOrder] = useState('');
  const [choices, setChoices] = useState<Record<string, string>>({});
  const [onDuplicate, setOnDuplicate] = useState('skip');
  const [preview, setPreview] = useState<Preview | null>(null);
  const [busy, setBusy] = useState<'preview' | 'run' | null>(null);
  const [sent, setSent] = useState<[number, number]>([0, 1]);
  const [summary, setSummary] = useState<Summary | null>(null);
  const [undone, setUndone] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const seq = useRef(0);
  const xlsx = file !== null && (file.type === XLSX || /\.xlsx$/i.test(file.name));
  const fail = (e: unknown) => setError(e instanceof ApiError ? e.message : String(e));

  useEffect(() => {
    api<{ items: Named[] }>('GET', '/admin/v1/projects?limit=1000').then((r) => {
      setProjects(r.items);
      setProjectId((p) => p ?? r.items[0]?.id);
    }, fail);
  }, []);
  useEffect(() => {
    if (!projectId) return;
    const list = <T,>(what: string) => api<{ items: T[] }>('GET', `/admin/v1/projects/${projectId}/${what}?limit=1000`).then((r) => r.items);
    Promise.all([list<Named>('repositories'), list<Field>('fields')]).then(([r, f]) => {
      setRepos(r);
      setRepositoryId(r[0]?.id);
      setFields(f);
    }, fail);
  }, [projectId]);

  /** The query both the preview and the run send: the same choices give the same reading. */
  const query = (extra: Record<string, string>, columns: Record<string, string>) => {
    const q = new URLSearchParams({ repository_id: String(repositoryId), unknown_columns: 'ignore', ...extra });
    if (delimiter && !xlsx) q.set('delimiter', delimiter);
    if (dateOrder) q.set('date_order', dateOrder);
    if (Object.keys(columns).length > 0) q.set('columns', JSON.stringify(columns));
    return `/admin/v1/projects/${projectId}/import?${q}`;
  };
  const contentType = xlsx ? XLSX : encoding ? `text/csv; charset=${encoding}` : 'text/csv';
  const choicesKey = JSON.stringify(choices);

  useEffect(() => {
    if (!file || !projectId || !repositoryId) return;
    const mine = ++seq.current;
    setBusy('preview');
    previewBody(file, xlsx)
      .then((body) => upload<Preview>(query({ dry_run: 'true' }, choices), body, contentType, () => {}))
      .then(
        (p) => mine === seq.current && (setPreview(p), setError(null)),
        (e) => mine === seq.current && (setPreview(null), fail(e)),
      )
      .finally(() => mine === seq.current && setBusy(null));
  }, [file, projectId, repositoryId, encoding, delimiter, dateOrder, choicesKey]);

  // Every header cell named explicitly: the run maps the columns exactly as the preview showed them.
  const mapping = (): Record<string, string> => {
    const out: Record<string, string> = {};
    preview?.header.forEach((h, i) => {
      if (h.trim() !== '') out[h] = choices[h] ?? preview.mapping[i] ?? '';
    });
    return out;
  };
  const run = async () => {
    if (!file) return;
    setBusy('run');
    setSent([0, file.size]);
    try {
      setSummary(await upload<Summary>(query({ on_duplicate: onDuplicate }, mapping()), file, contentType, (a, b) => setSent([a, b])));
      setError(null);
    } catch (e) {
      fail(e);
    } finally {
      setBusy(null);
    }
  };
  const undo = async () => {
    if (!summary || !confirm(x.undoConfirm)) return;
    try {
      const r = await api<{ removed: number; kept: number }>('DELETE', `/admin/v1/imports/${summary.import_id}`);
      setUndone(x.undone(r.removed, r.kept));
    } catch (e) {
      fail(e);
    }
  };
  const restart = () => {
    setFile(null);
    setPreview(null);
    setSummary(null);
    setUndone(null);
    setChoices({});
  };
  // Encoding or delimiter changes the header itself: earlier choices may name cells that are gone.
  const rereading = (set: (v: string) => void) => (e: React.ChangeEvent<HTMLSelectElement>) => {
    setChoices({});
    set(e.target.value);
  };

  return (
    <section aria-labelledby="import-title">
      <h1 id="import-title">{x.title}</h1>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {summary ? (
        <ImportResult x={x} summary={summary} undone={undone} undo={undo} restart={restart} />
      ) : (
        <>
          <div className="filters">
            <label className="field">
              <span>{x.project}</span>
              <select value={projectId ?? ''} onChange={(e) => setProjectId(Number(e.target.value))}>
                <NamedOptions items={projects} />
              </select>
            </label>
            <label className="field">
              <span>{x.repository}</span>
              <select value={repositoryId ?? ''} onChange={(e) => setRepositoryId(Number(e.target.value))}>
                <NamedOptions items={repos} />
              </select>
            </label>
            <label className="field">
              <span>{x.file}</span>
              <input type="file" name="file" accept={`.csv,.txt,.tsv,.xlsx,text/csv,text/plain,text/tab-separated-values,${XLSX}`} onChange={(e) => (setChoices({}), setFile(e.target.files?.[0] ?? null))} />
            </label>
          </div>
          {preview && (
            <div className="filters">
              {!xlsx && (
                <>
                  <label className="field">
                    <span>{x.encoding}</span>
                    <select name="encoding" value={encoding} onChange={rereading(setEncoding)}>
                      <option value="">{x.detected(preview.encoding.detected ?? '?')}</option>
                      {CHARSETS.map((c) => (
                        <option key={c} value={c}>
                          {c}
                        </option>
                      ))}
                    </select>
                  </label>
                  <label className="field">
                    <span>{x.delimiter}</span>
                    <select name="delimiter" value={delimiter} onChange={rereading(setDelimiter)}>
                      <option value="">{x.detected(x.delimiters[preview.delimiter.detected ?? 'comma']!)}</option>
                      {Object.entries(x.delimiters).map(([k, label]) => (
                        <option key={k} value={k}>
                          {label}
                        </option>
                      ))}
                    </select>
                  </label>
                </>
              )}
              <label className="field">
                <span>{x.dateOrder}</span>
                <select name="date_order" value={dateOrder} onChange={(e) => setDateOrder(e.target.value)}>
                  <option value="">{x.byDefault(preview.date_order.default)}</option>
                  {['DMY', 'MDY', 'YMD'].map((o) => (
                    <option key={o} value={o}>
                      {o}
                    </option>
                  ))}
                </select>
              </label>
              <label className="field">
                <span>{x.onDuplicate}</span>
                <select name="on_duplicate" value={onDuplicate} onChange={(e) => setOnDuplicate(e.target.value)}>
                  <option value="skip">{x.skip}</option>
                  <option value="update">{x.update}</option>
                </select>
              </label>
            </div>
          )}
          {busy === 'preview' && <p aria-live="polite">{x.previewing}</p>}
          {preview && <ImportPreviewTable lang={lang} caption={x.preview} preview={preview} fields={fields} choices={choices} choose={(h, v) => setChoices((c) => ({ ...c, [h]: v }))} />}
          {preview && (
            <p className="row">
              <button type="button" disabled={busy !== null || preview.header_error !== null} onClick={run}>
                {x.run}
              </button>
              {busy === 'run' && (
                <>
                  <progress aria-label={x.progress} value={sent[0]} max={sent[1] || 1} />
                  {sent[0] >= sent[1] && <span aria-live="polite">{x.processing}</span>}
                </>
              )}
            </p>
          )}
        </>
      )}
    </section>
  );
}

function ImportResult({ x, summary, undone, undo, restart }: { x: ImportText; summary: Summary; undone: string | null; undo: () => void; restart: () => void }) {
  return (
    <div className="card-form" data-testid="import-summary">
      <h2 role="status">{x.summary}</h2>
      <ul className="tiles">
        {([['created', x.created], ['updated', x.updated], ['skipped', x.skipped], ['error_count', x.errors]] as const).map(([k, label]) => (
          <li key={k} data-testid={`import-${k}`}>
            <span className="muted">{label}</span>
            <span className="tile-value">{summary[k]}</span>
          </li>
        ))}
      </ul>
      {summary.errors.length > 0 && (
        <ul>
          {summary.errors.slice(0, 20).map((e) => (
            <li key={e.line}>
              {e.line}: <bdi>{e.message}</bdi>
            </li>
          ))}
        </ul>
      )}
      {summary.error_count > 0 && (
        <p>
          <a href={`${BASE}/admin/v1/imports/${summary.import_id}/rejects`} download data-testid="rejects-link">
            {x.rejects}
          </a>
        </p>
      )}
      <p className="row">
        {undone ? (
          <span role="status">{undone}</span>
        ) : (
          <button type="button" onClick={undo}>
            {x.undo}
          </button>
        )}
        <button type="button" className="link-button" onClick={restart}>
          {x.another}
        </button>
      </p>
    </div>
  );
}
