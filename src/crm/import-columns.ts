// Which field a header cell means. A column matches a field by display_name or by label, case- and
// space-insensitive ("First Name", "first name", "שם פרטי" as the label of first_name); the format's own
// columns id, repository_assign_id and status_id match by name. A display_name wins over another
// field's identical label. Unknown columns refuse the file, or with unknown_columns=ignore are left out.
// A caller's choices (query `columns`, the import wizard's remapping) come before the automatic match:
// a header cell chosen for a field feeds that field, one chosen as "" is left out.
//
// Also here: the inverse of the export's formula neutralization (cellText), shared by the CSV and XLSX
// readers.
import { invalid } from '../errors.ts';
import type { Field } from './fields.ts';

export type UnknownColumns = 'refuse' | 'ignore';

export interface HeaderMatch {
  /** Per header cell: the column it feeds (a display_name or an id column), or null when ignored. */
  keys: (string | null)[];
  /** Header cells left out (unknown_columns=ignore). */
  ignored: string[];
}

export type ColumnResolver = (header: string[]) => HeaderMatch | string;

/** Header spelling → comparable key: Unicode-normalized, lower case, without any whitespace. */
export function columnKey(name: string): string {
  return name.normalize('NFC').toLowerCase().replace(/\s+/gu, '');
}

/** Header cell (by columnKey) → the cell as the caller wrote it, and the column it feeds ("" to leave it out). */
export type ColumnChoices = Map<string, { cell: string; target: string }>;

/** Most entries a `columns` choice may have (a header wider than this is a mistake). */
const MAX_CHOICES = 1000;

/**
 * A caller's `columns` (an object: header cell → a field's display_name, an id column, or "") → choices
 * keyed like the header match. Every problem is a 400 naming `columns`, found before anything is read.
 */
export function columnChoices(obj: unknown, fields: Field[], idColumns: readonly string[]): ColumnChoices {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw invalid('columns: must be a JSON object mapping a header cell to a field display_name, an id column or ""');
  const entries = Object.entries(obj);
  if (entries.length > MAX_CHOICES) throw invalid(`columns: at most ${MAX_CHOICES} header cells`);
  const targets = new Set<string>([...fields.map((f) => f.display_name), ...idColumns]);
  const choices: ColumnChoices = new Map();
  for (const [cell, target] of entries) {
    if (typeof target !== 'string') throw invalid(`columns: ${JSON.stringify(cell)} must map to a string (a field display_name, an id column or "")`);
    if (target !== '' && !targets.has(target)) {
      throw invalid(`columns: ${JSON.stringify(target)} (for ${JSON.stringify(cell)}) is not a field of the project by display_name, nor ${idColumns.join(', ')}`);
    }
    const key = columnKey(cell.trim());
    if (key === '') throw invalid('columns: a header cell name is empty');
    if (choices.has(key)) throw invalid(`columns: ${JSON.stringify(cell)} is named twice`);
    choices.set(key, { cell, target });
  }
  return choices;
}

export function columnResolver(fields: Field[], idColumns: readonly string[], unknown: UnknownColumns, choices: ColumnChoices = new Map()): ColumnResolver {
  // Built once per import; a null-prototype object would do too, but a Map never mistakes "__proto__".
  const byKey = new Map<string, string>();
  for (const f of fields) if (!byKey.has(columnKey(f.label))) byKey.set(columnKey(f.label), f.display_name);
  for (const f of fields) byKey.set(columnKey(f.display_name), f.display_name);
  for (const c of idColumns) byKey.set(columnKey(c), c);

  return (header) => {
    const names = header.map((h) => h.trim());
    const blank = names.findIndex((n) => n === '');
    if (blank !== -1 && unknown === 'refuse') return `header: column ${blank + 1} has no name`;
    const keys: (string | null)[] = [];
    const ignored: string[] = [];
    const unknownNames: string[] = [];
    const seen = new Map<string, string>();
    const unused = new Set(choices.keys());
    for (const n of names) {
      const chosen = n === '' ? undefined : choices.get(columnKey(n))?.target;
      if (chosen !== undefined) unused.delete(columnKey(n));
      if (chosen === '') {
        ignored.push(n);
        keys.push(null);
        continue;
      }
      const key = n === '' ? undefined : (chosen ?? byKey.get(columnKey(n)));
      if (key === undefined) {
        if (n !== '') (unknown === 'ignore' ? ignored : unknownNames).push(n);
        keys.push(null);
        continue;
      }
      const earlier = seen.get(key);
      if (earlier !== undefined) {
        return earlier === n ? `header: column ${n} appears twice` : `header: columns ${earlier} and ${n} are both ${key}`;
      }
      seen.set(key, n);
      keys.push(key);
    }
    if (unused.size > 0) return `header: columns names ${[...unused].map((k) => JSON.stringify(choices.get(k)!.cell)).join(', ')}, not a header cell of the file; nothing was imported`;
    if (unknownNames.length > 0) {
      return `header: unknown column${unknownNames.length > 1 ? 's' : ''} ${unknownNames.join(', ')} (not a field of the project by display_name or label, nor id, repository_assign_id or status_id; unknown_columns=ignore leaves them out); nothing was imported`;
    }
    return { keys, ignored };
  };
}

/** Text the export prefixed with ' so a spreadsheet would not run it (see export-cells.ts). */
const NEUTRALIZED = /^'+[=+\-@\t\r]/;

/** A cell's value as imported: the export's neutralizing ' removed again, so the round trip is unchanged. */
export function cellText(raw: string): string {
  return NEUTRALIZED.test(raw) ? raw.slice(1) : raw;
}

/**
 * The header's row of cells → a row of values by column, or the header's error. Shared by the CSV and
 * XLSX readers: `keys` null for an ignored column.
 */
export function rowValues(keys: (string | null)[], cells: string[]): Record<string, string> | undefined {
  // Null prototype: a `__proto__` or `constructor` key is a column like any other.
  const values: Record<string, string> = Object.create(null);
  let any = false;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    const v = cells[i];
    if (key === null || key === undefined || v === undefined || v.trim() === '') continue;
    values[key] = cellText(v);
    any = true;
  }
  return any ? values : undefined;
}

