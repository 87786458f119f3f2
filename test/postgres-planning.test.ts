// PostgreSQL planning: get_data's lookups are named prepared statements (planned once per connection)
// unless DATABASE_PREPARED_STATEMENTS=false, and both ways answer the same; a big import refreshes the
// planner's statistics. PostgreSQL only: SQLite always prepares its statements (db/prepared.ts).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { sql } from 'kysely';
import { openDatabase, type Db } from '../src/db/connect.ts';
import { createSetupCache } from '../src/crm/setup-cache.ts';
import { createLookup } from '../src/crm/lookup.ts';
import { importCustomers } from '../src/crm/import.ts';
import { setup, seedProject, tel, KEYS, type Harness } from './helpers.ts';

const lookupAnswer = { did: '07333333333', phone: '050-000-0000', project_id: 10, out: 'first_name,repository_assign_id' };

/** Names of this connection's prepared statements made by callcrm (pool of one: always the same session). */
async function preparedNames(db: Db): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select name from pg_prepared_statements where name like 'callcrm\_%'`.execute(db.q);
  return rows.map((r) => r.name);
}

describe('postgres: prepared statements on the get_data path', { skip: !process.env.TEST_DATABASE_URL && 'TEST_DATABASE_URL is not set' }, () => {
  for (const prepared of [true, false]) {
    describe(`DATABASE_PREPARED_STATEMENTS=${prepared}`, () => {
      let h: Harness;
      let one: Db;
      before(async () => {
        h = await setup('postgres', { DATABASE_PREPARED_STATEMENTS: String(prepared) });
        await seedProject(h.app);
        one = openDatabase(h.databaseUrl, { poolSize: 1, schema: h.pgSchema!, preparedStatements: prepared });
      });
      after(async () => {
        await one.close();
        await h.close();
      });

      test('get_data answers the caller', async () => {
        const r = await tel(h.app, 'get_data', { authkey: KEYS.get_data, ...lookupAnswer });
        assert.deepEqual(r.message.map((m: { repository_assign_id: string }) => m.repository_assign_id).sort(), ['2190811', '555']);
        assert.equal(r.message[0].first_name, 'John');
      });

      test(prepared ? 'the by-phone lookup is prepared once per connection and reused' : 'nothing is prepared by name', async () => {
        const lookup = createLookup(one, createSetupCache(one));
        for (let i = 0; i < 3; i++) assert.equal((await lookup.findByPhone(10, '+972500000000', {})).length, 2);
        if (!prepared) {
          assert.deepEqual(await preparedNames(one), []);
          return;
        }
        const names = await preparedNames(one);
        assert.equal(names.length, 1, `one statement for three lookups, got ${names.join(', ')}`);
      });
    });
  }

  describe('the disposition statements, named', () => {
    let h: Harness;
    before(async () => {
      h = await setup('postgres', { DATABASE_POOL_SIZE: '1' });
      await seedProject(h.app);
    });
    after(() => h.close());

    test('are prepared once per connection, and survive a column added by a newer release (no `*` in a named statement)', async () => {
      const write = () => tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 2190811, status_id: 10 });
      const fields = () => tel(h.app, 'set_data', { authkey: KEYS.set_data, repository_assign_id: 2190811, first_name: `J${Date.now()}` });
      assert.equal((await write()).code, 0);
      assert.equal((await fields()).code, 0);
      const { rows } = await sql<{ statement: string }>`select statement from pg_prepared_statements where name like 'callcrm\_%'`.execute(h.db.q);
      assert.ok(rows.some((r) => /insert into "call_events"/.test(r.statement)), 'the call event insert is a named statement');
      assert.ok(rows.every((r) => !/(select|returning)\s+\*/i.test(r.statement)), 'no named statement selects *');
      // A rolling upgrade: another instance migrates, adding columns, while this one keeps its connections.
      for (const table of ['assigns', 'customers', 'call_events']) await sql`alter table ${sql.table(table)} add column added_later integer`.execute(h.db.q);
      assert.equal((await write()).code, 0);
      assert.equal((await fields()).code, 0);
    });
  });

  describe("the import's statements", () => {
    let h: Harness;
    before(async () => {
      h = await setup('postgres', { DATABASE_POOL_SIZE: '1' });
      await seedProject(h.app);
    });
    after(() => h.close());

    test('its IN-list reads are planned for their values every time, never kept as a named statement', async () => {
      // A named statement gets one generic plan after five runs. Made while the tables were still empty,
      // the owner read by phone filtered the whole project instead of looking each phone up: the 1M
      // benchmark's import took 500 s instead of ~150 s (crm/import-owners.ts, db/compiled.ts).
      const rows = ['first_name,mobile', ...Array.from({ length: 1200 }, (_, i) => `Lead${i},052${String(3_000_000 + i)}`)].join('\n');
      for (let round = 0; round < 2; round++) {
        const summary = await importCustomers(h.db, Readable.from([rows]), { projectId: 10, repositoryId: 7, country: 'IL', format: 'csv' });
        assert.equal(summary.created + summary.skipped, 1200);
      }
      const { rows: named } = await sql<{ statement: string }>`select statement from pg_prepared_statements where name like 'callcrm\_%'`.execute(h.db.q);
      // The same connection ran the import (a pool of one): its multi-row INSERTs are named, its reads not.
      assert.ok(named.some((r) => /^insert into "customer_phones" .*\), \(/.test(r.statement)), named.map((r) => r.statement.slice(0, 60)).join('\n'));
      assert.deepEqual(named.filter((r) => /\bin \(/.test(r.statement)).map((r) => r.statement.slice(0, 80)), []);
    });
  });

  describe('a big import', () => {
    let h: Harness;
    before(async () => {
      h = await setup('postgres');
      await seedProject(h.app);
    });
    after(() => h.close());

    const analyzedAt = async () => {
      const { rows } = await sql<{ relname: string; at: Date | null }>`
        select relname, coalesce(last_analyze, last_autoanalyze) as at from pg_stat_user_tables
         where schemaname = current_schema() and relname in ('customers', 'customer_phones', 'assigns') order by relname`.execute(h.db.q);
      return rows;
    };

    test('refreshes the statistics of the tables it filled (10,000 rows or more)', async () => {
      const small = ['first_name,mobile', ...Array.from({ length: 50 }, (_, i) => `Small${i},054${String(1_000_000 + i)}`)].join('\n');
      await importCustomers(h.db, Readable.from([small]), { projectId: 10, repositoryId: 7, country: 'IL', format: 'csv' });
      const before = await analyzedAt();
      const rows = ['first_name,mobile', ...Array.from({ length: 10_000 }, (_, i) => `Lead${i},052${String(2_000_000 + i)}`)].join('\n');
      const summary = await importCustomers(h.db, Readable.from([rows]), { projectId: 10, repositoryId: 7, country: 'IL', format: 'csv' });
      assert.equal(summary.created, 10_000);
      const afterImport = await analyzedAt();
      assert.deepEqual(afterImport.map((r) => r.relname), ['assigns', 'customer_phones', 'customers']);
      for (const [i, r] of afterImport.entries()) {
        assert.ok(r.at !== null, `${r.relname} was analyzed`);
        const was = before[i]?.at;
        assert.ok(was === null || was === undefined || r.at > was, `${r.relname} was analyzed again after the big import`);
      }
    });
  });
});
