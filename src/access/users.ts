// Console users: create, read, change; the password is only ever stored as a scrypt hash and never
// answered. Changing a password or disabling a user ends the user's sessions in the same transaction.
import type { Selectable } from 'kysely';
import type { Q } from '../db/connect.ts';
import type { Role, UsersTable } from '../db/schema.ts';
import { isUniqueViolation, advanceIdSequence } from '../db/dialect.ts';
import { conflict, notFound, unprocessable } from '../errors.ts';
import type { User } from './roles.ts';

export type UserRow = Selectable<UsersTable>;

// Passwords arrive here already hashed (hashPassword, outside the transaction): a hash costs tens of
// milliseconds of CPU, and on SQLite the write transaction holds the one writer every telephony write waits for.
export interface UserInput {
  username: string;
  password_hash: string;
  role: Role;
  display_name?: string | null;
  worker_id?: number | null;
  project_ids?: number[] | null;
}

export interface UserPatch {
  password_hash?: string;
  role?: Role;
  display_name?: string | null;
  worker_id?: number | null;
  project_ids?: number[] | null;
  disabled?: boolean;
}

export const usernameKey = (username: string) => username.normalize('NFC').toLowerCase();

export function toUser(r: UserRow): User {
  return {
    id: r.id,
    username: r.username,
    role: r.role,
    display_name: r.display_name,
    worker_id: r.worker_id,
    project_ids: r.project_ids === null ? null : (JSON.parse(r.project_ids) as number[]),
    disabled: r.disabled !== 0,
    created_at: new Date(r.created_at).toISOString(),
    updated_at: new Date(r.updated_at).toISOString(),
  };
}

/** A worker and projects named by a user must exist: 422 naming the first that does not. */
async function checkRefs(trx: Q, worker_id: number | null | undefined, project_ids: number[] | null | undefined) {
  if (worker_id !== undefined && worker_id !== null) {
    const w = await trx.selectFrom('workers').select('project_id').where('id', '=', worker_id).executeTakeFirst();
    if (!w) throw unprocessable(`worker ${worker_id} does not exist`, { worker_id: 'does not exist' });
  }
  if (project_ids) {
    const unique = [...new Set(project_ids)];
    const found = unique.length === 0 ? [] : await trx.selectFrom('projects').select('id').where('id', 'in', unique).execute();
    const missing = unique.filter((id) => !found.some((f) => f.id === id));
    if (missing.length > 0) throw unprocessable(`project ${missing[0]} does not exist`, { project_ids: `project ${missing[0]} does not exist` });
  }
}

const projectsJson = (ids: number[] | null | undefined) => (ids === undefined || ids === null ? null : JSON.stringify([...new Set(ids)].sort((a, b) => a - b)));

export async function createUser(trx: Q, input: UserInput & { id?: number }): Promise<User> {
  await checkRefs(trx, input.worker_id, input.project_ids);
  const key = usernameKey(input.username);
  if (await trx.selectFrom('users').select('id').where('username_key', '=', key).executeTakeFirst()) throw conflict(`user ${input.username} already exists`, { username: 'already exists' });
  const now = Date.now();
  try {
    const row = await trx
      .insertInto('users')
      .values({
        ...(input.id === undefined ? {} : { id: input.id }),
        username: input.username,
        username_key: key,
        password_hash: input.password_hash,
        role: input.role,
        display_name: input.display_name ?? null,
        worker_id: input.worker_id ?? null,
        project_ids: projectsJson(input.project_ids),
        disabled: 0,
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    if (input.id !== undefined) await advanceIdSequence(trx, 'users', input.id);
    return toUser(row);
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(input.id !== undefined ? `user ${input.id} already exists` : `user ${input.username} already exists`);
    throw err;
  }
}

export async function getUserRow(q: Q, id: number): Promise<UserRow | undefined> {
  return q.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function getUser(q: Q, id: number): Promise<User> {
  const row = await getUserRow(q, id);
  if (!row) throw notFound('user', id);
  return toUser(row);
}

export async function findUserByName(q: Q, username: string): Promise<UserRow | undefined> {
  return q.selectFrom('users').selectAll().where('username_key', '=', usernameKey(username)).executeTakeFirst();
}

export async function listUsers(q: Q, page: { limit: number; after?: number }): Promise<UserRow[]> {
  let query = q.selectFrom('users').selectAll();
  if (page.after !== undefined) query = query.where('id', '>', page.after);
  return query.orderBy('id').limit(page.limit).execute();
}

/** Changes a user. A new password or disabling ends every session of the user. */
export async function patchUser(trx: Q, id: number, patch: UserPatch): Promise<User> {
  const row = await getUserRow(trx, id);
  if (!row) throw notFound('user', id);
  await checkRefs(trx, patch.worker_id, patch.project_ids);
  const set: Partial<Omit<UserRow, 'id'>> = { updated_at: Date.now() };
  if (patch.password_hash !== undefined) set.password_hash = patch.password_hash;
  if (patch.role !== undefined) set.role = patch.role;
  if (patch.display_name !== undefined) set.display_name = patch.display_name;
  if (patch.worker_id !== undefined) set.worker_id = patch.worker_id;
  if (patch.project_ids !== undefined) set.project_ids = projectsJson(patch.project_ids);
  if (patch.disabled !== undefined) set.disabled = patch.disabled ? 1 : 0;
  await trx.updateTable('users').set(set).where('id', '=', id).execute();
  if (patch.password_hash !== undefined || patch.disabled === true) await endUserSessions(trx, id);
  return toUser((await getUserRow(trx, id))!);
}

/** Display names (else usernames) of users, for "who" in history. */
export async function userNames(q: Q, ids: (number | null)[]): Promise<Map<number, string>> {
  const unique = [...new Set(ids.filter((i): i is number => i !== null))];
  if (unique.length === 0) return new Map();
  const rows = await q.selectFrom('users').select(['id', 'username', 'display_name']).where('id', 'in', unique).execute();
  return new Map(rows.map((r) => [r.id, r.display_name ?? r.username]));
}

/** Ends every session of a user: its cookies are refused from the next request on. */
export async function endUserSessions(trx: Q, userId: number): Promise<void> {
  await trx.deleteFrom('sessions').where('user_id', '=', userId).execute();
}
