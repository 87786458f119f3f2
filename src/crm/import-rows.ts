// Import file formats → rows of named values with the file's own line numbers. Streamed: a row is read,
// handed on and forgotten; nothing here holds more than one record (bounded by MAX_RECORD_BYTES).
//   CSV: the first non-empty record is the header (display_names plus id/repository_assign_id/status_id).
//   NDJSON: one JSON object per line, keys as in the CSV header.
// A blank cell (or an NDJSON "" / null) is no value: it is left out of the row.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse, CsvError } from 'csv-parse';
import { AppError } from '../errors.ts';

export type ImportFormat = 'csv' | 'ndjson';

/** A row as read: raw values by column name, blanks left out. */
export interface RawRow {
  line: number;
  values: Record<string, string>;
}

/** A line that could not be read. `fatal`: nothing after it can be read either. */
export interface RowReadError {
  line: number;
  error: string;
  fatal?: boolean;
}

/**
 * A record (CSV) or line (NDJSON) longer than this is refused. For CSV it stops the import: it is
 * nearly always an unclosed quote, which would otherwise swallow the rest of the file into memory.
 */
export const MAX_RECORD_BYTES = 1024 * 1024;

export interface ByteCount {
  bytes: number;
}

/**
 * The source's chunks as Buffers, counted, refused past `maxBytes` (413). A Readable is read without
 * destroy-on-return: when the import stops early, the HTTP request stays usable for the answer.
 */
export async function* countedChunks(source: Readable | AsyncIterable<Buffer | string>, count: ByteCount, maxBytes?: number): AsyncGenerator<Buffer> {
  const chunks = source instanceof Readable ? { [Symbol.asyncIterator]: () => source.iterator({ destroyOnReturn: false }) } : source;
  for await (const chunk of chunks as AsyncIterable<Buffer | string>) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    count.bytes += buf.length;
    if (maxBytes !== undefined && count.bytes > maxBytes) {
      throw new AppError('body_too_large', `the import is larger than ${maxBytes} bytes (CRM_IMPORT_LIMIT)`);
    }
    yield buf;
  }
}

export function readRows(format: ImportFormat, chunks: AsyncIterable<Buffer>, columns: ReadonlySet<string>): AsyncGenerator<RawRow | RowReadError> {
  return format === 'csv' ? csvRows(chunks, columns) : ndjsonRows(chunks);
}

async function* csvRows(chunks: AsyncIterable<Buffer>, columns: ReadonlySet<string>): AsyncGenerator<RawRow | RowReadError> {
  // A CSV syntax error stops the file: what follows it cannot be split into records reliably. It is
  // taken through on_skip rather than as a stream error, because a stream destroyed by an error drops
  // the records it has parsed but not yet handed on, and those come before the error.
  let fatal: CsvError | undefined;
  const parser = parse({
    info: true,
    bom: true,
    // Lenient quotes (a stray " inside a cell is kept as text), so only a quote never closed is fatal.
    relax_quotes: true,
    relax_column_count: true,
    skip_empty_lines: true,
    max_record_size: MAX_RECORD_BYTES,
    skip_records_with_error: true,
    on_skip: (err) => {
      fatal ??= err;
      return undefined;
    },
  });
  async function* untilFatal() {
    for await (const chunk of chunks) {
      if (fatal) return;
      yield chunk;
    }
  }
  // Errors of the source (413, an aborted upload) reach us through the parser's iterator.
  const feeding = pipeline(untilFatal(), parser).catch(() => undefined);
  let header: string[] | undefined;
  // csv-parse counts a CRLF inside a quoted cell as two lines (info.lines is the record's last line):
  // the surplus so far is subtracted.
  let surplus = 0;
  let lastEnd = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      // Records parsed after the fatal error (same chunk) are not trusted.
      if (fatal && info.lines >= Number(fatal.lines)) continue;
      let breaks = 0;
      for (const cell of record) {
        for (let i = 0; i < cell.length; i++) {
          const c = cell.charCodeAt(i);
          if (c === 13) {
            breaks++;
            if (cell.charCodeAt(i + 1) === 10) {
              surplus++;
              i++;
            }
          } else if (c === 10) breaks++;
        }
      }
      const end = info.lines - surplus;
      const line = end - breaks;
      lastEnd = end;
      if (header === undefined) {
        const problem = headerProblem(record, columns);
        if (problem) {
          yield { line, error: problem, fatal: true };
          return;
        }
        header = record.map((h) => h.trim());
        continue;
      }
      if (record.length !== header.length) {
        yield { line, error: `has ${record.length} cells, the header has ${header.length}` };
        continue;
      }
      // Keyed by the file's headers: null prototype, so a `__proto__` column is a column (an unknown one).
      const values: Record<string, string> = Object.create(null);
      let any = false;
      for (let i = 0; i < header.length; i++) {
        const v = record[i]!;
        if (v.trim() !== '') {
          values[header[i]!] = v;
          any = true;
        }
      }
      // A record of blank cells only (",,,", as spreadsheets leave at the end) is an empty line.
      if (any) yield { line, values };
    }
    const err = fatal as CsvError | undefined;
    if (err) {
      const why = err.code === 'CSV_MAX_RECORD_SIZE'
        ? `a record longer than ${MAX_RECORD_BYTES} bytes (most likely a quote that is never closed)`
        : err.code === 'CSV_QUOTE_NOT_CLOSED' ? 'a quoted cell is never closed' : err.message;
      yield { line: lastEnd + 1, error: `${why}; the rest of the file was not read`, fatal: true };
    } else if (header === undefined) {
      yield { line: 1, error: 'the file is empty: a CSV import starts with a header row of field names', fatal: true };
    }
  } finally {
    parser.destroy();
    await feeding;
  }
}

