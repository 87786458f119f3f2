// Streamed import of customers into a repository. The HTTP route passes the request stream, the CLI a
// file stream: both call importCustomers. Rows are read one at a time, validated, and written in
// batches, each batch one db.write (one commit; a success means that batch is on disk). Memory holds
// one batch, never the file.
//
// A row is a duplicate when its id, a phone (any phone-type field, normalized) or a unique value
// already belongs to a customer of the project; on_duplicate decides: skip (nothing changes) or update
// (that customer's fields are updated, history source "import", and it is put in the repository if it
// is not yet). A bad row is reported with its line and creates nothing; it never stops the rest.
import type { Readable } from 'node:stream';
import { sql } from 'kysely';
import type { Db, Q } from '../db/connect.ts';
import { AppError } from '../errors.ts';
import { normalizePhone, type CountryCode } from '../phone.ts';
import { checkBelongs } from './assigns.ts';
import { validateAll } from './customers.ts';
import { emitEvents } from './events.ts';
import { listFields, uniqueKey, type Field } from './fields.ts';
import { dateOrderOf, type DateOrder } from './dates.ts';
import { columnChoices, columnResolver, type UnknownColumns } from './import-columns.ts';
import { decoderFor } from './import-decode.ts';
import { countedChunks, readRows, type ByteCount, type FileFacts, type ImportFormat, type RawRow, type ReadOptions } from './import-rows.ts';
import { finishImport, saveRejects, startImport, type Reject } from './import-records.ts';
import { writeBatchOnce, type BatchContext, type PreparedRow } from './import-batch.ts';
import { ownerKey } from './import-owners.ts';
import { getProject } from './setup.ts';
import { parseId } from '../ids.ts';

export type { ImportFormat } from './import-rows.ts';
export type OnDuplicate = 'skip' | 'update';

/** Columns of the import/export format that are not fields. */
export const ID_COLUMNS = ['id', 'repository_assign_id', 'status_id'] as const;

export interface ImportOptions {
  projectId: number;
  repositoryId: number;
  format: ImportFormat;
  onDuplicate?: OnDuplicate;
  country: CountryCode;
  /** CRM_DATE_ORDER (default the country's order) */
  dateOrder?: DateOrder;
  /** Who runs it (recorded on the import): "admin", a username, "cli:<os user>". */
  who?: string;
  /** Declared charset (content type, --encoding); undefined: detected (import-decode.ts). */
  charset?: string;
  /** CRM_LEGACY_CHARSET (default windows-1255) */
  legacyCharset?: string;
  /** XLSX: sheet name or 1-based position (default the first). */
  sheet?: string;
  /** refuse (default): an unknown column refuses the file; ignore: it is left out. */
  unknownColumns?: UnknownColumns;
  /** CSV: the delimiter character (, ; or tab); undefined: detected from the header line. */
  delimiter?: string;
  /** Header cell → a field's display_name, an id column, or "" (left out); other cells match automatically. */
  columns?: Record<string, string>;
  /** Bytes accepted before the import is refused with 413 (CRM_IMPORT_LIMIT). */
  maxBytes?: number;
  /** Rows per transaction (default 1000). */
  batchSize?: number;
  /** Called after each committed batch. */
  onProgress?: (p: ImportProgress) => void;
}

export interface ImportProgress {
  /** rows read so far (good and bad) */
  rows: number;
  bytes: number;
}

export interface ImportError {
  line: number;
  message: string;
}

export interface ImportSummary {
  import_id: number;
  created: number;
  updated: number;
  skipped: number;
  /** The first MAX_LISTED_ERRORS errors, by line. */
  errors: ImportError[];
  /** All errors, also those left out of the list (every one is kept: GET /imports/:id/rejects). */
  error_count: number;
  /** The charset the file was read with (or "xlsx"). */
  encoding: string | null;
  /** Header cells left out (unknown_columns=ignore). */
  ignored_columns: string[];
}

export const MAX_LISTED_ERRORS = 1000;
const DEFAULT_BATCH = 1000;

/** The import's project must exist (404) and the repository must be one of its own (422). */
export async function checkImportTarget(q: Q, projectId: number, repositoryId: number): Promise<void> {
  await getProject(q, projectId);
  await checkBelongs(q, projectId, { repository_id: repositoryId });
}

/**
 * The fields an import can write. Hook for archived fields (lifecycle): an archived field is an unknown
 * column for imports (admin-api.md), so it is filtered out here once that flag exists.
 */
