// Customers: their field values, the phone index and unique values that go with them, and history.
import type { Q } from '../db/connect.ts';
import type { CustomerRow, HistorySource } from '../db/schema.ts';
import { advanceIdSequence, chunks, isUniqueViolation, lockRows, newRowId } from '../db/dialect.ts';
import { DuplicateUniqueError, conflict, invalid } from '../errors.ts';
import { normalizePhone, type CountryCode } from '../phone.ts';
import { listFields, uniqueKey, validateValue, type Field, type ValueRules } from './fields.ts';
import { dateOrderOf, type DateOrder } from './dates.ts';
import { emitEvents } from './events.ts';
import { compileByShape, compileOnce, compileRowsInsert } from '../db/compiled.ts';
import { slot } from '../db/slots.ts';

/**
 * display_name → value. Always a null-prototype object (emptyValues, parseData): the names are the
 * user's, and `valueOf`, `toString` or `hasOwnProperty` must read as absent fields, not as Object's
 * methods (issue 10, item 2).
 */
export type Values = Record<string, string>;

export function emptyValues(): Values {
  return Object.create(null) as Values;
}

export interface Customer {
  id: number;
  project_id: number;
  fields: Values;
  created_at: string;
  updated_at: string;
}

export function parseData(data: string): Values {
  // JSON.parse makes every key an own property (even __proto__); only the prototype must go.
  return Object.setPrototypeOf(JSON.parse(data), null) as Values;
}

export function toCustomer(row: CustomerRow): Customer {
  return {
    id: row.id,
    project_id: row.project_id,
    fields: parseData(row.data),
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  };
}

export interface Change {
  field: Field;
  /** '' clears */
  value: string;
}

export interface WriteContext {
  country: CountryCode;
  source: HistorySource;
  worker_id?: number | null;
  /** the signed-in console user making the change (admin API with a session) */
  user_id?: number | null;
  assign_id?: number | null;
  call_id?: string | null;
  at?: number;
  /** How dates are read (CRM_DATE_ORDER); default the country's order. */
  dateOrder?: DateOrder;
}

/**
 * Validates named values against the project's fields, all-or-nothing (admin API, import).
 * Unknown names and invalid values are a 400 naming each; a create also checks required fields.
 */
export function validateAll(fields: Field[], values: Record<string, unknown>, creating: boolean, rules?: ValueRules): Change[] {
  const byName = new Map(fields.map((f) => [f.display_name, f]));
  const details: Record<string, string> = Object.create(null);
  const changes: Change[] = [];
  for (const [name, raw] of Object.entries(values)) {
    const field = byName.get(name);
    if (!field) {
      details[name] = 'unknown field';
      continue;
    }
    if (raw !== null && typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') {
      details[name] = 'must be a string, a number or null';
      continue;
    }
    const v = validateValue(field, raw === null ? '' : String(raw), rules);
    if (!v.ok) details[name] = v.reason;
    else changes.push({ field, value: v.value });
  }
  if (creating) {
    for (const f of fields) {
      if (f.required && !changes.some((c) => c.field === f && c.value !== '') && !(f.display_name in details)) {
        details[f.display_name] = `${f.display_name} is required`;
      }
    }
  }
  if (Object.keys(details).length > 0) {
    throw invalid(`invalid fields: ${Object.entries(details).map(([k, v]) => `${k} (${v})`).join(', ')}`, details);
  }
  return changes;
}

/**
 * Inserts a customer with already validated values. Unique values and phones are indexed in the same
 * transaction; a unique value held by another customer throws DuplicateUniqueError.
 */
export async function insertCustomer(trx: Q, projectId: number, changes: Change[], ctx: WriteContext & { id?: number }): Promise<Customer> {
  const now = ctx.at ?? Date.now();
  const data = emptyValues();
  for (const c of changes) if (c.value !== '') data[c.field.display_name] = c.value;
  let row: CustomerRow;
  const id = ctx.id ?? (await newRowId(trx, 'customers'));
  try {
    row = await trx
      .insertInto('customers')
      .values({ ...(id !== undefined ? { id } : {}), project_id: projectId, data: JSON.stringify(data), created_at: now, updated_at: now })
      .returningAll()
      .executeTakeFirstOrThrow();
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`customer ${ctx.id} already exists`);
    throw err;
  }
  if (ctx.id !== undefined) await advanceIdSequence(trx, 'customers', ctx.id);
  await indexValues(trx, projectId, row.id, changes.filter((c) => c.value !== ''), ctx.country, false);
  await emitEvents(trx, [{ type: 'customer.created', project_id: projectId, at: now, data: { customer_id: row.id, fields: data, source: ctx.source } }]);
  return toCustomer(row);
}

