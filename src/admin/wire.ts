// Rows → wire objects of the admin API, in one place.
import type { Selectable } from 'kysely';
import type { AssignRow, AuditLogTable, CallEventsTable, DidsTable, ProjectRow } from '../db/schema.ts';
import type { AssignDetail } from '../crm/assigns.ts';
import { toCustomer } from '../crm/customers.ts';
import type { HistoryEntry } from '../crm/history.ts';
import { parseId } from '../ids.ts';

const iso = (ms: number) => new Date(ms).toISOString();

export const project = (r: ProjectRow) => ({ id: r.id, name: r.name, created_at: iso(r.created_at) });
export const part = (r: { id: number; project_id: number; name: string; archived_at: number | null }) => ({
  id: r.id,
  project_id: r.project_id,
  name: r.name,
  archived: r.archived_at !== null,
});
export const staffed = (r: { id: number; project_id: number; name: string; group_id: number | null; site_id: number | null; archived_at: number | null }) => ({
  id: r.id,
  project_id: r.project_id,
  name: r.name,
  group_id: r.group_id,
  site_id: r.site_id,
  archived: r.archived_at !== null,
});
export const did = (r: Selectable<DidsTable>) => ({ id: r.id, project_id: r.project_id, did: r.did, repository_id: r.repository_id });
export const assign = (r: AssignRow) => ({
  id: r.id,
  project_id: r.project_id,
  repository_id: r.repository_id,
  customer_id: r.customer_id,
  group_id: r.group_id,
  site_id: r.site_id,
  worker_id: r.worker_id,
  status_id: r.status_id,
  last_call: r.last_call_at === null ? null : iso(r.last_call_at),
  last_notes: r.last_notes,
  created_at: iso(r.created_at),
});

export const callEvent = (r: Selectable<CallEventsTable>) => ({
  id: r.id,
  assign_id: r.assign_id,
  at: iso(r.at),
  worker_id: r.worker_id,
  status_id: r.status_id,
  notes: r.notes,
  call_id: r.call_id,
  source: r.source,
  ...(r.user_id == null ? {} : { user_id: r.user_id }),
});

export const assignDetail = (d: AssignDetail) => ({
  ...assign(d.assign),
  repository_name: d.repository_name,
  customer: toCustomer(d.customer),
  status: d.status,
  last_call_event: d.last_call_event === undefined ? null : callEvent(d.last_call_event),
});

/** A history item: the keys of its kind only (admin-api.md). */
export function historyItem(e: HistoryEntry) {
  // user_id only when a console user made the change: machine writes keep the shape they always had.
  const common = { at: iso(e.at), worker_id: e.worker_id, ...(e.user_id == null ? {} : { user_id: e.user_id }), source: e.source, call_id: e.call_id };
  if (e.kind === 'field') return { kind: e.kind, ...common, field: e.field ?? '', old_value: e.old_value, new_value: e.new_value };
  if (e.kind === 'status') return { kind: e.kind, ...common, old_status_id: e.old_status_id, new_status_id: e.new_status_id };
  return { kind: e.kind, ...common, status_id: e.status_id, notes: e.notes };
}

/** An audit row of a telephony write (key_id is a digest prefix, never the key). */
export const auditEntry = (r: Selectable<AuditLogTable>) => ({
  id: r.id,
  at: iso(r.at),
  endpoint: r.endpoint,
  code: r.code,
  latency_ms: r.latency_ms,
  key_id: r.key_id,
  ...(r.key_name == null ? {} : { key_name: r.key_name }),
  client_ip: r.client_ip,
  worker_id: r.worker_id,
  assign_id: r.assign_id,
  project_id: r.project_id,
  actor: r.actor,
  detail: r.detail,
});

/** Cursors are opaque to clients: the last id of the page, encoded. */
export function encodeCursor(lastId: number): string {
  return Buffer.from(`id:${lastId}`).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): number | undefined | null {
  if (cursor === undefined || cursor === '') return undefined;
  const m = /^id:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString());
  return (m && parseId(m[1])) ?? null;
}

export function page<T extends { id: number }, W>(rows: T[], limit: number, map: (r: T) => W) {
  return { items: rows.map(map), next_cursor: rows.length === limit && rows.length > 0 ? encodeCursor(rows[rows.length - 1]!.id) : null };
}

/**
 * Cursors over a composite sort key (history: time, table, id; fields: position, id), tagged so that a
 * cursor of one list is refused by another.
 */
export function encodeKeyCursor(tag: string, key: readonly number[]): string {
  return Buffer.from(`${tag}:${key.join(':')}`).toString('base64url');
}

export function decodeKeyCursor(tag: string, size: number, cursor: string | undefined): number[] | undefined | null {
  if (cursor === undefined || cursor === '') return undefined;
  const parts = Buffer.from(cursor, 'base64url').toString().split(':');
  if (parts.length !== size + 1 || parts[0] !== tag || !parts.slice(1).every((p) => /^-?\d{1,16}$/.test(p))) return null;
  return parts.slice(1).map(Number);
}
