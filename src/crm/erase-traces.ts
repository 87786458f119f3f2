// The copies of a person's values that live outside the customer's own rows, scrubbed by an erasure in
// its transaction (crm/erase.ts):
// - the webhook outbox (webhook_events, the writes' events not yet fanned out, and those of this
//   group-commit batch's earlier writes still waiting for the batch's end) and the delivery log
//   (webhook_deliveries.data): customer.created, customer.fields_changed, call.recorded and
//   assign.status_changed quote values (fields, changes, notes, call_id). Every such event, whatever
//   its status, keeps only its numeric ids and gains "erased": true. A pending delivery is
//   still sent, redacted: the receiver learns that something happened and then gets customer.erased,
//   rather than a gap in the assign's sequence numbers.
// - import rejects (import_rejects.cells): a rejected row was never linked to a customer, so it is
//   recognised by what identifies the person: a cell equal to one of the person's phone numbers (in any
//   spelling, compared normalized) or unique values (e-mail compared case-insensitively). Such rows are
//   deleted; the import's error_count keeps counting them. A rejected row of a namesake with another
//   phone number stays: a first name alone does not identify anyone.
import type { CountryCode } from 'libphonenumber-js';
import type { Q } from '../db/connect.ts';
import { isPostgres } from '../db/dialect.ts';
import { normalizePhone } from '../phone.ts';
import { outboxTail, storedType, type StoredEvent } from './events.ts';
import { waitingAtBatchEnd, whenKept } from '../db/batch-tail.ts';

/** The values that identify a customer, read before its index rows are deleted. */
export interface Identifiers {
  phones: Set<string>;
  uniques: Set<string>;
}

export async function identifiersOf(trx: Q, customerId: number): Promise<Identifiers> {
  const phones = await trx.selectFrom('customer_phones').select('phone').where('customer_id', '=', customerId).execute();
  const uniques = await trx.selectFrom('customer_uniques').select('value').where('customer_id', '=', customerId).execute();
  return {
    phones: new Set(phones.map((p) => p.phone)),
    uniques: new Set(uniques.map((u) => u.value.toLowerCase())),
  };
}

/** Redacts every outbox event and delivery about the customer to its ids. Returns how many were rewritten. */
export async function scrubDeliveries(trx: Q, customerId: number): Promise<number> {
  let rewritten = 0;
  // The outbox rows first, locked (PostgreSQL), then the deliveries: the sender's fan-out locks the
  // outbox rows it moves into deliveries (crm/webhooks.ts fanOutEvents), so a row is either scrubbed
  // here before it is fanned out, or already fanned out, and then its deliveries are visible to the
  // deliveries' scan below (a later statement, under READ COMMITTED).
  const outbox = await trx
    .selectFrom('webhook_events')
    .select(['id', 'events'])
    .where('events', 'like', `%"customer_id":${customerId}%`)
    // In id order, as the fan-out locks them: two transactions locking several rows never wait on each other crosswise.
    .orderBy('id')
    .$if(isPostgres(trx), (q) => q.forUpdate())
    .execute();
  // Events of this batch's writes not yet in the table (db/batch-tail.ts): redacted in place once this
  // write is kept (if the erasure rolls back, they stay as they were, like the rows above).
  whenKept(trx, () => {
    for (const events of waitingAtBatchEnd(trx, outboxTail)) {
      events.forEach((json, i) => {
        if (!json.includes(`"customer_id":${customerId}`)) return;
        const redacted = redactEvent(JSON.parse(json) as StoredEvent, customerId);
        if (redacted) events[i] = JSON.stringify(redacted);
      });
    }
  });
  for (const row of outbox) {
    let changed = false;
    const events = (JSON.parse(row.events) as StoredEvent[]).map((e) => {
      const redacted = redactEvent(e, customerId);
      if (!redacted) return e;
      changed = true;
      rewritten++;
      return redacted;
    });
    if (changed) await trx.updateTable('webhook_events').set({ events: JSON.stringify(events) }).where('id', '=', row.id).execute();
  }
  // A LIKE narrows the scan to rows that mention the id (data is our own JSON.stringify output, so the
  // spelling is exact); the parse below drops false hits such as customer 12 for 123.
  const rows = await trx
    .selectFrom('webhook_deliveries')
    .select(['id', 'data'])
    .where('data', 'like', `%"customer_id":${customerId}%`)
    .execute();
  for (const row of rows) {
    const data = JSON.parse(row.data) as Record<string, unknown>;
    if (data.customer_id !== customerId || data.erased === true) continue;
    await trx.updateTable('webhook_deliveries').set({ data: JSON.stringify(idsOnly(data)) }).where('id', '=', row.id).execute();
    rewritten++;
  }
  return rewritten;
}

