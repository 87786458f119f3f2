// The import wizard's preview: one column per header cell, each with the select that maps it to a field
// (or leaves it out), and the first rows with each cell's error marked on the cell, in words, not only
// in colour.
import type { Field } from './api.ts';
import type { Lang } from './i18n.ts';

export interface Preview {
  encoding: { detected: string | null; used: string | null };
  delimiter: { detected: string | null; used: string | null };
  date_order: { default: string; used: string };
  header: string[];
  mapping: (string | null)[];
  header_error: string | null;
  rows: { line: number; cells: { value: string; error: string | null }[]; error: string | null }[];
}

const TEXT = {
  en: { line: 'Line', leaveOut: '(leave out)', mapsTo: (h: string) => `Column “${h}” goes to`, row: 'Row problem', none: 'No rows to show.', invalid: 'Error' },
  he: { line: 'שורה', leaveOut: '(לא לייבא)', mapsTo: (h: string) => `העמודה „${h}” נכנסת לשדה`, row: 'בעיה בשורה', none: 'אין שורות להצגה.', invalid: 'שגיאה' },
};

/** The format's own columns besides the fields (import.ts ID_COLUMNS). */
const ID_COLUMNS = ['id', 'repository_assign_id', 'status_id'];

export function ImportPreviewTable(props: { lang: Lang; caption: string; preview: Preview; fields: Field[]; choices: Record<string, string>; choose: (header: string, target: string) => void }) {
  const { preview, fields, choices, choose } = props;
  const x = TEXT[props.lang];
  return (
    <>
      {preview.header_error && (
        <p role="alert" className="error">
          <bdi>{preview.header_error}</bdi>
        </p>
      )}
      <div className="wide">
        <table className="list import-preview" data-testid="import-preview">
          <caption>{props.caption}</caption>
          <thead>
            <tr>
              <th scope="col">{x.line}</th>
              {preview.header.map((h, i) => (
                <th scope="col" key={i}>
                  <label className="field">
                    <bdi>{h}</bdi>
                    <select aria-label={x.mapsTo(h)} value={choices[h] ?? preview.mapping[i] ?? ''} onChange={(e) => choose(h, e.target.value)}>
                      <option value="">{x.leaveOut}</option>
                      {fields.map((f) => (
                        <option key={f.id} value={f.display_name}>
                          {f.label && f.label !== f.display_name ? `${f.label} (${f.display_name})` : f.display_name}
                        </option>
                      ))}
                      {ID_COLUMNS.map((c) => (
                        <option key={c} value={c}>
                          {c}
                        </option>
                      ))}
                    </select>
                  </label>
                </th>
              ))}
              <th scope="col">{x.row}</th>
            </tr>
          </thead>
          <tbody>
            {preview.rows.map((r) => (
              <tr key={r.line} className={r.error ? 'row-error' : undefined}>
                <th scope="row">{r.line}</th>
                {preview.header.map((_, i) => {
                  const cell = r.cells[i];
                  return (
                    <td key={i} className={cell?.error ? 'cell-error' : undefined}>
                      <bdi>{cell?.value ?? ''}</bdi>
                      {cell?.error && (
                        <span className="error cell-message">
                          {x.invalid}: <bdi>{cell.error}</bdi>
                        </span>
                      )}
                    </td>
                  );
                })}
                <td>{r.error && <span className="error">{r.error}</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {preview.rows.length === 0 && !preview.header_error && <p>{x.none}</p>}
    </>
  );
}
