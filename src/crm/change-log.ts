// Admin changes in the audit log: who (actor), what (endpoint, ids, detail), when, from where. Written in
// the change's own transaction, unlike the buffered telephony rows (audit.ts): an erasure or a rename
// is never committed without its audit row. The detail holds ids and setup attributes, never a
// customer's values (an erasure must not leave them here).
import type { Q } from '../db/connect.ts';

export interface ChangeEntry {
  /** who made it: "admin-token" for the bearer token, else the signed-in user */
  actor: string;
  /** what kind of change, e.g. "admin.customer.erase" */
  endpoint: string;
  client_ip?: string | null;
  project_id?: number | null;
  assign_id?: number | null;
  detail: Record<string, unknown>;
}

export async function logChange(trx: Q, e: ChangeEntry): Promise<void> {
  await trx
    .insertInto('audit_log')
    .values({
      at: Date.now(),
      endpoint: e.endpoint,
      code: 0,
      latency_ms: 0,
      key_id: null,
      client_ip: e.client_ip ?? null,
      worker_id: null,
      assign_id: e.assign_id ?? null,
      project_id: e.project_id ?? null,
      actor: e.actor,
      detail: JSON.stringify(e.detail),
    })
    .execute();
}
