// Call events written through the admin API (dialers, CDR feeds) and the reads of an assign's calls.
import type { Q } from '../db/connect.ts';
import type { AssignRow } from '../db/schema.ts';
import { checkBelongs, recordCall, setAssignStatus, type CallEventRow } from './assigns.ts';
import type { Page } from './setup.ts';

export type { CallEventRow };

export interface AdminCall {
  worker_id?: number | null;
  /** the signed-in console user recording it */
  user_id?: number | null;
  status_id?: number | null;
  notes?: string | null;
  call_id?: string | null;
  /** ms since the epoch; default now */
  at?: number;
}

/**
 * Records a call on a (locked) assign. A CDR may arrive late: only the newest event by time moves
 * last_call/last_notes (recordCall) and, when it carries a status, the assign's current status.
 * A status or worker of another project is a 422 and nothing is written.
 */
export async function addCall(trx: Q, assign: AssignRow, c: AdminCall): Promise<CallEventRow> {
  await checkBelongs(trx, assign.project_id, { worker_id: c.worker_id, status_id: c.status_id });
  const at = c.at ?? Date.now();
  const newest = assign.last_call_at === null || at >= assign.last_call_at;
  const w = { source: 'admin' as const, worker_id: c.worker_id ?? null, user_id: c.user_id ?? null, call_id: c.call_id ?? null, at };
  const event = await recordCall(trx, assign, { ...w, status_id: c.status_id ?? null, notes: c.notes ?? null }, undefined, 'row');
  if (newest && c.status_id !== undefined && c.status_id !== null) await setAssignStatus(trx, assign, c.status_id, w);
  return event;
}

/** An assign's call events in the order they were recorded, a page at a time. */
export async function listCalls(q: Q, assignId: number, page: Page): Promise<CallEventRow[]> {
  let query = q.selectFrom('call_events').selectAll().where('assign_id', '=', assignId);
  if (page.after !== undefined) query = query.where('id', '>', page.after);
  return query.orderBy('id').limit(page.limit).execute();
}
