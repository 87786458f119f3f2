// Webhook subscriptions and their delivery log (the outbox rows written by crm/events.ts): the SQL behind
// the admin routes and the background sender (webhooks/sender.ts).
import { randomBytes, randomUUID } from 'node:crypto';
import { sql, type Selectable } from 'kysely';
import type { Q } from '../db/connect.ts';
import { chunks, isPostgres } from '../db/dialect.ts';
import { compileByShape } from '../db/compiled.ts';
import { slot } from '../db/slots.ts';
import type { DeliveryStatus, WebhookDeliveriesTable, WebhooksTable } from '../db/schema.ts';
import { notFound } from '../errors.ts';
import { storedType, type StoredEvent } from './events.ts';

export type WebhookRow = Selectable<WebhooksTable>;
export type DeliveryRow = Selectable<WebhookDeliveriesTable>;

export interface Webhook {
  id: number;
  url: string;
  events: string[];
  project_ids: number[] | null;
  disabled: boolean;
  created_at: string;
  updated_at: string;
}

const frame = (xs: readonly (string | number)[]) => `,${xs.join(',')},`;
const unframe = (s: string) => s.split(',').filter(Boolean);

export function toWebhook(r: WebhookRow): Webhook {
  return {
    id: r.id,
    url: r.url,
    events: unframe(r.events),
    project_ids: r.project_ids === null ? null : unframe(r.project_ids).map(Number),
    disabled: r.disabled !== 0,
    created_at: new Date(r.created_at).toISOString(),
    updated_at: new Date(r.updated_at).toISOString(),
  };
}

export interface WebhookInput {
  url: string;
  events: string[];
  project_ids?: number[] | null;
  secret?: string;
}

