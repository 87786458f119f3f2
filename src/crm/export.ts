// Streamed export of a repository: `id,repository_assign_id,status_id`, then every field in field order;
// one row per assign, by assign id. Read in keyset pages, so memory stays flat whatever the repository's
// size. Every format imports back unchanged (admin-api.md "Real files in and out"):
//   csv    display_names as headers, LF, UTF-8 without BOM (as before);
//   excel  the same CSV for Excel: UTF-8 BOM (so Hebrew opens right), CRLF, labels as headers;
//   xlsx   a workbook written with exceljs's streaming writer, labels as headers, values as text (a phone
//          keeps its leading 0), date fields as Excel dates.
// In every format a text cell that a spreadsheet would run as a formula gets a leading ' (export-cells.ts).
import { PassThrough, type Readable } from 'node:stream';
import type ExcelJS from 'exceljs';
import { loadExcel } from './excel.ts';
import { stringify } from 'csv-stringify/sync';
import type { Q } from '../db/connect.ts';
import { assignFilterCondition, type AssignFilter } from './assigns.ts';
import { parseData } from './customers.ts';
import { neutralize } from './export-cells.ts';
import { listFields, type Field } from './fields.ts';
import { ID_COLUMNS, checkImportTarget } from './import.ts';

export type ExportFormat = 'csv' | 'excel' | 'xlsx';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['csv', 'excel', 'xlsx'];

export const EXPORT_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  excel: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

const PAGE = 1000;

export interface ExportOptions {
  pageSize?: number;
  /** Only the assigns of a filtered list (the supervisor's lists: status, worker, not called for N days). */
  filter?: AssignFilter;
}

interface Page {
  /** [customer id, assign id, status id | null, ...field values ('' = none)] */
  rows: [number, number, number | null, ...string[]][];
}

/** The repository's rows page by page (checks the target first: 404/422 before any output). */
async function* pages(q: Q, repositoryId: number, fields: Field[], opts: ExportOptions): AsyncGenerator<Page> {
  const names = fields.map((f) => f.display_name);
  const pageSize = opts.pageSize ?? PAGE;
  const condition = opts.filter ? assignFilterCondition(opts.filter, 'a') : undefined;
  let after = 0;
  for (;;) {
    let query = q
      .selectFrom('assigns as a')
      .innerJoin('customers as c', 'c.id', 'a.customer_id')
      .select(['a.id', 'a.status_id', 'a.customer_id', 'c.data'])
      .where('a.repository_id', '=', repositoryId)
      .where('a.id', '>', after);
    if (condition) query = query.where(condition);
    const page = await query.orderBy('a.id').limit(pageSize).execute();
    if (page.length === 0) return;
    yield {
      rows: page.map((r) => {
        const data = parseData(r.data);
        return [r.customer_id, r.id, r.status_id, ...names.map((n) => data[n] ?? '')];
      }),
    };
    if (page.length < pageSize) return;
    after = page[page.length - 1]!.id;
  }
}

/**
 * The CSV text (csv or excel), chunk by chunk (the header, then one chunk per page). Checks the target
 * first (404/422), so a caller that awaits the first chunk learns of a bad request before it answers.
 */
export async function* exportCsv(q: Q, projectId: number, repositoryId: number, opts: ExportOptions & { format?: 'csv' | 'excel' } = {}): AsyncGenerator<string> {
  await checkImportTarget(q, projectId, repositoryId);
  const excel = opts.format === 'excel';
  const fields = await listFields(q, projectId);
  const header = [...ID_COLUMNS, ...fields.map((f) => (excel ? f.label : f.display_name))].map(neutralize);
  const csv = excel ? { record_delimiter: 'windows' as const } : {};
  yield (excel ? '\uFEFF' : '') + stringify([header], csv);
  for await (const page of pages(q, repositoryId, fields, opts)) {
    yield stringify(
      page.rows.map(([c, a, s, ...values]) => [String(c), String(a), s === null ? '' : String(s), ...values.map(neutralize)]),
      csv,
    );
  }
}

/**
 * The XLSX workbook as a stream, written page by page with exceljs's streaming writer (rows are
 * committed as they are written, so memory stays flat). Checks the target before the stream exists.
 */
export async function exportXlsx(q: Q, projectId: number, repositoryId: number, opts: ExportOptions = {}): Promise<Readable> {
  await checkImportTarget(q, projectId, repositoryId);
  const fields = await listFields(q, projectId);
  const out = new PassThrough();
  const excel = await loadExcel();
  const workbook = new excel.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false });
  const sheet = workbook.addWorksheet(`repository ${repositoryId}`);
  sheet.columns = [...ID_COLUMNS, ...fields.map((f) => f.label)].map((h, i) => {
    const f = fields[i - ID_COLUMNS.length];
    return { header: neutralize(h), width: 14, ...(f?.type === 'date' ? { style: { numFmt: 'yyyy-mm-dd' } } : {}) };
  });
  const write = async () => {
    for await (const page of pages(q, repositoryId, fields, opts)) {
      for (const [c, a, s, ...values] of page.rows) {
        sheet.addRow([c, a, s ?? '', ...values.map((v, i) => cellOf(fields[i]!, v))]).commit();
      }
    }
    sheet.commit();
    await workbook.commit();
  };
  write().catch((err: unknown) => out.destroy(err instanceof Error ? err : new Error(String(err))));
  return out;
}

function cellOf(field: Field, value: string): string | Date {
  if (value === '') return '';
  if (field.type === 'date' && /^\d{4}-\d{2}-\d{2}$/.test(value)) return new Date(`${value}T00:00:00Z`);
  return neutralize(value);
}
