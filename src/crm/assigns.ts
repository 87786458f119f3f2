// Repository assigns: the record a call center works on. Status changes and call events live here.
import { sql, type Expression, type Selectable, type SqlBool } from 'kysely';
import type { Q } from '../db/connect.ts';
import type { AssignRow, CallEventsTable, CustomerRow, HistorySource } from '../db/schema.ts';
import { advanceIdSequence, isUniqueViolation, lockRows, newRowId } from '../db/dialect.ts';
import { conflict, unprocessable } from '../errors.ts';
import { compileByShape, compileOnce, compileRowsInsert, readAheadPerTransaction } from '../db/compiled.ts';
import { slot } from '../db/slots.ts';
import { emitEvents, readSubscriptionsAhead, subscribed, subscriptionsIn, type DomainEvent } from './events.ts';

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

/** The row of a new assign (one place for insertAssign and insertAssigns). */
function newAssign(projectId: number, repositoryId: number, input: AssignInput, at: number) {
  return {
    id: input.id, // undefined: generated (Kysely leaves undefined values out)
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
  };
}

export async function insertAssign(trx: Q, projectId: number, repositoryId: number, input: AssignInput, at = Date.now()): Promise<AssignRow> {
  try {
    const id = input.id ?? (await newRowId(trx, 'assigns'));
    const row = await trx.insertInto('assigns').values(newAssign(projectId, repositoryId, { ...input, id }, at)).returningAll().executeTakeFirstOrThrow();
    if (input.id !== undefined) await advanceIdSequence(trx, 'assigns', input.id);
    return row;
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw conflict(input.id !== undefined ? `assign ${input.id} already exists, or the customer is already in this repository` : 'the customer is already in this repository');
    }
    throw err;
  }
}

/**
 * Inserts many assigns with ids already reserved (reserveIds) in few statements: the import's fast path.
 * A constraint violation throws the database's error; the caller retries row by row with insertAssign.
 */
export async function insertAssigns(trx: Q, projectId: number, repositoryId: number, inputs: (AssignInput & { id: number })[], at = Date.now()): Promise<void> {
  await insertAssignRows(
    trx,
    inputs.map((input) => {
      const row = newAssign(projectId, repositoryId, input, at);
      return ASSIGN_COLUMNS.map((c) => row[c]);
    }),
  );
}

