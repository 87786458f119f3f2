// Server-side sessions. The cookie holds a random 256-bit id; the table holds only its SHA-256, so a
// copy of the database signs no one in. A session ends when idle longer than the configured time, on
// sign-out, and when its user's password changes or the user is disabled (users.ts); every request
// reads the user afresh, so a role or project change applies at once.
import { createHash, randomBytes } from 'node:crypto';
import type { Q } from '../db/connect.ts';
import { toUser, type UserRow } from './users.ts';
import type { User } from './roles.ts';

/** last_seen_at is written at most this often per session: not one write per console request. */
const TOUCH_EVERY_MS = 60_000;

export const sessionHash = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

export interface NewSession {
  /** the cookie value: shown to the browser only */
  token: string;
  csrfToken: string;
}

/** A new session (a new id at every sign-in: a session id planted before sign-in is never promoted). */
export async function createSession(trx: Q, userId: number, clientIp: string | null, idleMs: number): Promise<NewSession> {
  const token = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(32).toString('base64url');
  const now = Date.now();
  // Expired sessions of anyone are swept here, so the table does not grow with abandoned browsers.
  await trx.deleteFrom('sessions').where('last_seen_at', '<', now - idleMs).execute();
  await trx.insertInto('sessions').values({ id: sessionHash(token), user_id: userId, csrf_token: csrfToken, created_at: now, last_seen_at: now, client_ip: clientIp }).execute();
  return { token, csrfToken };
}

export interface LiveSession {
  user: User;
  csrfToken: string;
}

/** The session of a cookie value and its user, or undefined when it does not exist, expired or the user is disabled. */
export async function findSession(q: Q, token: string, idleMs: number): Promise<LiveSession | undefined> {
  const id = sessionHash(token);
  const row = await q
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .selectAll('users')
    .select(['sessions.csrf_token', 'sessions.last_seen_at'])
    .where('sessions.id', '=', id)
    .executeTakeFirst();
  if (!row) return undefined;
  const now = Date.now();
  if (row.last_seen_at < now - idleMs || row.disabled !== 0) {
    await q.deleteFrom('sessions').where('id', '=', id).execute();
    return undefined;
  }
  if (now - row.last_seen_at >= TOUCH_EVERY_MS) await q.updateTable('sessions').set({ last_seen_at: now }).where('id', '=', id).execute();
  const { csrf_token, last_seen_at: _seen, ...user } = row;
  return { user: toUser(user as UserRow), csrfToken: csrf_token };
}

export async function endSession(q: Q, token: string): Promise<void> {
  await q.deleteFrom('sessions').where('id', '=', sessionHash(token)).execute();
}
