// get_data.php contract: codes and their order, phone matching, filters, project isolation, the shape of
// answer rows, special out fields, ordering, by-assign mode and CRM_DID_OPTIONAL (telephony-api.md).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, seedProject, admin, tel, dialects, KEYS, type Harness } from './helpers.ts';

type Params = Record<string, string | number>;

const get = (h: Harness, params: Params) => tel(h.app, 'get_data', { authkey: KEYS.get_data, ...params });
const byPhone = (h: Harness, params: Params) => get(h, { did: '07333333333', phone: '0500000000', project_id: 10, out: 'repository_assign_id', ...params });
const assignIds = (message: { repository_assign_id: string }[]) => message.map((r) => r.repository_assign_id);

/** Sets an assign's sort key directly: ordering tests must not depend on the clock's resolution. */
async function setActivity(h: Harness, assignId: number, at: number) {
  await h.db.q.updateTable('assigns').set({ activity_at: at }).where('id', '=', assignId).execute();
}

async function waitFor(check: () => boolean, what: string) {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), `timed out waiting for ${what}`);
}

// 2026-01-15 08:30:05 UTC = 10:30:05 in Asia/Jerusalem (winter, UTC+2).
const KNOWN_CALL = Date.UTC(2026, 0, 15, 8, 30, 5);