/**
 * Inserts many new customers with ids already reserved (reserveIds) and validated values, with their
 * phone index and unique values, in few statements: the import's fast path. The caller has checked
 * uniqueness; a violation still throws the database's error, and the caller retries row by row.
 */
export async function insertCustomers(trx: Q, projectId: number, items: { id: number; changes: Change[] }[], ctx: WriteContext): Promise<void> {
  const now = ctx.at ?? Date.now();
  const phones: [number, string, number, number][] = [];
  const uniques: [number, number, string, number][] = [];
  const created: { id: number; data: Values }[] = [];
  const rows = items.map(({ id, changes }) => {
    const data = emptyValues();
    for (const { field, value } of changes) {
      if (value === '') continue;
      data[field.display_name] = value;
      if (field.unique) uniques.push([projectId, field.id, uniqueKey(field, value, ctx.country), id]);
      const phone = field.type === 'phone' ? normalizePhone(value, ctx.country) : '';
      if (phone !== '') phones.push([projectId, phone, id, field.id]);
    }
    created.push({ id, data });
    return [id, projectId, JSON.stringify(data), now, now];
  });
  await insertCustomerRows(trx, rows);
  await insertPhoneRows(trx, phones);
  await insertUniqueRows(trx, uniques);
  await emitEvents(
    trx,
    created.map((c) => ({ type: 'customer.created' as const, project_id: projectId, at: now, data: { customer_id: c.id, fields: c.data, source: ctx.source } })),
  );
}

// insertCustomers' statements, in the column order of its rows.
const insertCustomerRows = compileRowsInsert('customers', ['id', 'project_id', 'data', 'created_at', 'updated_at'], 500);
const insertPhoneRows = compileRowsInsert('customer_phones', ['project_id', 'phone', 'customer_id', 'field_id'], 500);
const insertUniqueRows = compileRowsInsert('customer_uniques', ['project_id', 'field_id', 'value', 'customer_id'], 500);

export interface AppliedChange {
  field: string;
  old_value: string | null;
  new_value: string | null;
}

/**
 * Applies validated changes to a customer: data, phone index, unique values and one history row per
 * value that really changed. Throws DuplicateUniqueError (and the caller's transaction rolls back) when
 * a unique value belongs to another customer.
 */
export async function updateCustomer(trx: Q, customer: CustomerRow, changes: Change[], ctx: WriteContext): Promise<AppliedChange[]> {
  const data = parseData(customer.data);
  const applied: AppliedChange[] = [];
  const changed: Change[] = [];
  for (const c of changes) {
    const old = data[c.field.display_name] ?? null;
    const next = c.value === '' ? null : c.value;
    if (old === next) continue;
    if (next === null) delete data[c.field.display_name];
    else data[c.field.display_name] = next;
    applied.push({ field: c.field.display_name, old_value: old, new_value: next });
    changed.push(c);
  }
  if (changed.length === 0) return applied;
  const now = ctx.at ?? Date.now();
  await indexValues(trx, customer.project_id, customer.id, changed, ctx.country, true);
  await updateData.later(trx, [customer.id, JSON.stringify(data), now]);
  await insertFieldHistory(trx, customer, applied, ctx, now);
  await emitEvents(trx, [
    {
      type: 'customer.fields_changed',
      project_id: customer.project_id,
      at: now,
      data: { customer_id: customer.id, assign_id: ctx.assign_id ?? null, changes: applied, source: ctx.source, worker_id: ctx.worker_id ?? null },
    },
  ]);
  return applied;
}

// The statements of a field write (set_data runs them inside live calls), compiled once (db/compiled.ts).
// Those whose answer nothing reads are sent with `later`: on PostgreSQL they go out with the next statement
// waited for, or the COMMIT (db/pg-driver.ts). The unique value's insert is waited for: its violation is
// the answer "duplicate".
const updateData = compileOnce((q) => q.updateTable('customers').set({ data: slot(1), updated_at: slot(2) }).where('id', '=', slot(0)));
const deleteUnique = compileOnce((q) => q.deleteFrom('customer_uniques').where('customer_id', '=', slot(0)).where('field_id', '=', slot(1)));
const insertUnique = compileOnce((q) => q.insertInto('customer_uniques').values({ project_id: slot(0), field_id: slot(1), value: slot(2), customer_id: slot(3) }));
const deletePhone = compileOnce((q) => q.deleteFrom('customer_phones').where('customer_id', '=', slot(0)).where('field_id', '=', slot(1)));
const insertPhone = compileOnce((q) => q.insertInto('customer_phones').values({ project_id: slot(0), phone: slot(1), customer_id: slot(2), field_id: slot(3) }));

