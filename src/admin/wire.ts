// Rows → wire objects of the admin API, in one place.
import type { Selectable } from 'kysely';
import type { AssignRow, DidsTable, ProjectRow } from '../db/schema.ts';

const iso = (ms: number) => new Date(ms).toISOString();

export const project = (r: ProjectRow) => ({ id: r.id, name: r.name, created_at: iso(r.created_at) });
export const part = (r: { id: number; project_id: number; name: string }) => ({ id: r.id, project_id: r.project_id, name: r.name });
export const staffed = (r: { id: number; project_id: number; name: string; group_id: number | null; site_id: number | null }) => ({
  id: r.id,
  project_id: r.project_id,
  name: r.name,
  group_id: r.group_id,
  site_id: r.site_id,
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

/** Cursors are opaque to clients: the last id of the page, encoded. */
export function encodeCursor(lastId: number): string {
  return Buffer.from(`id:${lastId}`).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): number | undefined | null {
  if (cursor === undefined || cursor === '') return undefined;
  const m = /^id:(\d{1,16})$/.exec(Buffer.from(cursor, 'base64url').toString());
  return m ? Number(m[1]) : null;
}

export function page<T extends { id: number }, W>(rows: T[], limit: number, map: (r: T) => W) {
  return { items: rows.map(map), next_cursor: rows.length === limit && rows.length > 0 ? encodeCursor(rows[rows.length - 1]!.id) : null };
}
