// set_data.php contract: codes and their order, typed validation with partial success, the success
// message format, code 4 changing nothing, by-phone targeting, history and call events, call_id retries.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, seedProject, admin, tel, dialects, KEYS, type Harness } from './helpers.ts';

type Params = Record<string, string | number>;

const set = (h: Harness, params: Params) => tel(h.app, 'set_data', { authkey: KEYS.set_data, ...params });
const row = async (h: Harness, assignId: number, out: string) =>
  (await tel(h.app, 'get_data', { authkey: KEYS.get_data, repository_assign_id: assignId, out })).message[0] as Record<string, string | null>;

const history = (h: Harness, assignId: number) =>
  h.db.q.selectFrom('history').selectAll().where('assign_id', '=', assignId).orderBy('id').execute();
const calls = (h: Harness, assignId: number) =>
  h.db.q.selectFrom('call_events').selectAll().where('assign_id', '=', assignId).orderBy('id').execute();

/** A fresh customer of project 10 with one assign in repository 7, for tests that change data. */
let nextId = 5000;
async function freshAssign(h: Harness, fields: Record<string, string> = {}) {
  const id = ++nextId;
  await admin(h.app, 'POST', '/projects/10/customers', { id, fields: { first_name: 'Anna', ...fields } });
  await admin(h.app, 'POST', '/repositories/7/assigns', { id: id * 10, customer_id: id });
  return { customerId: id, assignId: id * 10 };
}

