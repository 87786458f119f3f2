// Domain events for webhooks, written into the outbox (webhook_deliveries) in the caller's transaction:
// a committed change always has its events, a rolled-back one never does, also across a crash.
//
// The fan-out to subscribed webhooks happens in the database, in the same statement as the insert
// (INSERT … SELECT FROM webhooks WHERE …): no process keeps a list of subscriptions that another process
// could change under it, and with no subscribed webhook the statement inserts nothing. The background
// sender (webhooks/sender.ts) delivers the rows.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Q } from '../db/connect.ts';
import { chunks } from '../db/dialect.ts';

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

/** Up to this many events go in one INSERT … SELECT … UNION ALL; more are read-then-inserted. */
const UNION_MAX = 4;

/** Writes the events' deliveries for every enabled webhook subscribed to their type and project. */
export async function emitEvents(trx: Q, events: DomainEvent[]): Promise<void> {
  if (events.length === 0) return;
  const now = Date.now();
  if (events.length <= UNION_MAX) {
    // Every value is cast: in INSERT … SELECT PostgreSQL does not type bare parameters from the target.
    const selects = events.map((e) => {
      const at = e.at ?? now;
      return trx
        .selectFrom('webhooks')
        .select([
          'id as webhook_id',
          sql<string>`cast(${randomUUID()} as text)`.as('event_id'),
          sql<string>`cast(${e.type} as text)`.as('type'),
          sql<number>`cast(${e.project_id} as bigint)`.as('project_id'),
          sql<string>`cast(${JSON.stringify(e.data)} as text)`.as('data'),
          sql<number>`cast(${at} as bigint)`.as('at'),
          sql<string>`cast('pending' as text)`.as('status'),
          sql<number>`0`.as('attempts'),
          sql<number>`cast(${now} as bigint)`.as('next_attempt_at'),
          sql<number>`cast(${now} as bigint)`.as('pending_since'),
          sql<number>`cast(${now} as bigint)`.as('created_at'),
        ])
        .where('disabled', '=', 0)
        .where('events', 'like', `%,${e.type},%`)
        .where((eb) => eb.or([eb('project_ids', 'is', null), eb('project_ids', 'like', `%,${e.project_id},%`)]));
    });
    let query = selects[0]!;
    for (const s of selects.slice(1)) query = query.unionAll(s);
    await trx
      .insertInto('webhook_deliveries')
      .columns(['webhook_id', 'event_id', 'type', 'project_id', 'data', 'at', 'status', 'attempts', 'next_attempt_at', 'pending_since', 'created_at'])
      .expression(query)
      .execute();
    return;
  }
  // Many events at once (an import batch): read the subscriptions once, insert the rows in chunks.
  const hooks = await trx.selectFrom('webhooks').select(['id', 'events', 'project_ids']).where('disabled', '=', 0).execute();
  if (hooks.length === 0) return;
  const rows = [];
  for (const e of events) {
    const eventId = randomUUID();
    const data = JSON.stringify(e.data);
    for (const h of hooks) {
      if (!h.events.includes(`,${e.type},`)) continue;
      if (h.project_ids !== null && !h.project_ids.includes(`,${e.project_id},`)) continue;
      rows.push({ webhook_id: h.id, event_id: eventId, type: e.type, project_id: e.project_id, data, at: e.at ?? now, status: 'pending' as const, attempts: 0, next_attempt_at: now, pending_since: now, created_at: now });
    }
  }
  for (const chunk of chunks(rows, 200)) await trx.insertInto('webhook_deliveries').values(chunk).execute();
}
