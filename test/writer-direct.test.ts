// The SQLite writer runs compiled statements straight on its connection inside the batch transaction
// (db/compiled.ts, db/writer.ts). They must behave as Kysely's did: rolled back with their write's
// savepoint when that write fails, never taking a neighbour in the same batch with them, and never run
// outside a transaction once the batch is over.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/db/connect.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { insertAuditIn } from '../src/crm/audit.ts';
import type { Q } from '../src/db/connect.ts';

const row = (assignId: number) => ({ at: Date.now(), endpoint: 'set_status', code: 0, latency_ms: 1, key_id: null, client_ip: '127.0.0.1', worker_id: null, assign_id: assignId, project_id: 1 });

describe('SQLite writer, compiled statements on the connection', () => {
  const root = mkdtempSync(join(tmpdir(), 'callcrm-writer-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  test('a failing write rolls back its compiled inserts; its neighbours in the same batch commit', async () => {
    const db = openDatabase(`sqlite:${join(root, 'a.sqlite')}`);
    await migrateToLatest(db.q);
    // Queued together, so they share one batch transaction (group commit).
    const results = await Promise.allSettled([
      db.write((trx) => insertAuditIn(trx, row(1))),
      db.write(async (trx) => {
        await insertAuditIn(trx, row(2));
        throw new Error('refused after writing');
      }),
      db.write((trx) => insertAuditIn(trx, row(3))),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
    const ids = (await db.q.selectFrom('audit_log').select('assign_id').orderBy('assign_id').execute()).map((r) => r.assign_id);
    assert.deepEqual(ids, [1, 3]);
    await db.close();
  });

  test("a batch's audit rows: each committed write's once, in write order, none of the refused one", async () => {
    const db = openDatabase(`sqlite:${join(root, 'c.sqlite')}`);
    await migrateToLatest(db.q);
    const writes = Array.from({ length: 40 }, (_, i) =>
      db.write(async (trx) => {
        await insertAuditIn(trx, row(100 + i));
        if (i === 17) throw new Error('refused after writing');
      }),
    );
    const results = await Promise.allSettled(writes);
    assert.deepEqual(results.map((r, i) => (r.status === 'rejected' ? i : -1)).filter((i) => i >= 0), [17]);
    const ids = (await db.q.selectFrom('audit_log').select(['id', 'assign_id']).orderBy('id').execute()).map((r) => r.assign_id);
    assert.deepEqual(ids, Array.from({ length: 40 }, (_, i) => 100 + i).filter((a) => a !== 117));
    await db.close();
  });

  test('a transaction kept past its batch cannot write on the bare connection any more', async () => {
    const db = openDatabase(`sqlite:${join(root, 'b.sqlite')}`);
    await migrateToLatest(db.q);
    let kept: Q | undefined;
    await db.write(async (trx) => {
      kept = trx;
    });
    await assert.rejects(insertAuditIn(kept!, row(9)), /committed|rolled back/);
    assert.equal((await db.q.selectFrom('audit_log').select('id').execute()).length, 0);
    await db.close();
  });
});
