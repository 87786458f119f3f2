// What the file readers (CSV and NDJSON in import-rows.ts, XLSX in import-xlsx.ts) hand the importer:
// their own file so that the readers share it without importing each other.
import type { ColumnResolver } from './import-columns.ts';

/** A row as read: raw values by column name, blanks left out; `cells` as in the file. */
export interface RawRow {
  line: number;
  values: Record<string, string>;
  cells: string[];
}

/** A line that could not be read. `fatal`: nothing after it can be read either. */
export interface RowReadError {
  line: number;
  error: string;
  fatal?: boolean;
  cells?: string[];
}

export interface ReadOptions {
  columns: ColumnResolver;
  /** Declared charset (content type, --encoding); undefined: detected. */
  charset?: string;
  /** CRM_LEGACY_CHARSET */
  legacyCharset: string;
  /** XLSX: the sheet by name or 1-based position; default the first. */
  sheet?: string;
  /** CSV: the delimiter chosen by the caller; undefined: detected from the header line. */
  delimiter?: string;
  /** What was read about the file: its header, encoding, delimiter, ignored columns. */
  file: FileFacts;
}

export interface FileFacts {
  header?: string[];
  encoding?: string;
  /** The delimiter used (chosen, else detected). */
  delimiter?: string;
  /** The delimiter the header line suggests, also when another was chosen (the import wizard shows both). */
  detectedDelimiter?: string;
  ignored?: string[];
}

