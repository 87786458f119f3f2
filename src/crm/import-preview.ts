// An import's dry run (the console's import wizard, POST …/import?dry_run=true): the first rows of the
// file through the same readers, the same column match and the same row rule (prepareRow) as the import
// itself, with nothing written: no customer, no import record, no reject. What the rows would meet in
// the database (duplicates by id, phone or unique value; a required field missing on a row that turns
// out to update) is not checked: that needs the import.
import type { Readable } from 'node:stream';
import type { Db } from '../db/connect.ts';
import { detectCharset } from './import-decode.ts';
import { prepareImport, prepareRow, type ImportOptions } from './import.ts';
import type { DateOrder } from './dates.ts';
import { countedChunks, delimiterName, readRows, type ByteCount, type DelimiterName, type FileFacts, type ImportFormat } from './import-rows.ts';
import type { ColumnResolver } from './import-columns.ts';
import type { Reject } from './import-records.ts';

export const PREVIEW_ROWS = 20;
export const MAX_PREVIEW_ROWS = 100;
/** Bytes kept from the start of the file to tell which charset detection would choose. */
const HEAD_BYTES = 64 * 1024;

export interface PreviewCell {
  value: string;
  error: string | null;
}

export interface PreviewRow {
  line: number;
  cells: PreviewCell[];
  /** A problem of the row, not of one cell (a wrong cell count, a required field missing). */
  error: string | null;
}

export interface ImportPreview {
  dry_run: true;
  format: ImportFormat;
  /** detected: what detection chooses for these bytes; used: the declared charset, else the detected. */
  encoding: { detected: string | null; used: string | null };
  delimiter: { detected: DelimiterName | null; used: DelimiterName | null };
  date_order: { default: DateOrder; used: DateOrder };
  header: string[];
  /** Per header cell: the column it feeds (a field's display_name or an id column), or null. */
  mapping: (string | null)[];
  /** The header refused (unknown or doubled columns): the import would import nothing. */
  header_error: string | null;
  rows: PreviewRow[];
}

export async function previewImport(db: Db, source: Readable | AsyncIterable<Buffer | string>, opts: ImportOptions & { rows?: number; defaultDateOrder: DateOrder }): Promise<ImportPreview> {
  const file: FileFacts = {};
  const { ctx, read } = await prepareImport(db.read, opts, file);
  const limit = Math.min(opts.rows ?? PREVIEW_ROWS, MAX_PREVIEW_ROWS);
  // The resolver is watched, so the answer has the mapping (or the header's error) as the import saw it.
  let mapping: (string | null)[] = [];
  let headerError: string | null = null;
  const columns: ColumnResolver = (header) => {
    const match = read.columns(header);
    if (typeof match === 'string') headerError = match;
    else mapping = match.keys;
    return match;
  };
  let head = Buffer.alloc(0);
  async function* keepHead(chunks: AsyncIterable<Buffer>) {
    for await (const c of chunks) {
      if (head.length < HEAD_BYTES) head = Buffer.concat([head, c.subarray(0, HEAD_BYTES - head.length)]);
      yield c;
    }
  }
  const count: ByteCount = { bytes: 0 };
  const rows: PreviewRow[] = [];
  for await (const row of readRows(opts.format, keepHead(countedChunks(source, count, opts.maxBytes)), { ...read, columns })) {
    if ('error' in row) {
      if (row.fatal && headerError !== null) break;
      rows.push({ line: row.line, cells: (row.cells ?? []).map((value) => ({ value, error: null })), error: row.error });
      if (row.fatal) break;
    } else {
      const prepared = prepareRow(row, ctx);
      rows.push('message' in prepared ? rejectedRow(prepared, mapping) : { line: row.line, cells: row.cells.map((value) => ({ value, error: null })), error: missing(prepared.missing) });
    }
    if (rows.length >= limit) break;
  }
  const detected = opts.format === 'xlsx' ? 'xlsx' : opts.format === 'ndjson' ? 'utf-8' : detectCharset(head, read.legacyCharset);
  return {
    dry_run: true,
    format: opts.format,
    encoding: { detected, used: file.encoding ?? detected },
    delimiter: { detected: delimiterName(file.detectedDelimiter), used: delimiterName(file.delimiter) },
    date_order: { default: opts.defaultDateOrder, used: ctx.rules.dateOrder },
    header: file.header ?? [],
    mapping: opts.format === 'ndjson' ? [] : (file.header ?? []).map((_, i) => mapping[i] ?? null),
    header_error: headerError,
    rows,
  };
}

/** A rejected row: each reason on the cell of its column; what no cell of the header carries, on the row. */
function rejectedRow(r: Reject, mapping: (string | null)[]): PreviewRow {
  const details = r.details ?? {};
  const cells = r.cells.map((value, i) => {
    const key = mapping[i];
    return { value, error: key != null && Object.hasOwn(details, key) ? details[key]! : null };
  });
  const placed = new Set(mapping.filter((k): k is string => k !== null && Object.hasOwn(details, k)));
  const rest = Object.keys(details).filter((k) => !placed.has(k));
  return { line: r.line, cells, error: placed.size > 0 && rest.length === 0 ? null : r.message };
}

function missing(fields: string[]): string | null {
  return fields.length === 0 ? null : `${fields.join(', ')} ${fields.length > 1 ? 'are' : 'is'} required (unless the row matches an existing customer)`;
}
