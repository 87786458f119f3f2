// The import's bulk statements, compiled once per shape (db/compiled.ts): multi-row INSERTs sent in
// pieces of 500 rows and then powers of two, and IN-list reads padded to a power of two. Every row of a
// file whose size leaves an odd remainder must land with its values in the right columns, and a padded
// or split IN list must read each row once. (The import's row-by-row fallback would mend a piece the
// bulk path lost: the pieces are also checked directly.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Q } from '../src/db/connect.ts';
import { compileInList, compileRowsInsert } from '../src/db/compiled.ts';
import { slot } from '../src/db/slots.ts';
import { KEYS, dialects, importBody, seedProject, setup, tel, type Harness } from './helpers.ts';

// 1,237 rows: a batch of 1,000 (two INSERTs of 500 per table), then 237 = 128 + 64 + 32 + 8 + 4 + 1.
const ROWS = 1237;
const mobileOf = (i: number) => `054${String(1_000_000 + i).padStart(7, '0')}`;
const e164 = (national: string) => `+972${national.slice(1)}`;
const homeOf = (i: number) => `03${String(2_000_000 + i).padStart(7, '0')}`;

const customersById = compileInList(0, (ids) => (q: Q) => q.selectFrom('customers').select(['id']).where('id', 'in', ids));
const phonesOfProject = compileInList(1, (phones) => (q: Q) =>
  q.selectFrom('customer_phones').select(['phone', 'customer_id']).where('project_id', '=', slot(0)).where('phone', 'in', phones),
);

for (const dialect of dialects()) {
  describe(`bulk statements (${dialect})`, () => {
    let h: Harness;
    before(async () => {
      h = await setup(dialect);
      await seedProject(h.app);
      const lines = ['id,repository_assign_id,first_name,last_name,mobile,home,email,city'];
      for (let i = 1; i <= ROWS; i++) lines.push(`${5000 + i},${900000 + i},First${i},Last${i},${mobileOf(i)},${homeOf(i)},p${i}@example.com,City${i % 7}`);
      const res = await importBody(h.app, lines.join('\n') + '\n', { repository: 7 });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().created, ROWS);
    });
    after(() => h.close());

    test('every row of an import with an odd remainder lands, its values in their columns', async () => {
      // Rows from every piece: the first and last of each full INSERT and of each power-of-two piece.
      for (const i of [1, 2, 500, 501, 1000, 1001, 1128, 1129, 1192, 1193, 1224, 1225, 1232, 1233, 1236, 1237]) {
        const r = await tel(h.app, 'get_data', { authkey: KEYS.get_data, project_id: 10, did: '07333333333', phone: homeOf(i), out: 'first_name,last_name,mobile,email,city' });
        assert.equal(r.code, 0, JSON.stringify(r));
        assert.equal(r.message.length, 1, `row ${i}: ${JSON.stringify(r.message)}`);
        const c = r.message[0];
        assert.deepEqual(
          { uid: c.uid, first_name: c.first_name, last_name: c.last_name, mobile: c.mobile, email: c.email, city: c.city },
          { uid: String(5000 + i), first_name: `First${i}`, last_name: `Last${i}`, mobile: mobileOf(i), email: `p${i}@example.com`, city: `City${i % 7}` },
        );
        const byAssign = await tel(h.app, 'get_data', { authkey: KEYS.get_data, repository_assign_id: 900000 + i, out: 'first_name' });
        assert.equal(byAssign.message[0]?.first_name, `First${i}`, `assign of row ${i}`);
      }
      const phones = await h.db.q.selectFrom('customer_phones').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      assert.equal(Number(phones.n), 2 * ROWS + (await seededPhones(h)));
    });

    test('an IN list padded to a power of two, or read in parts, gives each row once', async () => {
      const ids = Array.from({ length: ROWS }, (_, k) => 5001 + k);
      // 3 existing ids (padded to 4 with a repeat): three rows, not four.
      assert.deepEqual((await customersById(h.db.q, [], [5001, 5002, 5003])).map((r) => r.id).sort((a, b) => a - b), [5001, 5002, 5003]);
      // 9,429 ids read in parts of 4,096 (the third, of 1,237, padded to 2,048): the existing ids fill the
      // third part and sit in the second among missing ones. Each is read once per part it is in.
      const missing = (n: number, from: number) => Array.from({ length: n }, (_, k) => from + k);
      const list = [...missing(4096, 1_000_000), ...ids, ...missing(4096 - ROWS, 2_000_000), ...ids];
      assert.equal(list.length, 8192 + ROWS);
      const counts = new Map<number, number>();
      for (const r of await customersById(h.db.q, [], list)) counts.set(r.id, (counts.get(r.id) ?? 0) + 1);
      assert.deepEqual([...counts.keys()].sort((a, b) => a - b), ids);
      assert.ok([...counts.values()].every((n) => n === 2), 'each existing id once in each of the two parts that hold it');
      assert.deepEqual(await customersById(h.db.q, [], []), []);
      // A fixed value before the list (the project): another project's phones are not read.
      const mine = await phonesOfProject(h.db.q, [10], [e164(mobileOf(1)), e164(mobileOf(2)), '+972000000000']);
      assert.deepEqual(mine.map((r) => r.customer_id).sort((a, b) => a - b), [5001, 5002]);
      assert.deepEqual(await phonesOfProject(h.db.q, [11], [e164(mobileOf(1))]), []);
    });

    test('a multi-row insert with a remainder writes every row in pieces, each value in its column', async () => {
      // 237 rows at most 100 a statement: 100 + 100 + 32 + 4 + 1.
      const insert = compileRowsInsert('sites', ['id', 'project_id', 'name', 'created_at'], 100);
      const rows = Array.from({ length: 237 }, (_, k) => [1000 + k, 10, `Site ${1000 + k}`, 1_700_000_000_000 + k]);
      await h.db.write((trx) => insert(trx, rows));
      const got = await h.db.q.selectFrom('sites').select(['id', 'project_id', 'name', 'created_at']).where('id', '>=', 1000).orderBy('id').execute();
      assert.deepEqual(got.map((r) => [r.id, r.project_id, r.name, Number(r.created_at)]), rows);
    });

    test('a row of the wrong length, or missing a value, is refused before anything is written', async () => {
      const insert = compileRowsInsert('sites', ['id', 'project_id', 'name'], 4);
      await assert.rejects(
        h.db.write((trx) => insert(trx, [[901, 10, 'ok'], [902, 10]])),
        /a row of 2 values for 3 columns/,
      );
      // Kysely left an undefined column out (its default); bound, it would be NULL: refused instead.
      await assert.rejects(
        h.db.write((trx) => insert(trx, [[901, 10, 'ok'], [undefined, 10, 'no id']])),
        /no value for id/,
      );
      await assert.rejects(customersById(h.db.q, [10], [5001]), /takes 0 values before its list, got 1/);
      const sites = await h.db.q.selectFrom('sites').select('id').where('id', 'in', [901, 902]).execute();
      assert.deepEqual(sites, []);
    });
  });
}

/** Phones the seed project holds before the import (its example customer's). */
async function seededPhones(h: Harness): Promise<number> {
  const r = await h.db.q.selectFrom('customer_phones').select((eb) => eb.fn.countAll<number>().as('n')).where('customer_id', '<', 5001).executeTakeFirstOrThrow();
  return Number(r.n);
}
