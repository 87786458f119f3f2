// Rows a write adds at the end of its group-commit batch instead of at once (SQLite's writer.ts).
//
// A write in the writer's shared transaction can hand items to a tail: they are kept while its savepoint
// is open, dropped if it rolls back, and after the batch's last write the tail writes every committed
// write's items in one go, inside the same transaction, before the commit. The items are then as atomic
// as the write itself (committed with it, never without it), at one statement per batch instead of one
// per write. Used by the webhook outbox (crm/events.ts), whose row per write was ~10 % of a set_status.
// Outside a batch (PostgreSQL, where each write is its own transaction) the caller writes at once.
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

type Q = Kysely<Database>;

export interface Tail<T> {
  /** Writes the items of the batch's committed writes, in their order, in the batch's transaction. */
  flush(trx: Q, items: T[]): Promise<void>;
}

interface State {
  /** items of the writes already released, per tail */
  batch: Map<Tail<unknown>, unknown[]>;
  /** items of the write running now */
  job: Map<Tail<unknown>, unknown[]>;
  /** run when the running write is released, dropped when it rolls back */
  onKept: (() => void)[];
}

const STATE = Symbol('batch tail');
type WithState = { [STATE]?: State };

/** Hands an item to the tail at the end of trx's batch; false when trx is not a batch (write it now). */
export function appendAtBatchEnd<T>(trx: Q, tail: Tail<T>, item: T): boolean {
  const state = (trx as unknown as WithState)[STATE];
  if (!state) return false;
  const list = state.job.get(tail as Tail<unknown>);
  if (list) list.push(item);
  else state.job.set(tail as Tail<unknown>, [item]);
  return true;
}

/** The items waiting in this batch for the tail (of the writes released so far), to edit in place (whenKept). */
export function waitingAtBatchEnd<T>(trx: Q, tail: Tail<T>): T[] {
  const state = (trx as unknown as WithState)[STATE];
  return ((state?.batch.get(tail as Tail<unknown>)) ?? []) as T[];
}

/** Where the running write's items stand: a savepoint inside the write (import-batch.ts) takes one. */
export type Mark = Map<Tail<unknown>, number>;

export function markAtBatchEnd(trx: Q): Mark {
  const state = (trx as unknown as WithState)[STATE];
  return new Map(state ? [...state.job].map(([tail, items]) => [tail, items.length]) : []);
}

/** The inner savepoint rolled back: the items the write added since the mark are dropped. */
export function cutToMark(trx: Q, mark: Mark): void {
  const state = (trx as unknown as WithState)[STATE];
  if (!state) return;
  for (const [tail, items] of state.job) items.length = mark.get(tail) ?? 0;
}

/**
 * Runs fn when the running write is released (after its items joined the batch's), not when it rolls
 * back; outside a batch, at once (the caller's transaction then holds everything fn could change).
 */
export function whenKept(trx: Q, fn: () => void): void {
  const state = (trx as unknown as WithState)[STATE];
  if (state) state.onKept.push(fn);
  else fn();
}

/** The writer: a batch begins (marks its transaction). */
export function beginBatch(trx: Q): void {
  (trx as unknown as WithState)[STATE] = { batch: new Map(), job: new Map(), onKept: [] };
}

/** The writer: the running write was released (keep) or rolled back (drop). */
export function endJob(trx: Q, kept: boolean): void {
  const state = (trx as unknown as WithState)[STATE];
  if (!state) return;
  if (kept) {
    for (const [tail, items] of state.job) {
      const list = state.batch.get(tail);
      if (list) list.push(...items);
      else state.batch.set(tail, items);
    }
    for (const fn of state.onKept) fn();
  }
  state.job = new Map();
  state.onKept = [];
}

/** The writer: after the last write, before the commit; unmarks the transaction. */
export async function flushBatch(trx: Q): Promise<void> {
  const state = (trx as unknown as WithState)[STATE];
  (trx as unknown as WithState)[STATE] = undefined;
  if (!state) return;
  for (const [tail, items] of state.batch) if (items.length > 0) await tail.flush(trx, items);
}

/** The writer: the batch failed; its items go with it. */
export function dropBatch(trx: Q): void {
  (trx as unknown as WithState)[STATE] = undefined;
}
