// What set_data and set_status share: refusing inside a transaction, call_id retries, audit worker id.
import { createHash } from 'node:crypto';
import type { Q } from '../db/connect.ts';
import { isUniqueViolation } from '../db/dialect.ts';
import type { Envelope } from './codes.ts';
import { parseId, type Params } from './params.ts';

/** Thrown inside a write transaction to answer a failure code and roll back whatever was written. */
export class Refusal extends Error {
  constructor(readonly envelope: Envelope) {
    super('refused');
  }
}

/** A concurrent first attempt of the same call_id request won the claim; its answer is the answer. */
class AlreadyClaimed extends Error {}

export interface RetryKey {
  endpoint: string;
  call_id: string;
  assign_id: number;
  request_hash: string;
}

/** The longest call_id kept; longer ids are cut (they are opaque to us and only compared). */
const MAX_CALL_ID = 200;

export const hasNul = (s: string) => s.includes('\u0000');
/**
 * U+0000 never reaches the database (PostgreSQL cannot store it, SQLite can: both must behave alike).
 * In notes, call_id and worker_id it is dropped from the text (telephony-api.md, Legacy realities).
 */
const withoutNul = (s: string | undefined) => (s === undefined || !hasNul(s) ? s : s.replace(/\u0000/g, '').trim() || undefined);

export function callIdOf(p: Params): string | null {
  const v = withoutNul(p.get('call_id'));
  return v === undefined ? null : v.slice(0, MAX_CALL_ID);
}

export function notesOf(p: Params): string | null {
  return withoutNul(p.get('notes')) ?? null;
}

/** worker_id as the dialer sent it, for history and call events; a non-id value is not kept. */
export function auditWorker(p: Params): number | null {
  return parseId(withoutNul(p.get('worker_id'))) ?? null;
}

/** What an agent number looks like: a worker id, or a dialer's own short agent code ("agent-7"). */
const WORKER_TEXT = /^[A-Za-z0-9._-]{1,32}$/;

/**
 * worker_id for the audit log, recorded as given when it looks like an agent number (an unregistered
 * agent number is still audit information: telephony-api.md), else 'invalid': a key or token pasted into
 * the wrong parameter, or any other text, is never stored. Null when none was given.
 */
export function auditWorkerText(p: Params, isSecret: (s: string) => boolean): string | null {
  const v = withoutNul(p.get('worker_id'));
  if (v === undefined) return null;
  return WORKER_TEXT.test(v) && !isSecret(v) ? v : 'invalid';
}

/** "Same changes": every parameter except the key and the transport details, in a stable order. */
export function requestHash(p: Params, ignore: ReadonlySet<string>): string {
  const entries = p
    .names()
    .filter((n) => !ignore.has(n))
    .sort()
    .map((n) => [n, p.raw(n)]);
  return createHash('sha256').update(JSON.stringify(entries)).digest('hex');
}

/**
 * call_id retries are applied once. The first attempt claims its key inside its own transaction; a
 * retry finds the stored answer. On PostgreSQL a retry racing the first attempt waits on the claim's
 * primary key and, once the first commits, reads its answer (see answerOfRetry).
 * Only success answers are stored: a failure changed nothing, so a retry may try again.
 */
export async function claimRetry(trx: Q, key: RetryKey, projectId: number): Promise<Envelope | undefined> {
  const prior = await storedAnswer(trx, key);
  if (prior) return prior;
  try {
    await trx.insertInto('call_requests').values({ ...key, project_id: projectId, response: '{}', created_at: Date.now() }).execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw new AlreadyClaimed();
    throw err;
  }
  return undefined;
}

export async function storeRetryAnswer(trx: Q, key: RetryKey, envelope: Envelope) {
  await trx
    .updateTable('call_requests')
    .set({ response: JSON.stringify(envelope) })
    .where((eb) => eb.and(keyMatch(key)))
    .execute();
}

/** After losing a claim race: the first attempt's stored answer. */
export async function answerOfRetry(q: Q, err: unknown, key: RetryKey | undefined): Promise<Envelope | undefined> {
  if (!(err instanceof AlreadyClaimed) || !key) return undefined;
  return storedAnswer(q, key);
}

/** The primary key of a call_requests row. */
const keyMatch = (key: RetryKey) => ({ endpoint: key.endpoint, call_id: key.call_id, assign_id: key.assign_id, request_hash: key.request_hash });

async function storedAnswer(q: Q, key: RetryKey): Promise<Envelope | undefined> {
  const row = await q.selectFrom('call_requests').select('response').where((eb) => eb.and(keyMatch(key))).executeTakeFirst();
  return row ? (JSON.parse(row.response) as Envelope) : undefined;
}
