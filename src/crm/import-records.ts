// Imports are objects (admin-api.md "Changing and removing"): each import has a row in `imports` (who,
// when, where, counts, status), every rejected row is kept in `import_rejects` as it was read, and the
// assigns/customers it created are listed in `import_items`, written in the same transaction as the batch
// that created them. The undo removes what the import created and nothing has changed since.
import { stringify } from 'csv-stringify/sync';
import type { Db, Q } from '../db/connect.ts';
import { chunks, lockRows } from '../db/dialect.ts';
import { notFound } from '../errors.ts';
import { neutralize } from './export-cells.ts';
import type { FileFacts } from './import-rows.ts';

export interface Reject {
  line: number;
  message: string;
  cells: string[];
  /** The reason by column (display_name or id column) when the rule knows it; not stored. */
  details?: Record<string, string>;
}

export interface CreatedItem {
  assign_id: number;
  customer_id: number;
  /** 1: the import created the customer; 0: it put an existing customer in the repository */
  new_customer: number;
}

export async function startImport(db: Db, o: { projectId: number; repositoryId: number; who: string; format: string; onDuplicate: string }): Promise<number> {
  const row = await db.write((trx) =>
    trx
      .insertInto('imports')
      .values({
        project_id: o.projectId,
        repository_id: o.repositoryId,
        who: o.who,
        format: o.format,
        on_duplicate: o.onDuplicate,
        status: 'running',
        started_at: Date.now(),
      })
      .returning('id')
      .executeTakeFirstOrThrow(),
  );
  return row.id;
}

export async function saveRejects(db: Db, importId: number, rejects: Reject[]): Promise<void> {
  if (rejects.length === 0) return;
  const rows = rejects.map((r) => ({ import_id: importId, line: r.line, cells: JSON.stringify(r.cells), error: r.message }));
  await db.write(async (trx) => {
    for (const chunk of chunks(rows, 250)) await trx.insertInto('import_rejects').values(chunk).execute();
  });
}

export async function saveItems(trx: Q, importId: number, items: CreatedItem[]): Promise<void> {
  for (const chunk of chunks(items, 500)) {
    await trx.insertInto('import_items').values(chunk.map((i) => ({ import_id: importId, ...i }))).execute();
  }
}

export async function finishImport(
  db: Db,
  importId: number,
  counts: { created: number; updated: number; skipped: number; error_count: number },
  file: FileFacts,
  read: { rows: number; bytes: number },
  status: 'done' | 'failed',
): Promise<void> {
  await db.write((trx) =>
    trx
      .updateTable('imports')
      .set({
        status,
        finished_at: Date.now(),
        rows: read.rows,
        bytes: read.bytes,
        created: counts.created,
        updated: counts.updated,
        skipped: counts.skipped,
        error_count: counts.error_count,
        encoding: file.encoding ?? null,
        header: file.header === undefined ? null : JSON.stringify(file.header),
      })
      .where('id', '=', importId)
      .execute(),
  );
}

