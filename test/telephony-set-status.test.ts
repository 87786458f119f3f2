// set_status.php contract: codes and their order, set and clear, audit of worker_id, call events and
// call_id retries (telephony-api.md).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, seedProject, admin, tel, dialects, KEYS, type Harness } from './helpers.ts';

type Params = Record<string, string | number>;

const setStatus = (h: Harness, params: Params) => tel(h.app, 'set_status', { authkey: KEYS.set_status, ...params });
const row = async (h: Harness, assignId: number, out: string) =>
  (await tel(h.app, 'get_data', { authkey: KEYS.get_data, repository_assign_id: assignId, out })).message[0] as Record<string, string | null>;
const history = (h: Harness, assignId: number) =>
  h.db.q.selectFrom('history').selectAll().where('assign_id', '=', assignId).orderBy('id').execute();
const calls = (h: Harness, assignId: number) =>
  h.db.q.selectFrom('call_events').selectAll().where('assign_id', '=', assignId).orderBy('id').execute();

const OK = { code: 0, status: 'success', message: 'Status set successfully' };

let nextId = 6000;
async function freshAssign(h: Harness) {
  const id = ++nextId;
  await admin(h.app, 'POST', '/projects/10/customers', { id, fields: { first_name: 'Omer' } });
  await admin(h.app, 'POST', '/repositories/7/assigns', { id: id * 10, customer_id: id });
  return id * 10;
}

