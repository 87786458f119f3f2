// PostgreSQL: inside a transaction, the statements nobody waits for go out with the next one
// (db/pg-driver.ts, DATABASE_PIPELINE). What must hold either way: a write whose unwaited statement fails
// fails as a whole, with that statement's own error, and leaves nothing committed.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import net from 'node:net';
import pg from 'pg';
import { CompiledQuery, sql } from 'kysely';
import { answerOf, markAhead, markLater } from '../src/db/pg-driver.ts';
import { admin, seedProject, setup, tel, KEYS, type Harness } from './helpers.ts';

const later = (text: string) => markLater(CompiledQuery.raw(text));

describe('postgres: statements sent without waiting', { skip: !process.env.TEST_DATABASE_URL && 'TEST_DATABASE_URL is not set' }, () => {
  for (const pipeline of [true, false]) {
    describe(`DATABASE_PIPELINE=${pipeline}`, () => {
      let h: Harness;
      before(async () => {
        h = await setup('postgres', { DATABASE_PIPELINE: String(pipeline) });
        await seedProject(h.app);
        await sql`create table pipe_probe (x integer not null)`.execute(h.db.q);
      });
      after(async () => {
        await h.close();
      });

      test('set_status and set_data commit every row of the disposition', async () => {
        const r = await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 555, status_id: 10, notes: 'pipelined', call_id: `c-${pipeline}` });
        assert.equal(r.code, 0, JSON.stringify(r));
        const d = await tel(h.app, 'set_data', { authkey: KEYS.set_data, repository_assign_id: 555, first_name: 'Jonathan', status_id: 2 });
        assert.equal(d.code, 0, JSON.stringify(d));
        const assign = await admin(h.app, 'GET', '/assigns/555');
        assert.equal(assign.status_id, 2);
        const { rows: history } = await sql<{ kind: string; n: number }>`select kind, count(*)::int as n from history where assign_id = 555 group by kind order by kind`.execute(h.db.q);
        assert.deepEqual(history, [
          { kind: 'field', n: 1 },
          { kind: 'status', n: 2 },
        ]);
        const { rows: calls } = await sql<{ notes: string | null }>`select notes from call_events where assign_id = 555 order by id`.execute(h.db.q);
        assert.deepEqual(calls.map((c) => c.notes), ['pipelined', null]);
        const { rows: audit } = await sql<{ endpoint: string }>`select endpoint from audit_log where assign_id = 555 order by id`.execute(h.db.q);
        assert.deepEqual(audit.map((a) => a.endpoint), ['set_status', 'set_data']);
      });

      test('a disposition whose unwaited insert fails answers failure, logs the cause and commits nothing', async () => {
        await sql`create function refuse_history() returns trigger language plpgsql as $$ begin raise exception 'history refused by the test'; end $$`.execute(h.db.q);
        await sql`create trigger refuse_history before insert on history for each row execute function refuse_history()`.execute(h.db.q);
        try {
          const before = await admin(h.app, 'GET', '/assigns/2190811');
          const r = await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 2190811, status_id: 10, notes: 'never stored' });
          assert.deepEqual([r.code, r.message], [5, 'Failed to set status']);
          const after = await admin(h.app, 'GET', '/assigns/2190811');
          assert.equal(after.status_id, before.status_id);
          const { rows } = await sql<{ n: number }>`select count(*)::int as n from call_events where notes = 'never stored'`.execute(h.db.q);
          assert.equal(rows[0]!.n, 0);
          const { rows: audit } = await sql<{ n: number }>`select count(*)::int as n from audit_log where assign_id = 2190811`.execute(h.db.q);
          assert.equal(audit[0]!.n, 0);
          // The cause is what failed, not the "current transaction is aborted" of the statements after it.
          assert.ok(h.logs.some((l) => l.includes('history refused by the test')), 'the cause is logged');
          assert.ok(!h.logs.some((l) => l.includes('current transaction is aborted')));
        } finally {
          await sql`drop trigger refuse_history on history`.execute(h.db.q);
          await sql`drop function refuse_history()`.execute(h.db.q);
        }
      });

      test('the commit fails with the error of a statement nobody waited for, and nothing is kept', async () => {
        await assert.rejects(
          h.db.write(async (trx) => {
            await trx.executeQuery(later('insert into pipe_probe values (1)'));
            await trx.executeQuery(later('select 1 / 0'));
          }),
          { code: '22012' },
        );
        // A statement waited for after the failure throws the failure, not "transaction is aborted" (25P02).
        await assert.rejects(
          h.db.write(async (trx) => {
            await trx.executeQuery(later('insert into pipe_probe values (2)'));
            await trx.executeQuery(later('select 1 / 0'));
            await trx.executeQuery(CompiledQuery.raw('select 1'));
          }),
          { code: '22012' },
        );
        // So does a read sent ahead whose rows are taken after the failure.
        await assert.rejects(
          h.db.write(async (trx) => {
            await trx.executeQuery(later('select 1 / 0'));
            const read = markAhead(CompiledQuery.raw('select 1 as one'));
            const now = await trx.executeQuery(read);
            await (answerOf(read) ?? now.rows);
          }),
          { code: '22012' },
        );
        const { rows } = await sql<{ n: number }>`select count(*)::int as n from pipe_probe`.execute(h.db.q);
        assert.equal(rows[0]!.n, 0);
        // The connections are clean afterwards: a write on each of the pool's five commits.
        await Promise.all(Array.from({ length: 5 }, (_, i) => h.db.write((trx) => trx.executeQuery(later(`insert into pipe_probe values (${10 + i})`)))));
        const { rows: kept } = await sql<{ n: number }>`select count(*)::int as n from pipe_probe`.execute(h.db.q);
        assert.equal(kept[0]!.n, 5);
      });

      test(pipeline ? "a transaction's pipelined statements leave in one socket write" : 'without the pipeline each statement is written and answered alone', async () => {
        // pg corks the socket for the messages of one query; the client keeps it corked until the tick's
        // work is done (db/connect.ts), so BEGIN and the statements sent with it cost one system call.
        const proto = net.Socket.prototype as unknown as { _write: Function; _writev: Function };
        const [write, writev] = [proto._write, proto._writev];
        let writes = 0;
        const count = (orig: Function) =>
          // Every socket write in the window counts: nothing but this transaction runs then.
          function (this: net.Socket, ...a: unknown[]) {
            writes++;
            return orig.apply(this, a);
          };
        await h.db.write(async (trx) => {
          await trx.executeQuery(CompiledQuery.raw('select 1')); // the pool's connection is set up
          proto._write = count(write);
          proto._writev = count(writev);
          try {
            for (let i = 0; i < 3; i++) await trx.executeQuery(later(`insert into pipe_probe values (${200 + i})`));
            await trx.executeQuery(CompiledQuery.raw('select 1'));
          } finally {
            proto._write = write;
            proto._writev = writev;
          }
        });
        assert.equal(writes, pipeline ? 1 : 4);
        await sql`delete from pipe_probe where x >= 200`.execute(h.db.q);
      });

      test(pipeline ? 'an unwaited statement does not hold up the code after it' : 'without the pipeline every statement is waited for', async () => {
        // Another session holds an advisory lock, so the statement that takes it blocks in the server.
        const other = new pg.Client({ connectionString: h.databaseUrl });
        await other.connect();
        try {
          await other.query('select pg_advisory_lock(4242)');
          await h.db.write(async (trx) => {
            const sent = trx.executeQuery(later('select pg_advisory_xact_lock(4242)')).then(() => 'went on');
            const first = await Promise.race([sent, sleep(300).then(() => 'waited')]);
            assert.equal(first, pipeline ? 'went on' : 'waited');
            await other.query('select pg_advisory_unlock(4242)');
            await sent;
            await trx.executeQuery(later('insert into pipe_probe values (99)'));
          });
          const { rows } = await sql<{ n: number }>`select count(*)::int as n from pipe_probe where x = 99`.execute(h.db.q);
          assert.equal(rows[0]!.n, 1);
        } finally {
          await other.end();
        }
      });
    });
  }
});
