// What the inbound adapters (integrations/) read and write: contacts by phone, a contact's newest assign,
// and a call (with an optional status) recorded once per external call key. The key is kept in
// call_requests, the table of the telephony API's call_id retries, under the adapter's own endpoint
// name: a repeated request finds the first answer there and changes nothing.
import type { Q } from '../db/connect.ts';
import { lockRows } from '../db/dialect.ts';
import type { AssignRow, CustomerRow, HistorySource } from '../db/schema.ts';
import { recordCall } from './assigns.ts';

/** Customers of the project holding this normalized phone in a phone field, newest activity first. */
export async function customersByPhone(q: Q, projectId: number, phone: string, limit: number): Promise<CustomerRow[]> {
  return q
    .selectFrom('customers as c')
    .selectAll('c')
    .where('c.id', 'in', q.selectFrom('customer_phones').select('customer_id').where('project_id', '=', projectId).where('phone', '=', phone))
    .orderBy('c.updated_at', 'desc')
    .orderBy('c.id', 'desc')
    .limit(limit)
    .execute();
}

/** The customer's assign with the newest activity, locked for a write (PostgreSQL). */
export async function lockNewestAssign(trx: Q, customerId: number): Promise<AssignRow | undefined> {
  const newest = await trx.selectFrom('assigns').select('id').where('customer_id', '=', customerId).orderBy('activity_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
  if (!newest) return undefined;
  return lockRows(trx, trx.selectFrom('assigns').selectAll().where('id', '=', newest.id)).executeTakeFirst();
}

/** The assign by id within the project, locked (PostgreSQL). */
export async function lockProjectAssign(trx: Q, projectId: number, id: number): Promise<AssignRow | undefined> {
  return lockRows(trx, trx.selectFrom('assigns').selectAll().where('id', '=', id).where('project_id', '=', projectId)).executeTakeFirst();
}

/** The newest-activity assign of the project whose customer holds this phone, locked (PostgreSQL). */
export async function lockAssignByPhone(trx: Q, projectId: number, phone: string): Promise<AssignRow | undefined> {
  const newest = await trx
    .selectFrom('assigns')
    .select('id')
    .where('customer_id', 'in', trx.selectFrom('customer_phones').select('customer_id').where('project_id', '=', projectId).where('phone', '=', phone))
    .orderBy('activity_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return newest ? lockProjectAssign(trx, projectId, newest.id) : undefined;
}

export interface ExternalCall {
  /** the adapter (call_requests.endpoint): '3cx_journal', 'vicidial_dispo' */
  endpoint: string;
  /** what makes a repeat the same call, e.g. number + start time + agent */
  key: string;
  source: HistorySource;
  at?: number;
  worker_id?: number | null;
  notes?: string | null;
  call_id?: string | null;
  /** a status to set (null clears); undefined records the call only */
  status?: number | null;
}

/**
 * Records the call on a locked assign once per key. Answers the stored result of the first request when
 * the key was seen before (nothing is written then), else `answer` after writing.
 */
export async function recordExternalCall<T>(trx: Q, assign: AssignRow, c: ExternalCall, answer: T): Promise<{ repeated: boolean; answer: T }> {
  const key = { endpoint: c.endpoint, call_id: c.key.slice(0, 400), assign_id: 0, request_hash: '' };
  const prior = await storedAnswer<T>(trx, c.endpoint, c.key);
  if (prior !== undefined) return { repeated: true, answer: prior };
  // assign_id 0: the key alone identifies the call (a retry may resolve to another assign meanwhile).
  // A concurrent first attempt holding the key makes this insert fail with a unique violation (on
  // PostgreSQL after waiting for it to commit): the caller reads that attempt's answer (storedAnswer).
  await trx.insertInto('call_requests').values({ ...key, project_id: assign.project_id, response: JSON.stringify(answer), created_at: Date.now() }).execute();
  await recordCall(trx, assign, { source: c.source, at: c.at, worker_id: c.worker_id ?? null, notes: c.notes ?? null, call_id: c.call_id ?? null, status_id: c.status ?? null }, c.status);
  return { repeated: false, answer };
}

/** The answer stored for an external call key, if it was recorded before. */
export async function storedAnswer<T>(q: Q, endpoint: string, key: string): Promise<T | undefined> {
  const row = await q
    .selectFrom('call_requests')
    .select('response')
    .where('endpoint', '=', endpoint)
    .where('call_id', '=', key.slice(0, 400))
    .where('assign_id', '=', 0)
    .where('request_hash', '=', '')
    .executeTakeFirst();
  return row ? (JSON.parse(row.response) as T) : undefined;
}
