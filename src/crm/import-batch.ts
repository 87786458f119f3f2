// One import batch written in one transaction: each prepared row is matched to the customer it is (by
// id, unique values and phones; import-owners.ts), then creates a customer, updates one, or fails with
// its own message. New customers are gathered and written at the end in multi-row inserts with reserved
// ids (the fast path); updates go row by row.
//
// Every row is checked before it is written (duplicates pre-read in bulk), so a batch normally runs
// without savepoints. When a write still fails (a concurrent writer took a unique value; the database's
// constraint has the last word), that batch is rolled back and run again with a savepoint per row, so
// only the offending row fails. On PostgreSQL an error aborts the whole transaction, hence the retry
// instead of carrying on.
import { cutToMark, markAtBatchEnd } from '../db/batch-tail.ts';
import { sql } from 'kysely';
import type { Db, Q } from '../db/connect.ts';
import type { AssignRow } from '../db/schema.ts';
import { isForeignKeyViolation, isUniqueViolation, lockRows, reserveIds } from '../db/dialect.ts';
import { AppError } from '../errors.ts';
import type { CountryCode } from '../phone.ts';
import { insertAssign, insertAssigns, setAssignStatus } from './assigns.ts';
import { emptyValues, insertCustomer, insertCustomers, parseData, updateCustomer, type Change, type Values } from './customers.ts';
import type { DateOrder } from './dates.ts';
import type { Field } from './fields.ts';
import { saveItems, type CreatedItem, type Reject } from './import-records.ts';
import { Owners, nameOf, takenBy, unique, type OwnerScope, type Pending } from './import-owners.ts';

export interface BatchContext extends OwnerScope {
  fields: Field[];
  statusIds: ReadonlySet<number>;
  rules: { country: CountryCode; dateOrder: DateOrder };
  ignoreUnknown: boolean;
  /** Column names rows may carry (display_names and ID_COLUMNS). */
  known: ReadonlySet<string>;
  importId: number;
}

/** A row that passed every check that needs no database. */
export interface PreparedRow {
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

export interface BatchResult {
  created: number;
  updated: number;
  skipped: number;
  errors: Reject[];
}

/** Writes a batch; on a row-level conflict, once more with a savepoint per row. */
export async function writeBatchOnce(db: Db, rows: PreparedRow[], ctx: BatchContext): Promise<BatchResult> {
  try {
    return await db.write((trx) => writeBatch(trx, rows, ctx, false));
  } catch (err) {
    if (!(err instanceof RowConflict)) throw err;
    return db.write((trx) => writeBatch(trx, rows, ctx, true));
  }
}

/** A row-level write failure in an unguarded batch: the batch is retried with a savepoint per row. */
class RowConflict extends Error {}

function isRowLevel(err: unknown): boolean {
  return err instanceof AppError || isUniqueViolation(err) || isForeignKeyViolation(err);
}

/** Runs one row's writes: unguarded, a row-level error fails the batch (RowConflict); guarded, only the row. */
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
  // Events the row hands to the group commit's end (db/batch-tail.ts) go with it when it rolls back.
  const mark = markAtBatchEnd(trx);
  try {
    await write();
    await sql`release savepoint import_row`.execute(trx);
    return undefined;
  } catch (err) {
    cutToMark(trx, mark);
    await sql`rollback to savepoint import_row`.execute(trx);
    await sql`release savepoint import_row`.execute(trx);
    if (!isRowLevel(err)) throw err;
    return err instanceof AppError ? err.message : 'conflicts with a change written at the same time';
  }
}

/** The state one batch's rows share. */
interface Batch {
  trx: Q;
  ctx: BatchContext;
  guarded: boolean;
  at: number;
  owners: Owners;
  result: BatchResult;
  items: CreatedItem[];
  pendings: Pending[];
}

