// Domain events for webhooks, written into the outbox (webhook_events) in the caller's transaction:
// a committed change always has its events, a rolled-back one never does, also across a crash.
//
// The write appends its subscribed events (a JSON array, each event with the ids of the webhooks
// subscribed to it) to webhook_events, a table without secondary indexes: on SQLite the events of a whole
// group-commit batch go into one row at the batch's end, in its transaction; on PostgreSQL one row per
// write. The background sender
// (webhooks/sender.ts, crm/webhooks.ts fanOutEvents) fans the rows out into webhook_deliveries, one per
// subscribed webhook, in its own transactions: that work, and the delivery log's indexes, are off the
// telephony path. (Until migration 009 the write itself fanned out with an INSERT … SELECT into
// webhook_deliveries: 23 % of a set_status's CPU at 1M customers.)
import type { Q } from '../db/connect.ts';
import { compileOnce, readAheadPerTransaction } from '../db/compiled.ts';
import { chunks } from '../db/dialect.ts';
import { slot } from '../db/slots.ts';
import { appendAtBatchEnd, type Tail } from '../db/batch-tail.ts';

// Append only: outbox rows store an event's type as its index in this list (StoredEvent below).
export const EVENT_TYPES = [
  'assign.status_changed',
  'customer.fields_changed',
  'call.recorded',
  'customer.created',
  'customer.erased',
  'import.finished',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface DomainEvent {
  type: EventType;
  project_id: number;
  data: Record<string, unknown>;
  /** ms since the epoch; default now */
  at?: number;
}

/** The enabled webhooks and what they subscribe to; a tiny table, read in each write's transaction. */
const subscriptions = compileOnce((q) => q.selectFrom('webhooks').select(['id', 'events', 'project_ids']).where('disabled', '=', 0).orderBy('id'));

const append = compileOnce((q) => q.insertInto('webhook_events').values({ events: slot(0), created_at: slot(1) }));

/**
 * An event as the outbox row holds it: [type (index in EVENT_TYPES), project id, at (ms), ids of the
 * webhooks subscribed when it was written, data]. A tuple, not an object: every byte of the row is written
 * to the WAL (and on PostgreSQL the heap) in the telephony write's own commit. The event id is made at the
 * fan-out (crm/webhooks.ts), once per event, and stored with its deliveries.
 */
export type StoredEvent = [type: number, projectId: number, at: number, webhooks: number[], data: Record<string, unknown>];

export const storedType = (e: StoredEvent): EventType => EVENT_TYPES[e[0]]!;

/** Events per outbox row: an import batch's events are split so no row grows without bound. */
const PER_ROW = 200;

/** An enabled webhook as the write matches it: `events` and `project_ids` are ",a,b," lists. */
export interface Subscription {
  id: number;
  events: string;
  project_ids: string | null;
}

/** Does this webhook take events of this type from this project? */
const takes = (h: Subscription, type: EventType, projectId: number) =>
  h.events.includes(`,${type},`) && (h.project_ids === null || h.project_ids.includes(`,${projectId},`));

/** Does any of these webhooks take events of this type from this project? */
export const subscribed = (hooks: readonly Subscription[], type: EventType, projectId: number) => hooks.some((h) => takes(h, type, projectId));

/** The subscriptions, sent ahead with a write's lock (crm/assigns.ts lockAssign) and read once per transaction. */
const subscriptionsRead = readAheadPerTransaction(subscriptions);

/**
 * PostgreSQL: sends the read of the subscriptions now, so that it travels with the statement the caller
 * sent just before (the lock of the row it is about to change) instead of costing a round trip of its own
 * when the write's events are emitted (db/pg-driver.ts). SQLite: nothing; the read is a direct call there.
 */
export const readSubscriptionsAhead = (trx: Q): void => subscriptionsRead.sendAhead(trx);

/**
 * The enabled webhooks, read in this transaction. The read sent ahead serves every write of its
 * transaction (set_data emits for the fields, then for the call): one read, as the lock's round trip took
 * it; the transaction commits moments after it either way.
 */
export const subscriptionsIn = (trx: Q): Promise<Subscription[]> => subscriptionsRead.rows(trx);

/**
 * Appends the events that some enabled webhook subscribes to, with the ids of those webhooks. Matching
 * here, in the write's transaction, keeps the documented rule exact: a webhook created, enabled or
 * changed applies to the changes committed after it, even though its deliveries are made later. With no
 * webhook (most servers) the write pays one read of an empty table. `hooks`: the subscriptions when the
 * caller already read them in this transaction (subscriptionsIn).
 */
export async function emitEvents(trx: Q, events: DomainEvent[], hooks?: Subscription[]): Promise<void> {
  if (events.length === 0) return;
  hooks ??= await subscriptionsIn(trx);
  if (hooks.length === 0) return;
  const now = Date.now();
  const matched: StoredEvent[] = [];
  for (const e of events) {
    const webhooks: number[] = [];
    for (const h of hooks) if (takes(h, e.type, e.project_id)) webhooks.push(h.id);
    if (webhooks.length > 0) matched.push([EVENT_TYPES.indexOf(e.type), e.project_id, e.at ?? now, webhooks, e.data]);
  }
  if (matched.length === 0) return;
  // Serialized here, in the write: an event that cannot be fails this write, not its batch.
  const json = matched.map((e) => JSON.stringify(e));
  // In SQLite's group commit the events go into one row at the end of the batch (db/batch-tail.ts), in
  // the same transaction: one insert per batch, not per write.
  if (!appendAtBatchEnd(trx, outboxTail, json)) await appendRows(trx, json);
}

/** Outbox rows of serialized StoredEvents, PER_ROW to a row. */
async function appendRows(trx: Q, events: string[]): Promise<void> {
  const now = Date.now();
  // Nothing reads the insert's answer: on PostgreSQL it goes out with the COMMIT (db/pg-driver.ts).
  for (const chunk of chunks(events, PER_ROW)) await append.later(trx, [`[${chunk.join(',')}]`, now]);
}

/** The outbox rows of a group-commit batch: its writes' events (serialized StoredEvents), in their order. */
export const outboxTail: Tail<string[]> = { flush: (trx, lists) => appendRows(trx, lists.flat()) };
