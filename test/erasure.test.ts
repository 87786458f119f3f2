// Erasure (DELETE /customers/:id): the person's values disappear from every surface and from the
// database itself. The proof is a scan for unique values: on SQLite of the database file and its WAL
// (bytes, free pages included), on PostgreSQL of every table of the schema cast to text.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { KEYS, admin, adminHeaders, importBody, dialects, seedProject, setup, tel, type Harness } from './helpers.ts';

// Values only this customer holds, each in a different place: field values (current and overwritten,
// so also in history and in the webhook outbox), a call note, a unique e-mail, a phone number (and its
// normalized form), and two rejected import rows that carry the person's phone or e-mail.
const MARKS = ['Qzxvbnelmira', 'Wvutsrqplonk', 'Kjhgfdsapoiu', 'zyxwq.erase@mail.example', 'Note-Mnbvcxzlk', 'Rjctmarkqq', 'Rjctmarkww'] as const;
// A rejected row of someone else (another phone, no e-mail of the person): it must stay.
const OTHER = 'Keepmarkzz';
const PHONE = '052-739-4417';
const PHONE_NORMALIZED = '+972527394417';
const ALL: string[] = [...MARKS, PHONE_NORMALIZED];

async function sqliteHits(h: Harness): Promise<string[]> {
  const file = h.databaseUrl.slice('sqlite:'.length);
  const bytes = [file, `${file}-wal`].filter(existsSync).map((f) => readFileSync(f));
  return ALL.filter((m) => bytes.some((b) => b.includes(Buffer.from(m))));
}