for (const dialect of dialects()) {
  describe(`get_data.php (${dialect})`, () => {
    let h: Harness;
    before(async () => {
      h = await setup(dialect, { CRM_TIMEZONE: 'Asia/Jerusalem' });
      await seedProject(h.app);
      // The same phone in another project (ids offset by 1000): must never leak into project 10's answers.
      await seedProject(h.app, 20, 1000);
      // Customer 124 is reachable only through its second phone-type field (`home`).
      await admin(h.app, 'POST', '/projects/10/customers', { id: 124, fields: { first_name: 'Rina', home: '052-333-4444' } });
      await admin(h.app, 'POST', '/repositories/7/assigns', { id: 7001, customer_id: 124, group_id: 3, worker_id: 99 });
    });
    after(() => h.close());

    describe('checks and their order', () => {
      test('a wrong key with every other parameter missing answers 1', async () => {
        assert.deepEqual(await tel(h.app, 'get_data', { authkey: 'nope' }), { code: 1, status: 'fail', message: 'Missing or invalid authkey' });
      });

      test('a missing key answers 1 even when the rest of the request is valid', async () => {
        const r = await tel(h.app, 'get_data', { did: '07333333333', phone: '0500000000', project_id: 10, out: 'first_name' });
        assert.deepEqual(r, { code: 1, status: 'fail', message: 'Missing or invalid authkey' });
      });

      test('a request missing both did and phone answers 2', async () => {
        assert.deepEqual(await get(h, {}), { code: 2, status: 'fail', message: 'Missing DID' });
        assert.equal((await get(h, { project_id: 10, out: 'first_name' })).code, 2);
      });

      test('phone is checked after did: did given, phone, out and project missing answers 3', async () => {
        assert.deepEqual(await get(h, { did: '07333333333' }), { code: 3, status: 'fail', message: 'Missing phone' });
      });

      test('out is checked after phone: did and phone given, out and project missing answers 4', async () => {
        assert.deepEqual(await get(h, { did: '07333333333', phone: '0500000000' }), { code: 4, status: 'fail', message: 'Missing out parameter' });
      });

      test('project is checked last: did, phone and out given without project_id or worker_id answers 5', async () => {
        const r = await get(h, { did: '07333333333', phone: '0500000000', out: 'first_name' });
        assert.deepEqual(r, { code: 5, status: 'fail', message: 'Missing both project_id and worker_id' });
      });

      test('empty or blank reserved parameters count as missing', async () => {
        assert.equal((await get(h, { did: '', phone: '0500000000', project_id: 10, out: 'uid' })).code, 2);
        assert.equal((await get(h, { did: '07333333333', phone: '   ', project_id: 10, out: 'uid' })).code, 3);
        assert.equal((await get(h, { did: '07333333333', phone: '0500000000', project_id: 10, out: ' , ' })).code, 4);
        assert.equal((await get(h, { did: '07333333333', phone: '0500000000', project_id: '', out: 'uid' })).code, 5);
      });

      test('an unknown project_id answers 5 naming the id', async () => {
        const r = await byPhone(h, { project_id: 999 });
        assert.equal(r.code, 5);
        assert.equal(r.status, 'fail');
        assert.match(r.message, /project_id/);
        assert.match(r.message, /999/);
      });

      test('a non-numeric project_id answers 5 naming it', async () => {
        const r = await byPhone(h, { project_id: 'ten' });
        assert.equal(r.code, 5);
        assert.match(r.message, /project_id.*ten/);
      });

      test('an unknown worker_id answers 5 naming the id', async () => {
        const r = await get(h, { did: '07333333333', phone: '0500000000', worker_id: 4242, out: 'uid' });
        assert.equal(r.code, 5);
        assert.match(r.message, /worker_id/);
        assert.match(r.message, /4242/);
      });

      test('by assign: a wrong key answers 1 before the missing out', async () => {
        assert.equal((await tel(h.app, 'get_data', { authkey: 'nope', repository_assign_id: 555 })).code, 1);
      });

      test('by assign: a missing out answers 4 (did and phone are not needed)', async () => {
        assert.deepEqual(await get(h, { repository_assign_id: 555 }), { code: 4, status: 'fail', message: 'Missing out parameter' });
      });

      test('by assign: an unknown id answers 6', async () => {
        assert.deepEqual(await get(h, { repository_assign_id: 999999, out: 'uid' }), { code: 6, status: 'fail', message: 'No matching repository assign' });
      });
    });

    describe('finding the caller', () => {
      for (const spelling of ['0500000000', '050-000-0000', '+972 50-000-0000', '972500000000', '9720500000000', '+972 050-000-0000']) {
        test(`the phone spelled ${spelling} finds the customer`, async () => {
          const r = await byPhone(h, { phone: spelling, out: 'first_name' });
          assert.equal(r.code, 0);
          assert.deepEqual(r.message.map((m: { uid: string }) => m.uid), ['123', '123']);
          assert.equal(r.message[0].first_name, 'John');
        });
      }

      test('a second phone-type field is searched too', async () => {
        const r = await byPhone(h, { phone: '0523334444', out: 'first_name,home' });
        assert.deepEqual(r.message, [{ uid: '124', first_name: 'Rina', home: '052-333-4444' }]);
      });

      test('no match is a success with an empty array', async () => {
        assert.deepEqual(await byPhone(h, { phone: '0541234567' }), { code: 0, status: 'success', message: [] });
      });

      test('a phone without digits matches nobody', async () => {
        assert.deepEqual(await byPhone(h, { phone: 'anonymous' }), { code: 0, status: 'success', message: [] });
      });

      test('the same phone in another project is not returned', async () => {
        const mine = await byPhone(h, { out: 'project_id' });
        assert.deepEqual(mine.message.map((m: { uid: string; project_id: string }) => [m.uid, m.project_id]), [['123', '10'], ['123', '10']]);
        const theirs = await byPhone(h, { project_id: 20, out: 'project_id' });
        assert.deepEqual(theirs.message.map((m: { uid: string; project_id: string }) => [m.uid, m.project_id]), [['1123', '20'], ['1123', '20']]);
      });

      test('worker_id resolves the project and does not filter rows', async () => {
        const r = await get(h, { did: '07333333333', phone: '0500000000', worker_id: 1099, out: 'repository_assign_id,worker_id' });
        assert.deepEqual(r.message.map((m: { uid: string }) => m.uid), ['1123', '1123']);
        // Neither assign is assigned to worker 1099, yet both are answered.
        assert.deepEqual(r.message.map((m: { worker_id: string | null }) => m.worker_id), [null, null]);
      });

      test('project_id wins over the project of worker_id', async () => {
        const r = await get(h, { did: '07333333333', phone: '0500000000', project_id: 10, worker_id: 1099, out: 'project_id' });
        assert.deepEqual(r.message.map((m: { project_id: string }) => m.project_id), ['10', '10']);
      });

      test('repository_id narrows the matches', async () => {
        assert.deepEqual(assignIds((await byPhone(h, { repository_id: 7 })).message), ['2190811']);
        assert.deepEqual(assignIds((await byPhone(h, { repository_id: 8 })).message), ['555']);
      });

      test("group_id and site_id match an assign without its own through its repository's", async () => {
        // Assign 555 has no group or site of its own; its repository VIP is in group 3, site 4.
        assert.deepEqual(assignIds((await byPhone(h, { group_id: 3 })).message), ['555']);
        assert.deepEqual(assignIds((await byPhone(h, { site_id: 4 })).message), ['555']);
        // Assign 7001 has its own group 3 in repository Leads (no group).
        assert.deepEqual(assignIds((await byPhone(h, { phone: '0523334444', group_id: 3 })).message), ['7001']);
        assert.deepEqual((await byPhone(h, { phone: '0523334444', site_id: 4 })).message, []);
      });

      test('filters combine, and a filter that matches nothing answers an empty array', async () => {
        assert.deepEqual(assignIds((await byPhone(h, { repository_id: 8, group_id: 3, site_id: 4 })).message), ['555']);
        assert.deepEqual((await byPhone(h, { repository_id: 7, group_id: 3 })).message, []);
        assert.deepEqual((await byPhone(h, { repository_id: 'abc' })).message, []);
      });

      test('a DID pinned to a repository restricts the matches to it', async () => {
        assert.deepEqual(assignIds((await byPhone(h, { did: '039999999' })).message), ['555']);
        assert.deepEqual(assignIds((await byPhone(h, { did: '03-999-9999' })).message), ['555']);
        assert.deepEqual((await byPhone(h, { did: '039999999', repository_id: 7 })).message, []);
      });

      test('a phone shared by more than 100 assigns answers the 100 newest', async () => {
        await admin(h.app, 'POST', '/projects/10/repositories', { id: 70, name: 'Shared line' });
        for (let i = 1; i <= 101; i++) {
          await admin(h.app, 'POST', '/projects/10/customers', { id: 20000 + i, fields: { home: '03-555-0000' } });
          await admin(h.app, 'POST', '/repositories/70/assigns', { id: 200000 + i, customer_id: 20000 + i });
          await setActivity(h, 200000 + i, i);
        }
        const r = await byPhone(h, { phone: '035550000' });
        assert.equal(r.message.length, 100);
        assert.equal(r.message[0].repository_assign_id, '200101');
        assert.equal(r.message[99].repository_assign_id, '200002');
      });

      test('an unregistered or unpinned DID does not restrict the matches', async () => {
        assert.equal((await byPhone(h, { did: '07333333333' })).message.length, 2);
        assert.equal((await byPhone(h, { did: '123456' })).message.length, 2);
      });

      // Projects, workers and DIDs are remembered once seen (lookup.ts); what was missing must not be.
      test('a project, a worker and a DID pin created after a request that missed them apply at once', async () => {
        assert.equal((await byPhone(h, { project_id: 31 })).code, 5);
        assert.equal((await get(h, { did: '07333333333', phone: '0500000000', worker_id: 3101, out: 'uid' })).code, 5);
        await admin(h.app, 'POST', '/projects', { id: 31, name: 'Late project' });
        await admin(h.app, 'POST', '/projects/31/fields', { display_name: 'mobile', type: 'phone' });
        await admin(h.app, 'POST', '/projects/31/workers', { id: 3101, name: 'Late agent' });
        await admin(h.app, 'POST', '/projects/31/repositories', { id: 3110, name: 'Late leads' });
        await admin(h.app, 'POST', '/projects/31/repositories', { id: 3111, name: 'Other leads' });
        await admin(h.app, 'POST', '/projects/31/customers', { id: 3120, fields: { mobile: '054-777-1234' } });
        await admin(h.app, 'POST', '/repositories/3110/assigns', { id: 31200, customer_id: 3120 });
        await admin(h.app, 'POST', '/repositories/3111/assigns', { id: 31201, customer_id: 3120 });
        const late = { did: '039991111', phone: '0547771234', project_id: 31 };
        assert.deepEqual(assignIds((await byPhone(h, late)).message).sort(), ['31200', '31201']);
        assert.equal((await get(h, { did: late.did, phone: late.phone, worker_id: 3101, out: 'uid' })).code, 0);
        // The DID was unregistered in the request above; pinned now, it narrows the next answer.
        await admin(h.app, 'POST', '/projects/31/dids', { did: '039991111', repository_id: 3111 });
        assert.deepEqual(assignIds((await byPhone(h, late)).message), ['31201']);
      });
    });

    describe('answer rows', () => {
      test('uid comes first, then each out name once, in the order given', async () => {
        const r = await byPhone(h, { repository_id: 7, out: 'last_status,first_name,uid,first_name, repository_name ,last_status' });
        assert.equal(r.code, 0);
        assert.deepEqual(Object.keys(r.message[0]), ['uid', 'last_status', 'first_name', 'repository_name']);
        assert.deepEqual(r.message[0], { uid: '123', last_status: null, first_name: 'John', repository_name: 'Leads' });
      });

      test('uid is answered even when out does not name it', async () => {
        const r = await byPhone(h, { repository_id: 7, out: 'email' });
        assert.deepEqual(r.message, [{ uid: '123', email: 'john@mail.com' }]);
      });

      test('an unknown out name answers null and is logged as a warning', async () => {
        const r = await byPhone(h, { repository_id: 7, out: 'first_name,customer_name' });
        assert.deepEqual(r.message, [{ uid: '123', first_name: 'John', customer_name: null }]);
        await waitFor(() => h.logs.some((l) => l.includes('"level":40') && l.includes('customer_name')), 'the unknown-out warning');
      });

      test('a field without a value answers null', async () => {
        const r = await byPhone(h, { repository_id: 7, out: 'city,age,plan' });
        assert.deepEqual(r.message, [{ uid: '123', city: null, age: null, plan: null }]);
      });

      test('every value is a string or null', async () => {
        const r = await byPhone(h, {
          out: 'repository_assign_id,repository_id,repository_name,last_status,last_status_id,last_call,last_notes,project_id,group_id,site_id,worker_id,first_name,mobile,age',
        });
        assert.equal(r.message.length, 2);
        for (const row of r.message) for (const v of Object.values(row)) assert.ok(v === null || typeof v === 'string', `${JSON.stringify(v)} is a string or null`);
      });

      test('repository and project out fields name the assign, its repository and its project', async () => {
        const r = await byPhone(h, { repository_id: 8, out: 'repository_assign_id,repository_id,repository_name,project_id' });
        assert.deepEqual(r.message, [{ uid: '123', repository_assign_id: '555', repository_id: '8', repository_name: 'VIP', project_id: '10' }]);
      });

      test("group_id and site_id answer the assign's own, else its repository's, else null; worker_id the assign's", async () => {
        const vip = await byPhone(h, { repository_id: 8, out: 'group_id,site_id,worker_id' });
        assert.deepEqual(vip.message, [{ uid: '123', group_id: '3', site_id: '4', worker_id: null }]);
        const leads = await byPhone(h, { repository_id: 7, out: 'group_id,site_id,worker_id' });
        assert.deepEqual(leads.message, [{ uid: '123', group_id: null, site_id: null, worker_id: null }]);
        const own = await byPhone(h, { phone: '052-333-4444', out: 'group_id,site_id,worker_id' });
        assert.deepEqual(own.message, [{ uid: '124', group_id: '3', site_id: null, worker_id: '99' }]);
      });

      test('a new assign answers null status, call and notes', async () => {
        const r = await byPhone(h, { phone: '052-333-4444', out: 'last_status,last_status_id,last_call,last_notes' });
        assert.deepEqual(r.message, [{ uid: '124', last_status: null, last_status_id: null, last_call: null, last_notes: null }]);
      });

      test('after set_status, last_status, last_status_id, last_call and last_notes describe the newest call', async () => {
        const s = await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 7001, status_id: 10, notes: 'wants a callback' });
        assert.equal(s.code, 0);
        const r = await byPhone(h, { phone: '052-333-4444', out: 'last_status,last_status_id,last_call,last_notes' });
        const row = r.message[0];
        assert.equal(row.last_status, 'Interested');
        assert.equal(row.last_status_id, '10');
        assert.equal(row.last_notes, 'wants a callback');
        assert.match(row.last_call, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
      });

      test('last_call is YYYY-MM-DD HH:MM:SS in CRM_TIMEZONE', async () => {
        await h.db.q.updateTable('assigns').set({ last_call_at: KNOWN_CALL }).where('id', '=', 7001).execute();
        const r = await byPhone(h, { phone: '052-333-4444', out: 'last_call' });
        assert.deepEqual(r.message, [{ uid: '124', last_call: '2026-01-15 10:30:05' }]);
      });

      test('Hebrew values are answered as UTF-8 text', async () => {
        await admin(h.app, 'POST', '/projects/10/customers', { id: 125, fields: { first_name: 'שרה', city: 'תל אביב', mobile: '0529998888' } });
        await admin(h.app, 'POST', '/repositories/7/assigns', { id: 7002, customer_id: 125 });
        const res = await h.app.inject({ method: 'GET', url: `/api/get_data.php?authkey=${KEYS.get_data}&did=07333333333&phone=0529998888&project_id=10&out=first_name,city` });
        assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
        assert.ok(res.rawPayload.includes(Buffer.from('תל אביב', 'utf8')));
        assert.deepEqual(res.json().message, [{ uid: '125', first_name: 'שרה', city: 'תל אביב' }]);
      });
    });

    describe('ordering', () => {
      test('newest activity first, and the order follows the activity', async () => {
        await setActivity(h, 555, 1_000);
        await setActivity(h, 2190811, 2_000);
        assert.deepEqual(assignIds((await byPhone(h, {})).message), ['2190811', '555']);
        await setActivity(h, 555, 3_000);
        assert.deepEqual(assignIds((await byPhone(h, {})).message), ['555', '2190811']);
      });

      test('ties of activity answer the higher assign id first', async () => {
        await setActivity(h, 555, 5_000);
        await setActivity(h, 2190811, 5_000);
        assert.deepEqual(assignIds((await byPhone(h, {})).message), ['2190811', '555']);
      });

      test('a call moves an assign ahead of a newer assign that had no call', async () => {
        await admin(h.app, 'POST', '/projects/10/customers', { id: 126, fields: { mobile: '0527770000' } });
        await admin(h.app, 'POST', '/repositories/7/assigns', { id: 900, customer_id: 126 });
        await new Promise((r) => setTimeout(r, 5)); // distinct creation times
        await admin(h.app, 'POST', '/repositories/8/assigns', { id: 800, customer_id: 126 });
        assert.deepEqual(assignIds((await byPhone(h, { phone: '0527770000' })).message), ['800', '900']);
        await new Promise((r) => setTimeout(r, 5)); // the call is later than both creations
        assert.equal((await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 900, status_id: 2 })).code, 0);
        assert.deepEqual(assignIds((await byPhone(h, { phone: '0527770000' })).message), ['900', '800']);
      });
    });

    describe('by assign', () => {
      test('one id answers its row', async () => {
        const r = await get(h, { repository_assign_id: 2190811, out: 'uid,repository_name,first_name' });
        assert.deepEqual(r, { code: 0, status: 'success', message: [{ uid: '123', repository_name: 'Leads', first_name: 'John' }] });
      });

      test('a comma-separated list answers in the order given', async () => {
        assert.deepEqual(assignIds((await get(h, { repository_assign_id: '555,2190811', out: 'repository_assign_id' })).message), ['555', '2190811']);
        assert.deepEqual(assignIds((await get(h, { repository_assign_id: '2190811, 555', out: 'repository_assign_id' })).message), ['2190811', '555']);
      });

      test('unknown and non-numeric ids are left out of a list', async () => {
        const r = await get(h, { repository_assign_id: '999999,555,abc,2190811', out: 'repository_assign_id' });
        assert.deepEqual(assignIds(r.message), ['555', '2190811']);
      });

      test('a repeated id is answered once', async () => {
        assert.deepEqual(assignIds((await get(h, { repository_assign_id: '555,555', out: 'repository_assign_id' })).message), ['555']);
      });

      test('a non-numeric id answers 6', async () => {
        assert.deepEqual(await get(h, { repository_assign_id: 'abc', out: 'uid' }), { code: 6, status: 'fail', message: 'No matching repository assign' });
      });

      test('ids of several projects are answered together when no project is given', async () => {
        const r = await get(h, { repository_assign_id: '555,1555', out: 'project_id' });
        assert.deepEqual(r.message.map((m: { project_id: string }) => m.project_id), ['10', '20']);
      });

      test('project_id, repository_id, group_id and site_id must match the assign', async () => {
        const ids = (p: Params) => get(h, { repository_assign_id: '555,2190811,1555', out: 'repository_assign_id', ...p });
        assert.deepEqual(assignIds((await ids({ project_id: 10 })).message), ['555', '2190811']);
        assert.deepEqual(assignIds((await ids({ project_id: 20 })).message), ['1555']);
        assert.deepEqual(assignIds((await ids({ repository_id: 7 })).message), ['2190811']);
        assert.deepEqual(assignIds((await ids({ group_id: 3 })).message), ['555']);
        assert.deepEqual(assignIds((await ids({ site_id: 4, project_id: 10 })).message), ['555']);
      });

      test('filters that match none of the ids answer 6', async () => {
        assert.equal((await get(h, { repository_assign_id: 555, project_id: 20, out: 'uid' })).code, 6);
        assert.equal((await get(h, { repository_assign_id: 555, project_id: 999, out: 'uid' })).code, 6);
        assert.equal((await get(h, { repository_assign_id: 2190811, group_id: 3, out: 'uid' })).code, 6);
        assert.equal((await get(h, { repository_assign_id: 555, repository_id: 7, out: 'uid' })).code, 6);
      });

      test("worker_id matches the assigns of the worker's project", async () => {
        assert.deepEqual(assignIds((await get(h, { repository_assign_id: '555,1555', worker_id: 99, out: 'repository_assign_id' })).message), ['555']);
        assert.equal((await get(h, { repository_assign_id: 555, worker_id: 1099, out: 'uid' })).code, 6);
        assert.equal((await get(h, { repository_assign_id: 555, worker_id: 4242, out: 'uid' })).code, 6);
      });
    });
  });

  describe(`get_data.php with CRM_DID_OPTIONAL=true (${dialect})`, () => {
    let h: Harness;
    before(async () => {
      h = await setup(dialect, { CRM_DID_OPTIONAL: 'true', CRM_TIMEZONE: 'UTC' });
      await seedProject(h.app);
      await seedProject(h.app, 20, 1000);
      await admin(h.app, 'POST', '/projects/20/dids', { did: '0771111111' });
    });
    after(() => h.close());

    test('phone with project_id and no did finds the caller', async () => {
      const r = await get(h, { phone: '0500000000', project_id: 10, out: 'repository_assign_id' });
      assert.equal(r.code, 0);
      assert.deepEqual(r.message.map((m: { uid: string }) => m.uid), ['123', '123']);
    });

    test('phone with worker_id and no did finds the caller in the worker project', async () => {
      const r = await get(h, { phone: '0500000000', worker_id: 1099, out: 'project_id' });
      assert.deepEqual(r.message.map((m: { project_id: string }) => m.project_id), ['20', '20']);
    });

    test('phone with a did registered to one project names that project', async () => {
      const r = await get(h, { phone: '0500000000', did: '077-111-1111', out: 'project_id' });
      assert.deepEqual(r.message.map((m: { project_id: string }) => m.project_id), ['20', '20']);
    });

    test('phone with a did registered to several projects answers 5', async () => {
      const r = await get(h, { phone: '0500000000', did: '07333333333', out: 'uid' });
      assert.equal(r.code, 5);
      assert.match(r.message, /07333333333/);
    });

    test('phone with neither did, project_id nor worker_id answers 2', async () => {
      assert.deepEqual(await get(h, { phone: '0500000000', out: 'uid' }), { code: 2, status: 'fail', message: 'Missing DID' });
    });

    test('phone is still checked before out', async () => {
      assert.equal((await get(h, { project_id: 10 })).code, 3);
    });

    test('last_call follows the configured time zone', async () => {
      await h.db.q.updateTable('assigns').set({ last_call_at: KNOWN_CALL }).where('id', '=', 555).execute();
      const r = await get(h, { repository_assign_id: 555, out: 'last_call' });
      assert.deepEqual(r.message, [{ uid: '123', last_call: '2026-01-15 08:30:05' }]);
    });
  });

  describe(`get_data.php without CRM_DID_OPTIONAL (${dialect})`, () => {
    let h: Harness;
    before(async () => {
      h = await setup(dialect);
      await seedProject(h.app);
    });
    after(() => h.close());

    test('phone with project_id but no did answers 2 (the seed requires did)', async () => {
      assert.deepEqual(await get(h, { phone: '0500000000', project_id: 10, out: 'uid' }), { code: 2, status: 'fail', message: 'Missing DID' });
    });

    test('a database failure answers 7 with no detail, and the detail goes to the log', async () => {
      await h.db.q.schema.alterTable('repositories').renameTo('repositories_gone').execute();
      try {
        const res = await h.app.inject({ method: 'GET', url: `/api/get_data.php?authkey=${KEYS.get_data}&did=07333333333&phone=0500000000&project_id=10&out=uid` });
        assert.equal(res.statusCode, 200);
        assert.deepEqual(res.json(), { code: 7, status: 'fail', message: 'Database exception' });
        const byAssign = await get(h, { repository_assign_id: 555, out: 'uid' });
        assert.deepEqual(byAssign, { code: 7, status: 'fail', message: 'Database exception' });
        assert.ok(h.logs.some((l) => l.includes('"level":50') && l.includes('repositories')), 'the failure is logged');
      } finally {
        await h.db.q.schema.alterTable('repositories_gone').renameTo('repositories').execute();
      }
    });
  });
}