export async function getAssignRow(q: Q, id: number): Promise<AssignRow | undefined> {
  return q.selectFrom('assigns').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Every column of an assign, named: a compiled statement is a named prepared statement on PostgreSQL, whose
 * result columns are fixed when it is prepared; with `*`, a column added by a newer release's migration
 * would fail it on every connection of an instance still running ("cached plan must not change result
 * type"). A column added to the table type and missing here fails the type check of AssignRow.
 */
const ASSIGN_COLUMNS = ['id', 'project_id', 'repository_id', 'customer_id', 'group_id', 'site_id', 'worker_id', 'status_id', 'last_call_at', 'last_notes', 'activity_at', 'created_at', 'updated_at'] as const;
const CALL_EVENT_COLUMNS = ['id', 'project_id', 'assign_id', 'at', 'worker_id', 'status_id', 'notes', 'call_id', 'source', 'user_id'] as const;

const insertAssignRows = compileRowsInsert('assigns', ASSIGN_COLUMNS, 500);

const lockAssignStatement = compileOnce((q) => lockRows(q, q.selectFrom('assigns').select(ASSIGN_COLUMNS).where('id', '=', slot(0))));

/**
 * The assign row, locked against concurrent status changes until the transaction ends (PostgreSQL).
 * A locked assign is about to change, and a change emits events: on PostgreSQL the read of the webhook
 * subscriptions goes out right behind the lock, in the same round trip (crm/events.ts, db/pg-driver.ts),
 * and the server runs it once the lock is granted, so it sees every webhook committed before that. A
 * caller may send reads of its own behind them before awaiting (set_data's setup version).
 */
export async function lockAssign(trx: Q, id: number): Promise<AssignRow | undefined> {
  const locked = lockAssignStatement.ahead(trx, [id]);
  readSubscriptionsAhead(trx);
  if (callRecordedLately) sendCallEventIdAhead(trx);
  return (await locked)[0];
}

/**
 * PostgreSQL: a call.recorded event names its call event's id. Read back from the INSERT (RETURNING), it
 * costs the disposition a round trip of its own between its rows and its COMMIT; taken from the sequence
 * behind the lock, it travels in the lock's round trip and the INSERT goes unwaited with the rest.
 * Only where the database pipelines (without the pipeline the read is a round trip of its own, as the
 * RETURNING was). Whether to take one is a guess (did the last call recorded in this process have a
 * call.recorded subscriber?) that only decides the speed: the subscriptions read in the transaction
 * still decides whether the event is written, an id taken for nothing is a gap in the ids, and a call
 * with no id taken ahead reads it back as before.
 */
let callRecordedLately = false;
// int8: a number through the pool's type parser (db/connect.ts).
const callEventIdRead = readAheadPerTransaction(
  compileOnce((q) => q.selectNoFrom(sql<number>`nextval(pg_get_serial_sequence('call_events', 'id'))`.as('id'))),
  { pipelinedOnly: true },
);

/** Sends the read of the next call event id behind the lock (PostgreSQL with the pipeline; else nothing). */
export const sendCallEventIdAhead = (trx: Q): void => callEventIdRead.sendAhead(trx);

/** The id taken ahead for this transaction's call, once: a second call in it takes its id from the INSERT. */
export async function takeCallEventId(trx: Q): Promise<number | undefined> {
  const ahead = callEventIdRead.takeSent(trx);
  if (!ahead) return undefined;
  return Number((await ahead)[0]!.id);
}

export interface StatusWrite {
  source: HistorySource;
  worker_id?: number | null;
  /** the signed-in console user making the change */
  user_id?: number | null;
  call_id?: string | null;
  at?: number;
}

/** Sets (or with null clears) the current status and records the change in history when it changed. */
export async function setAssignStatus(trx: Q, assign: AssignRow, statusId: number | null, w: StatusWrite): Promise<boolean> {
  if (assign.status_id === statusId) return false;
  const at = w.at ?? Date.now();
  await recordCallUpdate(1).later(trx, [assign.id, at, statusId, null, null]);
  await insertStatusHistory(trx, assign, statusId, w, at);
  await emitEvents(trx, [statusChangedEvent(assign, statusId, { ...w, notes: null }, at)]);
  assign.status_id = statusId;
  return true;
}

/** The webhook event of a status change (assign still holds the old status). status_name is added at delivery. */
function statusChangedEvent(assign: AssignRow, statusId: number | null, w: StatusWrite & { notes: string | null }, at: number): DomainEvent {
  return {
    type: 'assign.status_changed',
    project_id: assign.project_id,
    at,
    data: {
      assign_id: assign.id,
      customer_id: assign.customer_id,
      old_status_id: assign.status_id,
      new_status_id: statusId,
      worker_id: w.worker_id ?? null,
      source: w.source,
      call_id: w.call_id ?? null,
      notes: w.notes,
    },
  };
}

/** The history row of a status change; the kind and the unused columns are compiled in. */
const statusHistoryInsert = compileOnce((q) =>
  q.insertInto('history').values({
    project_id: slot(0),
    customer_id: slot(1),
    assign_id: slot(2),
    kind: 'status',
    field: null,
    old_value: null,
    new_value: null,
    old_status_id: slot(3),
    new_status_id: slot(4),
    status_id: null,
    notes: null,
    call_id: slot(5),
    worker_id: slot(6),
    user_id: slot(7),
    source: slot(8),
    at: slot(9),
  }),
);

/** Inserts the history row of a status change (assign still holds the old status). */
async function insertStatusHistory(trx: Q, assign: AssignRow, statusId: number | null, w: StatusWrite, at: number): Promise<void> {
  await statusHistoryInsert.later(trx, [
    assign.project_id,
    assign.customer_id,
    assign.id,
    assign.status_id,
    statusId,
    w.call_id ?? null,
    w.worker_id ?? null,
    w.user_id ?? null,
    w.source,
    at,
  ]);
}

/** recordCall's UPDATE of the assign, by shape: bit 1 sets the status, bit 2 the last call (see recordCall). */
const recordCallUpdate = compileByShape((shape: number) => (q: Q) =>
  q
    .updateTable('assigns')
    .set({
      ...(shape & 1 ? { status_id: slot(2) } : {}),
      ...(shape & 2 ? { last_call_at: slot(3), last_notes: slot(4), activity_at: slot(3) } : {}),
      updated_at: slot(1),
    })
    .where('id', '=', slot(0)),
);

/** A call event's values, slots 0–8 (recordCall's `values`). */
const callEventValues = () => ({
  project_id: slot(0),
  assign_id: slot(1),
  at: slot(2),
  worker_id: slot(3),
  status_id: slot(4),
  notes: slot(5),
  call_id: slot(6),
  source: slot(7),
  user_id: slot(8),
});

const insertCallEvent = compileOnce((q) => q.insertInto('call_events').values(callEventValues()).returning(CALL_EVENT_COLUMNS));

/** insertCallEvent with the id taken ahead from the sequence (slot 9). */
const insertCallEventWithId = compileOnce((q) => q.insertInto('call_events').values({ id: slot(9), ...callEventValues() }));

export type CallEventRow = Selectable<CallEventsTable>;

/** The row insertCallEventWithId wrote, from its values. */
function callEventOf(id: number, v: unknown[]): CallEventRow {
  const [project_id, assign_id, at, worker_id, status_id, notes, call_id, source, user_id] = v as [number, number, number, number | null, number | null, string | null, string | null, HistorySource, number | null];
  return { id, project_id, assign_id, at, worker_id, status_id, notes, call_id, source, user_id };
}

export interface CallInput {
  worker_id?: number | null;
  /** the signed-in console user recording it */
  user_id?: number | null;
  status_id?: number | null;
  notes?: string | null;
  call_id?: string | null;
  at?: number;
  source: HistorySource;
}

/**
 * Records a handled call, and with statusTo (null clears) the status it ended in. last_call and
 * last_notes follow the newest event by time, so a late CDR for an older call does not move them back.
 * Status and call go into one UPDATE of the assign: on PostgreSQL every UPDATE that touches an indexed
 * column (activity_at) writes a new row version and a new entry in each of the assign's indexes, and
 * set_status did that twice per call.
 *
 * The call event row is read back only when someone needs it: the caller (`returning`), or a webhook
 * subscribed to call.recorded (its id is in the event). Otherwise, like the UPDATE and the history row,
 * its insert is not waited for: on PostgreSQL the statements of the disposition go out together with the
 * COMMIT (db/pg-driver.ts).
 */
export async function recordCall(trx: Q, assign: AssignRow, c: CallInput, statusTo?: number | null): Promise<void>;
export async function recordCall(trx: Q, assign: AssignRow, c: CallInput, statusTo: number | null | undefined, returning: 'row'): Promise<CallEventRow>;
export async function recordCall(trx: Q, assign: AssignRow, c: CallInput, statusTo?: number | null, returning?: 'row'): Promise<CallEventRow | void> {
  const at = c.at ?? Date.now();
  const statusChanged = statusTo !== undefined && statusTo !== assign.status_id;
  const newest = assign.last_call_at === null || at >= assign.last_call_at;
  const hooks = await subscriptionsIn(trx);
  if (statusChanged || newest) {
    // slots: 0 assign id, 1 updated_at, 2 status, 3 last_call_at = activity_at, 4 last_notes
    await recordCallUpdate((statusChanged ? 1 : 0) | (newest ? 2 : 0)).later(trx, [assign.id, Date.now(), statusTo, at, c.notes ?? null]);
  }
  const events: DomainEvent[] = [];
  if (statusChanged) {
    await insertStatusHistory(trx, assign, statusTo, c, at);
    events.push(statusChangedEvent(assign, statusTo, { ...c, notes: c.notes ?? null }, at));
    assign.status_id = statusTo;
  }
  const values = [assign.project_id, assign.id, at, c.worker_id ?? null, c.status_id ?? null, c.notes ?? null, c.call_id ?? null, c.source, c.user_id ?? null];
  let event: CallEventRow | undefined;
  const wanted = subscribed(hooks, 'call.recorded', assign.project_id);
  callRecordedLately = wanted;
  const idAhead = wanted || returning === 'row' ? await takeCallEventId(trx) : undefined;
  if (idAhead !== undefined) {
    await insertCallEventWithId.later(trx, [...values, idAhead]);
    event = callEventOf(idAhead, values);
  } else if (returning === 'row' || wanted) {
    event = await insertCallEvent.first(trx, values);
    if (!event) throw new Error('call event insert returned no row');
  } else {
    await insertCallEvent.later(trx, values);
  }
  if (wanted && event) {
    events.push({
      type: 'call.recorded',
      project_id: assign.project_id,
      at,
      data: {
        call_event_id: event.id,
        assign_id: assign.id,
        customer_id: assign.customer_id,
        worker_id: event.worker_id,
        status_id: event.status_id,
        notes: event.notes,
        call_id: event.call_id,
        source: event.source,
      },
    });
  }
  // One statement for both events: set_status pays one outbox insert, not two.
  await emitEvents(trx, events, hooks);
  if (newest) {
    assign.last_call_at = at;
    assign.last_notes = c.notes ?? null;
    assign.activity_at = at;
  }
  return event;
}

export interface AssignDetail {
  assign: AssignRow;
  repository_name: string;
  customer: CustomerRow;
  status: { id: number; name: string } | null;
  /** the newest call event by time (a tie goes to the later recorded, as recordCall does) */
  last_call_event: Selectable<CallEventsTable> | undefined;
}

/** An assign with what an operator looks at: its customer, status, repository name and last call. */
export async function getAssignDetail(q: Q, id: number): Promise<AssignDetail | undefined> {
  const assign = await getAssignRow(q, id);
  if (!assign) return undefined;
  const [repository, customer, status, last] = await Promise.all([
    q.selectFrom('repositories').select('name').where('id', '=', assign.repository_id).executeTakeFirstOrThrow(),
    q.selectFrom('customers').selectAll().where('id', '=', assign.customer_id).executeTakeFirstOrThrow(),
    assign.status_id === null ? undefined : q.selectFrom('statuses').select(['id', 'name']).where('id', '=', assign.status_id).executeTakeFirst(),
    q.selectFrom('call_events').selectAll().where('assign_id', '=', id).orderBy('at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst(),
  ]);
  return { assign, repository_name: repository.name, customer, status: status ?? null, last_call_event: last };
}

/** Filters of a repository's list (the supervisor's lists): all optional, combined with AND. */
export interface AssignFilter {
  /** a status id; 0 = assigns with no status yet (as status_id 0 clears a status in set_status) */
  status_id?: number;
  worker_id?: number;
  /** assigns not called since this instant (ms), never-called ones included */
  not_called_since?: number;
}

/**
 * The filter as one SQL condition on the assigns table (named `table` in the query: the list reads
 * `assigns`, the export `a`), so the list and the export of a filtered list select the same rows.
 * undefined when nothing is filtered.
 */
export function assignFilterCondition(filter: AssignFilter, table = 'assigns'): Expression<SqlBool> | undefined {
  const col = (name: string) => sql.ref(`${table}.${name}`);
  const parts = [];
  if (filter.status_id === 0) parts.push(sql<SqlBool>`${col('status_id')} is null`);
  else if (filter.status_id !== undefined) parts.push(sql<SqlBool>`${col('status_id')} = ${filter.status_id}`);
  if (filter.worker_id !== undefined) parts.push(sql<SqlBool>`${col('worker_id')} = ${filter.worker_id}`);
  const before = filter.not_called_since;
  if (before !== undefined) parts.push(sql<SqlBool>`(${col('last_call_at')} is null or ${col('last_call_at')} < ${before})`);
  return parts.length === 0 ? undefined : sql<SqlBool>`${sql.join(parts, sql` and `)}`;
}

/** Assigns of a repository (or of a customer), in id order, a page at a time. */
export async function listAssigns(
  q: Q,
  by: { repository_id: number } | { customer_id: number },
  page: { limit: number; after?: number },
  filter: AssignFilter = {},
): Promise<AssignRow[]> {
  let query = q.selectFrom('assigns').selectAll();
  query = 'repository_id' in by ? query.where('repository_id', '=', by.repository_id) : query.where('customer_id', '=', by.customer_id);
  const condition = assignFilterCondition(filter);
  if (condition) query = query.where(condition);
  if (page.after !== undefined) query = query.where('id', '>', page.after);
  return query.orderBy('id').limit(page.limit).execute();
}