async function writeBatch(trx: Q, rows: PreparedRow[], ctx: BatchContext, guarded: boolean): Promise<BatchResult> {
  const b: Batch = {
    trx,
    ctx,
    guarded,
    at: Date.now(),
    owners: await Owners.read(trx, rows, ctx),
    result: { created: 0, updated: 0, skipped: 0, errors: [] },
    items: [],
    pendings: [],
  };
  for (const row of rows) {
    const problem = await writeRow(b, row);
    if (problem !== undefined) b.result.errors.push({ line: row.line, message: problem, cells: row.cells });
  }
  if (b.pendings.length > 0) await insertPendings(b);
  // What the batch created, in its own transaction: the undo's record is never ahead of or behind it.
  await saveItems(trx, ctx.importId, b.items);
  return b.result;
}

/** Matches one row and writes it; the row's error message, or undefined when it was written or skipped. */
async function writeRow(b: Batch, row: PreparedRow): Promise<string | undefined> {
  const { owners, ctx } = b;
  const P = ctx.projectId;
  if (row.id !== undefined && owners.otherProject.has(row.id)) return `id ${row.id} belongs to another project`;
  const taken = row.assignId === undefined ? undefined : owners.assignTaken.get(row.assignId);
  if (taken && taken.project_id !== P) return `repository_assign_id ${row.assignId} belongs to another project`;

  // Who the row is: its id first; else the customers holding its unique values and phones.
  const { byUnique, byPhone } = owners.holders(row);
  let target = row.id === undefined ? undefined : owners.idOwner.get(row.id);
  const others = unique([...byUnique, ...byPhone]).filter((c) => c !== target);

  if (target === undefined && others.length === 0) {
    if (row.missing.length > 0) return `invalid fields: ${row.missing.map((m) => `${m} (${m} is required)`).join(', ')}`;
    if (taken) return `repository_assign_id ${row.assignId} already exists (${takenBy(taken)})`;
    return createCustomer(b, row);
  }
  if (!ctx.update) {
    b.result.skipped++;
    return undefined;
  }
  if (target === undefined) {
    if (others.length > 1) return `matches several customers (${others.map(nameOf).join('; ')}) by phone or unique field; add an id column to say which one`;
    target = others[0]!;
  } else {
    const holder = byUnique.find((c) => c !== target);
    if (holder !== undefined) return `a unique value of this row belongs to ${nameOf(holder)}, not to ${nameOf(target)}`;
  }
  return typeof target === 'number' ? updateCustomerRow(b, row, target) : updatePending(b, row, target);
}

/** A new customer: guarded, written at once; else gathered for the batch's multi-row insert. */
async function createCustomer(b: Batch, row: PreparedRow): Promise<string | undefined> {
  const { trx, ctx, owners } = b;
  const data = valuesOf(row.changes);
  let who: Pending | number;
  if (b.guarded) {
    let created: { id: number; assign: AssignRow } | undefined;
    const problem = await guard(trx, true, async () => {
      const c = await insertCustomer(trx, ctx.projectId, row.changes, { id: row.id, country: ctx.country, source: 'import', at: b.at });
      created = { id: c.id, assign: await insertAssign(trx, ctx.projectId, ctx.repositoryId, { id: row.assignId, customer_id: c.id, status_id: row.statusId ?? null }, b.at) };
    });
    if (problem !== undefined || !created) return problem ?? 'not written';
    who = created.id;
    b.items.push({ assign_id: created.assign.id, customer_id: created.id, new_customer: 1 });
    owners.memberships.set(created.id, created.assign);
    owners.joined(who, created.assign.id);
    if (ctx.update) owners.customerRows.set(created.id, { id: created.id, project_id: ctx.projectId, data: JSON.stringify(data), created_at: b.at, updated_at: b.at });
  } else {
    const pending: Pending = { line: row.line, id: row.id, assignId: row.assignId, statusId: row.statusId ?? null, data };
    who = pending;
    b.pendings.push(pending);
    if (row.assignId !== undefined) owners.joined(pending, row.assignId);
  }
  if (row.id !== undefined) owners.idOwner.set(row.id, who);
  owners.reindex(who, {}, data);
  b.result.created++;
  return undefined;
}

