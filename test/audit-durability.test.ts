// Audit rows survive what the writes survive (issue 10, items 1, 4 and 10): a success's row commits with
// the write, a failed flush keeps its rows and retries, and no request's row (U+0000, a pasted key) can
// make the database refuse the rows of other requests.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { dialects, setup, seedProject, tel, KEYS, type Harness } from './helpers.ts';

for (const dialect of dialects()) {
  describe(dialect, () => {
    let h: Harness;
    before(async () => {
      h = await setup(dialect, { CRM_AUTH_FAIL_LIMIT: '0' });
      await seedProject(h.app);
    });
    after(() => h.close());

    const rows = () => h.db.q.selectFrom('audit_log').selectAll().orderBy('id').execute();
    async function until(what: string, ok: () => Promise<boolean>, ms = 8000) {
      for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (await ok()) return;
      assert.fail(`timed out waiting for ${what}`);
    }

    test("a success's audit row is on disk when the answer is, in the write's own transaction", async () => {
      await h.db.q.deleteFrom('audit_log').execute();
      const r = await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 2190811, status_id: 10, worker_id: 99 });
      assert.equal(r.code, 0);
      // No wait and no flush: the row committed with the call event.
      const [row] = await rows();
      assert.ok(row, 'the audit row of the write is in the database as soon as the write is answered');
      assert.equal(row.code, 0);
      assert.equal(row.assign_id, 2190811);
      assert.equal(row.worker_id, '99');
    });

    test('a worker_id with U+0000 and a wrong key never drops the audit rows of other requests', async () => {
      await h.db.q.deleteFrom('audit_log').execute();
      // All in one flush: a refusal carrying U+0000 in worker_id among other refusals and writes.
      await Promise.all([
        tel(h.app, 'set_status', { authkey: 'wrong', repository_assign_id: 2190811, status_id: 10, worker_id: '\u0000' }),
        tel(h.app, 'set_status', { authkey: 'wrong', repository_assign_id: 2190811, status_id: 10, worker_id: '9\u00009' }),
        tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 404404, status_id: 10, worker_id: 99 }),
        tel(h.app, 'set_data', { authkey: KEYS.set_data, repository_assign_id: 2190811, city: 'Eilat', worker_id: 99 }),
        tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 555, status_id: 2, worker_id: 99 }),
      ]);
      await until('5 audit rows', async () => (await rows()).length >= 5);
      await sleep(700);
      const all = await rows();
      assert.deepEqual(all.map((r) => `${r.endpoint} ${r.code}`).sort(), ['set_data 0', 'set_status 0', 'set_status 1', 'set_status 1', 'set_status 3']);
      assert.deepEqual(all.filter((r) => r.code === 1).map((r) => r.worker_id).sort(), ['99', null].sort() as never);
      assert.ok(all.every((r) => !JSON.stringify(r).includes('\\u0000')));
    });

    test('the audit worker_id keeps a worker id only: a pasted key or free text is marked invalid', async () => {
      await h.db.q.deleteFrom('audit_log').execute();
      for (const w of [KEYS.set_data, 'agent 7', '0099', '9007199254740992']) {
        await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 404404, status_id: 10, worker_id: w });
      }
      await until('4 audit rows', async () => (await rows()).length >= 4);
      assert.deepEqual((await rows()).map((r) => r.worker_id), ['invalid', 'invalid', '99', 'invalid']);
      assert.ok(!JSON.stringify(await rows()).includes(KEYS.set_data));
    });

    test('a failed flush keeps its rows and writes them once the database takes them again', async () => {
      await h.db.q.deleteFrom('audit_log').execute();
      const before = h.logs.length;
      await sql`alter table audit_log rename to audit_log_away`.execute(h.db.q);
      try {
        for (let i = 0; i < 3; i++) {
          assert.equal((await tel(h.app, 'set_status', { authkey: 'wrong', repository_assign_id: 2190811, status_id: 10 })).code, 1);
        }
        await until('the failed flush in the log', async () => h.logs.slice(before).some((l) => /audit log write failed/.test(l)));
        // More rows while the retry is pending: none of them may be lost either.
        assert.equal((await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 404404, status_id: 10 })).code, 3);
      } finally {
        await sql`alter table audit_log_away rename to audit_log`.execute(h.db.q);
      }
      await until('4 audit rows after the recovery', async () => (await rows()).length >= 4, 10_000);
      await sleep(300);
      assert.deepEqual((await rows()).map((r) => r.code).sort(), [1, 1, 1, 3]);
    });
  });
}
