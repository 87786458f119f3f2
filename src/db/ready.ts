// What /readyz checks: the database answers, and it takes writes. A database that answers reads but
// refuses every write (a read-only SQLite file or disk, a PostgreSQL standby or a read-only default
// transaction) fails every disposition, so the instance must leave the load balancer's rotation.
import { sql } from 'kysely';
import type { Db } from './connect.ts';

export type Readiness = { ok: true } | { ok: false; reason: 'unreachable' | 'read_only' };

export async function readiness(db: Db): Promise<Readiness> {
  try {
    await db.ping();
  } catch {
    return { ok: false, reason: 'unreachable' };
  }
  try {
    // A write statement that changes no row: the database must still open a write transaction for it
    // (SQLite: the write lock; PostgreSQL: a read-write transaction), and that is what is refused. Through
    // the writer, so on SQLite it queues with real writes and shares their commit.
    await db.write((trx) => sql`update audit_log set code = code where id < 0`.execute(trx));
    return { ok: true };
  } catch {
    return { ok: false, reason: 'read_only' };
  }
}
