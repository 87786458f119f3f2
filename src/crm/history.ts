// An assign's history, newest first: its customer's field changes and its own status changes (the
// history table) merged with its call events (the call_events table).
//
// The merged order is (at, table, id) descending, with call events after history rows of the same
// millisecond (a disposition writes its status change, then its call event). A page cursor is that
// key of the last item, so walking the pages lists every item exactly once, also while items are added.
import { sql, type Selectable, type SqlBool } from 'kysely';
import type { Q } from '../db/connect.ts';
import type { HistoryTable } from '../db/schema.ts';

/** A history row as the API shows it; call events (call_events table) fill the same shape. */
export type HistoryEntry = Omit<Selectable<HistoryTable>, 'id' | 'project_id' | 'customer_id' | 'assign_id' | 'source'> & {
  /** call events carry their own source text */
  source: string;
};

/** The sort key of an item: [at, table (0 history, 1 call_events), id]. */
export type HistoryKey = [number, number, number];

const HISTORY = 0;
const CALLS = 1;

/** Rows strictly after the cursor in descending (at, table, id) order, for one of the two tables. */
function after(table: number, [at, t, id]: HistoryKey) {
  if (table < t) return sql<SqlBool>`at <= ${at}`;
  if (table === t) return sql<SqlBool>`(at < ${at} or (at = ${at} and id < ${id}))`;
  return sql<SqlBool>`at < ${at}`;
}

export async function assignHistory(
  q: Q,
  assign: { id: number; customer_id: number },
  limit: number,
  cursor?: HistoryKey,
): Promise<{ items: HistoryEntry[]; next: HistoryKey | null }> {
  // limit + 1 from each table: if more than `limit` items remain, the merge sees at least limit + 1.
  let h = q
    .selectFrom('history')
    .selectAll()
    .where((eb) =>
      eb.or([
        eb.and([eb('customer_id', '=', assign.customer_id), eb('kind', '=', 'field')]),
        // kind "call": the call events of an assign that left its repository (lifecycle.ts removeAssign)
        eb.and([eb('assign_id', '=', assign.id), eb('kind', 'in', ['status', 'call'])]),
      ]),
    );
  if (cursor) h = h.where(after(HISTORY, cursor));
  let c = q.selectFrom('call_events').selectAll().where('assign_id', '=', assign.id);
  if (cursor) c = c.where(after(CALLS, cursor));
  const [hrows, crows] = await Promise.all([
    h.orderBy('at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute(),
    c.orderBy('at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute(),
  ]);

  const merged: { key: HistoryKey; entry: HistoryEntry }[] = [
    ...hrows.map((r) => ({
      key: [r.at, HISTORY, r.id] as HistoryKey,
      entry: {
        kind: r.kind,
        at: r.at,
        worker_id: r.worker_id,
        user_id: r.user_id,
        source: r.source,
        call_id: r.call_id,
        field: r.field,
        old_value: r.old_value,
        new_value: r.new_value,
        old_status_id: r.old_status_id,
        new_status_id: r.new_status_id,
        status_id: r.status_id,
        notes: r.notes,
      },
    })),
    ...crows.map((r) => ({
      key: [r.at, CALLS, r.id] as HistoryKey,
      entry: {
        kind: 'call' as const,
        at: r.at,
        worker_id: r.worker_id,
        user_id: r.user_id,
        source: r.source,
        call_id: r.call_id,
        field: null,
        old_value: null,
        new_value: null,
        old_status_id: null,
        new_status_id: null,
        status_id: r.status_id,
        notes: r.notes,
      },
    })),
  ];
  merged.sort((a, b) => b.key[0] - a.key[0] || b.key[1] - a.key[1] || b.key[2] - a.key[2]);
  const page = merged.slice(0, limit);
  return { items: page.map((m) => m.entry), next: merged.length > limit ? page[page.length - 1]!.key : null };
}