for (const dialect of dialects()) {
  describe(`set_status.php (${dialect})`, () => {
    let h: Harness;
    before(async () => {
      h = await setup(dialect);
      await seedProject(h.app);
      await seedProject(h.app, 20, 1000);
    });
    after(() => h.close());

    describe('checks and their order', () => {
      test('a wrong key with every other parameter missing answers 1', async () => {
        assert.deepEqual(await tel(h.app, 'set_status', { authkey: 'nope' }), { code: 1, status: 'fail', message: 'Missing or invalid authkey' });
        assert.equal((await tel(h.app, 'set_status', { repository_assign_id: 555, status_id: 10 })).code, 1);
      });

      test('a missing or empty assign id answers 2, before the missing status', async () => {
        assert.deepEqual(await setStatus(h, {}), { code: 2, status: 'fail', message: 'Missing repository assign ID' });
        assert.equal((await setStatus(h, { repository_assign_id: ' ', status_id: 10 })).code, 2);
      });

      test('a non-numeric assign id answers 3, with or without a status', async () => {
        const three = { code: 3, status: 'fail', message: 'Invalid repository assign ID' };
        assert.deepEqual(await setStatus(h, { repository_assign_id: 'abc', status_id: 10 }), three);
        assert.deepEqual(await setStatus(h, { repository_assign_id: '-5', status_id: 10 }), three);
        assert.deepEqual(await setStatus(h, { repository_assign_id: 'abc' }), three);
      });

      test('an unknown assign answers 3, also when the status is missing', async () => {
        const three = { code: 3, status: 'fail', message: 'Invalid repository assign ID' };
        assert.deepEqual(await setStatus(h, { repository_assign_id: 999999, status_id: 10 }), three);
        assert.deepEqual(await setStatus(h, { repository_assign_id: 999999 }), three);
      });

      test('a missing or empty status on a known assign answers 4', async () => {
        assert.deepEqual(await setStatus(h, { repository_assign_id: 555 }), { code: 4, status: 'fail', message: 'Missing status ID' });
        assert.equal((await setStatus(h, { repository_assign_id: 555, status_id: '' })).code, 4);
      });

      test("a status of another project, an unknown or a non-numeric status answers 5 and changes nothing", async () => {
        for (const statusId of [1010, 999, 'abc']) {
          assert.deepEqual(await setStatus(h, { repository_assign_id: 555, status_id: statusId }), { code: 5, status: 'fail', message: 'Failed to set status' });
        }
        assert.equal((await row(h, 555, 'last_status_id')).last_status_id, null);
        assert.deepEqual(await calls(h, 555), []);
        assert.deepEqual(await history(h, 555), []);
      });
    });

    describe('setting and clearing', () => {
      test('setting a status answers the seed text and shows in get_data', async () => {
        const id = await freshAssign(h);
        assert.deepEqual(await setStatus(h, { repository_assign_id: id, status_id: 10 }), OK);
        assert.deepEqual(await row(h, id, 'last_status,last_status_id'), { uid: String(id / 10), last_status: 'Interested', last_status_id: '10' });
      });

      test('status_id=0 clears the status with the same answer', async () => {
        const id = await freshAssign(h);
        await setStatus(h, { repository_assign_id: id, status_id: 2 });
        assert.deepEqual(await setStatus(h, { repository_assign_id: id, status_id: 0 }), OK);
        assert.deepEqual(await row(h, id, 'last_status,last_status_id'), { uid: String(id / 10), last_status: null, last_status_id: null });
      });

      test('clearing an assign without a status succeeds', async () => {
        const id = await freshAssign(h);
        assert.deepEqual(await setStatus(h, { repository_assign_id: id, status_id: 0 }), OK);
      });

      test('notes become last_notes and the call becomes last_call', async () => {
        const id = await freshAssign(h);
        await setStatus(h, { repository_assign_id: id, status_id: 10, notes: 'asked for a brochure' });
        const r = await row(h, id, 'last_notes,last_call');
        assert.equal(r.last_notes, 'asked for a brochure');
        assert.match(r.last_call!, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
      });

      test('POST with a form body clears, as in the seed example', async () => {
        const id = await freshAssign(h);
        await setStatus(h, { repository_assign_id: id, status_id: 10 });
        const res = await h.app.inject({
          method: 'POST',
          url: '/api/set_status.php',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: `authkey=${KEYS.set_status}&repository_assign_id=${id}&status_id=0`,
        });
        assert.deepEqual(res.json(), OK);
        assert.equal((await row(h, id, 'last_status')).last_status, null);
      });
    });

    describe('audit', () => {
      test('every call records a call event, also when the status does not change', async () => {
        const id = await freshAssign(h);
        await setStatus(h, { repository_assign_id: id, status_id: 10, worker_id: 99 });
        await setStatus(h, { repository_assign_id: id, status_id: 10, worker_id: 99, notes: 'again' });
        await setStatus(h, { repository_assign_id: id, status_id: 0 });
        const events = await calls(h, id);
        assert.deepEqual(events.map((e) => [e.status_id, e.worker_id, e.notes, e.source]), [
          [10, 99, null, 'set_status'],
          [10, 99, 'again', 'set_status'],
          [null, null, null, 'set_status'],
        ]);
      });

      test('status changes are recorded in history with old and new status, worker and source', async () => {
        const id = await freshAssign(h);
        await setStatus(h, { repository_assign_id: id, status_id: 10, worker_id: 99 });
        await setStatus(h, { repository_assign_id: id, status_id: 10, worker_id: 99 });
        await setStatus(h, { repository_assign_id: id, status_id: 2 });
        await setStatus(h, { repository_assign_id: id, status_id: 0, worker_id: 99 });
        const rows = await history(h, id);
        assert.deepEqual(rows.map((r) => [r.kind, r.old_status_id, r.new_status_id, r.worker_id, r.source]), [
          ['status', null, 10, 99, 'set_status'],
          ['status', 10, 2, null, 'set_status'],
          ['status', 2, null, 99, 'set_status'],
        ]);
      });

      test('an unregistered worker_id is still recorded as given', async () => {
        const id = await freshAssign(h);
        assert.deepEqual(await setStatus(h, { repository_assign_id: id, status_id: 10, worker_id: 4242 }), OK);
        assert.equal((await calls(h, id))[0]!.worker_id, 4242);
        assert.equal((await history(h, id))[0]!.worker_id, 4242);
      });

      test("a worker of another project is recorded as given too", async () => {
        const id = await freshAssign(h);
        assert.deepEqual(await setStatus(h, { repository_assign_id: id, status_id: 2, worker_id: 1099 }), OK);
        assert.equal((await calls(h, id))[0]!.worker_id, 1099);
      });
    });

    describe('call_id retries', () => {
      test('the same call_id and status twice apply once and answer the same', async () => {
        const id = await freshAssign(h);
        const params = { repository_assign_id: id, status_id: 10, notes: 'n', call_id: 'dial-77' };
        const first = await setStatus(h, params);
        const second = await setStatus(h, params);
        assert.deepEqual(first, OK);
        assert.deepEqual(second, first);
        assert.equal((await calls(h, id)).length, 1);
        assert.equal((await history(h, id)).length, 1);
        assert.equal((await calls(h, id))[0]!.call_id, 'dial-77');
      });

      test('the same call_id with another status is applied', async () => {
        const id = await freshAssign(h);
        await setStatus(h, { repository_assign_id: id, status_id: 10, call_id: 'dial-78' });
        await setStatus(h, { repository_assign_id: id, status_id: 2, call_id: 'dial-78' });
        assert.equal((await row(h, id, 'last_status_id')).last_status_id, '2');
        assert.equal((await calls(h, id)).length, 2);
      });

      test('the same call_id on another assign is another call', async () => {
        const a = await freshAssign(h);
        const b = await freshAssign(h);
        await setStatus(h, { repository_assign_id: a, status_id: 10, call_id: 'dial-79' });
        await setStatus(h, { repository_assign_id: b, status_id: 10, call_id: 'dial-79' });
        assert.equal((await row(h, b, 'last_status_id')).last_status_id, '10');
      });
    });

    test('a database failure answers 5 with no detail, and the detail goes to the log', async () => {
      const id = await freshAssign(h);
      await h.db.q.schema.alterTable('call_events').renameTo('call_events_gone').execute();
      try {
        assert.deepEqual(await setStatus(h, { repository_assign_id: id, status_id: 10 }), { code: 5, status: 'fail', message: 'Failed to set status' });
        assert.ok(h.logs.some((l) => l.includes('"level":50') && l.includes('call_events')), 'the failure is logged');
      } finally {
        await h.db.q.schema.alterTable('call_events_gone').renameTo('call_events').execute();
      }
      // The status write in the same request was rolled back with the failed call event.
      assert.equal((await row(h, id, 'last_status_id')).last_status_id, null);
    });
  });
}
