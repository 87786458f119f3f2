// Erasure: a person's right to be forgotten (admin-api.md, DELETE /customers/:id). The customer's field
// values, phone index and unique values, its assigns (with their call notes and stored call_id answers)
// and the values in its history go; history keeps kind, field name, status ids and time. Afterwards no
// lookup, search or export finds the customer, and the values are gone from the database files too:
// - SQLite: the writer runs with secure_delete=ON (db/connect.ts), so every freed cell and page is
//   overwritten with zeros rather than left as free space; an erasure then checkpoints the WAL with
//   TRUNCATE (forgetOldPages), because the WAL still holds the pages as they were before (and a WAL
//   frame is only ever overwritten, never zeroed, until the file is reset).
// Copies of the values outside the customer's rows (the webhook outbox, import rejects) are scrubbed in
// the same transaction by erase-traces.ts.
// - PostgreSQL: the old row versions are invisible at once and reclaimed by (auto)vacuum; on disk they
//   last until vacuum reuses their space (docs/admin-api.md says so).
import { sql } from 'kysely';
import type { CountryCode } from 'libphonenumber-js';
import { emitEvents } from './events.ts';
import { identifiersOf, scrubDeliveries, scrubRejects } from './erase-traces.ts';
import type { Db, Q } from '../db/connect.ts';
import { lockCustomer } from './customers.ts';
import { removeAssign } from './lifecycle.ts';

export interface Erased {
  customer_id: number;
  project_id: number;
  assign_ids: number[];
}

/** Erases a customer inside the caller's transaction; undefined when there is no such customer. */
export async function eraseCustomer(trx: Q, id: number, country: CountryCode): Promise<Erased | undefined> {
  const customer = await lockCustomer(trx, id);
  if (!customer) return undefined;
  const identifiers = await identifiersOf(trx, id);
  const assigns = await trx.selectFrom('assigns').selectAll().where('customer_id', '=', id).orderBy('id').execute();
  for (const a of assigns) await removeAssign(trx, a, 'erased');
  await trx.updateTable('history').set({ old_value: null, new_value: null, notes: null }).where('customer_id', '=', id).execute();
  await trx.deleteFrom('customer_phones').where('customer_id', '=', id).execute();
  await trx.deleteFrom('customer_uniques').where('customer_id', '=', id).execute();
  await trx.deleteFrom('customers').where('id', '=', id).execute();
  await scrubDeliveries(trx, id);
  await scrubRejects(trx, customer.project_id, identifiers, country);
  // Downstream systems hear of it in the same transaction (integrations.md): ids only, never a value.
  await emitEvents(trx, [{ type: 'customer.erased', project_id: customer.project_id, data: { customer_id: id, assign_ids: assigns.map((a) => a.id) } }]);
  return { customer_id: id, project_id: customer.project_id, assign_ids: assigns.map((a) => a.id) };
}

/**
 * After an erasure committed, SQLite: fold the WAL into the database file and truncate it to zero bytes,
 * so no earlier page image with the erased values is left in the -wal file. TRUNCATE waits (busy_timeout)
 * for readers of older snapshots; a reader that holds one longer leaves the WAL untruncated, which is
 * retried and then reported (false). PostgreSQL: nothing to do (true).
 */
export async function forgetOldPages(db: Db): Promise<boolean> {
  if (db.dialect !== 'sqlite') return true;
  for (let attempt = 0; attempt < 5; attempt++) {
    const { rows } = await sql<{ busy: number; log: number; checkpointed: number }>`pragma wal_checkpoint(TRUNCATE)`.execute(db.q);
    if (rows[0]?.busy === 0) return true;
    await new Promise((resolve) => setTimeout(resolve, 100 * (attempt + 1)));
  }
  return false;
}
