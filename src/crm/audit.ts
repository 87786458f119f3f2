// The audit log of telephony writes: endpoint, code, latency, key id (never the key), client IP,
// worker_id, assign. Audit rows must survive what the writes survive (issue 10, item 4):
// - The row of a successful write is inserted in the write's own transaction (insertIn), so it is on
//   disk exactly when the write is, and costs no commit of its own.
// - Every other row (refusals, failures: nothing was written) is buffered and written in one insert
//   every half second (or every 500 rows). A failed flush (disk read-only, a PostgreSQL backend killed)
//   keeps the rows and retries with back-off; a retry inserts row by row, so a row the database refuses
//   can never take the rows of other requests with it.
// Every row goes through auditRow first: text the database cannot store (U+0000) or a pasted key in
// worker_id never reaches it.
import type { Db, Q } from '../db/connect.ts';
import type { AuditLogTable } from '../db/schema.ts';
import type { Insertable } from 'kysely';
import { isConnectionFailure } from '../db/dialect.ts';
import { compileOnce } from '../db/compiled.ts';
import { slot } from '../db/slots.ts';
import { parseId } from '../ids.ts';

export type AuditEntry = Insertable<AuditLogTable>;

const FLUSH_MS = 500;
const FLUSH_ROWS = 500;
/** Back-off between retries of a failed flush: doubles from FLUSH_MS up to this. */
const RETRY_MAX_MS = 30_000;
/** A row the database refuses on its own this many times (not an outage) is given up, with a log line. */
const MAX_ROW_ATTEMPTS = 5;
/**
 * Rows kept while the database refuses them. Past this the oldest are given up (and counted in the
 * log): a long outage must not exhaust memory. 200k rows are ~60 MB.
 */
const MAX_PENDING = 200_000;

/** What the audit stores in worker_id for a value that is not a worker id (a pasted key, free text). */
export const INVALID_WORKER = 'invalid';

/**
 * worker_id as the audit keeps it: a worker id (digits, 1..2^53 − 1), normalized; anything else is
 * marked INVALID_WORKER, never stored as given: dialers have been seen pasting a key into it, and U+0000
 * there failed the whole batch on PostgreSQL.
 */
export function auditWorkerId(raw: string | null | undefined): string | null {
  if (raw === undefined || raw === null) return null;
  const v = raw.replace(/\u0000/g, '').trim();
  if (v === '') return null;
  const id = parseId(v);
  return id === undefined ? INVALID_WORKER : String(id);
}

/** A row the database can always store: no U+0000, bounded text, worker_id as auditWorkerId keeps it. */
export function auditRow(entry: AuditEntry): AuditEntry {
  const text = (v: string | null | undefined, max: number) => (v === undefined || v === null ? null : v.replace(/\u0000/g, '').slice(0, max));
  return {
    ...entry,
    endpoint: text(entry.endpoint, 32) ?? '',
    key_id: text(entry.key_id, 64),
    client_ip: text(entry.client_ip, 64),
    worker_id: auditWorkerId(entry.worker_id),
  };
}

const insertOne = compileOnce((q) =>
  q.insertInto('audit_log').values({
    at: slot(0),
    endpoint: slot(1),
    code: slot(2),
    latency_ms: slot(3),
    key_id: slot(4),
    client_ip: slot(5),
    worker_id: slot(6),
    assign_id: slot(7),
    project_id: slot(8),
    actor: slot(9),
    detail: slot(10),
    key_name: slot(11),
  }),
);

/** The audit row of a successful write, inserted in the write's own transaction (trx). */
export async function insertAuditIn(trx: Q, entry: AuditEntry): Promise<void> {
  const r = auditRow(entry);
  await insertOne.later(trx, [
    r.at,
    r.endpoint,
    r.code,
    r.latency_ms,
    r.key_id ?? null,
    r.client_ip ?? null,
    r.worker_id ?? null,
    r.assign_id ?? null,
    r.project_id ?? null,
    r.actor ?? null,
    r.detail ?? null,
    r.key_name ?? null,
  ]);
}

interface Pending {
  row: AuditEntry;
  attempts: number;
}