async function postgresHits(h: Harness): Promise<string[]> {
  const tables = await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = ${h.pgSchema!} and table_type = 'BASE TABLE'`.execute(h.db.q);
  const found = new Set<string>();
  for (const { name } of tables.rows) {
    const rows = await sql<{ t: string }>`select t::text as t from ${sql.table(name)} t`.execute(h.db.q);
    for (const r of rows.rows) for (const m of ALL) if (r.t.includes(m)) found.add(m);
  }
  return [...found];
}

const hits = (h: Harness) => (h.dialect === 'sqlite' ? sqliteHits(h) : postgresHits(h));

for (const dialect of dialects()) {
  describe(dialect, () => {
    let h: Harness;
    let customerId: number;
    let assignId: number;
    before(async () => {
      h = await setup(dialect);
      await seedProject(h.app);
      // A webhook whose receiver is down: its deliveries stay in the outbox with the values they quote.
      await admin(h.app, 'POST', '/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['customer.created', 'customer.fields_changed', 'call.recorded', 'assign.status_changed'] });
      const c = await admin(h.app, 'POST', '/projects/10/customers', { fields: { first_name: MARKS[0], last_name: 'Plain', mobile: PHONE, email: MARKS[3] } });
      customerId = c.id;
      assignId = (await admin(h.app, 'POST', '/repositories/7/assigns', { customer_id: customerId })).id;
      await admin(h.app, 'POST', '/repositories/8/assigns', { customer_id: customerId });
      // Overwritten values live on in history; a call_id answer quotes the value it wrote.
      assert.equal((await tel(h.app, 'set_data', { authkey: KEYS.set_data, repository_assign_id: assignId, city: MARKS[1], call_id: 'c-1' })).code, 0);
      assert.equal((await tel(h.app, 'set_data', { authkey: KEYS.set_data, repository_assign_id: assignId, city: MARKS[2] })).code, 0);
      assert.equal((await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: assignId, status_id: 2, notes: MARKS[4] })).code, 0);
      // Rows rejected for an impossible date: two carry the person's phone (another spelling) or e-mail.
      const csv = `first_name,mobile,email,birthday\n${MARKS[5]},+972 52 739 4417,,31/02/1990\n${MARKS[6]},054-111-2222,${MARKS[3].toUpperCase()},31/02/1990\n${OTHER},054-333-4444,,31/02/1990\n`;
      const imported = await importBody(h.app, csv, { repository: 7 });
      assert.equal(imported.statusCode, 200, imported.body);
      assert.equal(imported.json().error_count, 3, imported.body);
      if (h.dialect === 'sqlite') {
        // Into the database file, so the scan also proves the file's own pages are wiped, not just the WAL.
        await sql`pragma wal_checkpoint(TRUNCATE)`.execute(h.db.q);
      }
    });
    after(async () => h?.close());

    test('before the erasure the scan finds every value (the scan can fail)', async () => {
      assert.deepEqual((await hits(h)).sort(), [...ALL].sort());
    });

    test('DELETE /customers/:id erases: 204, then 404 everywhere and no lookup, search or export finds it', async () => {
      const res = await h.app.inject({ method: 'DELETE', url: `/admin/v1/customers/${customerId}`, headers: adminHeaders });
      assert.equal(res.statusCode, 204, res.body);
      await admin(h.app, 'GET', `/customers/${customerId}`, undefined, 404);
      await admin(h.app, 'GET', `/assigns/${assignId}`, undefined, 404);
      const again = await h.app.inject({ method: 'DELETE', url: `/admin/v1/customers/${customerId}`, headers: adminHeaders });
      assert.equal(again.statusCode, 404);

      const byPhone = await tel(h.app, 'get_data', { authkey: KEYS.get_data, did: '07333333333', project_id: 10, phone: PHONE, out: 'first_name' });
      assert.deepEqual([byPhone.code, byPhone.message], [0, []]);
      assert.equal((await tel(h.app, 'get_data', { authkey: KEYS.get_data, repository_assign_id: assignId, out: 'first_name' })).code, 6);
      assert.equal((await tel(h.app, 'set_data', { authkey: KEYS.set_data, repository_assign_id: assignId, city: 'x' })).code, 3);
      assert.deepEqual((await admin(h.app, 'GET', `/projects/10/customers?phone=${encodeURIComponent(PHONE)}`)).items, []);
      assert.deepEqual((await admin(h.app, 'GET', `/projects/10/customers?q=${MARKS[0]}`)).items, []);
      for (const repo of [7, 8]) {
        const csv = await h.app.inject({ method: 'GET', url: `/admin/v1/projects/10/export?repository_id=${repo}`, headers: adminHeaders });
        assert.equal(csv.statusCode, 200);
        for (const m of ALL) assert.ok(!csv.body.includes(m), m);
      }
    });

    test('history keeps kind, field name and time; the values are null', async () => {
      const items = (await admin(h.app, 'GET', `/assigns/${assignId}/history`)).items as Record<string, unknown>[];
      const fields = items.filter((i) => i.kind === 'field');
      assert.ok(fields.length >= 2);
      assert.ok(fields.every((i) => i.field === 'city' && i.old_value === null && i.new_value === null && typeof i.at === 'string'));
      assert.ok(items.some((i) => i.kind === 'status' && i.new_status_id === 2));
      assert.ok(items.some((i) => i.kind === 'call' && i.notes === null));
    });

    test('the audit log records who erased whom', async () => {
      const items = (await admin(h.app, 'GET', '/audit?endpoint=admin.customer.erase')).items;
      assert.equal(items.length, 1);
      assert.equal(items[0].actor, 'admin-token');
      assert.equal(JSON.parse(items[0].detail).customer_id, customerId);
    });

    test('the outbox keeps its rows with ids only; rejects of other people stay', async () => {
      // The outbox holds the events either as deliveries (fanned out by the sender) or still as the
      // writes' event rows: both are scrubbed.
      const rows = await h.db.q.selectFrom('webhook_deliveries').select(['type', 'data']).execute();
      const events = await h.db.q.selectFrom('webhook_events').select('events').execute();
      const data = [...rows.map((r) => JSON.parse(r.data)), ...events.flatMap((r) => JSON.parse(r.events).map((e: unknown[]) => e[4]))];
      const about = data.filter((d) => d.customer_id === customerId);
      assert.ok(about.length >= 4, JSON.stringify(rows));
      assert.ok(about.filter((d) => d.erased === true).length >= 4);
      assert.ok(about.every((d) => d.fields === undefined && d.changes === undefined && d.notes === undefined));
      const rejects = await h.db.q.selectFrom('import_rejects').select('cells').execute();
      assert.equal(rejects.length, 1);
      assert.ok(rejects[0]!.cells.includes(OTHER));
    });

    test(dialect === 'sqlite' ? 'no value is left in the database file or its WAL' : 'no value is left in any table', async () => {
      assert.deepEqual(await hits(h), []);
    });
  });
}
