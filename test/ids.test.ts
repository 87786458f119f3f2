// Ids are integers 1..2^53 − 1 everywhere (telephony-api.md "Legacy realities"), read by one parser
// (src/ids.ts): automatic ids never pass the bound, and integers in queries are plain decimal digits.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseId, MAX_ID } from '../src/ids.ts';
import { idArg } from '../src/cli/args.ts';
import { admin, adminHeaders, importBody, dialects, seedProject, setup, tel, KEYS, type Harness } from './helpers.ts';

const MAX = 9007199254740991;

test('parseId takes 1..2^53 − 1 in plain decimal digits only', () => {
  assert.equal(MAX_ID, MAX);
  for (const [v, want] of [['1', 1], ['007', 7], [String(MAX), MAX], ['0', undefined], ['9007199254740992', undefined],
    ['9007199254740993', undefined], ['99999999999999999999', undefined], ['1e3', undefined], ['0x10', undefined], ['10.0', undefined],
    ['-1', undefined], [' 7', undefined], ['', undefined], ['12abc', undefined]] as const) {
    assert.equal(parseId(v), want, v);
  }
  assert.equal(idArg(String(MAX)), MAX);
  assert.throws(() => idArg('1e3'));
  assert.throws(() => idArg('9007199254740992'));
});

for (const dialect of dialects()) {
  describe(dialect, () => {
    let h: Harness;
    before(async () => {
      h = await setup(dialect);
      await seedProject(h.app);
    });
    after(() => h.close());

    const get = (url: string) => h.app.inject({ method: 'GET', url: `/admin/v1${url}`, headers: adminHeaders });

    test('after an explicit id of 2^53 − 1, the next automatic id is a 409, never a colliding number', async () => {
      const top = await admin(h.app, 'POST', '/projects', { id: MAX, name: 'Top' });
      assert.equal(top.id, MAX);
      const res = await h.app.inject({ method: 'POST', url: '/admin/v1/projects', headers: adminHeaders, payload: { name: 'Next' } });
      assert.equal(res.statusCode, 409, res.body);
      assert.equal(res.json().error.code, 'conflict');
      assert.match(res.json().error.message, /9007199254740991/);
      // Nothing was created past the bound, and an explicit free id still works.
      assert.equal((await admin(h.app, 'POST', '/projects', { id: 11, name: 'Eleven' })).id, 11);
      const names = await walk('/projects');
      assert.deepEqual(names.map((p: any) => p.id), [10, 11, MAX]);

      await admin(h.app, 'POST', '/projects/10/customers', { id: MAX, fields: { first_name: 'Max' } });
      const c = await h.app.inject({ method: 'POST', url: '/admin/v1/projects/10/customers', headers: adminHeaders, payload: { fields: { first_name: 'Auto' } } });
      assert.equal(c.statusCode, 409, c.body);
      assert.equal((await admin(h.app, 'GET', `/customers/${MAX}`)).fields.first_name, 'Max');
    });

    async function walk(path: string) {
      const seen: any[] = [];
      let cursor: string | null = null;
      for (let i = 0; i < 20; i++) {
        const page: { items: any[]; next_cursor: string | null } = await admin(h.app, 'GET', `${path}?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
        seen.push(...page.items);
        cursor = page.next_cursor;
        if (cursor === null) return seen;
      }
      throw new Error(`cursor walk of ${path} did not end: ${seen.map((r) => r.id)}`);
    }

    test('a cursor walk through the id 2^53 − 1 ends, and a cursor past it is refused', async () => {
      const ids = (await walk('/projects')).map((p) => p.id);
      assert.equal(ids[ids.length - 1], MAX);
      assert.equal(new Set(ids).size, ids.length);
      const beyond = Buffer.from('id:9007199254740993').toString('base64url');
      assert.equal((await get(`/projects?cursor=${beyond}`)).statusCode, 400);
    });

    test('ids past the bound and integers not in plain digits are 400s naming the parameter', async () => {
      for (const url of ['/projects/9007199254740992', '/projects/1e1', '/projects?limit=1e3', '/projects?limit=10.0', '/audit?assign_id=1e3',
        '/audit?assign_id=9007199254740992', '/audit?code=0x0', '/projects/10/customers?limit=5e1']) {
        const res = await get(url);
        assert.equal(res.statusCode, 400, `${url}: ${res.body}`);
        assert.equal(res.json().error.code, 'invalid_input');
        assert.ok(Object.keys(res.json().error.details ?? {}).length > 0, url);
      }
      assert.equal((await get('/projects?limit=1000')).statusCode, 200);
      const body = await h.app.inject({ method: 'POST', url: '/admin/v1/projects', headers: adminHeaders, payload: { id: 9007199254740992, name: 'x' } });
      assert.equal(body.statusCode, 400);
    });

    test('telephony: an id past the bound is an unknown id', async () => {
      const s = await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: '9007199254740993', status_id: 10 });
      assert.equal(s.code, 3);
      const g = await tel(h.app, 'get_data', { authkey: KEYS.get_data, repository_assign_id: '2190811,1e3,9007199254740992', out: 'first_name' });
      assert.equal(g.code, 0);
      assert.equal(g.message.length, 1);
    });

    test('import: an id column past the bound is a row error', async () => {
      const res = await importBody(h.app, 'id,first_name\n9007199254740992,Big\n1e3,Sci\n', { repository: 7 });
      assert.equal(res.statusCode, 200, res.body);
      const sum = res.json();
      assert.equal(sum.created, 0);
      assert.deepEqual(sum.errors.map((e: any) => e.line), [2, 3]);
    });
  });
}
