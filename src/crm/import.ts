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
import type { AssignRow, CustomerRow } from '../db/schema.ts';
import { isForeignKeyViolation, isUniqueViolation, lockRows, reserveIds } from '../db/dialect.ts';
import { AppError } from '../errors.ts';
import { normalizePhone, type CountryCode } from '../phone.ts';
import { checkBelongs, insertAssign, insertAssigns, setAssignStatus } from './assigns.ts';
import { emptyValues, insertCustomer, insertCustomers, parseData, updateCustomer, validateAll, type Change, type Values } from './customers.ts';
import { emitEvents } from './events.ts';
import { listFields, uniqueKey, type Field } from './fields.ts';
import { dateOrderOf, type DateOrder } from './dates.ts';
import { columnResolver, type UnknownColumns } from './import-columns.ts';
import { decoderFor } from './import-decode.ts';
import { countedChunks, readRows, type ByteCount, type FileFacts, type ImportFormat, type RawRow } from './import-rows.ts';
import { finishImport, saveItems, saveRejects, startImport, type CreatedItem, type Reject } from './import-records.ts';
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

export async function importCustomers(db: Db, source: Readable | AsyncIterable<Buffer | string>, opts: ImportOptions): Promise<ImportSummary> {
  await checkImportTarget(db.q, opts.projectId, opts.repositoryId);
  if (opts.charset !== undefined) decoderFor(opts.charset);
  // The project's setup is read once per import: per-row work stays small.
  const fields = importableFields(await listFields(db.q, opts.projectId));
  // An archived status cannot be set (admin-api.md): an import naming one is an unknown status.
  const statuses = await db.q.selectFrom('statuses').select('id').where('project_id', '=', opts.projectId).where('archived_at', 'is', null).execute();
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
  const file: FileFacts = {};
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

  const readOpts = {
    columns: columnResolver(fields, ID_COLUMNS, opts.unknownColumns ?? 'refuse'),
    charset: opts.charset,
    legacyCharset: opts.legacyCharset ?? 'windows-1255',
    sheet: opts.sheet,
    file,
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

interface BatchContext {
  projectId: number;
  repositoryId: number;
  update: boolean;
  country: CountryCode;
  fields: Field[];
  phoneFields: Field[];
  uniqueFields: Field[];
  statusIds: ReadonlySet<number>;
  rules: { country: CountryCode; dateOrder: DateOrder };
  ignoreUnknown: boolean;
  /** Column names rows may carry (display_names and ID_COLUMNS). */
  known: ReadonlySet<string>;
  importId: number;
}

/** A row that passed every check that needs no database. */
interface PreparedRow {
  line: number;
  cells: string[];
  id?: number;
  assignId?: number;
  /** undefined: not given; null: 0, no status */
  statusId?: number | null;
  changes: Change[];
  /** required fields the row leaves blank: an error only if the row creates a customer */
  missing: string[];
  phones: string[];
  uniques: string[];
}

function positiveId(name: string, raw: string): number | string {
  return parseId(raw.trim()) ?? `${name} must be a positive whole number (at most 9007199254740991)`;
}

function prepareRow(row: RawRow, ctx: BatchContext): PreparedRow | Reject {
  const { id: rawId, repository_assign_id: rawAssign, status_id: rawStatus, ...values } = row.values;
  // NDJSON keys are not matched by a header: unknown_columns=ignore leaves them out here.
  if (ctx.ignoreUnknown) for (const k of Object.keys(values)) if (!ctx.known.has(k)) delete values[k];
  const out: PreparedRow = { line: row.line, cells: row.cells, changes: [], missing: [], phones: [], uniques: [] };
  const fail = (message: string): Reject => ({ line: row.line, message, cells: row.cells });
  if (rawId !== undefined) {
    const id = positiveId('id', rawId);
    if (typeof id === 'string') return fail(id);
    out.id = id;
  }
  if (rawAssign !== undefined) {
    const id = positiveId('repository_assign_id', rawAssign);
    if (typeof id === 'string') return fail(id);
    out.assignId = id;
  }
  if (rawStatus !== undefined) {
    if (rawStatus.trim() === '0') out.statusId = null;
    else {
      const id = positiveId('status_id', rawStatus);
      if (typeof id === 'string') return fail(id);
      if (!ctx.statusIds.has(id)) return fail(`status_id ${id} is not a status of project ${ctx.projectId}`);
      out.statusId = id;
    }
  }
  try {
    out.changes = validateAll(ctx.fields, values, false, ctx.rules);
  } catch (err) {
    if (err instanceof AppError) return fail(err.message);
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

const ownerKey = (field: Field, key: string) => `${field.id}\u0000${key}`;

interface BatchResult {
  created: number;
  updated: number;
  skipped: number;
  errors: Reject[];
}

/** A row-level write failure in an unguarded batch: the batch is retried with a savepoint per row. */
class RowConflict extends Error {}

/**
 * Every row is checked before it is written (duplicates pre-read in bulk), so a batch normally runs
 * without savepoints. When a write still fails (a concurrent writer took a unique value; the database's
 * constraint has the last word), that batch is rolled back and run again with a savepoint per row, so
 * only the offending row fails. On PostgreSQL an error aborts the whole transaction, hence the retry
 * instead of carrying on.
 */
async function writeBatchOnce(db: Db, rows: PreparedRow[], ctx: BatchContext): Promise<BatchResult> {
  try {
    return await db.write((trx) => writeBatch(trx, rows, ctx, false));
  } catch (err) {
    if (!(err instanceof RowConflict)) throw err;
    return db.write((trx) => writeBatch(trx, rows, ctx, true));
  }
}

function isRowLevel(err: unknown): boolean {
  return err instanceof AppError || isUniqueViolation(err) || isForeignKeyViolation(err);
}

async function guard(trx: Q, guarded: boolean, write: () => Promise<void>): Promise<string | undefined> {
  if (!guarded) {
    try {
      await write();
      return undefined;
    } catch (err) {
      if (isRowLevel(err)) throw new RowConflict('row conflict', { cause: err });
      throw err;
    }
  }
  await sql`savepoint import_row`.execute(trx);
  try {
    await write();
    await sql`release savepoint import_row`.execute(trx);
    return undefined;
  } catch (err) {
    await sql`rollback to savepoint import_row`.execute(trx);
    await sql`release savepoint import_row`.execute(trx);
    if (!isRowLevel(err)) throw err;
    return err instanceof AppError ? err.message : 'conflicts with a change written at the same time';
  }
}

/** A customer the batch creates, written at the end of the batch in multi-row inserts (the fast path). */
interface Pending {
  line: number;
  id?: number;
  assignId?: number;
  statusId: number | null;
  data: Values;
}

/** Who holds an id, a phone or a unique value: an existing customer's id, or a customer this batch creates. */
type Ref = number | Pending;

async function writeBatch(trx: Q, rows: PreparedRow[], ctx: BatchContext, guarded: boolean): Promise<BatchResult> {
  const P = ctx.projectId;
  const R = ctx.repositoryId;
  const result: BatchResult = { created: 0, updated: 0, skipped: 0, errors: [] };
  const at = Date.now();
  const items: CreatedItem[] = [];

  // Bulk pre-reads, inside the batch's transaction: ids, assign ids, phone and unique owners.
  const ids = unique(rows.flatMap((r) => (r.id === undefined ? [] : [r.id])));
  const assignIds = unique(rows.flatMap((r) => (r.assignId === undefined ? [] : [r.assignId])));
  const phones = unique(rows.flatMap((r) => r.phones));

  const idOwner = new Map<number, Ref>();
  const otherProject = new Set<number>();
  if (ids.length > 0) {
    for (const c of await trx.selectFrom('customers').select(['id', 'project_id']).where('id', 'in', ids).execute()) {
      if (c.project_id === P) idOwner.set(c.id, c.id);
      else otherProject.add(c.id);
    }
  }
  const assignTaken = new Map<number, { project_id: number; repository_id: number; customer: Ref }>();
  if (assignIds.length > 0) {
    const found = await trx.selectFrom('assigns').select(['id', 'project_id', 'repository_id', 'customer_id']).where('id', 'in', assignIds).execute();
    for (const a of found) assignTaken.set(a.id, { project_id: a.project_id, repository_id: a.repository_id, customer: a.customer_id });
  }
  const phoneOwners = new Map<string, Set<Ref>>();
  if (phones.length > 0) {
    const found = await trx.selectFrom('customer_phones').select(['phone', 'customer_id']).where('project_id', '=', P).where('phone', 'in', phones).execute();
    for (const p of found) addTo(phoneOwners, p.phone, p.customer_id);
  }
  const uniqueOwners = new Map<string, Ref>();
  for (const field of ctx.uniqueFields) {
    const prefix = `${field.id}\u0000`;
    const keys = unique(rows.flatMap((r) => r.uniques.filter((u) => u.startsWith(prefix)).map((u) => u.slice(prefix.length))));
    if (keys.length === 0) continue;
    const found = await trx.selectFrom('customer_uniques').select(['value', 'customer_id']).where('project_id', '=', P).where('field_id', '=', field.id).where('value', 'in', keys).execute();
    for (const u of found) uniqueOwners.set(prefix + u.value, u.customer_id);
  }

  // Matched existing customers: their rows (update mode) and their assigns in this repository.
  const matched = unique([...idOwner.keys(), ...[...phoneOwners.values()].flatMap((s) => [...s] as number[]), ...(uniqueOwners.values() as Iterable<number>)]);
  const customerRows = new Map<number, CustomerRow>();
  const memberships = new Map<number, AssignRow>();
  if (matched.length > 0) {
    if (ctx.update) {
      for (const c of await lockRows(trx, trx.selectFrom('customers').selectAll().where('id', 'in', matched)).execute()) customerRows.set(c.id, c);
    }
    const found = await trx.selectFrom('assigns').selectAll().where('repository_id', '=', R).where('customer_id', 'in', matched).execute();
    for (const a of found) memberships.set(a.customer_id, a);
  }

  /** Keeps the owner maps true as rows of this batch create and change customers. */
  const reindex = (who: Ref, before: Values, after: Values) => {
    for (const f of ctx.phoneFields) {
      const old = before[f.display_name];
      if (old !== undefined) phoneOwners.get(normalizePhone(old, ctx.country))?.delete(who);
    }
    for (const f of ctx.phoneFields) {
      const now = after[f.display_name];
      if (now !== undefined) addTo(phoneOwners, normalizePhone(now, ctx.country), who);
    }
    for (const f of ctx.uniqueFields) {
      const old = before[f.display_name];
      if (old !== undefined) {
        const k = ownerKey(f, uniqueKey(f, old, ctx.country));
        if (uniqueOwners.get(k) === who) uniqueOwners.delete(k);
      }
      const now = after[f.display_name];
      if (now !== undefined) uniqueOwners.set(ownerKey(f, uniqueKey(f, now, ctx.country)), who);
    }
  };
  const name = (who: Ref) => (typeof who === 'number' ? `customer ${who}` : `the customer of line ${who.line}`);
  const takenBy = (a: { repository_id: number; customer: Ref }) => `${name(a.customer)}, repository ${a.repository_id}`;
  const pendings: Pending[] = [];

  for (const row of rows) {
    const fail = (message: string) => result.errors.push({ line: row.line, message, cells: row.cells });
    if (row.id !== undefined && otherProject.has(row.id)) {
      fail(`id ${row.id} belongs to another project`);
      continue;
    }
    const taken = row.assignId === undefined ? undefined : assignTaken.get(row.assignId);
    if (taken && taken.project_id !== P) {
      fail(`repository_assign_id ${row.assignId} belongs to another project`);
      continue;
    }

    // Who the row is: its id first; else the customers holding its unique values and phones.
    const byUnique = unique(row.uniques.flatMap((k) => (uniqueOwners.has(k) ? [uniqueOwners.get(k)!] : [])));
    const byPhone = unique(row.phones.flatMap((p) => [...(phoneOwners.get(p) ?? [])]));
    let target = row.id === undefined ? undefined : idOwner.get(row.id);
    const others = unique([...byUnique, ...byPhone]).filter((c) => c !== target);

    if (target === undefined && others.length === 0) {
      // A new customer.
      if (row.missing.length > 0) {
        fail(`invalid fields: ${row.missing.map((m) => `${m} (${m} is required)`).join(', ')}`);
        continue;
      }
      if (taken) {
        fail(`repository_assign_id ${row.assignId} already exists (${takenBy(taken)})`);
        continue;
      }
      const data = valuesOf(row.changes);
      let who: Ref;
      if (guarded) {
        let created: { id: number; assign: AssignRow } | undefined;
        const problem = await guard(trx, true, async () => {
          const c = await insertCustomer(trx, P, row.changes, { id: row.id, country: ctx.country, source: 'import', at });
          created = { id: c.id, assign: await insertAssign(trx, P, R, { id: row.assignId, customer_id: c.id, status_id: row.statusId ?? null }, at) };
        });
        if (problem !== undefined || !created) {
          fail(problem ?? 'not written');
          continue;
        }
        who = created.id;
        items.push({ assign_id: created.assign.id, customer_id: created.id, new_customer: 1 });
        memberships.set(created.id, created.assign);
        assignTaken.set(created.assign.id, { project_id: P, repository_id: R, customer: who });
        if (ctx.update) customerRows.set(created.id, { id: created.id, project_id: P, data: JSON.stringify(data), created_at: at, updated_at: at });
      } else {
        who = { line: row.line, id: row.id, assignId: row.assignId, statusId: row.statusId ?? null, data };
        pendings.push(who);
        if (row.assignId !== undefined) assignTaken.set(row.assignId, { project_id: P, repository_id: R, customer: who });
      }
      if (row.id !== undefined) idOwner.set(row.id, who);
      reindex(who, {}, data);
      result.created++;
      continue;
    }

    if (!ctx.update) {
      result.skipped++;
      continue;
    }
    if (target === undefined) {
      if (others.length > 1) {
        fail(`matches several customers (${others.map(name).join('; ')}) by phone or unique field; add an id column to say which one`);
        continue;
      }
      target = others[0]!;
    } else {
      const holder = byUnique.find((c) => c !== target);
      if (holder !== undefined) {
        fail(`a unique value of this row belongs to ${name(holder)}, not to ${name(target)}`);
        continue;
      }
    }

    if (typeof target !== 'number') {
      // Updates a customer this batch creates: its pending row takes the changes.
      const p = target;
      if (row.assignId !== undefined && row.assignId !== p.assignId) {
        if (p.assignId !== undefined) {
          fail(`${name(p)} is already in repository ${R} as repository_assign_id ${p.assignId}, not ${row.assignId}`);
          continue;
        }
        if (taken) {
          fail(`repository_assign_id ${row.assignId} already exists (${takenBy(taken)})`);
          continue;
        }
        p.assignId = row.assignId;
        assignTaken.set(row.assignId, { project_id: P, repository_id: R, customer: p });
      }
      const before = p.data;
      p.data = { ...before, ...valuesOf(row.changes) };
      if (row.statusId !== undefined) p.statusId = row.statusId;
      reindex(p, before, p.data);
      result.updated++;
      continue;
    }

    const customerId = target;
    const membership = memberships.get(customerId);
    if (row.assignId !== undefined) {
      if (membership && membership.id !== row.assignId) {
        fail(`customer ${customerId} is already in repository ${R} as repository_assign_id ${membership.id}, not ${row.assignId}`);
        continue;
      }
      if (!membership && taken) {
        fail(`repository_assign_id ${row.assignId} already exists (${takenBy(taken)})`);
        continue;
      }
    }
    const customer = customerRows.get(customerId) ?? (await lockRows(trx, trx.selectFrom('customers').selectAll().where('id', '=', customerId)).executeTakeFirst());
    if (!customer) {
      fail(`customer ${customerId} no longer exists`);
      continue;
    }
    const before = parseData(customer.data);
    let added: AssignRow | undefined;
    const problem = await guard(trx, guarded, async () => {
      await updateCustomer(trx, customer, row.changes, { country: ctx.country, source: 'import', assign_id: membership?.id ?? null, at });
      if (!membership) added = await insertAssign(trx, P, R, { id: row.assignId, customer_id: customerId, status_id: row.statusId ?? null }, at);
      else if (row.statusId !== undefined) await setAssignStatus(trx, { ...membership }, row.statusId, { source: 'import', at });
    });
    if (problem !== undefined) {
      fail(problem);
      continue;
    }
    const after = { ...before, ...valuesOf(row.changes) };
    customerRows.set(customerId, { ...customer, data: JSON.stringify(after), updated_at: at });
    if (membership && row.statusId !== undefined) membership.status_id = row.statusId;
    if (added) {
      items.push({ assign_id: added.id, customer_id: customerId, new_customer: 0 });
      memberships.set(customerId, added);
      assignTaken.set(added.id, { project_id: P, repository_id: R, customer: customerId });
    }
    reindex(customerId, before, after);
    result.updated++;
  }

  if (pendings.length > 0) {
    // The fast path's writes: ids reserved, then a few multi-row inserts for the whole batch.
    const ownId = pendings.filter((p) => p.id === undefined);
    const customerIds = await reserveIds(trx, 'customers', ownId.length, Math.max(0, ...pendings.map((p) => p.id ?? 0)));
    ownId.forEach((p, i) => (p.id = customerIds[i]));
    const ownAssign = pendings.filter((p) => p.assignId === undefined);
    const newAssignIds = await reserveIds(trx, 'assigns', ownAssign.length, Math.max(0, ...pendings.map((p) => p.assignId ?? 0)));
    ownAssign.forEach((p, i) => (p.assignId = newAssignIds[i]));
    try {
      await insertCustomers(trx, P, pendings.map((p) => ({ id: p.id!, changes: changesOf(ctx.fields, p.data) })), { country: ctx.country, source: 'import', at });
      await insertAssigns(trx, P, R, pendings.map((p) => ({ id: p.assignId!, customer_id: p.id!, status_id: p.statusId })), at);
    } catch (err) {
      if (isRowLevel(err)) throw new RowConflict('row conflict', { cause: err });
      throw err;
    }
    for (const p of pendings) items.push({ assign_id: p.assignId!, customer_id: p.id!, new_customer: 1 });
  }
  // What the batch created, in its own transaction: the undo's record is never ahead of or behind it.
  await saveItems(trx, ctx.importId, items);
  return result;
}

/** Validated changes as stored values (display_name → value). */
function valuesOf(changes: Change[]): Values {
  const out = emptyValues();
  for (const c of changes) out[c.field.display_name] = c.value;
  return out;
}

function changesOf(fields: Field[], data: Values): Change[] {
  return fields.flatMap((field) => (data[field.display_name] === undefined ? [] : [{ field, value: data[field.display_name]! }]));
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V) {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(value);
}