export function importableFields(fields: Field[]): Field[] {
  return fields.filter((f) => (f as Field & { archived?: boolean }).archived !== true);
}

/**
 * What an import and its preview (import-preview.ts) do before the first row: the target checked, the
 * project's setup read once (per-row work stays small), the caller's choices checked (400s, before
 * anything is written), and the readers' options.
 */
export async function prepareImport(q: Q, opts: ImportOptions, file: FileFacts): Promise<{ ctx: BatchContext; read: ReadOptions }> {
  await checkImportTarget(q, opts.projectId, opts.repositoryId);
  if (opts.charset !== undefined) decoderFor(opts.charset);
  const fields = importableFields(await listFields(q, opts.projectId));
  const choices = opts.columns === undefined ? undefined : columnChoices(opts.columns, fields, ID_COLUMNS);
  // An archived status cannot be set (admin-api.md): an import naming one is an unknown status.
  const statuses = await q.selectFrom('statuses').select('id').where('project_id', '=', opts.projectId).where('archived_at', 'is', null).execute();
  const ctx: BatchContext = {
    projectId: opts.projectId,
    repositoryId: opts.repositoryId,
    update: (opts.onDuplicate ?? 'skip') === 'update',
    country: opts.country,
    fields,
    phoneFields: fields.filter((f) => f.type === 'phone'),
    uniqueFields: fields.filter((f) => f.unique),
    statusIds: new Set(statuses.map((s) => s.id)),
    rules: { country: opts.country, dateOrder: opts.dateOrder ?? dateOrderOf(opts.country) },
    ignoreUnknown: opts.unknownColumns === 'ignore',
    known: new Set<string>([...ID_COLUMNS, ...fields.map((f) => f.display_name)]),
    importId: 0,
  };
  const read: ReadOptions = {
    columns: columnResolver(fields, ID_COLUMNS, opts.unknownColumns ?? 'refuse', choices),
    charset: opts.charset,
    legacyCharset: opts.legacyCharset ?? 'windows-1255',
    sheet: opts.sheet,
    delimiter: opts.delimiter,
    file,
  };
  return { ctx, read };
}

export async function importCustomers(db: Db, source: Readable | AsyncIterable<Buffer | string>, opts: ImportOptions): Promise<ImportSummary> {
  const file: FileFacts = {};
  const { ctx, read: readOpts } = await prepareImport(db.q, opts, file);
  const importId = await startImport(db, { ...opts, who: opts.who ?? 'unknown', onDuplicate: opts.onDuplicate ?? 'skip' });
  ctx.importId = importId;

  const summary: ImportSummary = { import_id: importId, created: 0, updated: 0, skipped: 0, errors: [], error_count: 0, encoding: null, ignored_columns: [] };
  const count: ByteCount = { bytes: 0 };
  const batchSize = opts.batchSize ?? DEFAULT_BATCH;
  let rowsRead = 0;
  let batch: PreparedRow[] = [];
  // Errors found while reading wait for their batch, so the list comes out in line order.
  let pending: Reject[] = [];

  const report = async (errors: Reject[]) => {
    if (errors.length === 0) return;
    errors.sort((a, b) => a.line - b.line);
    summary.error_count += errors.length;
    for (const e of errors) if (summary.errors.length < MAX_LISTED_ERRORS) summary.errors.push({ line: e.line, message: e.message });
    await saveRejects(db, importId, errors);
  };
  const flush = async () => {
    const result = batch.length > 0 ? await writeBatchOnce(db, batch, ctx) : { created: 0, updated: 0, skipped: 0, errors: [] };
    summary.created += result.created;
    summary.updated += result.updated;
    summary.skipped += result.skipped;
    await report([...pending, ...result.errors]);
    batch = [];
    pending = [];
    opts.onProgress?.({ rows: rowsRead, bytes: count.bytes });
  };

  try {
    for await (const row of readRows(opts.format, countedChunks(source, count, opts.maxBytes), readOpts)) {
      if ('error' in row) {
        if (!row.fatal) rowsRead++;
        pending.push({ line: row.line, message: row.error, cells: row.cells ?? [] });
        if (row.fatal) break;
        continue;
      }
      rowsRead++;
      const prepared = prepareRow(row, ctx);
      if ('message' in prepared) pending.push(prepared);
      else batch.push(prepared);
      // A file of bad rows only must not pile up its errors either.
      if (batch.length >= batchSize || pending.length >= batchSize) await flush();
    }
    await flush();
  } catch (err) {
    // Batches already written stay written (each was its own commit): the import says how far it got.
    await finishImport(db, importId, summary, file, { rows: rowsRead, bytes: count.bytes }, 'failed').catch(() => undefined);
    throw err;
  }
  summary.encoding = file.encoding ?? null;
  summary.ignored_columns = file.ignored ?? [];
  await finishImport(db, importId, summary, file, { rows: rowsRead, bytes: count.bytes }, 'done');
  // Its own small transaction after the last batch: a crash right before it loses this event (the rows
  // themselves each had their customer.created / customer.fields_changed events with their batch).
  const { created, updated, skipped, error_count } = summary;
  await db.write((trx) =>
    emitEvents(trx, [{ type: 'import.finished', project_id: opts.projectId, data: { repository_id: opts.repositoryId, created, updated, skipped, error_count } }]),
  );
  if (summary.created + summary.updated >= REANALYZE_ROWS) await refreshStatistics(db);
  return summary;
}

