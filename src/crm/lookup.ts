// The reads behind get_data (and set_data by phone). These run inside live calls: every query here is
// an index lookup (phone index → assigns by customer → customer/repository/status by primary key).
import { sql } from 'kysely';
import type { Q } from '../db/connect.ts';

export interface AssignView {
  id: number;
  project_id: number;
  repository_id: number;
  repository_name: string;
  customer_id: number;
  data: string;
  /** the assign's own group/site, else its repository's */
  group_id: number | null;
  site_id: number | null;
  worker_id: number | null;
  status_id: number | null;
  status_name: string | null;
  last_call_at: number | null;
  last_notes: string | null;
  activity_at: number;
}

export interface Filters {
  repository_id?: number;
  group_id?: number;
  site_id?: number;
}

/** get_data's answer cap by phone: a number shared by hundreds of leads must not flood an IVR. */
export const MAX_MATCHES = 100;

function viewQuery(q: Q) {
  return q
    .selectFrom('assigns as a')
    .innerJoin('customers as c', 'c.id', 'a.customer_id')
    .innerJoin('repositories as r', 'r.id', 'a.repository_id')
    .leftJoin('statuses as s', 's.id', 'a.status_id')
    .select([
      'a.id',
      'a.project_id',
      'a.repository_id',
      'r.name as repository_name',
      'a.customer_id',
      'c.data',
      sql<number | null>`coalesce(a.group_id, r.group_id)`.as('group_id'),
      sql<number | null>`coalesce(a.site_id, r.site_id)`.as('site_id'),
      'a.worker_id',
      'a.status_id',
      's.name as status_name',
      'a.last_call_at',
      'a.last_notes',
      'a.activity_at',
    ]);
}

/** Assigns of the project whose customer holds this normalized phone, newest activity first. */
export async function findByPhone(q: Q, projectId: number, phone: string, f: Filters, limit = MAX_MATCHES): Promise<AssignView[]> {
  let query = viewQuery(q)
    .where('a.customer_id', 'in', q.selectFrom('customer_phones').select('customer_id').where('project_id', '=', projectId).where('phone', '=', phone))
    .where('a.project_id', '=', projectId);
  if (f.repository_id !== undefined) query = query.where('a.repository_id', '=', f.repository_id);
  if (f.group_id !== undefined) query = query.where(sql`coalesce(a.group_id, r.group_id)`, '=', f.group_id);
  if (f.site_id !== undefined) query = query.where(sql`coalesce(a.site_id, r.site_id)`, '=', f.site_id);
  return (await query.orderBy('a.activity_at', 'desc').orderBy('a.id', 'desc').limit(limit).execute()) as AssignView[];
}

export async function findByIds(q: Q, ids: number[]): Promise<AssignView[]> {
  if (ids.length === 0) return [];
  return (await viewQuery(q).where('a.id', 'in', ids).execute()) as AssignView[];
}

export async function projectExists(q: Q, id: number): Promise<boolean> {
  return (await q.selectFrom('projects').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
}

export async function workerProject(q: Q, id: number): Promise<number | undefined> {
  return (await q.selectFrom('workers').select('project_id').where('id', '=', id).executeTakeFirst())?.project_id;
}

/** The DID registered to this project: undefined when unregistered, else its pinned repository or null. */
export async function didPin(q: Q, projectId: number, didNorm: string): Promise<number | null | undefined> {
  const row = await q.selectFrom('dids').select('repository_id').where('project_id', '=', projectId).where('did_norm', '=', didNorm).executeTakeFirst();
  return row === undefined ? undefined : row.repository_id;
}

/** Projects that registered this DID (CRM_DID_OPTIONAL: a DID alone may name the project). */
export async function didProjects(q: Q, didNorm: string): Promise<number[]> {
  return (await q.selectFrom('dids').select('project_id').where('did_norm', '=', didNorm).execute()).map((r) => r.project_id);
}