/** Updates a customer this batch creates: its pending row takes the changes. */
function updatePending(b: Batch, row: PreparedRow, p: Pending): string | undefined {
  const { owners, ctx } = b;
  if (row.assignId !== undefined && row.assignId !== p.assignId) {
    if (p.assignId !== undefined) return `${nameOf(p)} is already in repository ${ctx.repositoryId} as repository_assign_id ${p.assignId}, not ${row.assignId}`;
    const taken = owners.assignTaken.get(row.assignId);
    if (taken) return `repository_assign_id ${row.assignId} already exists (${takenBy(taken)})`;
    p.assignId = row.assignId;
    owners.joined(p, row.assignId);
  }
  const before = p.data;
  p.data = { ...before, ...valuesOf(row.changes) };
  if (row.statusId !== undefined) p.statusId = row.statusId;
  owners.reindex(p, before, p.data);
  b.result.updated++;
  return undefined;
}

/** Updates an existing customer and puts it in the repository when it is not yet there. */
async function updateCustomerRow(b: Batch, row: PreparedRow, customerId: number): Promise<string | undefined> {
  const { trx, ctx, owners } = b;
  const membership = owners.memberships.get(customerId);
  if (row.assignId !== undefined) {
    if (membership && membership.id !== row.assignId) {
      return `customer ${customerId} is already in repository ${ctx.repositoryId} as repository_assign_id ${membership.id}, not ${row.assignId}`;
    }
    const taken = owners.assignTaken.get(row.assignId);
    if (!membership && taken) return `repository_assign_id ${row.assignId} already exists (${takenBy(taken)})`;
  }
  const customer = owners.customerRows.get(customerId) ?? (await lockRows(trx, trx.selectFrom('customers').selectAll().where('id', '=', customerId)).executeTakeFirst());
  if (!customer) return `customer ${customerId} no longer exists`;
  const before = parseData(customer.data);
  let added: AssignRow | undefined;
  const problem = await guard(trx, b.guarded, async () => {
    await updateCustomer(trx, customer, row.changes, { country: ctx.country, source: 'import', assign_id: membership?.id ?? null, at: b.at });
    if (!membership) added = await insertAssign(trx, ctx.projectId, ctx.repositoryId, { id: row.assignId, customer_id: customerId, status_id: row.statusId ?? null }, b.at);
    else if (row.statusId !== undefined) await setAssignStatus(trx, { ...membership }, row.statusId, { source: 'import', at: b.at });
  });
  if (problem !== undefined) return problem;
  const after = { ...before, ...valuesOf(row.changes) };
  owners.customerRows.set(customerId, { ...customer, data: JSON.stringify(after), updated_at: b.at });
  if (membership && row.statusId !== undefined) membership.status_id = row.statusId;
  if (added) {
    b.items.push({ assign_id: added.id, customer_id: customerId, new_customer: 0 });
    owners.memberships.set(customerId, added);
    owners.joined(customerId, added.id);
  }
  owners.reindex(customerId, before, after);
  b.result.updated++;
  return undefined;
}

/** The fast path's writes: ids reserved, then a few multi-row inserts for the whole batch. */
async function insertPendings(b: Batch): Promise<void> {
  const { trx, ctx, pendings } = b;
  const ownId = pendings.filter((p) => p.id === undefined);
  const customerIds = await reserveIds(trx, 'customers', ownId.length, Math.max(0, ...pendings.map((p) => p.id ?? 0)));
  ownId.forEach((p, i) => (p.id = customerIds[i]));
  const ownAssign = pendings.filter((p) => p.assignId === undefined);
  const newAssignIds = await reserveIds(trx, 'assigns', ownAssign.length, Math.max(0, ...pendings.map((p) => p.assignId ?? 0)));
  ownAssign.forEach((p, i) => (p.assignId = newAssignIds[i]));
  try {
    await insertCustomers(trx, ctx.projectId, pendings.map((p) => ({ id: p.id!, changes: changesOf(ctx.fields, p.data) })), { country: ctx.country, source: 'import', at: b.at });
    await insertAssigns(trx, ctx.projectId, ctx.repositoryId, pendings.map((p) => ({ id: p.assignId!, customer_id: p.id!, status_id: p.statusId })), b.at);
  } catch (err) {
    if (isRowLevel(err)) throw new RowConflict('row conflict', { cause: err });
    throw err;
  }
  for (const p of pendings) b.items.push({ assign_id: p.assignId!, customer_id: p.id!, new_customer: 1 });
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