/** Values per row of a field-history insert; a write of more than HISTORY_COMPILED values takes several inserts. */
const HISTORY_VALUES = 6;
const HISTORY_COMPILED = 8;
const fieldHistoryInsert = compileByShape((rows: number) => (q: Q) =>
  q.insertInto('history').values(
    Array.from({ length: rows }, (_, i) => {
      const v = (k: number) => slot(i * HISTORY_VALUES + k);
      return {
        project_id: v(0),
        customer_id: v(1),
        assign_id: v(2),
        kind: 'field' as const,
        field: v(3),
        old_value: v(4),
        new_value: v(5),
        old_status_id: null,
        new_status_id: null,
        status_id: null,
        notes: null,
        // the same for every row of one write: after the per-row slots
        call_id: slot(rows * HISTORY_VALUES),
        worker_id: slot(rows * HISTORY_VALUES + 1),
        user_id: slot(rows * HISTORY_VALUES + 2),
        source: slot(rows * HISTORY_VALUES + 3),
        at: slot(rows * HISTORY_VALUES + 4),
      };
    }),
  ),
);

/** One history row per changed value, in one statement. */
async function insertFieldHistory(trx: Q, customer: CustomerRow, applied: AppliedChange[], ctx: WriteContext, now: number): Promise<void> {
  for (const part of chunks(applied, HISTORY_COMPILED)) {
    const values: unknown[] = [];
    for (const a of part) values.push(customer.project_id, customer.id, ctx.assign_id ?? null, a.field, a.old_value, a.new_value);
    values.push(ctx.call_id ?? null, ctx.worker_id ?? null, ctx.user_id ?? null, ctx.source, now);
    await fieldHistoryInsert(part.length).later(trx, values);
  }
}

async function indexValues(trx: Q, projectId: number, customerId: number, changes: Change[], country: CountryCode, replacing: boolean) {
  for (const { field, value } of changes) {
    if (field.unique) {
      if (replacing) await deleteUnique.later(trx, [customerId, field.id]);
      if (value !== '') {
        try {
          await insertUnique.rows(trx, [projectId, field.id, uniqueKey(field, value, country), customerId]);
        } catch (err) {
          // The primary key decides, not an earlier read: two concurrent writers cannot both win.
          if (isUniqueViolation(err)) throw new DuplicateUniqueError(field.display_name);
          throw err;
        }
      }
    }
    if (field.type === 'phone') {
      if (replacing) await deletePhone.later(trx, [customerId, field.id]);
      const phone = value === '' ? '' : normalizePhone(value, country);
      if (phone !== '') {
        await insertPhone.later(trx, [projectId, phone, customerId, field.id]);
      }
    }
  }
}

export async function getCustomerRow(q: Q, id: number): Promise<CustomerRow | undefined> {
  return q.selectFrom('customers').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The customer row, locked until the transaction ends (PostgreSQL) so concurrent field writes do not lose each other. */
export async function lockCustomer(q: Q, id: number): Promise<CustomerRow | undefined> {
  return lockCustomerStatement.first(q, [id]);
}
// Columns named, not `*`: see ASSIGN_COLUMNS in assigns.ts.
const lockCustomerStatement = compileOnce((q) => lockRows(q, q.selectFrom('customers').select(['id', 'project_id', 'data', 'created_at', 'updated_at']).where('id', '=', slot(0))));

/**
 * The admin API's PATCH: the same type validation, unique rules and history as set_data, but
 * all-or-nothing — any invalid field is a 400 naming it, a duplicate unique value a 409 (the caller's
 * transaction rolls back), and nothing changes. Undefined when the customer does not exist.
 */
export async function patchCustomer(trx: Q, id: number, values: Record<string, unknown>, ctx: WriteContext): Promise<Customer | undefined> {
  const row = await lockCustomer(trx, id);
  if (!row) return undefined;
  const rules = { country: ctx.country, dateOrder: ctx.dateOrder ?? dateOrderOf(ctx.country) };
  const changes = validateAll(await listFields(trx, row.project_id), values, false, rules);
  const applied = await updateCustomer(trx, row, changes, ctx);
  return toCustomer(applied.length === 0 ? row : (await getCustomerRow(trx, id))!);
}
