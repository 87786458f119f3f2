// Admin API, assigns: create and list, read one (customer, status, last call), its history (field and
// status changes and call events merged, newest first) and call events from dialers and CDR feeds.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { dialects, setup, seedProject, admin, tel, KEYS, type Harness } from './helpers.ts';

type Item = Record<string, unknown> & { kind: string; at: string };

async function history(h: Harness, assignId: number, query = 'limit=1000'): Promise<Item[]> {
  return (await admin(h.app, 'GET', `/assigns/${assignId}/history?${query}`)).items;
}

for (const dialect of dialects()) {
  describe(dialect, () => {
    let h: Harness;
    before(async () => {
      h = await setup(dialect);
      await seedProject(h.app);
      // Project 40: its status, worker and customer are of another project for project 10's assigns.
      await seedProject(h.app, 40, 100_000);
    });
    after(() => h.close());

    describe('creating and listing assigns', () => {
      test('POST /repositories/:id/assigns answers 201 with the assign', async () => {
        await admin(h.app, 'POST', '/projects/10/customers', { id: 124, fields: { first_name: 'Ruth' } });
        const a = await admin(h.app, 'POST', '/repositories/7/assigns', { id: 7001, customer_id: 124, worker_id: 99, status_id: 2 });
        assert.deepEqual(
          { id: a.id, project_id: a.project_id, repository_id: a.repository_id, customer_id: a.customer_id, worker_id: a.worker_id, status_id: a.status_id, last_call: a.last_call },
          { id: 7001, project_id: 10, repository_id: 7, customer_id: 124, worker_id: 99, status_id: 2, last_call: null },
        );
      });

      test('the same customer twice in a repository, or a taken id, is a 409', async () => {
        assert.equal((await admin(h.app, 'POST', '/repositories/7/assigns', { customer_id: 124 }, 409)).error.code, 'conflict');
        await admin(h.app, 'POST', '/repositories/8/assigns', { id: 7001, customer_id: 124 }, 409);
      });

      test('an unknown repository is a 404; a customer, worker or status of another project is a 422', async () => {
        await admin(h.app, 'POST', '/repositories/999/assigns', { customer_id: 124 }, 404);
        const customer = await admin(h.app, 'POST', '/repositories/8/assigns', { customer_id: 100_123 }, 422);
        assert.equal(customer.error.code, 'unprocessable');
        assert.ok('customer_id' in customer.error.details);
        await admin(h.app, 'POST', '/repositories/8/assigns', { customer_id: 124, worker_id: 100_099 }, 422);
        await admin(h.app, 'POST', '/repositories/8/assigns', { customer_id: 124, status_id: 100_010 }, 422);
        await admin(h.app, 'POST', '/repositories/8/assigns', { customer_id: 124, status_id: 424242 }, 422);
      });

      test('GET /repositories/:id/assigns lists the repository\'s assigns; an unknown repository is a 404', async () => {
        const list = await admin(h.app, 'GET', '/repositories/7/assigns');
        assert.deepEqual(list.items.map((a: { id: number }) => a.id), [7001, 2190811]);
        assert.equal(list.next_cursor, null);
        await admin(h.app, 'GET', '/repositories/999/assigns', undefined, 404);
        await admin(h.app, 'GET', '/repositories/7/assigns?limit=5000', undefined, 400);
      });
    });

    describe('GET /assigns/:id', () => {
      test('answers the assign with its customer, repository name, no status and no call yet', async () => {
        const a = await admin(h.app, 'GET', '/assigns/555');
        assert.equal(a.id, 555);
        assert.equal(a.repository_name, 'VIP');
        assert.deepEqual(a.customer.fields, { first_name: 'John', last_name: 'Doe', mobile: '050-000-0000', email: 'john@mail.com' });
        assert.equal(a.status, null);
        assert.equal(a.last_call, null);
        assert.equal(a.last_call_event, null);
      });

      test('an unknown assign is a 404', async () => {
        assert.equal((await admin(h.app, 'GET', '/assigns/424242', undefined, 404)).error.code, 'not_found');
      });

      test('after a disposition it answers the status (id and name) and the last call', async () => {
        assert.equal((await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 555, status_id: 10, worker_id: 99, notes: 'wants gold' })).code, 0);
        const a = await admin(h.app, 'GET', '/assigns/555');
        assert.deepEqual(a.status, { id: 10, name: 'Interested' });
        assert.equal(a.status_id, 10);
        assert.equal(a.last_notes, 'wants gold');
        assert.equal(a.last_call_event.worker_id, 99);
        assert.equal(a.last_call_event.notes, 'wants gold');
        assert.equal(a.last_call_event.source, 'set_status');
        assert.equal(a.last_call, a.last_call_event.at);
      });
    });

    describe('POST /assigns/:id/calls', () => {
      before(async () => {
        await admin(h.app, 'POST', '/projects/10/customers', { id: 125, fields: { first_name: 'Sara' } });
        await admin(h.app, 'POST', '/repositories/7/assigns', { id: 7002, customer_id: 125 });
      });

      test('records a call event (201) that moves last_call, last_notes and the status', async () => {
        const e = await admin(h.app, 'POST', '/assigns/7002/calls', { worker_id: 99, status_id: 2, notes: 'call back at 5', at: '2024-05-01T10:00:00Z', call_id: 'cdr-1' }, 201);
        assert.deepEqual({ ...e, id: undefined }, { id: undefined, assign_id: 7002, at: '2024-05-01T10:00:00.000Z', worker_id: 99, status_id: 2, notes: 'call back at 5', call_id: 'cdr-1', source: 'admin' });
        const a = await admin(h.app, 'GET', '/assigns/7002');
        assert.equal(a.last_call, '2024-05-01T10:00:00.000Z');
        assert.equal(a.last_notes, 'call back at 5');
        assert.deepEqual(a.status, { id: 2, name: 'Call back' });
        const status = (await history(h, 7002)).filter((i) => i.kind === 'status');
        assert.deepEqual(status, [{ kind: 'status', at: '2024-05-01T10:00:00.000Z', worker_id: 99, source: 'admin', call_id: 'cdr-1', old_status_id: null, new_status_id: 2 }]);
      });

      test('an older event (a late CDR) is recorded but moves neither last_call, last_notes nor the status', async () => {
        await admin(h.app, 'POST', '/assigns/7002/calls', { status_id: 10, notes: 'older call', at: '2024-04-30T09:00:00+03:00' }, 201);
        const a = await admin(h.app, 'GET', '/assigns/7002');
        assert.equal(a.last_call, '2024-05-01T10:00:00.000Z');
        assert.equal(a.last_notes, 'call back at 5');
        assert.equal(a.status_id, 2);
        assert.equal(a.last_call_event.notes, 'call back at 5');
        const calls = (await admin(h.app, 'GET', '/assigns/7002/calls')).items;
        assert.deepEqual(calls.map((c: { notes: string; at: string }) => [c.notes, c.at]), [['call back at 5', '2024-05-01T10:00:00.000Z'], ['older call', '2024-04-30T06:00:00.000Z']]);
        assert.equal((await history(h, 7002)).filter((i) => i.kind === 'status').length, 1);
      });

      test('a newer event without a status moves last_call and last_notes and keeps the status', async () => {
        await admin(h.app, 'POST', '/assigns/7002/calls', { notes: 'no answer', at: '2024-05-02T08:00:00Z' }, 201);
        const a = await admin(h.app, 'GET', '/assigns/7002');
        assert.equal(a.last_call, '2024-05-02T08:00:00.000Z');
        assert.equal(a.last_notes, 'no answer');
        assert.equal(a.status_id, 2);
      });

      test('at defaults to now', async () => {
        const before = Date.now();
        const e = await admin(h.app, 'POST', '/assigns/7002/calls', {}, 201);
        assert.ok(Date.parse(e.at) >= before - 1000 && Date.parse(e.at) <= Date.now() + 1000);
        assert.equal((await admin(h.app, 'GET', '/assigns/7002')).last_call, e.at);
      });

      test('a worker or status of another project, or one that does not exist, is a 422 and records nothing', async () => {
        const before = (await admin(h.app, 'GET', '/assigns/7002/calls?limit=1000')).items.length;
        const worker = await admin(h.app, 'POST', '/assigns/7002/calls', { worker_id: 100_099, notes: 'x' }, 422);
        assert.ok('worker_id' in worker.error.details);
        const status = await admin(h.app, 'POST', '/assigns/7002/calls', { status_id: 100_010 }, 422);
        assert.ok('status_id' in status.error.details);
        await admin(h.app, 'POST', '/assigns/7002/calls', { worker_id: 31337 }, 422);
        assert.equal((await admin(h.app, 'GET', '/assigns/7002/calls?limit=1000')).items.length, before);
      });

      test('an unknown assign is a 404; a bad time or an unknown property is a 400', async () => {
        await admin(h.app, 'POST', '/assigns/424242/calls', { notes: 'x' }, 404);
        const at = await admin(h.app, 'POST', '/assigns/7002/calls', { at: 'yesterday' }, 400);
        assert.ok('at' in at.error.details);
        await admin(h.app, 'POST', '/assigns/7002/calls', { duration: 5 }, 400);
        await admin(h.app, 'GET', '/assigns/424242/calls', undefined, 404);
      });
    });

    describe('GET /assigns/:id/history', () => {
      before(async () => {
        await admin(h.app, 'POST', '/projects/10/customers', { id: 126, fields: { first_name: 'Tal', mobile: '053-333-4444' } });
        await admin(h.app, 'POST', '/repositories/7/assigns', { id: 7003, customer_id: 126 });
        await admin(h.app, 'POST', '/repositories/8/assigns', { id: 7004, customer_id: 126 });
        assert.equal((await tel(h.app, 'set_data', { authkey: KEYS.set_data, repository_assign_id: 7003, city: 'Haifa', status_id: 10, worker_id: 99, notes: 'first call', call_id: 'c-1' })).code, 0);
        // Each step in its own millisecond, so that the expected order below is the order of the steps.
        await sleep(3);
        await admin(h.app, 'PATCH', '/customers/126', { fields: { city: 'Akko' } });
        await sleep(3);
        assert.equal((await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 7003, status_id: 0, worker_id: 99 })).code, 0);
        assert.equal((await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 7004, status_id: 2 })).code, 0);
      });

      test('merges field changes, status changes and call events, newest first, with the keys of each kind', async () => {
        const items = await history(h, 7003);
        const times = items.map((i) => Date.parse(i.at));
        assert.deepEqual(times, [...times].sort((a, b) => b - a), 'newest first');
        // Oldest to newest: set_data (field, status, call), the admin PATCH (field), set_status clearing (status, call).
        assert.deepEqual(
          items.map((i) => `${i.kind}:${i.source}`).reverse(),
          ['field:set_data', 'status:set_data', 'call:set_data', 'field:admin', 'status:set_status', 'call:set_status'],
        );
        const field = items.find((i) => i.kind === 'field' && i.source === 'set_data')!;
        assert.deepEqual({ ...field, at: undefined }, { kind: 'field', at: undefined, worker_id: 99, source: 'set_data', call_id: 'c-1', field: 'city', old_value: null, new_value: 'Haifa' });
        const status = items.find((i) => i.kind === 'status' && i.source === 'set_status')!;
        assert.deepEqual({ ...status, at: undefined }, { kind: 'status', at: undefined, worker_id: 99, source: 'set_status', call_id: null, old_status_id: 10, new_status_id: null });
        const call = items.find((i) => i.kind === 'call' && i.source === 'set_data')!;
        assert.deepEqual({ ...call, at: undefined }, { kind: 'call', at: undefined, worker_id: 99, source: 'set_data', call_id: 'c-1', status_id: 10, notes: 'first call' });
        for (const i of items) assert.match(i.at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      });

      test("another assign of the same customer shows the customer's field changes but only its own status changes and calls", async () => {
        const items = await history(h, 7004);
        assert.deepEqual(items.map((i) => `${i.kind}:${i.source}`).reverse(), ['field:set_data', 'field:admin', 'status:set_status', 'call:set_status']);
        assert.equal(items.find((i) => i.kind === 'status')!.new_status_id, 2);
      });

      test('an unknown assign is a 404; a cursor of another list is a 400', async () => {
        await admin(h.app, 'GET', '/assigns/424242/history', undefined, 404);
        const fields = await admin(h.app, 'GET', '/projects/10/fields?limit=2');
        await admin(h.app, 'GET', `/assigns/7003/history?cursor=${fields.next_cursor}`, undefined, 400);
        await admin(h.app, 'GET', '/assigns/7003/history?limit=1001', undefined, 400);
      });

      test('walking the history in small pages lists every item exactly once, in the same order', async () => {
        await admin(h.app, 'POST', '/projects/10/customers', { id: 127, fields: { first_name: 'Gil' } });
        await admin(h.app, 'POST', '/repositories/7/assigns', { id: 7005, customer_id: 127 });
        // Many events, several in the same millisecond, from both tables.
        const at = '2024-06-01T12:00:00.000Z';
        for (let i = 0; i < 12; i++) {
          await admin(h.app, 'POST', '/assigns/7005/calls', { notes: `n${i}`, at: i % 2 ? at : `2024-06-01T12:00:0${i % 10}.000Z`, status_id: i % 3 === 0 ? 10 : 2 }, 201);
          await admin(h.app, 'PATCH', '/customers/127', { fields: { city: `c${i}`, age: i } });
        }
        const all = await history(h, 7005);
        assert.equal(all.filter((i) => i.kind === 'call').length, 12);
        assert.equal(all.filter((i) => i.kind === 'field').length, 24);
        for (const limit of [1, 5, 7, 50]) {
          const seen: Item[] = [];
          let cursor: string | null = null;
          do {
            const page: { items: Item[]; next_cursor: string | null } = await admin(h.app, 'GET', `/assigns/7005/history?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
            assert.ok(page.items.length <= limit);
            seen.push(...page.items);
            cursor = page.next_cursor;
          } while (cursor !== null);
          assert.deepEqual(seen, all, `limit ${limit}`);
        }
      });
    });

    describe('listing call events', () => {
      test('walking 120 call events with limit 50 lists every one exactly once', async () => {
        await admin(h.app, 'POST', '/projects/10/customers', { id: 128, fields: {} });
        await admin(h.app, 'POST', '/repositories/7/assigns', { id: 7006, customer_id: 128 });
        const ids: number[] = [];
        for (let i = 0; i < 120; i++) ids.push((await admin(h.app, 'POST', '/assigns/7006/calls', { notes: String(i) }, 201)).id);
        const seen: number[] = [];
        const pages: number[] = [];
        let cursor: string | null = null;
        do {
          const page: { items: { id: number }[]; next_cursor: string | null } = await admin(h.app, 'GET', `/assigns/7006/calls?limit=50${cursor ? `&cursor=${cursor}` : ''}`);
          pages.push(page.items.length);
          seen.push(...page.items.map((c) => c.id));
          cursor = page.next_cursor;
        } while (cursor !== null);
        assert.deepEqual(seen, ids);
        assert.deepEqual(pages, [50, 50, 20]);
      });
    });
  });
}