function headerProblem(header: string[], columns: ReadonlySet<string>): string | undefined {
  const names = header.map((h) => h.trim());
  const blank = names.findIndex((n) => n === '');
  if (blank !== -1) return `header: column ${blank + 1} has no name`;
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) return `header: column ${n} appears twice`;
    seen.add(n);
  }
  const unknown = names.filter((n) => !columns.has(n));
  if (unknown.length > 0) {
    return `header: unknown column${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (not a field of the project, nor id, repository_assign_id or status_id); nothing was imported`;
  }
  return undefined;
}

async function* ndjsonRows(chunks: AsyncIterable<Buffer>): AsyncGenerator<RawRow | RowReadError> {
  let line = 0;
  for await (const item of splitLines(chunks)) {
    line++;
    if (item === null) {
      yield { line, error: `longer than ${MAX_RECORD_BYTES} bytes` };
      continue;
    }
    const text = (line === 1 ? item.replace(/^\uFEFF/, '') : item).trim();
    if (text === '') continue;
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch {
      yield { line, error: 'not valid JSON' };
      continue;
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      yield { line, error: 'not a JSON object' };
      continue;
    }
    const values: Record<string, string> = Object.create(null);
    const bad: string[] = [];
    for (const [k, v] of Object.entries(obj)) {
      if (v === null) continue;
      if (typeof v === 'string') {
        if (v.trim() !== '') values[k] = v;
      } else if (typeof v === 'number' || typeof v === 'boolean') values[k] = String(v);
      else bad.push(k);
    }
    if (bad.length > 0) yield { line, error: `${bad.join(', ')}: must be a string, a number or null` };
    else if (Object.keys(values).length > 0) yield { line, values };
  }
}

/** Lines of the byte stream (LF or CRLF), decoded as UTF-8; null for a line over MAX_RECORD_BYTES. */
async function* splitLines(chunks: AsyncIterable<Buffer>): AsyncGenerator<string | null> {
  let parts: Buffer[] = [];
  let size = 0;
  let overlong = false;
  const take = () => {
    const text = overlong ? null : Buffer.concat(parts, size).toString('utf8').replace(/\r$/, '');
    parts = [];
    size = 0;
    overlong = false;
    return text;
  };
  for await (const chunk of chunks) {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      const piece = nl === -1 ? chunk.subarray(start) : chunk.subarray(start, nl);
      if (!overlong) {
        size += piece.length;
        if (size > MAX_RECORD_BYTES) overlong = true;
        else if (piece.length > 0) parts.push(piece);
      }
      if (nl === -1) break;
      yield take();
      start = nl + 1;
    }
  }
  if (size > 0 || overlong) yield take();
}
