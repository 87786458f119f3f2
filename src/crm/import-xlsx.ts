// XLSX rows, streamed with exceljs's WorkbookReader: rows of one sheet are parsed and handed on one at a
// time (exceljs parks a sheet that comes before the shared strings in a temp file, never in memory).
// The same header and row rules as the CSV reader: the first non-empty row is the header, line numbers
// are the sheet's row numbers. Cells become text: a date cell is YYYY-MM-DD (the day Excel shows), a
// number its plain digits (a phone whose leading 0 Excel dropped is restored by the phone rules), a
// formula its cached result, rich text its characters.
import { Readable } from 'node:stream';
import type ExcelJS from 'exceljs';
import { loadExcel } from './excel.ts';
import { AppError } from '../errors.ts';
import { spreadsheetDate } from './dates.ts';
import { rowValues } from './import-columns.ts';
import type { RawRow, ReadOptions, RowReadError } from './import-row-types.ts';

/** Cells past this column are not read (XFD is Excel's last column; a header this wide is a mistake). */
const MAX_COLUMNS = 1000;

export async function* xlsxRows(chunks: AsyncIterable<Buffer>, opts: ReadOptions): AsyncGenerator<RawRow | RowReadError> {
  const file = opts.file;
  file.encoding = 'xlsx';
  // An error of the source (413, an aborted upload) must reach the caller as itself. exceljs pipes the
  // input into its unzipper, and pipe() does not forward errors (an 'error' nobody listens to would crash
  // the process, and the unzipper would wait forever): the input just ends, and the error is rethrown here.
  let sourceError: unknown;
  const input = Readable.from(
    (async function* () {
      try {
        yield* chunks;
      } catch (err) {
        sourceError = err;
      }
    })(),
    { objectMode: false },
  );
  const excel = await loadExcel();
  const reader = new excel.stream.xlsx.WorkbookReader(input, {
    worksheets: 'emit',
    sharedStrings: 'cache',
    // Styles tell a date cell from a number cell.
    styles: 'cache',
    hyperlinks: 'ignore',
    entries: 'ignore',
  });
  let found = false;
  let header: string[] | undefined;
  let keys: (string | null)[] = [];
  try {
    for await (const sheet of reader as AsyncIterable<WorksheetReader>) {
      if (found || !isWanted(reader as unknown as ReaderModel, sheet, opts.sheet)) {
        // Another sheet: read past it (the zip is one stream).
        for await (const _row of sheet) void _row;
        continue;
      }
      found = true;
      for await (const row of sheet) {
        const cells = rowCells(row);
        if (cells.every((c) => c.trim() === '')) continue;
        const line = row.number;
        if (header === undefined) {
          header = cells;
          file.header = cells;
          const match = opts.columns(cells);
          if (typeof match === 'string') {
            yield { line, error: match, fatal: true, cells };
            // Drain the rest of the zip, so the reader ends cleanly.
            for await (const _row of sheet) void _row;
            return;
          }
          keys = match.keys;
          file.ignored = match.ignored;
          continue;
        }
        const values = rowValues(keys, cells);
        if (values) yield { line, values, cells };
      }
    }
  } catch (err) {
    if (sourceError !== undefined) throw sourceError;
    if (err instanceof AppError) throw err;
    yield { line: 1, error: `not a readable .xlsx file (${err instanceof Error ? err.message : String(err)}); the rest of the file was not read`, fatal: true };
    return;
  }
  if (sourceError !== undefined) throw sourceError;
  if (!found) {
    yield { line: 1, error: opts.sheet === undefined ? 'the workbook has no sheet' : `the workbook has no sheet ${JSON.stringify(opts.sheet)}`, fatal: true };
  } else if (header === undefined) {
    yield { line: 1, error: 'the sheet is empty: an import starts with a header row of field names', fatal: true };
  }
}

interface WorksheetReader extends AsyncIterable<ExcelJS.Row> {
  id: string | number;
}

/** What WorkbookReader has learnt from xl/workbook.xml and its rels by the time a sheet arrives. */
interface ReaderModel {
  model?: { sheets?: { name: string; id: number; rId: string }[] };
  workbookRels?: { Id: string; Target: string }[];
}

/**
 * Is this sheet the one asked for (by name or 1-based tab position), or the first tab when none is?
 * Sheet files are numbered by their part name (sheetN.xml), which need not be the tab order: the tab
 * order comes from workbook.xml and its rels. When those are not known yet, the first sheet file is it.
 */
function isWanted(reader: ReaderModel, sheet: WorksheetReader, wanted: string | undefined): boolean {
  const tabs = reader.model?.sheets ?? [];
  const rels = reader.workbookRels ?? [];
  const fileNo = String(sheet.id);
  const tabOf = (t: { rId: string }) => /sheet(\d+)\.xml$/.exec(rels.find((r) => r.Id === t.rId)?.Target ?? '')?.[1];
  const index = tabs.findIndex((t) => tabOf(t) === fileNo);
  if (wanted === undefined) return index <= 0;
  if (/^\d+$/.test(wanted)) return index === -1 ? fileNo === wanted : index + 1 === Number(wanted);
  return index !== -1 && tabs[index]!.name.trim().toLowerCase() === wanted.trim().toLowerCase();
}

function rowCells(row: ExcelJS.Row): string[] {
  const values = row.values as unknown[];
  const out: string[] = [];
  const n = Math.min(values.length, MAX_COLUMNS + 1);
  // row.values is 1-based (index 0 is empty).
  for (let i = 1; i < n; i++) out.push(cellString(values[i]));
  return out;
}

export function cellString(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? v.toFixed(0) : String(v);
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (v instanceof Date) return spreadsheetDate(v);
  if (typeof v === 'object') {
    const o = v as { richText?: { text: string }[]; text?: unknown; result?: unknown; error?: string; hyperlink?: string };
    if (Array.isArray(o.richText)) return o.richText.map((r) => r.text).join('');
    if ('result' in o) return cellString(o.result);
    if (o.error !== undefined) return '';
    if (o.text !== undefined) return cellString(o.text);
  }
  return String(v);
}
