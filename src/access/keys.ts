// Named telephony keys: created with a name, the endpoints they open and optionally the projects they
// are limited to; the secret is shown once and only its SHA-256 is kept (it is 256 random bits, so a
// fast hash is enough: there is nothing to guess from it).
//
// The telephony key check runs inside every live call and cannot wait for the database, so it reads a
// snapshot of the live keys held in memory (NamedKeyStore). Invalidation story: a create or revoke in
// this process reloads the snapshot before its answer is sent (a revoked key is refused at once here);
// every process also reloads every second, so a key created or revoked by another process (a cluster
// worker, the CLI) works or stops within about a second. last_used_at is noted in memory and written
// every few seconds (and before GET /keys answers), not once per call.
import { createHash, randomBytes } from 'node:crypto';
import type { Selectable } from 'kysely';
import { SEED_KEYS, type Endpoint } from '../config.ts';
import type { Db, Q } from '../db/connect.ts';
import type { ApiKeysTable } from '../db/schema.ts';
import { isUniqueViolation } from '../db/dialect.ts';
import { conflict, notFound, unprocessable } from '../errors.ts';

export const ENDPOINT_NAMES = Object.keys(SEED_KEYS) as Endpoint[];

export type KeyRow = Selectable<ApiKeysTable>;

export interface KeyInput {
  name: string;
  endpoints: Endpoint[];
  project_ids?: number[] | null;
}

export interface Key {
  id: number;
  name: string;
  endpoints: Endpoint[];
  project_ids: number[] | null;
  created_at: string;
  last_used_at: string | null;
}

export const secretDigest = (secret: string) => createHash('sha256').update(secret, 'utf8').digest('hex');

export function toKey(r: KeyRow): Key {
  return {
    id: r.id,
    name: r.name,
    endpoints: JSON.parse(r.endpoints) as Endpoint[],
    project_ids: r.project_ids === null ? null : (JSON.parse(r.project_ids) as number[]),
    created_at: new Date(r.created_at).toISOString(),
    last_used_at: r.last_used_at === null ? null : new Date(r.last_used_at).toISOString(),
  };
}

/** Creates a key; answers it with its secret, which exists nowhere else from then on. */
export async function createKey(trx: Q, input: KeyInput): Promise<Key & { secret: string }> {
  if (input.project_ids) {
    const unique = [...new Set(input.project_ids)];
    const found = unique.length === 0 ? [] : await trx.selectFrom('projects').select('id').where('id', 'in', unique).execute();
    const missing = unique.find((id) => !found.some((f) => f.id === id));
    if (missing !== undefined) throw unprocessable(`project ${missing} does not exist`, { project_ids: `project ${missing} does not exist` });
  }
  if (await trx.selectFrom('api_keys').select('id').where('name', '=', input.name).where('revoked_at', 'is', null).executeTakeFirst()) {
    throw conflict(`a key named ${input.name} already exists`, { name: 'already exists' });
  }
  // Prefixed so a leaked one is recognizable (secret scanners, logs); URL-safe for ?authkey=.
  const secret = `crmk_${randomBytes(32).toString('base64url')}`;
  try {
    const row = await trx
      .insertInto('api_keys')
      .values({
        name: input.name,
        secret_hash: secretDigest(secret),
        endpoints: JSON.stringify(ENDPOINT_NAMES.filter((e) => input.endpoints.includes(e))),
        project_ids: input.project_ids ? JSON.stringify([...new Set(input.project_ids)].sort((a, b) => a - b)) : null,
        created_at: Date.now(),
        last_used_at: null,
        revoked_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return { ...toKey(row), secret };
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`a key named ${input.name} already exists`, { name: 'already exists' });
    throw err;
  }
}

/** Live (not revoked) keys in id order, a page at a time. */
export async function listKeys(q: Q, page: { limit: number; after?: number }): Promise<KeyRow[]> {
  let query = q.selectFrom('api_keys').selectAll().where('revoked_at', 'is', null);
  if (page.after !== undefined) query = query.where('id', '>', page.after);
  return query.orderBy('id').limit(page.limit).execute();
}

export async function getKeyByName(q: Q, name: string): Promise<KeyRow | undefined> {
  return q.selectFrom('api_keys').selectAll().where('name', '=', name).where('revoked_at', 'is', null).executeTakeFirst();
}

export async function revokeKey(trx: Q, id: number): Promise<void> {
  const res = await trx.updateTable('api_keys').set({ revoked_at: Date.now() }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
  if (Number(res.numUpdatedRows) === 0) throw notFound('key', id);
}

/** What the telephony key check learns of a named key. */
export interface NamedKey {
  id: number;
  name: string;
  endpoints: ReadonlySet<Endpoint>;
  /** null = every project */
  project_ids: readonly number[] | null;
}

/** How often every process reloads the live keys (a revoke elsewhere takes effect within this). */
const REFRESH_MS = 1000;
/** How often last_used_at is written. */
const USED_FLUSH_MS = 5000;

export function createNamedKeyStore(db: Db, onError: (err: unknown) => void) {
  let byDigest = new Map<string, NamedKey>();
  let started = 0;
  let applied = 0;
  const used = new Map<number, number>();
  let lastUsedFlush = Date.now();
  let timer: NodeJS.Timeout | undefined;

  /** Reads the live keys; a reload that started before a newer one was applied is dropped. */
  async function reload(): Promise<void> {
    const gen = ++started;
    const rows = await db.q.selectFrom('api_keys').select(['id', 'name', 'secret_hash', 'endpoints', 'project_ids']).where('revoked_at', 'is', null).execute();
    if (gen < applied) return;
    applied = gen;
    byDigest = new Map(
      rows.map((r) => [
        r.secret_hash,
        { id: r.id, name: r.name, endpoints: new Set(JSON.parse(r.endpoints) as Endpoint[]), project_ids: r.project_ids === null ? null : (JSON.parse(r.project_ids) as number[]) },
      ]),
    );
  }

  async function flushUsed(): Promise<void> {
    lastUsedFlush = Date.now();
    if (used.size === 0) return;
    const batch = [...used];
    used.clear();
    await db.write(async (trx) => {
      for (const [id, at] of batch) await trx.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
    });
  }

  async function tick() {
    try {
      await reload();
      if (Date.now() - lastUsedFlush >= USED_FLUSH_MS) await flushUsed();
    } catch (err) {
      // The database is away: the keys known a moment ago keep working until it is back.
      onError(err);
    }
  }

  return {
    /** Loads the keys and starts the periodic reload. */
    async start() {
      await reload();
      timer = setInterval(() => void tick(), REFRESH_MS);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await flushUsed().catch(onError);
    },
    /** After a create or revoke in this process: answered only once the snapshot shows it. */
    reload,
    flushUsed,
    /** The live key with this secret digest (hex SHA-256) that opens `endpoint`, noting its use. */
    find(endpoint: Endpoint, digestHex: string): NamedKey | undefined {
      const k = byDigest.get(digestHex);
      if (!k || !k.endpoints.has(endpoint)) return undefined;
      used.set(k.id, Date.now());
      return k;
    },
  };
}

export type NamedKeyStore = ReturnType<typeof createNamedKeyStore>;