/** A new subscription; the secret is generated when not given and answered this once. */
export async function createWebhook(q: Q, input: WebhookInput): Promise<{ webhook: Webhook; secret: string }> {
  const now = Date.now();
  const secret = input.secret ?? `whsec_${randomBytes(24).toString('hex')}`;
  const row = await q
    .insertInto('webhooks')
    .values({
      url: input.url,
      secret,
      events: frame([...new Set(input.events)]),
      project_ids: input.project_ids?.length ? frame([...new Set(input.project_ids)]) : null,
      disabled: 0,
      created_at: now,
      updated_at: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { webhook: toWebhook(row), secret };
}

export async function getWebhookRow(q: Q, id: number): Promise<WebhookRow> {
  const row = await q.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('webhook', id);
  return row;
}

export async function listWebhooks(q: Q): Promise<Webhook[]> {
  return (await q.selectFrom('webhooks').selectAll().orderBy('id').execute()).map(toWebhook);
}

export async function updateWebhook(q: Q, id: number, patch: { url?: string; events?: string[]; project_ids?: number[] | null; disabled?: boolean }): Promise<Webhook> {
  await getWebhookRow(q, id);
  const row = await q
    .updateTable('webhooks')
    .set({
      ...(patch.url !== undefined ? { url: patch.url } : {}),
      ...(patch.events !== undefined ? { events: frame([...new Set(patch.events)]) } : {}),
      ...(patch.project_ids !== undefined ? { project_ids: patch.project_ids?.length ? frame([...new Set(patch.project_ids)]) : null } : {}),
      ...(patch.disabled !== undefined ? { disabled: patch.disabled ? 1 : 0 } : {}),
      updated_at: Date.now(),
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return toWebhook(row);
}

/** Deletes the subscription and its delivery log (pending deliveries are dropped with it). */
export async function deleteWebhook(q: Q, id: number): Promise<void> {
  await getWebhookRow(q, id);
  await q.deleteFrom('webhook_deliveries').where('webhook_id', '=', id).execute();
  await q.deleteFrom('webhooks').where('id', '=', id).execute();
}

export async function listDeliveries(q: Q, webhookId: number, filter: { status?: DeliveryStatus }, page: { limit: number; after?: number }): Promise<DeliveryRow[]> {
  let query = q.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', webhookId);
  if (filter.status) query = query.where('status', '=', filter.status);
  // Newest first: the log is read to see what just happened.
  if (page.after !== undefined) query = query.where('id', '<', page.after);
  return query.orderBy('id', 'desc').limit(page.limit).execute();
}

/** Queues a delivery again now, with a fresh 24 h retry window. */
export async function retryDelivery(q: Q, webhookId: number, deliveryId: number): Promise<DeliveryRow> {
  const now = Date.now();
  const row = await q
    .updateTable('webhook_deliveries')
    .set({ status: 'pending', next_attempt_at: now, pending_since: now })
    .where('id', '=', deliveryId)
    .where('webhook_id', '=', webhookId)
    .returningAll()
    .executeTakeFirst();
  if (!row) throw notFound('delivery', deliveryId);
  return row;
}

/**
 * Claims up to `limit` due deliveries of enabled webhooks for this sender: their next attempt moves to
 * `leaseUntil`, so no other sender (another process, another instance) takes them meanwhile, and one
 * that dies mid-delivery leaves them to be retried when the lease ends. PostgreSQL: FOR UPDATE SKIP
 * LOCKED, so concurrent claimers take different rows without waiting on each other. SQLite: the claim
 * is one statement in a write transaction, which holds the database's one write lock.
 */
export async function claimDue(trx: Q, now: number, limit: number, leaseUntil: number): Promise<DeliveryRow[]> {
  let due = trx
    .selectFrom('webhook_deliveries')
    .select('id')
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', now)
    .where('webhook_id', 'in', trx.selectFrom('webhooks').select('id').where('disabled', '=', 0))
    .orderBy('next_attempt_at')
    .orderBy('id')
    .limit(limit);
  if (isPostgres(trx)) due = due.forUpdate().skipLocked();
  return trx.updateTable('webhook_deliveries').set({ next_attempt_at: leaseUntil }).where('id', 'in', due).returningAll().execute();
}

/** Outbox rows per fan-out transaction at most (each holds a write's or a batch's events, each event one delivery per webhook). */
const FAN_OUT_ROWS = 100;
/** PostgreSQL: fan-outs of several senders run one at a time (pg_advisory_xact_lock), see below. */
const FAN_OUT_LOCK = 0x63726d01;

/**
 * Moves events from the outbox (webhook_events, written by the writes: crm/events.ts) into deliveries,
 * one per webhook the event was subscribed to when it was written, and deletes the event rows. The first
 * `claim` new deliveries of enabled webhooks are claimed for this sender until `leaseUntil` and
 * answered, to be sent at once; the others are due now, for the next claims (a sender never holds more
 * than it can send within its lease; a disabled webhook's wait until it is enabled again). A webhook
 * deleted meanwhile gets nothing.
 *
 * Order: outbox rows are taken in id order and their deliveries inserted in that order, so a delivery's
 * id (the body's `sequence`) follows the order of the writes of one assign or customer (each written
 * under that row's lock). On PostgreSQL two senders' fan-outs are serialized by a transaction-level
 * advisory lock, or one could insert a later event's deliveries before another inserts an earlier one.
 * Event rows are deleted by their ids, never by a range: on PostgreSQL a row with a smaller id may commit
 * after a larger one was read, and is then taken by the next fan-out.
 */
export async function fanOutEvents(trx: Q, now: number, leaseUntil: number, claim: number, maxEvents = Infinity): Promise<{ rows: number; events: number; deliveries: DeliveryRow[] }> {
  const pg = isPostgres(trx);
  if (pg) {
    await sql`select pg_advisory_xact_lock(${FAN_OUT_LOCK})`.execute(trx);
    // Event ids are made here: this commit must be durable even with CRM_DURABLE=false, or a crash
    // could fan the same events out again under new ids after they were sent.
    await sql`set local synchronous_commit = on`.execute(trx);
  }
  let pick = trx.selectFrom('webhook_events').select(['id', 'events']).orderBy('id').limit(Math.max(1, Math.min(maxEvents, FAN_OUT_ROWS)));
  // PostgreSQL: the rows stay locked until the commit, so an erasure (erase-traces.ts, which locks the
  // rows it scrubs, in the same order: outbox rows, then deliveries) either scrubs a row before it is
  // read here (the read waits, then sees the scrubbed row) or finds it gone and the deliveries made.
  if (pg) pick = pick.forUpdate();
  const read = await pick.execute();
  if (read.length === 0) return { rows: 0, events: 0, deliveries: [] };
  // A row holds a write's or a whole batch's events: take rows until the events reach maxEvents (at
  // least one row); the rest wait for the next fan-out.
  const rows: { id: number; events: StoredEvent[] }[] = [];
  let events = 0;
  for (const r of read) {
    if (rows.length > 0 && events >= maxEvents) break;
    const parsed = JSON.parse(r.events) as StoredEvent[];
    rows.push({ id: r.id, events: parsed });
    events += parsed.length;
  }
  const enabled = new Map((await trx.selectFrom('webhooks').select(['id', 'disabled']).execute()).map((h) => [h.id, h.disabled === 0]));
  const values = [];
  let claimed = 0;
  for (const row of rows) {
    for (const e of row.events) {
      const [, projectId, at, webhooks, payload] = e;
      const type = storedType(e);
      const eventId = randomUUID();
      const data = JSON.stringify(payload);
      for (const id of webhooks) {
        const on = enabled.get(id);
        if (on === undefined) continue;
        const mine = on && claimed < claim;
        if (mine) claimed++;
        values.push({ webhook_id: id, event_id: eventId, type, project_id: projectId, data, at, status: 'pending' as const, attempts: 0, next_attempt_at: mine ? leaseUntil : now, pending_since: now, created_at: now });
      }
    }
  }
  const deliveries: DeliveryRow[] = [];
  for (const chunk of chunks(values, 200)) {
    for (const row of await trx.insertInto('webhook_deliveries').values(chunk).returningAll().execute()) if (row.next_attempt_at === leaseUntil) deliveries.push(row);
  }
  for (const ids of chunks(rows.map((r) => r.id), 500)) await trx.deleteFrom('webhook_events').where('id', 'in', ids).execute();
  return { rows: rows.length, events, deliveries };
}

/** Are events waiting in the outbox for their fan-out? */
export async function eventsWaiting(q: Q): Promise<boolean> {
  return (await q.selectFrom('webhook_events').select('id').limit(1).executeTakeFirst()) !== undefined;
}

/** Is anything due? A read, so an idle sender never takes the write lock. */
export async function anyDue(q: Q, now: number): Promise<boolean> {
  const row = await q
    .selectFrom('webhook_deliveries')
    .select('id')
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', now)
    .where('webhook_id', 'in', q.selectFrom('webhooks').select('id').where('disabled', '=', 0))
    .limit(1)
    .executeTakeFirst();
  return row !== undefined || eventsWaiting(q);
}

export interface AttemptResult {
  ok: boolean;
  status: number | null;
  error: string | null;
  at: number;
  /** next attempt when not ok; null gives up (failed) */
  next: number | null;
}

/**
 * The UPDATE of one attempt, by shape (bit 1: delivered, bit 2: a next attempt is set), compiled once:
 * the sender records every delivery, thousands a second under load. Slots: 0 id, 1 status, 2 at,
 * 3 HTTP status, 4 error, 5 next attempt.
 */
const attemptUpdate = compileByShape((shape: number) => (q: Q) =>
  q
    .updateTable('webhook_deliveries')
    .set({
      status: slot(1),
      attempts: sql<number>`attempts + 1`,
      last_attempt_at: slot(2),
      last_status: slot(3),
      last_error: slot(4),
      ...(shape & 1 ? { delivered_at: slot(2) } : {}),
      ...(shape & 2 ? { next_attempt_at: slot(5) } : {}),
    })
    .where('id', '=', slot(0)),
);

export async function recordAttempt(q: Q, id: number, r: AttemptResult): Promise<void> {
  const status: DeliveryStatus = r.ok ? 'delivered' : r.next === null ? 'failed' : 'pending';
  await attemptUpdate((r.ok ? 1 : 0) | (r.next !== null ? 2 : 0)).rows(q, [id, status, r.at, r.status, r.error, r.next]);
}

/** The outbox depth, for metrics: deliveries waiting to be sent, plus events not yet fanned out. */
export async function pendingCount(q: Q): Promise<number> {
  const row = await q.selectFrom('webhook_deliveries').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending').executeTakeFirst();
  const length = isPostgres(q) ? sql<number>`coalesce(sum(json_array_length(events::json)), 0)` : sql<number>`coalesce(sum(json_array_length(events)), 0)`;
  const events = await q.selectFrom('webhook_events').select(length.as('n')).executeTakeFirst();
  return Number(row?.n ?? 0) + Number(events?.n ?? 0);
}

/** Deletes delivered rows older than `before` (the log keeps failures until retried or deleted). */
export async function pruneDelivered(q: Q, before: number): Promise<void> {
  await q.deleteFrom('webhook_deliveries').where('status', '=', 'delivered').where('delivered_at', '<', before).execute();
}

/** Status names for status_changed events (statuses are never renamed or deleted: crm/lookup.ts). */
export async function statusNames(q: Q, ids: number[]): Promise<Map<number, string>> {
  if (ids.length === 0) return new Map();
  const rows = await q.selectFrom('statuses').select(['id', 'name']).where('id', 'in', ids).execute();
  return new Map(rows.map((r) => [r.id, r.name]));
}