/**
 * The event with its data cut to ids when it is about the customer and not yet redacted; undefined when
 * it stays as it is. customer.erased (the erasure's own event) holds ids only already.
 */
function redactEvent(e: StoredEvent, customerId: number): StoredEvent | undefined {
  const data = e[4];
  if (data.customer_id !== customerId || data.erased === true || storedType(e) === 'customer.erased') return undefined;
  return [e[0], e[1], e[2], e[3], idsOnly(data)];
}

/** Keeps the numeric members (ids, status ids, sequence) and the event's source; drops every value. */
function idsOnly(data: Record<string, unknown>): Record<string, unknown> {
  const kept: Record<string, unknown> = Object.create(null);
  for (const [k, v] of Object.entries(data)) {
    if (typeof v === 'number' || v === null || (Array.isArray(v) && v.every((x) => typeof x === 'number'))) kept[k] = v;
  }
  if (typeof data.source === 'string') kept.source = data.source;
  kept.erased = true;
  return kept;
}

/**
 * Deletes the project's import rejects that carry one of the person's identifiers. Returns how many.
 * It reads every reject of the project's imports (rejects are not indexed by value): an erasure is rare,
 * and a project's rejects are bounded by what its imports refused; `DELETE /imports/:id` does not remove
 * rejects, so a call center that keeps millions of them pays for it here, inside the erasure's write.
 */
export async function scrubRejects(trx: Q, projectId: number, ids: Identifiers, country: CountryCode): Promise<number> {
  if (ids.phones.size === 0 && ids.uniques.size === 0) return 0;
  const rows = await trx
    .selectFrom('import_rejects')
    .innerJoin('imports', 'imports.id', 'import_rejects.import_id')
    .select(['import_rejects.id as id', 'import_rejects.cells as cells'])
    .where('imports.project_id', '=', projectId)
    .execute();
  const doomed = rows.filter((r) => cellsOf(r.cells).some((cell) => identifies(cell, ids, country))).map((r) => r.id);
  for (let i = 0; i < doomed.length; i += 500) {
    await trx.deleteFrom('import_rejects').where('id', 'in', doomed.slice(i, i + 500)).execute();
  }
  return doomed.length;
}

function cellsOf(json: string): string[] {
  try {
    const parsed: unknown = JSON.parse(json);
    if (!Array.isArray(parsed)) return [];
    // NDJSON rejects are one cell holding the line: its string values count as cells too.
    return parsed.flatMap((c) => (typeof c === 'string' ? [c, ...ndjsonValues(c)] : []));
  } catch {
    return [];
  }
}

function ndjsonValues(line: string): string[] {
  if (!line.trimStart().startsWith('{')) return [];
  try {
    const obj: unknown = JSON.parse(line);
    return obj && typeof obj === 'object' ? Object.values(obj).filter((v): v is string => typeof v === 'string') : [];
  } catch {
    // Not valid JSON (that may be why it was rejected): look at its quoted strings.
    return [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!);
  }
}

function identifies(cell: string, ids: Identifiers, country: CountryCode): boolean {
  const value = cell.trim();
  if (value === '') return false;
  if (ids.uniques.has(value.toLowerCase())) return true;
  if (ids.phones.size === 0 || !/\d{5}/.test(value.replace(/\D/g, ''))) return false;
  const normalized = normalizePhone(value, country);
  return ids.phones.has(normalized);
}
