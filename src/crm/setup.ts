// Projects and the rows that set one up: groups, sites, workers, repositories, statuses, DIDs.
// Ids are caller-supplied (kept from the old system) or generated, and unique across the server.
import type { Q } from '../db/connect.ts';
import { advanceIdSequence, isUniqueViolation } from '../db/dialect.ts';
import { conflict, notFound } from '../errors.ts';
import { normalizePhone, type CountryCode } from '../phone.ts';
import { checkBelongs } from './assigns.ts';
import { bumpSetupVersion } from './setup-version.ts';

export interface Page {
  limit: number;
  /** the last id of the previous page */
  after?: number;
}

async function insertWithId<T extends 'projects' | 'groups' | 'sites' | 'workers' | 'repositories' | 'statuses'>(
  q: Q,
  table: T,
  what: string,
  values: Record<string, unknown> & { id?: number },
) {
  const row = { ...values, created_at: Date.now() };
  if (row.id === undefined) delete row.id;
  else if (table !== 'projects') {
    // Ids are unique across the server: say which project holds it (read first: after a failed insert a
    // PostgreSQL transaction cannot read any more). The insert's constraint still has the last word.
    const holder = await q.selectFrom(table as 'statuses').select('project_id').where('id', '=', values.id!).executeTakeFirst();
    if (holder) throw conflict(`${what} ${values.id} already exists (in project ${holder.project_id})`);
  }
  try {
    const created = await q.insertInto(table).values(row as never).returningAll().executeTakeFirstOrThrow();
    if (values.id !== undefined) await advanceIdSequence(q, table, values.id);
    await bumpSetupVersion(q);
    return created;
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`${what} ${values.id} already exists`);
    throw err;
  }
}

export async function createProject(q: Q, input: { id?: number; name: string }) {
  return insertWithId(q, 'projects', 'project', { id: input.id, name: input.name.trim() });
}

export async function getProject(q: Q, id: number) {
  const row = await q.selectFrom('projects').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('project', id);
  return row;
}

export async function listProjects(q: Q, page: Page) {
  let query = q.selectFrom('projects').selectAll();
  if (page.after !== undefined) query = query.where('id', '>', page.after);
  return query.orderBy('id').limit(page.limit).execute();
}

export type PartTable = 'groups' | 'sites' | 'statuses';
const SINGULAR = { groups: 'group', sites: 'site', statuses: 'status' } as const;

export async function createPart(q: Q, table: PartTable, projectId: number, input: { id?: number; name: string }) {
  await getProject(q, projectId);
  return insertWithId(q, table, SINGULAR[table], { id: input.id, project_id: projectId, name: input.name.trim() });
}

/** A project's rows of a table in id order: those in use, or with `archived: true` the archived ones too. */
export async function listParts(q: Q, table: PartTable | 'workers' | 'repositories', projectId: number, page: Page & { archived?: boolean }) {
  await getProject(q, projectId);
  let query = q.selectFrom(table).selectAll().where('project_id', '=', projectId);
  if (!page.archived) query = query.where('archived_at', 'is', null);
  if (page.after !== undefined) query = query.where('id', '>', page.after);
  return query.orderBy('id').limit(page.limit).execute();
}

export interface StaffedInput {
  id?: number;
  name: string;
  group_id?: number | null;
  site_id?: number | null;
}

/** Workers and repositories: optionally tied to a group and a site of the same project. */
export async function createStaffed(q: Q, table: 'workers' | 'repositories', projectId: number, input: StaffedInput) {
  await getProject(q, projectId);
  await checkBelongs(q, projectId, { group_id: input.group_id, site_id: input.site_id });
  return insertWithId(q, table, table === 'workers' ? 'worker' : 'repository', {
    id: input.id,
    project_id: projectId,
    name: input.name.trim(),
    group_id: input.group_id ?? null,
    site_id: input.site_id ?? null,
  });
}

export async function getRepository(q: Q, id: number) {
  const row = await q.selectFrom('repositories').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('repository', id);
  return row;
}

export async function createDid(q: Q, projectId: number, input: { did: string; repository_id?: number | null }, country: CountryCode) {
  await getProject(q, projectId);
  await checkBelongs(q, projectId, { repository_id: input.repository_id });
  const did = input.did.trim();
  try {
    const row = await q
      .insertInto('dids')
      .values({ project_id: projectId, did, did_norm: normalizePhone(did, country), repository_id: input.repository_id ?? null, created_at: Date.now() })
      .returningAll()
      .executeTakeFirstOrThrow();
    await bumpSetupVersion(q);
    return row;
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`DID ${did} is already registered to this project`);
    throw err;
  }
}

export async function listDids(q: Q, projectId: number, page: Page) {
  await getProject(q, projectId);
  let query = q.selectFrom('dids').selectAll().where('project_id', '=', projectId);
  if (page.after !== undefined) query = query.where('id', '>', page.after);
  return query.orderBy('id').limit(page.limit).execute();
}
