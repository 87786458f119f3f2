// Repository assigns: the record a call center works on. Status changes and call events live here.
import type { Q } from '../db/connect.ts';
import type { AssignRow, HistorySource } from '../db/schema.ts';
import { advanceIdSequence, isUniqueViolation, lockRows } from '../db/dialect.ts';
import { conflict, unprocessable } from '../errors.ts';

export interface AssignInput {
  id?: number;
  customer_id: number;
  group_id?: number | null;
  site_id?: number | null;
  worker_id?: number | null;
  status_id?: number | null;
}

/** Checks that each named row exists in this project; a row of another project is a 422. */
export async function checkBelongs(
  q: Q,
  projectId: number,
  refs: Partial<Record<'customer_id' | 'group_id' | 'site_id' | 'worker_id' | 'status_id' | 'repository_id', number | null | undefined>>,
): Promise<void> {
  const tables = {
    customer_id: 'customers',
    group_id: 'groups',
    site_id: 'sites',
    worker_id: 'workers',
    status_id: 'statuses',
    repository_id: 'repositories',
  } as const;
  for (const [key, id] of Object.entries(refs) as [keyof typeof tables, number | null | undefined][]) {
    if (id === null || id === undefined) continue;
    const row = await q.selectFrom(tables[key]).select('project_id').where('id', '=', id).executeTakeFirst();
    if (!row) throw unprocessable(`${key} ${id} does not exist`, { [key]: 'does not exist' });
    if (row.project_id !== projectId) throw unprocessable(`${key} ${id} belongs to another project`, { [key]: 'belongs to another project' });
  }
}

export async function insertAssign(trx: Q, projectId: number, repositoryId: number, input: AssignInput, at = Date.now()): Promise<AssignRow> {
  try {
    const row = await trx
      .insertInto('assigns')
      .values({
        ...(input.id !== undefined ? { id: input.id } : {}),
        project_id: projectId,
        repository_id: repositoryId,
        customer_id: input.customer_id,
        group_id: input.group_id ?? null,
        site_id: input.site_id ?? null,
        worker_id: input.worker_id ?? null,
        status_id: input.status_id ?? null,
        last_call_at: null,
        last_notes: null,
        activity_at: at,
        created_at: at,
        updated_at: at,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    if (input.id !== undefined) await advanceIdSequence(trx, 'assigns', input.id);
    return row;
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw conflict(input.id !== undefined ? `assign ${input.id} already exists, or the customer is already in this repository` : 'the customer is already in this repository');
    }
    throw err;
  }
}

export async function getAssignRow(q: Q, id: number): Promise<AssignRow | undefined> {
  return q.selectFrom('assigns').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The assign row, locked against concurrent status changes until the transaction ends (PostgreSQL). */
export async function lockAssign(trx: Q, id: number): Promise<AssignRow | undefined> {
  return lockRows(trx, trx.selectFrom('assigns').selectAll().where('id', '=', id)).executeTakeFirst();
}

export interface StatusWrite {
  source: HistorySource;
  worker_id?: number | null;
  call_id?: string | null;
  at?: number;
}

/** Sets (or with null clears) the current status and records the change in history when it changed. */
export async function setAssignStatus(trx: Q, assign: AssignRow, statusId: number | null, w: StatusWrite): Promise<boolean> {
  if (assign.status_id === statusId) return false;
  const at = w.at ?? Date.now();
  await trx.updateTable('assigns').set({ status_id: statusId, updated_at: at }).where('id', '=', assign.id).execute();
  await trx
    .insertInto('history')
    .values({
      project_id: assign.project_id,
      customer_id: assign.customer_id,
      assign_id: assign.id,
      kind: 'status',
      field: null,
      old_value: null,
      new_value: null,
      old_status_id: assign.status_id,
      new_status_id: statusId,
      status_id: null,
      notes: null,
      call_id: w.call_id ?? null,
      worker_id: w.worker_id ?? null,
      source: w.source,
      at,
    })
    .execute();
  assign.status_id = statusId;
  return true;
}

export interface CallInput {
  worker_id?: number | null;
  status_id?: number | null;
  notes?: string | null;
  call_id?: string | null;
  at?: number;
  source: HistorySource;
}

/**
 * Records a handled call. last_call and last_notes follow the newest event by time, so a late CDR for
 * an older call does not move them back.
 */
export async function recordCall(trx: Q, assign: AssignRow, c: CallInput) {
  const at = c.at ?? Date.now();
  const event = await trx
    .insertInto('call_events')
    .values({
      project_id: assign.project_id,
      assign_id: assign.id,
      at,
      worker_id: c.worker_id ?? null,
      status_id: c.status_id ?? null,
      notes: c.notes ?? null,
      call_id: c.call_id ?? null,
      source: c.source,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  if (assign.last_call_at === null || at >= assign.last_call_at) {
    await trx
      .updateTable('assigns')
      .set({ last_call_at: at, last_notes: c.notes ?? null, activity_at: at, updated_at: Date.now() })
      .where('id', '=', assign.id)
      .execute();
    assign.last_call_at = at;
    assign.last_notes = c.notes ?? null;
    assign.activity_at = at;
  }
  return event;
}
