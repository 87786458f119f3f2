// Import file formats → rows of named values with the file's own line numbers. Streamed: a row is read,
// handed on and forgotten; nothing here holds more than one record (bounded by MAX_RECORD_BYTES).
//   CSV: decoded (import-decode.ts), delimiter detected (comma, semicolon or tab) from the header line;
//        the first non-empty record is the header, matched to fields by import-columns.ts.
//   XLSX: import-xlsx.ts, the same header rules, rows handed on the same way.
//   NDJSON: one JSON object per line, keys as in the CSV header (UTF-8, as JSON is).
// A blank cell (or an NDJSON "" / null) is no value: it is left out of the row. Every row carries its
// cells as read, so a rejected row can be given back as it was (GET /imports/:id/rejects).
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse, CsvError } from 'csv-parse';
import { AppError } from '../errors.ts';
import { rowValues } from './import-columns.ts';
import type { RawRow, ReadOptions, RowReadError } from './import-row-types.ts';
import { decodeChunks } from './import-decode.ts';
import { xlsxRows } from './import-xlsx.ts';

export type ImportFormat = 'csv' | 'ndjson' | 'xlsx';
export type { FileFacts, RawRow, ReadOptions, RowReadError } from './import-row-types.ts';

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

export function readRows(format: ImportFormat, chunks: AsyncIterable<Buffer>, opts: ReadOptions): AsyncGenerator<RawRow | RowReadError> {
  if (format === 'xlsx') return xlsxRows(chunks, opts);
  if (format === 'csv') return csvRows(chunks, opts);
  opts.file.encoding = 'utf-8';
  return ndjsonRows(chunks);
}

/** The column of the first cell holding U+FFFD (bytes the charset could not decode), if any. */
export function undecodable(header: string[], cells: string[]): string | undefined {
  const i = cells.findIndex((c) => c.includes('\uFFFD'));
  return i === -1 ? undefined : (header[i] ?? `column ${i + 1}`);
}

/** The delimiters a CSV can have, by the names the admin API uses for them (query `delimiter`). */
export const DELIMITERS = { comma: ',', semicolon: ';', tab: '\t' } as const;
export type DelimiterName = keyof typeof DELIMITERS;

/** A delimiter character → its name (null for none, e.g. an XLSX file). */
export function delimiterName(d: string | undefined): DelimiterName | null {
  const hit = Object.entries(DELIMITERS).find(([, c]) => c === d);
  return hit ? (hit[0] as DelimiterName) : null;
}

/** The most frequent of comma, semicolon and tab outside quotes in the header line; comma when none. */
export function detectDelimiter(line: string): string {
  const counts = new Map<string, number>([[',', 0], [';', 0], ['\t', 0]]);
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && counts.has(ch)) counts.set(ch, counts.get(ch)! + 1);
  }
  let best = ',';
  for (const [d, n] of counts) if (n > counts.get(best)!) best = d;
  return best;
}

/** The decoded text, its first line held back until complete so the delimiter can be chosen. */
async function* withFirstLine(text: AsyncIterable<string>, onLine: (line: string) => void): AsyncGenerator<string> {
  let head = '';
  let seen = false;
  for await (const t of text) {
    if (seen) {
      yield t;
      continue;
    }
    head += t;
    // Leading blank lines are skipped by the parser; the header is the first line with something on it.
    const body = head.replace(/^[\r\n]+/, '');
    const nl = body.search(/[\r\n]/);
    if (nl === -1 && head.length < MAX_RECORD_BYTES) continue;
    onLine(nl === -1 ? body : body.slice(0, nl));
    seen = true;
    yield head;
  }
  if (!seen) {
    onLine(head.replace(/^[\r\n]+/, ''));
    if (head) yield head;
  }
}

async function* csvRows(chunks: AsyncIterable<Buffer>, opts: ReadOptions): AsyncGenerator<RawRow | RowReadError> {
  const file = opts.file;
  const decoded = decodeChunks(chunks, { charset: opts.charset, legacyCharset: opts.legacyCharset }, file);
  // The parser is made once the header line is known (its delimiter); chunks wait in the generator.
  const text = withFirstLine(decoded, (line) => (file.detectedDelimiter = detectDelimiter(line)));
  const first = await text.next();
  const delimiter = opts.delimiter ?? file.detectedDelimiter ?? ',';
  file.delimiter = delimiter;
  async function* replay() {
    if (!first.done) yield first.value;
    yield* text;
  }
  yield* parseCsv(replay(), delimiter, opts);
}

async function* parseCsv(chunks: AsyncIterable<string>, delimiter: string, opts: ReadOptions): AsyncGenerator<RawRow | RowReadError> {
  const file = opts.file;
  // A CSV syntax error stops the file: what follows it cannot be split into records reliably. It is
  // taken through on_skip rather than as a stream error, because a stream destroyed by an error drops
  // the records it has parsed but not yet handed on, and those come before the error.
  let fatal: CsvError | undefined;
  const parser = parse({
    info: true,
    bom: true,
    delimiter,
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
  let keys: (string | null)[] = [];
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
        header = record;
        file.header = record;
        const bad = undecodable(record, record);
        const match = bad !== undefined ? `header: ${badBytes(file.encoding)}` : opts.columns(record);
        if (typeof match === 'string') {
          yield { line, error: match, fatal: true, cells: record };
          return;
        }
        keys = match.keys;
        file.ignored = match.ignored;
        continue;
      }
      // A record of blank cells only (",,,", as spreadsheets leave at the end) is an empty line.
      if (record.every((c) => c.trim() === '')) continue;
      if (record.length !== header.length) {
        yield { line, error: `has ${record.length} cells, the header has ${header.length}`, cells: record };
        continue;
      }
      const bad = undecodable(header, record);
      if (bad !== undefined) {
        yield { line, error: `${bad}: ${badBytes(file.encoding)}`, cells: record };
        continue;
      }
      const values = rowValues(keys, record);
      if (values) yield { line, values, cells: record };
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

export function badBytes(encoding: string | undefined): string {
  return `holds bytes that are not valid ${encoding ?? 'text'}; declare the file's charset (content type charset=…, CLI --encoding)`;
}

async function* ndjsonRows(chunks: AsyncIterable<Buffer>): AsyncGenerator<RawRow | RowReadError> {
  let line = 0;
  for await (const item of splitLines(chunks)) {
    line++;
    if (item === null) {
      yield { line, error: `longer than ${MAX_RECORD_BYTES} bytes`, cells: [''] };
      continue;
    }
    const text = (line === 1 ? item.replace(/^\uFEFF/, '') : item).trim();
    if (text === '') continue;
    const cells = [text];
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch {
      yield { line, error: 'not valid JSON', cells };
      continue;
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      yield { line, error: 'not a JSON object', cells };
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
    if (bad.length > 0) yield { line, error: `${bad.join(', ')}: must be a string, a number or null`, cells };
    else if (Object.keys(values).length > 0) yield { line, values, cells };
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
