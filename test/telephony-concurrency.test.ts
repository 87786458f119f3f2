// Concurrent telephony writes over real sockets: a unique value is unique under a burst of writers (the
// database decides, not a read-then-write check), and a call_id retried in parallel is applied once.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { setup, seedProject, admin, dialects, KEYS, type Harness } from './helpers.ts';

const WRITERS = 50;

for (const dialect of dialects()) {
  describe(`concurrent telephony writes (${dialect})`, () => {
    let h: Harness;
    let base: string;
    before(async () => {
      h = await setup(dialect);
      await seedProject(h.app);
      for (let i = 1; i <= WRITERS; i++) {
        await admin(h.app, 'POST', '/projects/10/customers', { id: 8000 + i, fields: { first_name: `Lead ${i}` } });
        await admin(h.app, 'POST', '/repositories/7/assigns', { id: 80000 + i, customer_id: 8000 + i });
      }
      await h.app.listen({ port: 0, host: '127.0.0.1' });
      base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
    });
    after(() => h.close());

    const post = async (endpoint: string, params: Record<string, string>) => {
      const res = await fetch(`${base}/api/${endpoint}.php`, { method: 'POST', body: new URLSearchParams(params) });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
      return (await res.json()) as { code: number; status: string; message: string; repository_assign_id?: string };
    };

    test(`${WRITERS} parallel set_data giving ${WRITERS} customers one unique email: one wins, the rest answer 4`, async () => {
      const email = 'race@example.com';
      const answers = await Promise.all(
        Array.from({ length: WRITERS }, (_, i) => post('set_data', { authkey: KEYS.set_data, repository_assign_id: String(80001 + i), email, city: 'Race' })),
      );
      const winners = answers.filter((a) => a.code === 0);
      const losers = answers.filter((a) => a.code !== 0);
      assert.equal(winners.length, 1, JSON.stringify(answers.filter((a) => a.code !== 4)));
      for (const a of losers) assert.deepEqual(a, { code: 4, status: 'fail', message: 'Duplicate unique field: email' });

      const holders = await h.db.q.selectFrom('customer_uniques').select('customer_id').where('project_id', '=', 10).where('value', '=', email).execute();
      assert.equal(holders.length, 1);
      const winner = Number(winners[0]!.repository_assign_id) - 72000; // assign 80000+i belongs to customer 8000+i
      assert.equal(holders[0]!.customer_id, winner);
      const withEmail = (await h.db.q.selectFrom('customers').select(['id', 'data']).where('project_id', '=', 10).execute()).filter((c) => JSON.parse(c.data).email === email);
      assert.deepEqual(withEmail.map((c) => c.id), [winner]);
      // The losers changed nothing at all: not even the city sent beside the email.
      const raced = (await h.db.q.selectFrom('customers').select('data').where('id', '>', 8000).where('id', '<=', 8000 + WRITERS).execute()).filter((c) => JSON.parse(c.data).city === 'Race');
      assert.equal(raced.length, 1);
      const history = await h.db.q.selectFrom('history').select('customer_id').where('new_value', '=', email).execute();
      assert.deepEqual(history.map((r) => r.customer_id), [winner]);
    });

    test('the same call_id sent 10 times in parallel is applied once and every answer is the first', async () => {
      const params = { authkey: KEYS.set_data, repository_assign_id: '80001', status_id: '10', last_name: 'Parallel', call_id: 'burst-1' };
      const answers = await Promise.all(Array.from({ length: 10 }, () => post('set_data', params)));
      for (const a of answers) assert.deepEqual(a, answers[0]);
      assert.equal(answers[0]!.code, 0);
      const events = await h.db.q.selectFrom('call_events').select('id').where('assign_id', '=', 80001).where('call_id', '=', 'burst-1').execute();
      assert.equal(events.length, 1);
      const changes = await h.db.q.selectFrom('history').select('kind').where('assign_id', '=', 80001).where('call_id', '=', 'burst-1').execute();
      assert.deepEqual(changes.map((c) => c.kind).sort(), ['field', 'status']);
    });

    test('parallel set_status on one assign records every call and ends on one of the statuses sent', async () => {
      const statuses = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? '10' : '2'));
      const answers = await Promise.all(statuses.map((s) => post('set_status', { authkey: KEYS.set_status, repository_assign_id: '80002', status_id: s })));
      for (const a of answers) assert.deepEqual(a, { code: 0, status: 'success', message: 'Status set successfully' });
      const events = await h.db.q.selectFrom('call_events').select('id').where('assign_id', '=', 80002).execute();
      assert.equal(events.length, 20);
      const assign = await h.db.q.selectFrom('assigns').select('status_id').where('id', '=', 80002).executeTakeFirstOrThrow();
      assert.ok([10, 2].includes(assign.status_id!));
      // History is a consistent chain: each change starts from the status the previous one left.
      const chain = await h.db.q.selectFrom('history').select(['old_status_id', 'new_status_id']).where('assign_id', '=', 80002).orderBy('id').execute();
      for (let i = 1; i < chain.length; i++) assert.equal(chain[i]!.old_status_id, chain[i - 1]!.new_status_id);
      assert.equal(chain.at(-1)!.new_status_id, assign.status_id);
    });
  });
}
