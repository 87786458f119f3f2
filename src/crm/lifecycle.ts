// Changing and retiring setup rows, removing DIDs and assigns (admin-api.md "Changing and removing").
// Every setup change bumps the setup version in its transaction (setup-version.ts), so every process's
// setup cache learns of it within a second. History is never rewritten here (only erase.ts does that).
import { sql } from 'kysely';
import type { Q } from '../db/connect.ts';
import type { AssignRow } from '../db/schema.ts';
import { isPostgres, isUniqueViolation, lockRows } from '../db/dialect.ts';
import { conflict, invalid, notFound, unprocessable } from '../errors.ts';
import { normalizePhone, type CountryCode } from '../phone.ts';
import { checkBelongs, lockAssign, setAssignStatus } from './assigns.ts';
import { checkDisplayName, checkOptions, toField, type Field } from './fields.ts';
import { getProject } from './setup.ts';
import { bumpSetupVersion } from './setup-version.ts';

export async function patchProject(trx: Q, id: number, input: { name?: string }) {
  await getProject(trx, id);
  if (input.name !== undefined) {
    await trx.updateTable('projects').set({ name: input.name.trim() }).where('id', '=', id).execute();
    await bumpSetupVersion(trx);
  }
  return getProject(trx, id);
}

export type SetupTable = 'statuses' | 'groups' | 'sites' | 'workers' | 'repositories';
const SINGULAR: Record<SetupTable, string> = { statuses: 'status', groups: 'group', sites: 'site', workers: 'worker', repositories: 'repository' };

export interface SetupPatch {
  name?: string;
  archived?: boolean;
  /** workers and repositories only */
  group_id?: number | null;
  site_id?: number | null;
}

/** archived_at for a PATCH: kept when the flag does not change, so the first retirement time stays. */
function archivedAt(current: number | null, archived: boolean | undefined): number | null {
  if (archived === undefined) return current;
  if (!archived) return null;
  return current ?? Date.now();
}

/** PATCH of a status, group, site, worker or repository of a project; 404 when it is not the project's. */
export async function patchSetupRow(trx: Q, table: SetupTable, projectId: number, id: number, input: SetupPatch) {
  await getProject(trx, projectId);
  const row = await lockRows(trx, trx.selectFrom(table).selectAll().where('id', '=', id).where('project_id', '=', projectId)).executeTakeFirst();
  if (!row) throw notFound(SINGULAR[table], id);
  const staffed = table === 'workers' || table === 'repositories';
  if (!staffed && (input.group_id !== undefined || input.site_id !== undefined)) {
    throw invalid(`a ${SINGULAR[table]} has no group_id or site_id`, { [input.group_id !== undefined ? 'group_id' : 'site_id']: 'not a property of this row' });
  }
  if (staffed) await checkBelongs(trx, projectId, { group_id: input.group_id, site_id: input.site_id });
  const set: Record<string, unknown> = { archived_at: archivedAt(row.archived_at, input.archived) };
  if (input.name !== undefined) set.name = input.name.trim();
  if (staffed && input.group_id !== undefined) set.group_id = input.group_id;
  if (staffed && input.site_id !== undefined) set.site_id = input.site_id;
  const updated = await trx.updateTable(table).set(set as never).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
  await bumpSetupVersion(trx);
  return updated;
}

export interface FieldPatch {
  label?: string;
  display_name?: string;
  options?: string[];
  required?: boolean;
  position?: number;
  archived?: boolean;
}

/**
 * PATCH of a field. A new display_name is the name every surface uses from now on: the customers' values
 * move to it in this transaction, so an old telephony client asking for the old name gets null from
 * get_data and "Unknown field" from set_data (admin-api.md). History keeps the name of its time.
 */
export async function patchField(trx: Q, projectId: number, fieldId: number, input: FieldPatch): Promise<Field> {
  await getProject(trx, projectId);
  const row = await lockRows(trx, trx.selectFrom('fields').selectAll().where('id', '=', fieldId).where('project_id', '=', projectId)).executeTakeFirst();
  if (!row) throw notFound('field', fieldId);
  const set: Record<string, unknown> = { archived_at: archivedAt(row.archived_at, input.archived) };
  if (input.label !== undefined) set.label = input.label.trim() || row.display_name;
  if (input.required !== undefined) set.is_required = input.required ? 1 : 0;
  if (input.position !== undefined) set.position = input.position;
  if (input.options !== undefined) {
    const options = checkOptions(row.type, input.options);
    set.options = options === null ? null : JSON.stringify(options);
  }
  const newName = input.display_name === undefined ? row.display_name : checkDisplayName(input.display_name);
  if (newName !== row.display_name) set.display_name = newName;
  let updated;
  try {
    updated = await trx.updateTable('fields').set(set as never).where('id', '=', fieldId).returningAll().executeTakeFirstOrThrow();
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`field display_name ${newName} already exists`, { display_name: 'exists' });
    throw err;
  }
  if (newName !== row.display_name) await renameValues(trx, projectId, row.display_name, newName);
  await bumpSetupVersion(trx);
  return toField(updated);
}