export interface ImportRecord {
  id: number;
  project_id: number;
  repository_id: number;
  who: string;
  format: string;
  encoding: string | null;
  on_duplicate: string;
  status: string;
  started_at: string;
  finished_at: string | null;
  undone_at: string | null;
  rows: number;
  bytes: number;
  created: number;
  updated: number;
  skipped: number;
  error_count: number;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

export async function getImport(q: Q, id: number): Promise<ImportRecord> {
  const r = await q.selectFrom('imports').selectAll().where('id', '=', id).executeTakeFirst();
  if (!r) throw notFound('import', id);
  return {
    id: r.id,
    project_id: r.project_id,
    repository_id: r.repository_id,
    who: r.who,
    format: r.format,
    encoding: r.encoding,
    on_duplicate: r.on_duplicate,
    status: r.status,
    started_at: iso(r.started_at)!,
    finished_at: iso(r.finished_at),
    undone_at: iso(r.undone_at),
    rows: Number(r.rows),
    bytes: Number(r.bytes),
    created: Number(r.created),
    updated: Number(r.updated),
    skipped: Number(r.skipped),
    error_count: Number(r.error_count),
  };
}

const PAGE = 1000;

/**
 * The rejects as CSV, chunk by chunk: the file's own header, then `line` and `error`; each rejected row
 * as it was read (cells the export would neutralize are neutralized here too: the file is for Excel).
 * NDJSON rows are one `row` column holding the line. Checks the import exists first (404).
 */
export async function* rejectsCsv(q: Q, importId: number): AsyncGenerator<string> {
  const imp = await q.selectFrom('imports').select(['id', 'header']).where('id', '=', importId).executeTakeFirst();
  if (!imp) throw notFound('import', importId);
  const header = imp.header === null ? ['row'] : (JSON.parse(imp.header) as string[]);
  yield stringify([[...header, 'line', 'error'].map(neutralize)], { record_delimiter: 'windows' });
  let after = 0;
  for (;;) {
    const page = await q.selectFrom('import_rejects').select(['id', 'line', 'cells', 'error']).where('import_id', '=', importId).where('id', '>', after).orderBy('id').limit(PAGE).execute();
    if (page.length === 0) return;
    const records = page.map((r) => {
      const cells = JSON.parse(r.cells) as string[];
      while (cells.length < header.length) cells.push('');
      return [...cells, String(r.line), r.error].map(neutralize);
    });
    yield stringify(records, { record_delimiter: 'windows' });
    if (page.length < PAGE) return;
    after = page[page.length - 1]!.id;
  }
}

export interface UndoResult {
  /** customers the import created that are now removed */
  removed: number;
  /** customers the import created that were changed since (or hold a changed assign), kept */
  kept: number;
  /** assigns removed (the removed customers' and existing customers' unchanged ones) */
  assigns_removed: number;
}

/**
 * Undoes an import in one transaction. An assign counts as unchanged when it was never updated
 * (updated_at = created_at), never called, and has no history; a customer the import created when it
 * was never updated, has no history, and all its assigns are unchanged assigns of this import. Such
 * customers go with their phone index, unique values and assigns; an existing customer the import put in
 * the repository loses that assign when unchanged. Everything else is kept and counted.
 */
export async function undoImport(trx: Q, importId: number): Promise<UndoResult> {
  const imp = await lockRows(trx, trx.selectFrom('imports').select(['id', 'status']).where('id', '=', importId)).executeTakeFirst();
  if (!imp) throw notFound('import', importId);
  const items = await trx.selectFrom('import_items').selectAll().where('import_id', '=', importId).execute();
  const result: UndoResult = { removed: 0, kept: 0, assigns_removed: 0 };

  const assignIds = items.map((i) => i.assign_id);
  const unchangedAssigns = new Set<number>();
  for (const ids of chunks(assignIds, 500)) {
    const rows = await lockRows(trx, trx.selectFrom('assigns').select(['id', 'created_at', 'updated_at', 'last_call_at']).where('id', 'in', ids)).execute();
    const touched = new Set<number>();
    for (const h of await trx.selectFrom('history').select('assign_id').distinct().where('assign_id', 'in', ids).execute()) touched.add(Number(h.assign_id));
    for (const c of await trx.selectFrom('call_events').select('assign_id').distinct().where('assign_id', 'in', ids).execute()) touched.add(c.assign_id);
    for (const a of rows) {
      if (Number(a.updated_at) === Number(a.created_at) && a.last_call_at === null && !touched.has(a.id)) unchangedAssigns.add(a.id);
    }
  }

  const newCustomers = [...new Set(items.filter((i) => i.new_customer === 1).map((i) => i.customer_id))];
  const removeCustomers: number[] = [];
  for (const ids of chunks(newCustomers, 500)) {
    const rows = await lockRows(trx, trx.selectFrom('customers').select(['id', 'created_at', 'updated_at']).where('id', 'in', ids)).execute();
    const touched = new Set<number>();
    for (const h of await trx.selectFrom('history').select('customer_id').distinct().where('customer_id', 'in', ids).execute()) touched.add(h.customer_id);
    // Any assign of theirs that is not an unchanged assign of this import keeps the customer.
    for (const a of await trx.selectFrom('assigns').select(['id', 'customer_id']).where('customer_id', 'in', ids).execute()) {
      if (!unchangedAssigns.has(a.id)) touched.add(a.customer_id);
    }
    for (const c of rows) {
      if (Number(c.updated_at) === Number(c.created_at) && !touched.has(c.id)) removeCustomers.push(c.id);
      else result.kept++;
    }
  }
  const removedSet = new Set(removeCustomers);
  const removeAssigns = items.filter((i) => unchangedAssigns.has(i.assign_id) && (i.new_customer === 0 || removedSet.has(i.customer_id))).map((i) => i.assign_id);

  for (const ids of chunks(removeAssigns, 500)) {
    await trx.deleteFrom('call_requests').where('assign_id', 'in', ids).execute();
    await trx.deleteFrom('assigns').where('id', 'in', ids).execute();
    await trx.deleteFrom('import_items').where('import_id', '=', importId).where('assign_id', 'in', ids).execute();
  }
  for (const ids of chunks(removeCustomers, 500)) {
    await trx.deleteFrom('customer_phones').where('customer_id', 'in', ids).execute();
    await trx.deleteFrom('customer_uniques').where('customer_id', 'in', ids).execute();
    await trx.deleteFrom('customers').where('id', 'in', ids).execute();
  }
  result.removed = removeCustomers.length;
  result.assigns_removed = removeAssigns.length;
  await trx.updateTable('imports').set({ status: 'undone', undone_at: Date.now() }).where('id', '=', importId).execute();
  return result;
}
