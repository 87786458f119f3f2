// Concurrency through a real listening server (fetch, parallel sockets), on each database: uniqueness
// decided by the database, status changes serialized per assign with a complete history, and phone
// lookups that stay right while customers are being created. On PostgreSQL the writes really run in
// parallel transactions on a pool; on SQLite they share group commits.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { ADMIN_TOKEN, KEYS, admin, dialects, seedProject, setup, type Harness } from './helpers.ts';

type Envelope = { code: number; status: string; message: unknown; repository_assign_id?: string };

/** A client of the listening server: every answer's HTTP status and parsed body. */
function client(base: string) {
  return {
    async tel(endpoint: 'get_data' | 'set_data' | 'set_status', params: Record<string, string | number>) {
      const qs = new URLSearchParams(Object.entries({ authkey: KEYS[endpoint], ...params }).map(([k, v]) => [k, String(v)]));
      const res = await fetch(`${base}/api/${endpoint}.php?${qs}`);
      return { http: res.status, body: (await res.json()) as Envelope };
    },
    async admin(method: 'GET' | 'POST', path: string, body?: unknown) {
      const res = await fetch(`${base}/admin/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { http: res.status, body: (await res.json()) as any };
    },
  };
}

/** Runs `count` calls of fn with at most `width` in flight, answering their results in call order. */
async function parallel<T>(count: number, width: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, count) }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await fn(i);
      }
    }),
  );
  return results;
}

for (const dialect of dialects()) {
  describe(dialect, () => {
    let h: Harness;
    let api: ReturnType<typeof client>;

    before(async () => {
      h = await setup(dialect, { LOG_LEVEL: 'warn' });
      await seedProject(h.app);
      await h.app.listen({ port: 0, host: '127.0.0.1' });
      api = client(`http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`);
    });
    after(() => h.close());

    test('parallel set_data claiming one unique email: exactly one wins, every other answers 4, none 5 or 500', async () => {
      const n = 24;
      const assigns: number[] = [];
      for (let i = 0; i < n; i++) {
        const c = await admin(h.app, 'POST', '/projects/10/customers', { fields: { first_name: `Racer ${i}`, email: `racer${i}@mail.com` } });
        const a = await admin(h.app, 'POST', '/repositories/7/assigns', { customer_id: c.id });
        assigns.push(a.id);
      }

      const answers = await Promise.all(assigns.map((id) => api.tel('set_data', { repository_assign_id: id, email: 'prize@mail.com', city: 'Haifa' })));

      assert.ok(answers.every((a) => a.http === 200), 'every answer is HTTP 200');
      const winners = answers.filter((a) => a.body.code === 0);
      const losers = answers.filter((a) => a.body.code !== 0);
      assert.equal(winners.length, 1);
      assert.deepEqual(new Set(losers.map((a) => `${a.body.code} ${a.body.message}`)), new Set(['4 Duplicate unique field: email']));

      // The database agrees: one holder of the value, and the losers changed nothing (city included).
      const winnerAssign = Number(winners[0]!.body.repository_assign_id);
      const holders = await h.db.q.selectFrom('customer_uniques').select('customer_id').where('value', '=', 'prize@mail.com').execute();
      const winnerCustomer = await h.db.q.selectFrom('assigns').select('customer_id').where('id', '=', winnerAssign).executeTakeFirstOrThrow();
      assert.deepEqual(holders, [{ customer_id: winnerCustomer.customer_id }]);
      const rows = await h.db.q.selectFrom('assigns').innerJoin('customers', 'customers.id', 'assigns.customer_id').select(['assigns.id', 'customers.data']).where('assigns.id', 'in', assigns).execute();
      for (const row of rows) {
        const data = JSON.parse(row.data) as Record<string, string>;
        if (row.id === winnerAssign) assert.deepEqual([data.email, data.city], ['prize@mail.com', 'Haifa']);
        else assert.deepEqual([data.email?.startsWith('racer'), data.city], [true, undefined]);
      }
    });

    test('parallel admin creates with one unique email: exactly one 201, every other 409, none 500', async () => {
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => api.admin('POST', '/projects/10/customers', { fields: { first_name: `Twin ${i}`, email: 'twin@mail.com' } })),
      );
      assert.deepEqual(answers.map((a) => a.http).sort(), [201, ...Array(19).fill(409)]);
      assert.ok(answers.filter((a) => a.http === 409).every((a) => a.body.error.code === 'conflict'));
      const holders = await h.db.q.selectFrom('customer_uniques').select('customer_id').where('value', '=', 'twin@mail.com').execute();
      assert.deepEqual(holders, [{ customer_id: answers.find((a) => a.http === 201)!.body.id }]);
    });

    test('40 parallel set_status on one assign: every change is in history, chained in order, ending at the current status', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 40; i++) statuses.push((await admin(h.app, 'POST', '/projects/10/statuses', { name: `Outcome ${i}` })).id);
      const c = await admin(h.app, 'POST', '/projects/10/customers', { fields: { first_name: 'Busy' } });
      const assign = (await admin(h.app, 'POST', '/repositories/7/assigns', { customer_id: c.id })).id as number;

      const answers = await Promise.all(statuses.map((s, i) => api.tel('set_status', { repository_assign_id: assign, status_id: s, worker_id: 99, notes: `call ${i}` })));
      assert.ok(answers.every((a) => a.http === 200 && a.body.code === 0 && a.body.message === 'Status set successfully'));

      const history = await h.db.q.selectFrom('history').select(['old_status_id', 'new_status_id']).where('assign_id', '=', assign).where('kind', '=', 'status').orderBy('id').execute();
      assert.equal(history.length, 40, 'one history row per change');
      assert.equal(history[0]!.old_status_id, null, 'the first change starts from no status');
      for (let i = 1; i < history.length; i++) {
        assert.equal(history[i]!.old_status_id, history[i - 1]!.new_status_id, `history row ${i} starts where row ${i - 1} ended`);
      }
      assert.deepEqual(new Set(history.map((r) => r.new_status_id)), new Set(statuses), 'every requested status appears once');
      const current = await h.db.q.selectFrom('assigns').select('status_id').where('id', '=', assign).executeTakeFirstOrThrow();
      assert.equal(current.status_id, history.at(-1)!.new_status_id);
      const events = await h.db.q.selectFrom('call_events').select('notes').where('assign_id', '=', assign).execute();
      assert.equal(events.length, 40, 'one call event per request');
    });

    test('set_data by phone while customers are being created keeps updating the caller, and the new customers are found by their own phones', async () => {
      const created: { id: number; name: string; phone: string; assign: number }[] = [];
      let creating = true;
      // The writer: customers with their own phones, each with an assign, created 3 at a time.
      const creator = parallel(60, 3, async (i) => {
        const phone = `052-${String(1000000 + i).padStart(7, '0')}`;
        const c = await api.admin('POST', '/projects/10/customers', { fields: { first_name: `New ${i}`, mobile: phone } });
        assert.equal(c.http, 201, JSON.stringify(c.body));
        const a = await api.admin('POST', '/repositories/7/assigns', { customer_id: c.body.id });
        assert.equal(a.http, 201, JSON.stringify(a.body));
        created.push({ id: c.body.id, name: `New ${i}`, phone, assign: a.body.id });
      }).finally(() => (creating = false));

      // Meanwhile the IVR: the caller (John, 050-000-0000) is updated by phone, city after city.
      const johnAssigns = new Set(['2190811', '555']);
      let updates = 0;
      const ivr = (async () => {
        while (creating || updates < 20) {
          const city = `City ${updates}`;
          const r = await api.tel('set_data', { phone: '+972 50-000-0000', did: '07333333333', project_id: 10, city });
          assert.equal(r.http, 200);
          assert.equal(r.body.code, 0, JSON.stringify(r.body));
          assert.equal(r.body.message, `city was updated to '${city}'`);
          assert.ok(johnAssigns.has(r.body.repository_assign_id!), `updated one of John's assigns, not ${r.body.repository_assign_id}`);
          updates++;
        }
      })();
      await Promise.all([creator, ivr]);

      // John: every update in history, chained, and the last one is his city; nothing else of his moved.
      const john = await api.admin('GET', '/customers/123');
      assert.equal(john.body.fields.city, `City ${updates - 1}`);
      assert.deepEqual([john.body.fields.first_name, john.body.fields.mobile, john.body.fields.email], ['John', '050-000-0000', 'john@mail.com']);
      const cityHistory = await h.db.q.selectFrom('history').select(['old_value', 'new_value']).where('customer_id', '=', 123).where('field', '=', 'city').orderBy('id').execute();
      assert.equal(cityHistory.length, updates);
      for (let i = 1; i < cityHistory.length; i++) assert.equal(cityHistory[i]!.old_value, cityHistory[i - 1]!.new_value);

      // The new customers: none was touched by the caller's updates, and each is found by its own phone.
      assert.equal(created.length, 60);
      const newRows = await h.db.q.selectFrom('customers').select(['id', 'data']).where('id', 'in', created.map((c) => c.id)).execute();
      assert.ok(newRows.every((r) => !('city' in JSON.parse(r.data))), 'no new customer got a city');
      for (const c of created.filter((_, i) => i % 10 === 0)) {
        const found = await api.tel('get_data', { phone: c.phone, did: '07333333333', project_id: 10, out: 'repository_assign_id,first_name' });
        assert.equal(found.body.code, 0);
        assert.deepEqual(found.body.message, [{ uid: String(c.id), repository_assign_id: String(c.assign), first_name: c.name }]);
      }
    });
  });
}
