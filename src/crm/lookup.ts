// The reads behind get_data (and set_data by phone). These run inside live calls: every query here is
// an index lookup (phone index → assigns by customer → customer/repository/status by primary key), and
// each is compiled once per database (db/prepared.ts), not per call.
import { sql } from 'kysely';
import type { Db, Q } from '../db/connect.ts';
import { prepareRead, type PreparedRead } from '../db/prepared.ts';
import { slot } from '../db/slots.ts';
import type { AssignFacts } from './special-out.ts';
import { parseData } from './customers.ts';
import type { Field } from './fields.ts';
import type { SetupCache } from './setup-cache.ts';

/** An assign as get_data reads it; group_id/site_id are the assign's own, else its repository's. */
export interface AssignView extends AssignFacts {
  data: string;
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

/** The by-phone query for one combination of filters and one limit (slots: 0 project, 1 phone, 3 repository, 4 group, 5 site). */
function byPhoneQuery(q: Q, withRepo: boolean, withGroup: boolean, withSite: boolean, limit: number) {
  let query = viewQuery(q)
    // No `a.project_id = ?` here: the phone index is already per project and an assign always belongs to
    // its customer's project. With it, SQLite's planner walks every assign of the project (all of them,
    // in a one-project call center) instead of the few of this caller: 1 req/s instead of thousands.
    .where('a.customer_id', 'in', q.selectFrom('customer_phones').select('customer_id').where('project_id', '=', slot(0)).where('phone', '=', slot(1)));
  if (withRepo) query = query.where('a.repository_id', '=', slot(3));
  if (withGroup) query = query.where(sql`coalesce(a.group_id, r.group_id)`, '=', slot(4));
  if (withSite) query = query.where(sql`coalesce(a.site_id, r.site_id)`, '=', slot(5));
  // The limit is written into the SQL, not bound: with `LIMIT ?` SQLite sorts through a temporary B-tree
  // and the lookup costs ~68 µs at 1M customers; with a literal it uses its top-N sorter, ~36 µs.
  return query.orderBy('a.activity_at', 'desc').orderBy('a.id', 'desc').limit(sql.lit(limit));
}

export interface Lookup {
  /**
   * Assigns of the project whose customer holds this normalized phone, newest activity first. Values of
   * archived fields are left out of `data` (get_data answers them null).
   */
  findByPhone(projectId: number, phone: string, f: Filters, limit?: number): Promise<AssignView[]>;
  /** Assigns by id, in no particular order; ids not found are left out. `data` as in findByPhone. */
  findByIds(ids: number[]): Promise<AssignView[]>;
  projectExists(id: number): Promise<boolean>;
  workerProject(id: number): Promise<number | undefined>;
  /** The DID registered to this project: undefined when unregistered, else its pinned repository or null. */
  didPin(projectId: number, didNorm: string): Promise<number | null | undefined>;
  /** Projects that registered this DID (CRM_DID_OPTIONAL: a DID alone may name the project). */
  didProjects(didNorm: string): Promise<number[]>;
  /**
   * The project of a status that may be set; undefined when there is no such status or it is archived
   * (set_status code 5, set_data errors.status). `trx`: the caller's open transaction, read on a miss.
   * Inside a write it must be given: on PostgreSQL a second pooled connection per transaction deadlocks
   * the pool once every connection holds a transaction.
   */
  statusProject(id: number, trx: Q): Promise<number | undefined>;
  /**
   * The project's fields in use by display_name, for set_data (an archived or renamed-away name is not
   * there: "Unknown field"). The setup version is read in `trx` first, so a field renamed or archived a
   * moment ago by any process is never written under its old name. `trx` as above.
   */
  fieldsByName(projectId: number, names: readonly string[], trx: Q): Promise<ReadonlyMap<string, Field>>;
  /** display_names of the project's fields in use (get_data's warning about unknown out names). */
  fieldNames(projectId: number): Promise<ReadonlySet<string>>;
}

/**
 * The reads of the telephony endpoints. Setup facts (a project, a worker's project, a DID's pin, a
 * status's project, a project's fields) come from the setup cache (setup-cache.ts: one cache per app,
 * invalidated by the setup version), which takes two of get_data's three statements off the hot path
 * (~8 µs each on SQLite, a round trip on PostgreSQL), and two of set_data's reads.
 */
export function createLookup(db: Db, cache: SetupCache): Lookup {
  const byPhone = new Map<number, PreparedRead<AssignView>>();
  const byId = prepareRead(db, (q) => viewQuery(q).where('a.id', '=', slot(0))) as PreparedRead<AssignView>;
  const project = prepareRead(db, (q) => q.selectFrom('projects').select('id').where('id', '=', slot(0)));
  const worker = prepareRead(db, (q) => q.selectFrom('workers').select('project_id').where('id', '=', slot(0)));
  const pin = prepareRead(db, (q) => q.selectFrom('dids').select('repository_id').where('project_id', '=', slot(0)).where('did_norm', '=', slot(1)));
  const didOwners = prepareRead(db, (q) => q.selectFrom('dids').select('project_id').where('did_norm', '=', slot(0)));

  /** Sync and cheap (one map read per row): may a row hold a value of an archived field? */
  function mayHide(rows: AssignView[]): boolean {
    for (const r of rows) {
      const fields = cache.fields.peek(r.project_id);
      if (fields === undefined || fields.archived.size > 0) return true;
    }
    return false;
  }

  /** Leaves archived fields' values out of each row's data. */
  async function hideArchived(rows: AssignView[]): Promise<AssignView[]> {
    for (const r of rows) {
      const fields = cache.fields.peek(r.project_id) ?? (await cache.projectFields(r.project_id));
      if (fields.archived.size === 0) continue;
      const data = parseData(r.data);
      let hidden = false;
      for (const name of fields.archived) {
        if (Object.hasOwn(data, name)) {
          delete data[name];
          hidden = true;
        }
      }
      if (hidden) r.data = JSON.stringify(data);
    }
    return rows;
  }

  return {
    async findByPhone(projectId, phone, f, limit = MAX_MATCHES) {
      if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_MATCHES) throw new RangeError(`limit ${limit} is not within 1..${MAX_MATCHES}`);
      const shape = (f.repository_id !== undefined ? 1 : 0) | (f.group_id !== undefined ? 2 : 0) | (f.site_id !== undefined ? 4 : 0);
      // One statement per filter shape and limit: callers use two limits (get_data's cap, set_data's 1).
      const key = shape * (MAX_MATCHES + 1) + limit;
      let prepared = byPhone.get(key);
      if (!prepared) {
        prepared = prepareRead(db, (q) => byPhoneQuery(q, (shape & 1) !== 0, (shape & 2) !== 0, (shape & 4) !== 0, limit)) as PreparedRead<AssignView>;
        byPhone.set(key, prepared);
      }
      const rows = await prepared.all([projectId, phone, undefined, f.repository_id, f.group_id, f.site_id]);
      return mayHide(rows) ? hideArchived(rows) : rows;
    },
    async findByIds(ids) {
      const rows: AssignView[] = [];
      for (const id of ids) rows.push(...(await byId.all([id])));
      return mayHide(rows) ? hideArchived(rows) : rows;
    },
    // Each hit is answered from a map read before any closure is made: these run on every get_data.
    async projectExists(id) {
      if (cache.projects.peek(id)) return true;
      return (await cache.projects.get(id, async () => ((await project.all([id])).length > 0 ? true : undefined))) === true;
    },
    async workerProject(id) {
      return cache.workers.peek(id) ?? cache.workers.get(id, async () => (await worker.all([id]))[0]?.project_id);
    },
    async didPin(projectId, didNorm) {
      const key = `${projectId}\u0000${didNorm}`;
      const known = cache.pins.peek(key);
      if (known !== undefined) return known;
      return cache.pins.get(key, async () => (await pin.all([projectId, didNorm]))[0]?.repository_id);
    },
    async didProjects(didNorm) {
      return (await didOwners.all([didNorm])).map((r) => r.project_id);
    },
    async statusProject(id, trx) {
      return cache.statuses.peek(id) ?? cache.statuses.get(id, async () => {
        const row = await trx.selectFrom('statuses').select('project_id').where('id', '=', id).where('archived_at', 'is', null).executeTakeFirst();
        return row?.project_id;
      });
    },
    async fieldsByName(projectId, names, trx) {
      if (names.length === 0) return new Map();
      await cache.syncIn(trx);
      const known = await cache.projectFields(projectId, trx);
      if (names.every((n) => known.byName.has(n))) return known.byName;
      // A name the remembered list lacks may be a field created since (creating one does not need the
      // cache emptied): read again, as every unknown name did before there was a cache.
      cache.fields.forget(projectId);
      return (await cache.projectFields(projectId, trx)).byName;
    },
    async fieldNames(projectId) {
      return new Set((await cache.projectFields(projectId)).byName.keys());
    },
  };
}
