// The reads behind get_data (and set_data by phone). These run inside live calls: every query here is
// an index lookup (phone index → assigns by customer → customer/repository/status by primary key), and
// each is compiled once per database (db/prepared.ts), not per call.
import { sql } from 'kysely';
import type { Db, Q } from '../db/connect.ts';
import { prepareRead, slot, type PreparedRead } from '../db/prepared.ts';

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

/** The by-phone query for one combination of filters (slots: project, phone, limit, repository, group, site). */
function byPhoneQuery(q: Q, withRepo: boolean, withGroup: boolean, withSite: boolean) {
  let query = viewQuery(q)
    // No `a.project_id = ?` here: the phone index is already per project and an assign always belongs to
    // its customer's project. With it, SQLite's planner walks every assign of the project (all of them,
    // in a one-project call center) instead of the few of this caller: 1 req/s instead of thousands.
    .where('a.customer_id', 'in', q.selectFrom('customer_phones').select('customer_id').where('project_id', '=', slot(0)).where('phone', '=', slot(1)));
  if (withRepo) query = query.where('a.repository_id', '=', slot(3));
  if (withGroup) query = query.where(sql`coalesce(a.group_id, r.group_id)`, '=', slot(4));
  if (withSite) query = query.where(sql`coalesce(a.site_id, r.site_id)`, '=', slot(5));
  return query.orderBy('a.activity_at', 'desc').orderBy('a.id', 'desc').limit(slot(2));
}

export interface Lookup {
  /** Assigns of the project whose customer holds this normalized phone, newest activity first. */
  findByPhone(projectId: number, phone: string, f: Filters, limit?: number): Promise<AssignView[]>;
  /** Assigns by id, in no particular order; ids not found are left out. */
  findByIds(ids: number[]): Promise<AssignView[]>;
  projectExists(id: number): Promise<boolean>;
  workerProject(id: number): Promise<number | undefined>;
  /** The DID registered to this project: undefined when unregistered, else its pinned repository or null. */
  didPin(projectId: number, didNorm: string): Promise<number | null | undefined>;
  /** Projects that registered this DID (CRM_DID_OPTIONAL: a DID alone may name the project). */
  didProjects(didNorm: string): Promise<number[]>;
}

export function createLookup(db: Db): Lookup {
  const byPhone = new Map<number, PreparedRead<AssignView>>();
  const byId = prepareRead(db, (q) => viewQuery(q).where('a.id', '=', slot(0))) as PreparedRead<AssignView>;
  const project = prepareRead(db, (q) => q.selectFrom('projects').select('id').where('id', '=', slot(0)));
  const worker = prepareRead(db, (q) => q.selectFrom('workers').select('project_id').where('id', '=', slot(0)));
  const pin = prepareRead(db, (q) => q.selectFrom('dids').select('repository_id').where('project_id', '=', slot(0)).where('did_norm', '=', slot(1)));
  const didOwners = prepareRead(db, (q) => q.selectFrom('dids').select('project_id').where('did_norm', '=', slot(0)));

  return {
    async findByPhone(projectId, phone, f, limit = MAX_MATCHES) {
      const shape = (f.repository_id !== undefined ? 1 : 0) | (f.group_id !== undefined ? 2 : 0) | (f.site_id !== undefined ? 4 : 0);
      let prepared = byPhone.get(shape);
      if (!prepared) {
        prepared = prepareRead(db, (q) => byPhoneQuery(q, (shape & 1) !== 0, (shape & 2) !== 0, (shape & 4) !== 0)) as PreparedRead<AssignView>;
        byPhone.set(shape, prepared);
      }
      return prepared.all([projectId, phone, limit, f.repository_id, f.group_id, f.site_id]);
    },
    async findByIds(ids) {
      const rows: AssignView[] = [];
      for (const id of ids) rows.push(...(await byId.all([id])));
      return rows;
    },
    async projectExists(id) {
      return (await project.all([id])).length > 0;
    },
    async workerProject(id) {
      return (await worker.all([id]))[0]?.project_id;
    },
    async didPin(projectId, didNorm) {
      const row = (await pin.all([projectId, didNorm]))[0];
      return row === undefined ? undefined : row.repository_id;
    },
    async didProjects(didNorm) {
      return (await didOwners.all([didNorm])).map((r) => r.project_id);
    },
  };
}