for (const dialect of dialects()) {
  describe(`set_data.php (${dialect})`, () => {
    let h: Harness;
    before(async () => {
      h = await setup(dialect);
      await seedProject(h.app);
      await seedProject(h.app, 20, 1000);
      // Project 30: a required field, and a phone-type field named `phone`.
      await admin(h.app, 'POST', '/projects', { id: 30, name: 'Project 30' });
      await admin(h.app, 'POST', '/projects/30/fields', { display_name: 'full_name', required: true });
      await admin(h.app, 'POST', '/projects/30/fields', { display_name: 'phone', type: 'phone' });
      await admin(h.app, 'POST', '/projects/30/repositories', { id: 3007, name: 'Leads 30' });
      await admin(h.app, 'POST', '/projects/30/customers', { id: 3001, fields: { full_name: 'Dov Levi', phone: '053-111-2222' } });
      await admin(h.app, 'POST', '/repositories/3007/assigns', { id: 30001, customer_id: 3001 });
    });
    after(() => h.close());

    describe('checks and their order', () => {
      test('a wrong key with every other parameter missing answers 1', async () => {
        assert.deepEqual(await tel(h.app, 'set_data', { authkey: 'nope' }), { code: 1, status: 'fail', message: 'Missing or invalid authkey' });
        assert.equal((await tel(h.app, 'set_data', { repository_assign_id: 555, first_name: 'X' })).code, 1);
      });

      test('no assign id and no phone lookup answers 2, before the missing fields (7)', async () => {
        assert.deepEqual(await set(h, {}), { code: 2, status: 'fail', message: 'Missing repository assign ID' });
        assert.equal((await set(h, { first_name: 'X' })).code, 2);
      });

      test('a phone lookup needs phone, did and project_id or worker_id (2 otherwise)', async () => {
        assert.equal((await set(h, { phone: '0500000000', project_id: 10, first_name: 'X' })).code, 2);
        assert.equal((await set(h, { phone: '0500000000', did: '07333333333', first_name: 'X' })).code, 2);
        assert.equal((await set(h, { did: '07333333333', project_id: 10, first_name: 'X' })).code, 2);
        assert.equal((await set(h, { phone: '', did: '07333333333', project_id: 10, first_name: 'X' })).code, 2);
      });

      test('no field and no status answers 7, checked right after 2 and before the assign is read', async () => {
        const seven = { code: 7, status: 'fail', message: 'No fields provided in request' };
        assert.deepEqual(await set(h, { repository_assign_id: 555 }), seven);
        assert.deepEqual(await set(h, { repository_assign_id: 'abc' }), seven);
        assert.deepEqual(await set(h, { repository_assign_id: 999999, worker_id: 99, notes: 'n' }), seven);
        assert.deepEqual(await set(h, { phone: '0500000000', did: '07333333333', project_id: 999 }), seven);
      });

      test('a non-numeric or unknown assign id answers 3', async () => {
        const three = { code: 3, status: 'fail', message: 'Invalid repository assign ID' };
        assert.deepEqual(await set(h, { repository_assign_id: 'abc', first_name: 'X' }), three);
        assert.deepEqual(await set(h, { repository_assign_id: '12abc', first_name: 'X' }), three);
        assert.deepEqual(await set(h, { repository_assign_id: 999999, first_name: 'X' }), three);
        assert.deepEqual(await set(h, { repository_assign_id: 999999, status_id: 10 }), three);
      });

      test('status as the only change, unknown or of another project, answers 5', async () => {
        for (const statusId of [999, 1010, 'abc']) {
          const r = await set(h, { repository_assign_id: 555, status_id: statusId });
          assert.equal(r.code, 5, `status_id=${statusId}`);
          assert.equal(r.status, 'fail');
          assert.equal(r.message, 'Update failed');
        }
        assert.equal((await row(h, 555, 'last_status_id')).last_status_id, null);
      });

      test('only unknown field names answer 6 with a reason per name', async () => {
        const r = await set(h, { repository_assign_id: 555, nickname: 'JD', shoe_size: '44' });
        assert.equal(r.code, 6);
        assert.equal(r.status, 'fail');
        assert.equal(r.message, 'No valid fields or repository not found');
        assert.deepEqual(Object.keys(r.errors!), ['nickname', 'shoe_size']);
      });

      // set_data remembers a project's fields and statuses (lookup.ts); what it has not seen must not stick.
      test('a field and a status created after a request that named them unknown apply at once', async () => {
        const before = await set(h, { repository_assign_id: 555, spouse_name: 'JD', status_id: 77 });
        assert.equal(before.code, 5);
        assert.deepEqual(Object.keys(before.errors!).sort(), ['spouse_name', 'status']);
        await admin(h.app, 'POST', '/projects/10/fields', { display_name: 'spouse_name' });
        await admin(h.app, 'POST', '/projects/10/statuses', { id: 77, name: 'Late status' });
        const after = await set(h, { repository_assign_id: 555, spouse_name: 'JD', status_id: 77 });
        assert.equal(after.code, 0);
        assert.equal(after.errors, undefined);
        assert.equal((await row(h, 555, 'spouse_name')).spouse_name, 'JD');
        assert.equal((await row(h, 555, 'last_status_id')).last_status_id, '77');
      });

      test('only invalid values answer 6 with a reason per field, and change nothing', async () => {
        const r = await set(h, { repository_assign_id: 555, email: 'not-an-email', age: 'old' });
        assert.equal(r.code, 6);
        assert.deepEqual(Object.keys(r.errors!), ['email', 'age']);
        assert.deepEqual(await row(h, 555, 'email,age'), { uid: '123', email: 'john@mail.com', age: null });
      });

      test('a phone lookup without a match answers 6', async () => {
        const r = await set(h, { phone: '0541234567', did: '07333333333', project_id: 10, first_name: 'X' });
        assert.deepEqual(r, { code: 6, status: 'fail', message: 'No valid fields or repository not found' });
      });

      test('a phone lookup in an unknown project or of an unknown worker answers 6 naming the id', async () => {
        const p = await set(h, { phone: '0500000000', did: '07333333333', project_id: 999, first_name: 'X' });
        assert.equal(p.code, 6);
        assert.match(p.message, /project_id.*999/);
        const w = await set(h, { phone: '0500000000', did: '07333333333', worker_id: 4242, first_name: 'X' });
        assert.equal(w.code, 6);
        assert.match(w.message, /worker_id.*4242/);
      });

      test('a duplicate unique value is 4 even when the status asked is invalid', async () => {
        const r = await set(h, { repository_assign_id: 555, email: 'john@mail.com', status_id: 999 });
        // 555 belongs to customer 123, who already holds john@mail.com: not a duplicate of itself.
        assert.equal(r.code, 0);
        const { assignId } = await freshAssign(h);
        const dup = await set(h, { repository_assign_id: assignId, email: 'john@mail.com', status_id: 999 });
        assert.deepEqual(dup, { code: 4, status: 'fail', message: 'Duplicate unique field: email' });
      });
    });

    describe('duplicate unique values', () => {
      test('code 4 changes nothing: no field, no status, no history, no call event', async () => {
        const { assignId } = await freshAssign(h, { city: 'Haifa' });
        const r = await set(h, { repository_assign_id: assignId, first_name: 'Changed', city: 'Eilat', email: 'john@mail.com', status_id: 10, notes: 'n', worker_id: 99 });
        assert.deepEqual(r, { code: 4, status: 'fail', message: 'Duplicate unique field: email' });
        assert.deepEqual(await row(h, assignId, 'first_name,city,email,last_status_id,last_notes,last_call'), {
          uid: String(assignId / 10), first_name: 'Anna', city: 'Haifa', email: null, last_status_id: null, last_notes: null, last_call: null,
        });
        assert.deepEqual(await history(h, assignId), []);
        assert.deepEqual(await calls(h, assignId), []);
        const uniques = await h.db.q.selectFrom('customer_uniques').select('customer_id').where('project_id', '=', 10).where('value', '=', 'john@mail.com').execute();
        assert.deepEqual(uniques.map((u) => u.customer_id), [123]);
      });

      test('emails are unique regardless of letter case', async () => {
        const { assignId } = await freshAssign(h);
        assert.deepEqual(await set(h, { repository_assign_id: assignId, email: 'John@Mail.COM' }), { code: 4, status: 'fail', message: 'Duplicate unique field: email' });
      });

      test('the same email in another project is not a duplicate', async () => {
        // Both projects seed john@mail.com already; here a value is first taken in project 20, then in project 10.
        const r = await set(h, { repository_assign_id: 1555, email: 'anna@example.com' });
        assert.equal(r.code, 0);
        const { assignId } = await freshAssign(h);
        assert.equal((await set(h, { repository_assign_id: assignId, email: 'anna@example.com' })).code, 0);
      });

      test('a value freed by one customer can be taken by another', async () => {
        const a = await freshAssign(h, { email: 'moving@example.com' });
        const b = await freshAssign(h);
        assert.equal((await set(h, { repository_assign_id: b.assignId, email: 'moving@example.com' })).code, 4);
        assert.equal((await set(h, { repository_assign_id: a.assignId, email: 'other@example.com' })).code, 0);
        assert.equal((await set(h, { repository_assign_id: b.assignId, email: 'moving@example.com' })).code, 0);
      });
    });

    describe('success answers', () => {
      test("the message lists each field as <name> was updated to '<value>', in request order", async () => {
        const { assignId } = await freshAssign(h);
        const r = await set(h, { repository_assign_id: assignId, first_name: 'Jane', email: 'jane@example.com' });
        assert.deepEqual(r, {
          code: 0,
          status: 'success',
          message: "first_name was updated to 'Jane', email was updated to 'jane@example.com'",
          repository_assign_id: String(assignId),
        });
        const reversed = await set(h, { repository_assign_id: assignId, city: 'Acre', first_name: 'Joan' });
        assert.equal(reversed.message, "city was updated to 'Acre', first_name was updated to 'Joan'");
      });

      test('a status change appends Status set successfully', async () => {
        const { assignId } = await freshAssign(h);
        const r = await set(h, { repository_assign_id: assignId, city: 'New York', status_id: 2, worker_id: 99 });
        assert.equal(r.message, "city was updated to 'New York', Status set successfully");
        assert.deepEqual(await row(h, assignId, 'city,last_status'), { uid: String(assignId / 10), city: 'New York', last_status: 'Call back' });
      });

      test('status only answers Status set successfully', async () => {
        const { assignId } = await freshAssign(h);
        assert.deepEqual(await set(h, { repository_assign_id: assignId, status_id: 10 }), {
          code: 0, status: 'success', message: 'Status set successfully', repository_assign_id: String(assignId),
        });
      });

      test('fields applied with a failed status: code 0, Fields updated, errors.status', async () => {
        const { assignId } = await freshAssign(h);
        const r = await set(h, { repository_assign_id: assignId, first_name: 'Anat', status_id: 999 });
        assert.deepEqual(r, {
          code: 0, status: 'success', message: 'Fields updated', errors: { status: 'Failed to set status' }, repository_assign_id: String(assignId),
        });
        assert.equal((await row(h, assignId, 'first_name')).first_name, 'Anat');
      });

      test("a status of another project is a failed status, the fields still apply", async () => {
        const { assignId } = await freshAssign(h);
        const r = await set(h, { repository_assign_id: assignId, city: 'Jaffa', status_id: 1010 });
        assert.equal(r.code, 0);
        assert.deepEqual(r.errors, { status: 'Failed to set status' });
        assert.deepEqual(await row(h, assignId, 'city,last_status_id'), { uid: String(assignId / 10), city: 'Jaffa', last_status_id: null });
      });

      test('partial success: the valid fields apply and each left-out field has a reason', async () => {
        const { assignId } = await freshAssign(h);
        const r = await set(h, { repository_assign_id: assignId, first_name: 'Jane', age: 'abc', nickname: 'JJ', status_id: 10 });
        assert.equal(r.code, 0);
        assert.equal(r.status, 'success');
        assert.deepEqual(Object.keys(r.errors!).sort(), ['age', 'nickname']);
        assert.equal(r.repository_assign_id, String(assignId));
        assert.deepEqual(await row(h, assignId, 'first_name,age,last_status_id'), { uid: String(assignId / 10), first_name: 'Jane', age: null, last_status_id: '10' });
      });

      test('an empty value clears a field', async () => {
        const { assignId } = await freshAssign(h, { city: 'Haifa' });
        const r = await set(h, { repository_assign_id: assignId, city: '' });
        assert.equal(r.code, 0);
        assert.equal(r.message, "city was updated to ''");
        assert.equal((await row(h, assignId, 'city')).city, null);
        const [change] = await history(h, assignId);
        assert.equal(change!.old_value, 'Haifa');
        assert.equal(change!.new_value, null);
      });

      test('values are trimmed', async () => {
        const { assignId } = await freshAssign(h);
        assert.equal((await set(h, { repository_assign_id: assignId, city: '  Ramla  ' })).message, "city was updated to 'Ramla'");
      });

      test('status_id=0 clears the status', async () => {
        const { assignId } = await freshAssign(h);
        assert.equal((await set(h, { repository_assign_id: assignId, status_id: 10 })).code, 0);
        const r = await set(h, { repository_assign_id: assignId, status_id: 0 });
        assert.equal(r.message, 'Status set successfully');
        assert.deepEqual(await row(h, assignId, 'last_status,last_status_id'), { uid: String(assignId / 10), last_status: null, last_status_id: null });
      });

      test('notes become last_notes, with a status and with fields alone', async () => {
        const { assignId } = await freshAssign(h);
        await set(h, { repository_assign_id: assignId, status_id: 2, notes: 'call after 6pm' });
        assert.equal((await row(h, assignId, 'last_notes')).last_notes, 'call after 6pm');
        await set(h, { repository_assign_id: assignId, city: 'Lod', notes: 'moved' });
        const r = await row(h, assignId, 'last_notes,last_call');
        assert.equal(r.last_notes, 'moved');
        assert.match(r.last_call!, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
      });

      test('Hebrew values round-trip through get_data', async () => {
        const { assignId } = await freshAssign(h);
        const r = await set(h, { repository_assign_id: assignId, first_name: 'יוחנן', city: 'תל אביב', notes: 'לחזור מחר' });
        assert.equal(r.message, "first_name was updated to 'יוחנן', city was updated to 'תל אביב'");
        assert.deepEqual(await row(h, assignId, 'first_name,city,last_notes'), { uid: String(assignId / 10), first_name: 'יוחנן', city: 'תל אביב', last_notes: 'לחזור מחר' });
      });
    });

    describe('typed validation', () => {
      const cases: [string, string, string][] = [
        // field, valid value, invalid value
        ['email', 'dana@example.co.il', 'dana@'],
        ['age', '42', 'forty'],
        ['age', '-1.5', '1e3x'],
        // Day-first dates are accepted (CRM_DATE_ORDER, DMY for IL); an impossible one is refused.
        ['birthday', '1990-05-17', '31/02/1990'],
        ['birthday', '2024-02-29', '2023-02-29'],
        ['plan', 'gold', 'platinum'],
        ['mobile', '+972 54-123-4567', 'unknown'],
      ];
      for (const [field, valid, invalid] of cases) {
        test(`${field}: '${valid}' is accepted and '${invalid}' is refused with a reason`, async () => {
          const { assignId } = await freshAssign(h);
          const ok = await set(h, { repository_assign_id: assignId, [field]: valid });
          assert.equal(ok.code, 0, JSON.stringify(ok));
          assert.equal(ok.message, `${field} was updated to '${valid}'`);
          const bad = await set(h, { repository_assign_id: assignId, [field]: invalid, first_name: 'Still' });
          assert.equal(bad.code, 0);
          assert.equal(typeof bad.errors?.[field], 'string');
          assert.equal((await row(h, assignId, field))[field], valid);
        });
      }

      test('a required field cannot be cleared', async () => {
        const r = await set(h, { repository_assign_id: 30001, full_name: '' });
        assert.equal(r.code, 6);
        assert.ok(r.errors?.full_name);
        assert.equal((await row(h, 30001, 'full_name')).full_name, 'Dov Levi');
      });

      test('a phone set through set_data is found by get_data', async () => {
        const { assignId } = await freshAssign(h);
        await set(h, { repository_assign_id: assignId, home: '+972 52-876-5432' });
        const r = await tel(h.app, 'get_data', { authkey: KEYS.get_data, did: '07333333333', phone: '0528765432', project_id: 10, out: 'repository_assign_id' });
        assert.deepEqual(r.message, [{ uid: String(assignId / 10), repository_assign_id: String(assignId) }]);
      });
    });

    describe('targeting', () => {
      test('by phone, the newest assign is updated and its id is answered', async () => {
        await h.db.q.updateTable('assigns').set({ activity_at: 1_000 }).where('id', '=', 2190811).execute();
        await h.db.q.updateTable('assigns').set({ activity_at: 2_000 }).where('id', '=', 555).execute();
        const a = await set(h, { phone: '050-000-0000', did: '07333333333', project_id: 10, status_id: 2 });
        assert.equal(a.repository_assign_id, '555');
        assert.equal((await row(h, 555, 'last_status_id')).last_status_id, '2');

        // The call just recorded on 555 keeps it newest; make 2190811 newer than that.
        await h.db.q.updateTable('assigns').set({ activity_at: Date.now() + 60_000 }).where('id', '=', 2190811).execute();
        const b = await set(h, { phone: '972500000000', did: '07333333333', project_id: 10, status_id: 10 });
        assert.equal(b.repository_assign_id, '2190811');
        assert.equal((await row(h, 2190811, 'last_status_id')).last_status_id, '10');
      });

      test("by phone, worker_id resolves the project and filters narrow the lookup", async () => {
        const w = await set(h, { phone: '0500000000', did: '07333333333', worker_id: 1099, city: 'Netanya' });
        assert.equal(w.code, 0);
        assert.ok(['1555', '2191811'].includes(w.repository_assign_id!));
        const f = await set(h, { phone: '0500000000', did: '07333333333', project_id: 10, repository_id: 8, city: 'Holon' });
        assert.equal(f.repository_assign_id, '555');
        const none = await set(h, { phone: '0500000000', did: '07333333333', project_id: 10, repository_id: 8, group_id: 999, city: 'Holon' });
        assert.equal(none.code, 6);
      });

      test('by phone, a DID pinned to a repository targets that repository', async () => {
        await h.db.q.updateTable('assigns').set({ activity_at: Date.now() + 120_000 }).where('id', '=', 2190811).execute();
        const r = await set(h, { phone: '0500000000', did: '039999999', project_id: 10, city: 'Bat Yam' });
        assert.equal(r.repository_assign_id, '555');
      });

      test('by assign, project_id and filters are ignored and worker_id is only audit', async () => {
        const { assignId } = await freshAssign(h);
        const r = await set(h, { repository_assign_id: assignId, project_id: 20, repository_id: 8, group_id: 999, worker_id: 1099, city: 'Afula' });
        assert.equal(r.code, 0);
        const [change] = await history(h, assignId);
        assert.equal(change!.worker_id, 1099);
      });

      test('by assign, a phone parameter updates the field named phone', async () => {
        const r = await set(h, { repository_assign_id: 30001, phone: '054-444-4444' });
        assert.equal(r.message, "phone was updated to '054-444-4444'");
        const found = await tel(h.app, 'get_data', { authkey: KEYS.get_data, did: '1', phone: '0544444444', project_id: 30, out: 'phone' });
        assert.deepEqual(found.message, [{ uid: '3001', phone: '054-444-4444' }]);
      });

      test('by assign, a phone parameter in a project without a phone field is no field update', async () => {
        assert.equal((await set(h, { repository_assign_id: 555, phone: '0500000000' })).code, 7);
        const r = await set(h, { repository_assign_id: 555, phone: '0500000000', city: 'Rehovot' });
        assert.equal(r.message, "city was updated to 'Rehovot'");
      });
    });

    describe('history and call events', () => {
      test('each changed field is recorded with old and new value, worker_id and source', async () => {
        const { customerId, assignId } = await freshAssign(h, { city: 'Haifa' });
        await set(h, { repository_assign_id: assignId, first_name: 'Jane', city: 'Tiberias', worker_id: 99 });
        const rows = await history(h, assignId);
        assert.deepEqual(
          rows.map((r) => [r.kind, r.field, r.old_value, r.new_value, r.worker_id, r.source, r.customer_id, r.project_id]),
          [
            ['field', 'first_name', 'Anna', 'Jane', 99, 'set_data', customerId, 10],
            ['field', 'city', 'Haifa', 'Tiberias', 99, 'set_data', customerId, 10],
          ],
        );
      });

      test('a status change is recorded in history and as a call event with worker and notes', async () => {
        const { assignId } = await freshAssign(h);
        await set(h, { repository_assign_id: assignId, status_id: 10, worker_id: 99, notes: 'hot lead' });
        const rows = await history(h, assignId);
        assert.deepEqual(rows.map((r) => [r.kind, r.old_status_id, r.new_status_id, r.worker_id, r.source]), [['status', null, 10, 99, 'set_data']]);
        const events = await calls(h, assignId);
        assert.deepEqual(events.map((e) => [e.status_id, e.worker_id, e.notes, e.source]), [[10, 99, 'hot lead', 'set_data']]);
      });

      test('an unchanged value adds no history row', async () => {
        const { assignId } = await freshAssign(h);
        await set(h, { repository_assign_id: assignId, first_name: 'Anna' });
        assert.deepEqual(await history(h, assignId), []);
      });

      test('a request without worker_id records null', async () => {
        const { assignId } = await freshAssign(h);
        await set(h, { repository_assign_id: assignId, city: 'Dimona' });
        assert.equal((await history(h, assignId))[0]!.worker_id, null);
      });
    });

    describe('call_id retries', () => {
      test('the same call_id and changes twice apply once and answer the same', async () => {
        const { assignId } = await freshAssign(h);
        const params = { repository_assign_id: assignId, first_name: 'Retry', status_id: 10, notes: 'first try', call_id: 'call-abc-1' };
        const first = await set(h, params);
        const second = await set(h, params);
        assert.equal(first.code, 0);
        assert.deepEqual(second, first);
        const rows = await history(h, assignId);
        assert.deepEqual(rows.map((r) => [r.kind, r.call_id]), [['field', 'call-abc-1'], ['status', 'call-abc-1']]);
        const events = await calls(h, assignId);
        assert.equal(events.length, 1);
        assert.equal(events[0]!.call_id, 'call-abc-1');
      });

      test('the same call_id with other changes is a new request', async () => {
        const { assignId } = await freshAssign(h);
        await set(h, { repository_assign_id: assignId, status_id: 10, call_id: 'call-abc-2' });
        const r = await set(h, { repository_assign_id: assignId, status_id: 2, call_id: 'call-abc-2' });
        assert.equal(r.code, 0);
        assert.equal((await row(h, assignId, 'last_status_id')).last_status_id, '2');
        assert.equal((await calls(h, assignId)).length, 2);
      });

      test('a refused request with a call_id can be retried', async () => {
        const { assignId } = await freshAssign(h);
        const params = { repository_assign_id: assignId, status_id: 2, email: 'retry-dup@example.com', call_id: 'call-abc-3' };
        const holder = await freshAssign(h, { email: 'retry-dup@example.com' });
        assert.equal((await set(h, params)).code, 4);
        await set(h, { repository_assign_id: holder.assignId, email: '' });
        assert.equal((await set(h, params)).code, 0);
        assert.equal((await calls(h, assignId)).length, 1);
      });
    });
  });

  describe(`set_data.php with CRM_DID_OPTIONAL=true (${dialect})`, () => {
    let h: Harness;
    before(async () => {
      h = await setup(dialect, { CRM_DID_OPTIONAL: 'true' });
      await seedProject(h.app);
    });
    after(() => h.close());

    test('phone with project_id and no did updates the newest assign', async () => {
      const r = await set(h, { phone: '0500000000', project_id: 10, city: 'Ashdod' });
      assert.equal(r.code, 0);
      assert.ok(['555', '2190811'].includes(r.repository_assign_id!));
    });

    test('phone with a did registered to one project updates in that project', async () => {
      await admin(h.app, 'POST', '/projects/10/dids', { did: '0772222222' });
      const r = await set(h, { phone: '0500000000', did: '0772222222', city: 'Yavne' });
      assert.equal(r.code, 0);
      assert.ok(['555', '2190811'].includes(r.repository_assign_id!));
    });

    test('phone alone still answers 2', async () => {
      assert.equal((await set(h, { phone: '0500000000', city: 'Ashdod' })).code, 2);
    });

    test('a database failure answers 5 with no detail, and the detail goes to the log', async () => {
      const before = (await row(h, 555, 'city')).city;
      await h.db.q.schema.alterTable('history').renameTo('history_gone').execute();
      try {
        const r = await set(h, { repository_assign_id: 555, city: 'Nowhere' });
        assert.deepEqual(r, { code: 5, status: 'fail', message: 'Update failed' });
        assert.ok(h.logs.some((l) => l.includes('"level":50') && l.includes('history')), 'the failure is logged');
      } finally {
        await h.db.q.schema.alterTable('history_gone').renameTo('history').execute();
      }
      assert.equal((await row(h, 555, 'city')).city, before);
    });
  });
}
