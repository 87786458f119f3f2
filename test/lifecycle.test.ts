// The data lifecycle (admin-api.md "Changing and removing"): rename, archive, DID removal, PATCH and
// DELETE of assigns, and the audit rows they leave, through the admin and telephony APIs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KEYS, admin, adminHeaders, importBody, dialects, seedProject, setup, tel, type Harness } from './helpers.ts';

const byPhone = { did: '07333333333', project_id: 10, phone: '0500000000' };

async function del(h: Harness, path: string, expect = 204) {
  const res = await h.app.inject({ method: 'DELETE', url: `/admin/v1${path}`, headers: adminHeaders });
  assert.equal(res.statusCode, expect, res.body);
  return res;
}

async function fieldId(h: Harness, name: string): Promise<number> {
  const all = await admin(h.app, 'GET', '/projects/10/fields?archived=true');
  return all.items.find((f: { display_name: string }) => f.display_name === name).id;
}

async function importCsv(h: Harness, csv: string) {
  const res = await importBody(h.app, csv, { repository: 7 });
  assert.equal(res.statusCode, 200, res.body);
  return res.json() as { created: number; errors: { line: number; message: string }[] };
}

for (const dialect of dialects()) {
  describe(dialect, () => {
    let h: Harness;
    before(async () => {
      h = await setup(dialect);
      await seedProject(h.app);
      await admin(h.app, 'PATCH', '/customers/123', { fields: { city: 'Haifa' } });
    });
    after(async () => h?.close());

    test('a renamed field answers under its new name; old clients get null from get_data and Unknown field from set_data', async () => {
      const id = await fieldId(h, 'first_name');
      // Warm every cache first: the rename must be seen at once by this process.
      assert.equal((await tel(h.app, 'get_data', { authkey: KEYS.get_data, ...byPhone, out: 'first_name' })).message[0].first_name, 'John');
      assert.equal((await tel(h.app, 'set_data', { authkey: KEYS.set_data, repository_assign_id: 2190811, first_name: 'John' })).code, 0);

      const f = await admin(h.app, 'PATCH', `/projects/10/fields/${id}`, { display_name: 'given_name', label: 'Given name' });
      assert.deepEqual({ display_name: f.display_name, label: f.label, archived: f.archived }, { display_name: 'given_name', label: 'Given name', archived: false });

      const got = (await tel(h.app, 'get_data', { authkey: KEYS.get_data, ...byPhone, out: 'first_name,given_name' })).message;
      assert.equal(got[0].first_name, null);
      assert.equal(got[0].given_name, 'John');
      const old = await tel(h.app, 'set_data', { authkey: KEYS.set_data, repository_assign_id: 2190811, first_name: 'Jim' });
      assert.equal(old.code, 6);
      assert.equal(old.errors?.first_name, 'Unknown field');
      assert.equal((await tel(h.app, 'set_data', { authkey: KEYS.set_data, repository_assign_id: 2190811, given_name: 'Jim' })).code, 0);
      assert.equal((await admin(h.app, 'GET', '/customers/123')).fields.given_name, 'Jim');
      assert.equal((await admin(h.app, 'GET', '/customers/123')).fields.first_name, undefined);
      // History keeps the name of its time.
      const history = (await admin(h.app, 'GET', '/assigns/2190811/history')).items.filter((i: { kind: string }) => i.kind === 'field');
      assert.deepEqual(history.map((i: { field: string; new_value: string }) => [i.field, i.new_value]).slice(0, 1), [['given_name', 'Jim']]);

      // A name another field has (archived or not) is a 409 and changes nothing.
      assert.equal((await admin(h.app, 'PATCH', `/projects/10/fields/${id}`, { display_name: 'last_name' }, 409)).error.code, 'conflict');
      assert.ok('display_name' in (await admin(h.app, 'PATCH', `/projects/10/fields/${id}`, { display_name: 'status_id' }, 400)).error.details);
      await admin(h.app, 'PATCH', '/projects/10/fields/999999', { label: 'x' }, 404);
      assert.equal((await admin(h.app, 'GET', '/customers/123')).fields.given_name, 'Jim');
    });

    test('an archived field answers null, is unknown to set_data, imports and PATCH, and is listed only with archived=true', async () => {
      const id = await fieldId(h, 'city');
      assert.equal((await tel(h.app, 'get_data', { authkey: KEYS.get_data, ...byPhone, out: 'city' })).message[0].city, 'Haifa');
      assert.equal((await admin(h.app, 'PATCH', `/projects/10/fields/${id}`, { archived: true })).archived, true);

      assert.equal((await tel(h.app, 'get_data', { authkey: KEYS.get_data, ...byPhone, out: 'city' })).message[0].city, null);
      assert.equal((await tel(h.app, 'get_data', { authkey: KEYS.get_data, repository_assign_id: 555, out: 'city,last_name' })).message[0].city, null);
      const sd = await tel(h.app, 'set_data', { authkey: KEYS.set_data, repository_assign_id: 555, city: 'Eilat' });
      assert.equal(sd.errors?.city, 'Unknown field');
      assert.ok('city' in (await admin(h.app, 'PATCH', '/customers/123', { fields: { city: 'Eilat' } }, 400)).error.details);
      const imported = await importCsv(h, 'last_name,city,mobile\nRoe,Acre,0521111111\n');
      assert.equal(imported.created, 0);
      assert.match(imported.errors[0]!.message, /unknown column city/);

      const listed = (await admin(h.app, 'GET', '/projects/10/fields')).items.map((f: { display_name: string }) => f.display_name);
      assert.ok(!listed.includes('city'));
      const all = (await admin(h.app, 'GET', '/projects/10/fields?archived=true')).items.map((f: { display_name: string }) => f.display_name);
      assert.ok(all.includes('city'));
      const exported = await h.app.inject({ method: 'GET', url: '/admin/v1/projects/10/export?repository_id=7', headers: adminHeaders });
      assert.ok(!exported.body.split('\n')[0]!.split(',').includes('city'), exported.body);

      // Back in use: the value was kept.
      await admin(h.app, 'PATCH', `/projects/10/fields/${id}`, { archived: false });
      assert.equal((await tel(h.app, 'get_data', { authkey: KEYS.get_data, ...byPhone, out: 'city' })).message[0].city, 'Haifa');
    });

    test('field options, required and position change; options outside a select are a 400', async () => {
      const plan = await fieldId(h, 'plan');
      const f = await admin(h.app, 'PATCH', `/projects/10/fields/${plan}`, { options: ['basic', 'gold', 'platinum'], required: false, position: 0 });
      assert.deepEqual([f.options, f.position], [['basic', 'gold', 'platinum'], 0]);
      assert.equal((await admin(h.app, 'GET', '/projects/10/fields')).items[0].display_name, 'plan');
      assert.equal((await tel(h.app, 'set_data', { authkey: KEYS.set_data, repository_assign_id: 555, plan: 'platinum' })).code, 0);
      assert.ok('options' in (await admin(h.app, 'PATCH', `/projects/10/fields/${await fieldId(h, 'last_name')}`, { options: ['a'] }, 400)).error.details);
    });

    test('an archived status cannot be set (set_status 5, set_data errors.status, PATCH 422, import) but still names old history', async () => {
      assert.equal((await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 2190811, status_id: 10 })).code, 0);
      const s = await admin(h.app, 'PATCH', '/projects/10/statuses/10', { archived: true, name: 'Interested (old)' });
      assert.deepEqual(s, { id: 10, project_id: 10, name: 'Interested (old)', archived: true });

      const st = await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 555, status_id: 10 });
      assert.deepEqual([st.code, st.message], [5, 'Failed to set status']);
      const sd = await tel(h.app, 'set_data', { authkey: KEYS.set_data, repository_assign_id: 555, status_id: 10 });
      assert.equal(sd.errors?.status, 'Failed to set status');
      assert.equal((await admin(h.app, 'PATCH', '/assigns/555', { status_id: 10 }, 422)).error.details.status_id, 'archived');
      const imported = await importCsv(h, 'last_name,mobile,status_id\nRoe,0521111112,10\n');
      assert.equal(imported.created, 0);

      // Old history and the current status of an assign still name it.
      const history = (await admin(h.app, 'GET', '/assigns/2190811/history')).items;
      assert.ok(history.some((i: { kind: string; new_status_id?: number }) => i.kind === 'status' && i.new_status_id === 10));
      assert.equal((await tel(h.app, 'get_data', { authkey: KEYS.get_data, repository_assign_id: 2190811, out: 'last_status' })).message[0].last_status, 'Interested (old)');

      assert.deepEqual((await admin(h.app, 'GET', '/projects/10/statuses')).items.map((x: { id: number }) => x.id), [2]);
      assert.deepEqual((await admin(h.app, 'GET', '/projects/10/statuses?archived=true')).items.map((x: { id: number }) => x.id), [2, 10]);
      await admin(h.app, 'PATCH', '/projects/10/statuses/10', { archived: false });
      assert.equal((await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 555, status_id: 10 })).code, 0);
    });

    test('groups, sites, workers and repositories are renamed, moved and archived; lists hide archived rows', async () => {
      await admin(h.app, 'POST', '/projects', { id: 11, name: 'Other' });
      await admin(h.app, 'POST', '/projects/11/groups', { id: 31, name: 'Other team' });
      assert.equal((await admin(h.app, 'PATCH', '/projects/10/workers/99', { group_id: 31 }, 422)).error.code, 'unprocessable');
      await admin(h.app, 'PATCH', '/projects/10/workers/99', { group_id: 31 }, 422);
      await admin(h.app, 'PATCH', '/projects/11/workers/99', { name: 'x' }, 404);
      await admin(h.app, 'PATCH', '/projects/10/groups/3', { site_id: 4 }, 400);
      const w = await admin(h.app, 'PATCH', '/projects/10/workers/99', { name: 'Dana L.', group_id: null, site_id: 4 });
      assert.deepEqual(w, { id: 99, project_id: 10, name: 'Dana L.', group_id: null, site_id: 4, archived: false });
      for (const [path, id] of [['groups', 3], ['sites', 4], ['workers', 99], ['repositories', 7]] as const) {
        assert.equal((await admin(h.app, 'PATCH', `/projects/10/${path}/${id}`, { archived: true })).archived, true);
        assert.ok(!(await admin(h.app, 'GET', `/projects/10/${path}`)).items.some((x: { id: number }) => x.id === id), path);
        assert.ok((await admin(h.app, 'GET', `/projects/10/${path}?archived=true`)).items.some((x: { id: number }) => x.id === id), path);
        await admin(h.app, 'PATCH', `/projects/10/${path}/${id}`, { archived: false });
      }
      assert.deepEqual(await admin(h.app, 'PATCH', '/projects/10', { name: ' Sales ' }).then((p) => p.name), 'Sales');
      await admin(h.app, 'PATCH', '/projects/12345', { name: 'x' }, 404);
    });

    test('a removed DID no longer pins its repository; removing it again is a 404', async () => {
      const pinned = await tel(h.app, 'get_data', { authkey: KEYS.get_data, did: '039999999', project_id: 10, phone: '0500000000', out: 'repository_id' });
      assert.deepEqual(pinned.message.map((m: { repository_id: string }) => m.repository_id), ['8']);
      await del(h, '/projects/10/dids/03-999-9999');
      const all = await tel(h.app, 'get_data', { authkey: KEYS.get_data, did: '039999999', project_id: 10, phone: '0500000000', out: 'repository_id' });
      assert.deepEqual(all.message.map((m: { repository_id: string }) => m.repository_id).sort(), ['7', '8']);
      await del(h, '/projects/10/dids/039999999', 404);
      assert.ok(!(await admin(h.app, 'GET', '/projects/10/dids')).items.some((d: { did: string }) => d.did === '039999999'));
    });

    test('PATCH /assigns changes status (history, source admin), worker, group and site', async () => {
      const a = await admin(h.app, 'PATCH', '/assigns/555', { status_id: 2, worker_id: 99, group_id: null, site_id: 4 });
      assert.deepEqual([a.status_id, a.worker_id, a.group_id, a.site_id], [2, 99, null, 4]);
      const first = (await admin(h.app, 'GET', '/assigns/555/history')).items[0];
      assert.deepEqual([first.kind, first.source, first.new_status_id], ['status', 'admin', 2]);
      assert.equal((await admin(h.app, 'PATCH', '/assigns/555', { worker_id: 123456 }, 422)).error.code, 'unprocessable');
      await admin(h.app, 'PATCH', '/assigns/987654', { status_id: 2 }, 404);
    });

    test('DELETE /assigns takes the assign out of its repository; its history stays readable by id', async () => {
      await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 2190811, status_id: 2, notes: 'called back' });
      await del(h, '/assigns/2190811');
      await admin(h.app, 'GET', '/assigns/2190811', undefined, 404);
      const history = (await admin(h.app, 'GET', '/assigns/2190811/history')).items;
      assert.ok(history.some((i: { kind: string; notes?: string }) => i.kind === 'call' && i.notes === 'called back'), JSON.stringify(history));
      assert.ok(history.some((i: { kind: string }) => i.kind === 'status'));
      assert.equal((await tel(h.app, 'get_data', { authkey: KEYS.get_data, repository_assign_id: 2190811, out: 'last_name' })).code, 6);
      const left = (await tel(h.app, 'get_data', { authkey: KEYS.get_data, ...byPhone, out: 'repository_assign_id' })).message;
      assert.deepEqual(left.map((m: { repository_assign_id: string }) => m.repository_assign_id), ['555']);
      assert.ok(!(await admin(h.app, 'GET', '/repositories/7/assigns')).items.some((x: { id: number }) => x.id === 2190811));
      assert.deepEqual((await admin(h.app, 'GET', '/customers/123')).assigns.map((x: { id: number }) => x.id), [555]);
      await del(h, '/assigns/2190811', 404);
      // The customer may join the repository again, under a new id.
      const again = await admin(h.app, 'POST', '/repositories/7/assigns', { customer_id: 123 });
      assert.notEqual(again.id, 2190811);
      await admin(h.app, 'POST', '/repositories/7/assigns', { id: 2190811, customer_id: 123 }, 409);
    });

    test('every admin change is in the audit log with who made it', async () => {
      const items = (await admin(h.app, 'GET', '/audit?limit=1000')).items as { endpoint: string; actor: string | null; detail: string | null }[];
      const admins = items.filter((i) => i.endpoint.startsWith('admin.'));
      for (const kind of ['admin.field.patch', 'admin.status.patch', 'admin.worker.patch', 'admin.did.delete', 'admin.assign.patch', 'admin.assign.delete', 'admin.project.patch']) {
        assert.ok(admins.some((i) => i.endpoint === kind), kind);
      }
      assert.ok(admins.every((i) => i.actor === 'admin-token'));
      assert.deepEqual(JSON.parse(admins.find((i) => i.endpoint === 'admin.assign.delete')!.detail!), { assign_id: 2190811, customer_id: 123, repository_id: 7 });
      const filtered = (await admin(h.app, 'GET', '/audit?endpoint=admin.assign.delete')).items;
      assert.equal(filtered.length, 1);
    });
  });
}