/** Rows an import must write before it refreshes PostgreSQL's planner statistics. */
const REANALYZE_ROWS = 10_000;

/**
 * PostgreSQL plans from table statistics that autovacuum refreshes within a minute or so of a big
 * change. Until then a table that grew from nothing to a million rows still looks empty to the planner,
 * and get_data's lookup can get a plan that scans. ANALYZE samples a fixed number of rows (~0.1–0.5 s).
 * SQLite keeps no statistics unless asked to, and its plans here do not depend on them.
 */
async function refreshStatistics(db: Db): Promise<void> {
  if (db.dialect !== 'postgres') return;
  // Best effort: the rows are committed, and autovacuum would get there too. A role without the right
  // to ANALYZE these tables (or a database going away now) must not turn a finished import into an error.
  await sql`analyze customers, customer_phones, customer_uniques, assigns`.execute(db.q).catch(() => undefined);
}

function positiveId(name: string, raw: string): number | string {
  return parseId(raw.trim()) ?? `${name} must be a positive whole number (at most 9007199254740991)`;
}

/** One row checked and made ready to write (no database read): the import's and the preview's row rule. */
export function prepareRow(row: RawRow, ctx: BatchContext): PreparedRow | Reject {
  const { id: rawId, repository_assign_id: rawAssign, status_id: rawStatus, ...values } = row.values;
  // NDJSON keys are not matched by a header: unknown_columns=ignore leaves them out here.
  if (ctx.ignoreUnknown) for (const k of Object.keys(values)) if (!ctx.known.has(k)) delete values[k];
  const out: PreparedRow = { line: row.line, cells: row.cells, changes: [], missing: [], phones: [], uniques: [] };
  // details: the reason by column (display_name or id column), so the preview can mark the cell.
  const fail = (message: string, details?: Record<string, string>): Reject => ({ line: row.line, message, cells: row.cells, details });
  if (rawId !== undefined) {
    const id = positiveId('id', rawId);
    if (typeof id === 'string') return fail(id, { id });
    out.id = id;
  }
  if (rawAssign !== undefined) {
    const id = positiveId('repository_assign_id', rawAssign);
    if (typeof id === 'string') return fail(id, { repository_assign_id: id });
    out.assignId = id;
  }
  if (rawStatus !== undefined) {
    if (rawStatus.trim() === '0') out.statusId = null;
    else {
      const id = positiveId('status_id', rawStatus);
      if (typeof id === 'string') return fail(id, { status_id: id });
      const why = `status_id ${id} is not a status of project ${ctx.projectId}`;
      if (!ctx.statusIds.has(id)) return fail(why, { status_id: why });
      out.statusId = id;
    }
  }
  try {
    out.changes = validateAll(ctx.fields, values, false, ctx.rules);
  } catch (err) {
    if (err instanceof AppError) return fail(err.message, err.details as Record<string, string> | undefined);
    throw err;
  }
  for (const f of ctx.fields) if (f.required && !Object.hasOwn(values, f.display_name)) out.missing.push(f.display_name);
  for (const c of out.changes) {
    if (c.field.type === 'phone') {
      const p = normalizePhone(c.value, ctx.country);
      if (p !== '') out.phones.push(p);
    }
    if (c.field.unique) out.uniques.push(ownerKey(c.field, uniqueKey(c.field, c.value, ctx.country)));
  }
  return out;
}