export function createAuditLog(db: Db, onError: (err: unknown, message: string) => void) {
  let buffer: Pending[] = [];
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();
  /** Consecutive failed flushes; > 0 means the next flush inserts row by row. */
  let failures = 0;

  function schedule(ms: number) {
    if (!timer) timer = setTimeout(() => void flush(), ms).unref();
  }

  function keep(rows: Pending[]) {
    buffer = rows.concat(buffer);
    if (buffer.length > MAX_PENDING) {
      const lost = buffer.length - MAX_PENDING;
      buffer = buffer.slice(lost);
      onError(undefined, `audit log: ${lost} rows given up after the database refused them for too long`);
    }
  }

  async function write(rows: Pending[]): Promise<void> {
    if (failures === 0) {
      try {
        await db.write((trx) => trx.insertInto('audit_log').values(rows.map((r) => r.row)).execute());
        if (buffer.length > 0) schedule(FLUSH_MS);
        return;
      } catch (err) {
        failures++;
        onError(err, `audit log write failed; ${rows.length} rows kept for a retry`);
        keep(rows);
        schedule(FLUSH_MS);
        return;
      }
    }
    // After a failure: each row on its own (on SQLite each in its own savepoint of one shared commit), so
    // one row the database refuses fails alone.
    const results = await Promise.allSettled(rows.map((r) => db.write((trx) => trx.insertInto('audit_log').values(r.row).execute())));
    const again: Pending[] = [];
    let lastErr: unknown;
    results.forEach((res, i) => {
      if (res.status === 'fulfilled') return;
      lastErr = res.reason;
      const p = rows[i]!;
      p.attempts++;
      if (isConnectionFailure(res.reason) || p.attempts < MAX_ROW_ATTEMPTS) again.push(p);
      else onError(res.reason, `audit log: a row the database refused ${p.attempts} times was given up (${p.row.endpoint} code ${p.row.code} at ${p.row.at})`);
    });
    if (again.length === 0) {
      failures = 0;
      if (buffer.length > 0) schedule(FLUSH_MS);
      return;
    }
    failures++;
    if (again.length < rows.length || failures === 1) onError(lastErr, `audit log write failed; ${again.length} rows kept for a retry`);
    keep(again);
    schedule(Math.min(RETRY_MAX_MS, FLUSH_MS * 2 ** Math.min(failures, 10)));
  }

  function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (buffer.length === 0) return flushing;
    const rows = buffer;
    buffer = [];
    flushing = flushing.then(() => write(rows));
    return flushing;
  }

  return {
    record(entry: AuditEntry) {
      buffer.push({ row: auditRow(entry), attempts: 0 });
      if (failures > 0) return; // a retry is scheduled already
      if (buffer.length >= FLUSH_ROWS) void flush();
      else schedule(FLUSH_MS);
    },
    flush,
    /** Rows waiting to be written (tests, shutdown). */
    pending: () => buffer.length,
  };
}

export type AuditLog = ReturnType<typeof createAuditLog>;

export interface AuditQuery {
  endpoint?: string;
  code?: number;
  assign_id?: number;
  project_id?: number;
  worker_id?: string;
  key_id?: string;
  key_name?: string;
  since?: number;
  until?: number;
  after_id?: number;
  limit: number;
}

export async function listAudit(q: Q, f: AuditQuery) {
  let query = q.selectFrom('audit_log').selectAll();
  if (f.endpoint !== undefined) query = query.where('endpoint', '=', f.endpoint);
  if (f.code !== undefined) query = query.where('code', '=', f.code);
  if (f.assign_id !== undefined) query = query.where('assign_id', '=', f.assign_id);
  if (f.project_id !== undefined) query = query.where('project_id', '=', f.project_id);
  if (f.worker_id !== undefined) query = query.where('worker_id', '=', f.worker_id);
  if (f.key_id !== undefined) query = query.where('key_id', '=', f.key_id);
  if (f.key_name !== undefined) query = query.where('key_name', '=', f.key_name);
  if (f.since !== undefined) query = query.where('at', '>=', f.since);
  if (f.until !== undefined) query = query.where('at', '<', f.until);
  if (f.after_id !== undefined) query = query.where('id', '>', f.after_id);
  return query.orderBy('id').limit(f.limit).execute();
}