/**
 * Moves every customer's value of a field to its new key in customers.data (JSON text keyed by
 * display_name). Names are checked (checkDisplayName: letters, digits, _), and bound as parameters.
 * One statement per project; a rename is rare and runs while writers of those rows wait.
 */
async function renameValues(trx: Q, projectId: number, from: string, to: string) {
  if (isPostgres(trx)) {
    await sql`update customers set data = ((data::jsonb - ${from}::text) || jsonb_build_object(${to}::text, data::jsonb -> ${from}::text))::text
              where project_id = ${projectId} and jsonb_exists(data::jsonb, ${from}::text)`.execute(trx);
    return;
  }
  const fromPath = `$."${from}"`;
  const toPath = `$."${to}"`;
  await sql`update customers set data = json_set(json_remove(data, ${fromPath}), ${toPath}, json_extract(data, ${fromPath}))
            where project_id = ${projectId} and json_type(data, ${fromPath}) is not null`.execute(trx);
}

/** Removes a DID from a project (by any spelling of it); 404 when it is not registered there. */
export async function deleteDid(trx: Q, projectId: number, did: string, country: CountryCode) {
  await getProject(trx, projectId);
  const norm = normalizePhone(did.trim(), country);
  const removed = await trx.deleteFrom('dids').where('project_id', '=', projectId).where('did_norm', '=', norm).returningAll().executeTakeFirst();
  if (!removed) throw notFound('DID', did);
  await bumpSetupVersion(trx);
  return removed;
}

export interface AssignPatch {
  status_id?: number | null;
  worker_id?: number | null;
  group_id?: number | null;
  site_id?: number | null;
}

/**
 * PATCH of an assign. A status change is history like set_status (source "admin"); an archived status
 * cannot be set (422). Undefined when the assign does not exist.
 */
export async function patchAssign(trx: Q, id: number, input: AssignPatch): Promise<AssignRow | undefined> {
  const assign = await lockAssign(trx, id);
  if (!assign) return undefined;
  await checkBelongs(trx, assign.project_id, input);
  if (input.status_id !== undefined && input.status_id !== null && input.status_id !== assign.status_id) {
    const status = await trx.selectFrom('statuses').select('archived_at').where('id', '=', input.status_id).executeTakeFirstOrThrow();
    if (status.archived_at !== null) throw unprocessable(`status_id ${input.status_id} is archived`, { status_id: 'archived' });
  }
  const set: Partial<Pick<AssignRow, 'worker_id' | 'group_id' | 'site_id'>> = {};
  if (input.worker_id !== undefined) set.worker_id = input.worker_id;
  if (input.group_id !== undefined) set.group_id = input.group_id;
  if (input.site_id !== undefined) set.site_id = input.site_id;
  if (Object.keys(set).length > 0) await trx.updateTable('assigns').set({ ...set, updated_at: Date.now() }).where('id', '=', id).execute();
  if (input.status_id !== undefined) await setAssignStatus(trx, assign, input.status_id, { source: 'admin' });
  return trx.selectFrom('assigns').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/**
 * Takes an assign out of its repository. Its call events move into history (kind "call"; with
 * `eraseNotes` their notes become null), its stored call_id answers go (they quote the values written),
 * and a removed_assigns row keeps its id, project, repository and customer, so its history stays
 * readable by id and the id is never handed out again.
 */
export async function removeAssign(trx: Q, assign: AssignRow, reason: 'removed' | 'erased'): Promise<void> {
  const erase = reason === 'erased';
  await trx
    .insertInto('history')
    .columns(['project_id', 'customer_id', 'assign_id', 'kind', 'status_id', 'notes', 'call_id', 'worker_id', 'source', 'at'])
    .expression(
      trx
        .selectFrom('call_events')
        .select([
          'project_id',
          // cast: PostgreSQL types a bare parameter in a select list as text
          sql<number>`cast(${assign.customer_id} as bigint)`.as('customer_id'),
          'assign_id',
          sql<string>`'call'`.as('kind'),
          'status_id',
          (erase ? sql<null>`null` : sql<string | null>`notes`).as('notes'),
          'call_id',
          'worker_id',
          'source',
          'at',
        ])
        .where('assign_id', '=', assign.id)
        .orderBy('at')
        .orderBy('id'),
    )
    .execute();
  await trx.deleteFrom('call_events').where('assign_id', '=', assign.id).execute();
  await trx.deleteFrom('call_requests').where('assign_id', '=', assign.id).execute();
  await trx
    .insertInto('removed_assigns')
    .values({ id: assign.id, project_id: assign.project_id, repository_id: assign.repository_id, customer_id: assign.customer_id, removed_at: Date.now(), reason })
    .execute();
  await trx.deleteFrom('assigns').where('id', '=', assign.id).execute();
}

/** An assign that left its repository, for reading its history by id. */
export async function getRemovedAssign(q: Q, id: number) {
  return q.selectFrom('removed_assigns').selectAll().where('id', '=', id).executeTakeFirst();
}
