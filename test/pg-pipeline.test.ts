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
import { openDatabase } from '../src/db/connect.ts';
import { admin, adminHeaders, seedProject, setup, tel, KEYS, type Harness } from './helpers.ts';

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

      test('a webhook created while a disposition waits for its assign lock gets that disposition\'s events', async () => {
        // The subscriptions read travels with the lock but runs after it is granted (crm/assigns.ts
        // lockAssign): a webhook committed during the wait applies to the disposition committed after it.
        const other = new pg.Client({ connectionString: h.databaseUrl });
        await other.connect();
        try {
          await other.query(`set search_path to ${h.pgSchema}`);
          await other.query('begin');
          await other.query('select id from assigns where id = 555 for update');
          const answer = tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 555, status_id: 10 });
          const deadline = Date.now() + 5000;
          while (Date.now() < deadline) {
            const { rows } = await other.query(`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`);
            if (rows[0].n > 0) break;
            await sleep(20);
          }
          const hook = await admin(h.app, 'POST', '/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['assign.status_changed'] });
          await other.query('commit');
          assert.equal((await answer).code, 0);
          const log = await admin(h.app, 'GET', `/webhooks/${hook.id}/deliveries`);
          assert.equal(log.items.length, 1, JSON.stringify(log.items));
          await h.app.inject({ method: 'DELETE', url: `/admin/v1/webhooks/${hook.id}`, headers: adminHeaders });
        } finally {
          await other.end();
        }
      });

      test(pipeline ? 'a call.recorded event names its call event; after the first, its id is taken ahead, not read back' : 'a call.recorded event names its call event, read back from its INSERT', async () => {
        // crm/assigns.ts: with a call.recorded subscriber, the id comes from the sequence behind the lock
        // (the guess is made from the call before), and the INSERT goes unwaited, without RETURNING.
        // Without the pipeline that read would be a round trip of its own: the INSERT returns the id.
        const hook = await admin(h.app, 'POST', '/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['call.recorded'] });
        const sent: string[] = [];
        const proto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
        const query = proto.query;
        try {
          const callIds = [0, 1, 2].map((i) => `rec-${pipeline}-${i}`);
          for (const [i, call_id] of callIds.entries()) {
            if (i === 1) {
              proto.query = function (this: pg.Client, ...a: unknown[]) {
                const text = typeof a[0] === 'string' ? a[0] : (a[0] as { text?: string } | undefined)?.text;
                if (text && /call_events/.test(text)) sent.push(text);
                return query.apply(this, a);
              };
            }
            const r = await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 555, status_id: 10, call_id });
            assert.equal(r.code, 0, JSON.stringify(r));
          }
          proto.query = query;
          // The two calls after the first: one id from the sequence each, and inserts that return nothing.
          assert.equal(sent.filter((t) => /nextval/.test(t)).length, pipeline ? 2 : 0, sent.join('\n'));
          const inserts = sent.filter((t) => /^insert into "call_events"/.test(t));
          assert.equal(inserts.length, 2, sent.join('\n'));
          assert.ok(inserts.every((t) => /returning/i.test(t) !== pipeline), inserts.join('\n'));
          // Every event names the row its call wrote.
          await admin(h.app, 'GET', `/webhooks/${hook.id}/deliveries`);
          const { rows: calls } = await sql<{ id: string; call_id: string }>`select id, call_id from call_events where call_id like ${`rec-${pipeline}-%`}`.execute(h.db.q);
          const { rows: deliveries } = await sql<{ data: string }>`select data from webhook_deliveries where webhook_id = ${hook.id}`.execute(h.db.q);
          const named = deliveries.map((d) => JSON.parse(d.data) as { call_id: string; call_event_id: number }).map((d) => `${d.call_id}=${d.call_event_id}`);
          assert.deepEqual(named.sort(), calls.map((c) => `${c.call_id}=${Number(c.id)}`).sort());
          assert.equal(named.length, 3);
        } finally {
          proto.query = query;
          await h.app.inject({ method: 'DELETE', url: `/admin/v1/webhooks/${hook.id}`, headers: adminHeaders });
        }
      });

      test('a failure undone by ROLLBACK TO SAVEPOINT does not fail the commit', async () => {
        await h.db.write(async (trx) => {
          await trx.executeQuery(later('insert into pipe_probe values (301)'));
          await trx.executeQuery(CompiledQuery.raw('savepoint probe_row'));
          // Pipelined, it fails in the server a moment later; without the pipeline it throws here.
          await trx.executeQuery(later('select 1 / 0')).catch(() => undefined);
          await trx.executeQuery(CompiledQuery.raw('rollback to savepoint probe_row'));
          await trx.executeQuery(later('insert into pipe_probe values (302)'));
        });
        const { rows } = await sql<{ x: number }>`select x from pipe_probe where x in (301, 302) order by x`.execute(h.db.q);
        assert.deepEqual(rows.map((r) => r.x), [301, 302]);
        await sql`delete from pipe_probe where x in (301, 302)`.execute(h.db.q);
      });

      test('a value pg cannot send fails the write, and nothing of it is committed', async () => {
        // pg refuses it before anything reaches the server (the transaction is not aborted there), so
        // committing would keep the rest: the known failure must stop the COMMIT.
        const unsendable = { toPostgres: () => { throw new Error('cannot be sent'); } };
        await assert.rejects(
          h.db.write(async (trx) => {
            await trx.executeQuery(later('insert into pipe_probe values (303)'));
            await trx.executeQuery(markLater(CompiledQuery.raw('insert into pipe_probe values ($1)', [unsendable])));
          }),
          /cannot be sent/,
        );
        const { rows } = await sql<{ n: number }>`select count(*)::int as n from pipe_probe where x = 303`.execute(h.db.q);
        assert.equal(rows[0]!.n, 0);
      });

      test(pipeline ? "a transaction's pipelined statements leave in one socket write" : 'without the pipeline each statement is written and answered alone', async () => {
        // pg corks the socket for the messages of one query; the client keeps it corked until the tick's
        // work is done (db/connect.ts), so BEGIN and the statements sent with it cost one system call.
        // A database of one connection, so the transaction's socket is known; only its writes count (the
        // app's pollers write on their own connections meanwhile).
        const one = openDatabase(h.databaseUrl, { poolSize: 1, schema: h.pgSchema!, pipeline });
        try {
          const client = await one.pgNamedPool!.connect();
          const socket = (client as unknown as { connection: { stream: net.Socket } }).connection.stream;
          client.release();
          const proto = net.Socket.prototype as unknown as { _write: Function; _writev: Function };
          const [write, writev] = [proto._write, proto._writev];
          let writes = 0;
          const count = (orig: Function) =>
            function (this: net.Socket, ...a: unknown[]) {
              if (this === socket) writes++;
              return orig.apply(this, a);
            };
          await one.write(async (trx) => {
            await trx.executeQuery(CompiledQuery.raw('select 1'));
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
        } finally {
          await one.close();
        }
      });

      test(pipeline ? 'an unwaited statement does not hold up the code after it' : 'without the pipeline every statement is waited for', async () => {
        // Another session holds an advisory lock, so the statement that takes it blocks in the server.
        const other = new pg.Client({ connectionString: h.databaseUrl });
        await other.connect();
        try {
          await other.query('select pg_advisory_lock(4242)');
          await h.db.write(async (trx) => {
            const sent = trx.executeQuery(later('select pg_advisory_xact_lock(4242)')).then(() => 'went on');
            let first: string;
            try {
              first = await Promise.race([sent, sleep(300).then(() => 'waited')]);
            } finally {
              // Released before any assertion can fail: a failing test must not wait out statement_timeout.
              await other.query('select pg_advisory_unlock(4242)');
            }
            assert.equal(first, pipeline ? 'went on' : 'waited');
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
