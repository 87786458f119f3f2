// The audit log of telephony writes: endpoint, code, latency, key id (never the key), client IP,
// worker_id, assign. Rows are buffered and written in one insert every half second (or every 500 rows),
// so auditing adds no commit of its own to a disposition's path. An audit row may be lost in a crash;
// the dispositions themselves never are (they are acknowledged only after their own commit).
import type { Db, Q } from '../db/connect.ts';
import type { AuditLogTable } from '../db/schema.ts';
import type { Insertable } from 'kysely';

export type AuditEntry = Insertable<AuditLogTable>;

const FLUSH_MS = 500;
const FLUSH_ROWS = 500;

export function createAuditLog(db: Db, onError: (err: unknown) => void) {
  let buffer: AuditEntry[] = [];
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();

  function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (buffer.length === 0) return flushing;
    const rows = buffer;
    buffer = [];
    flushing = flushing.then(() => db.write((trx) => trx.insertInto('audit_log').values(rows).execute()).then(() => undefined, onError));
    return flushing;
  }

  return {
    record(entry: AuditEntry) {
      buffer.push(entry);
      if (buffer.length >= FLUSH_ROWS) void flush();
      else if (!timer) timer = setTimeout(() => void flush(), FLUSH_MS).unref();
    },
    flush,
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
