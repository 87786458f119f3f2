// Admin API conventions on the setup resources: bearer auth (401/403), creates (201/400/404/409/422),
// and lists: limit (default 50, over 1000 a 400), cursors that list every row exactly once.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { dialects, setup, admin, ADMIN_TOKEN, type Harness } from './helpers.ts';

/** Every page of a list; the ids in the order seen and the size of each page. */
async function walk(h: Harness, path: string, limit?: number) {
  const ids: number[] = [];
  const pages: number[] = [];
  let cursor: string | null = null;
  do {
    const q = [limit === undefined ? '' : `limit=${limit}`, cursor === null ? '' : `cursor=${encodeURIComponent(cursor)}`].filter(Boolean).join('&');
    const page: { items: { id: number }[]; next_cursor: string | null } = await admin(h.app, 'GET', q ? `${path}?${q}` : path);
    pages.push(page.items.length);
    ids.push(...page.items.map((i) => i.id));
    cursor = page.next_cursor;
  } while (cursor !== null);
  return { ids, pages };
}

const ROUTES_TO_PROBE: [string, string, unknown?][] = [
  ['GET', '/admin/v1/projects'],
  ['POST', '/admin/v1/projects', { name: 'x' }],
  ['GET', '/admin/v1/customers/1'],
  ['PATCH', '/admin/v1/customers/1', { fields: {} }],
  ['GET', '/admin/v1/projects/1/customers?phone=0500000000'],
  ['GET', '/admin/v1/assigns/1'],
  ['GET', '/admin/v1/assigns/1/history'],
  ['POST', '/admin/v1/assigns/1/calls', {}],
  ['GET', '/admin/v1/repositories/1/assigns'],
];

for (const dialect of dialects()) {
  describe(dialect, () => {
    let h: Harness;
    before(async () => {
      h = await setup(dialect);
    });
    after(() => h.close());

    test('every admin route refuses a missing or wrong bearer token with 401', async () => {
      for (const [method, url, payload] of ROUTES_TO_PROBE) {
        for (const headers of [{}, { authorization: 'Bearer wrong-token-1' }, { authorization: ADMIN_TOKEN }]) {
          const res = await h.app.inject({ method: method as 'GET', url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
          assert.equal(res.statusCode, 401, `${method} ${url}`);
          assert.equal(res.json().error.code, 'unauthorized');
        }
      }
    });

    test('with no token configured every admin route answers 403 saying how to set one', async () => {
      const closed = await setup(dialect, { CRM_ADMIN_TOKEN: '' });
      try {
        for (const [method, url, payload] of ROUTES_TO_PROBE) {
          const res = await closed.app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, ...(payload === undefined ? {} : { payload: payload as object }) });
          assert.equal(res.statusCode, 403, `${method} ${url}`);
          assert.equal(res.json().error.code, 'admin_closed');
          assert.match(res.json().error.message, /CRM_ADMIN_TOKEN/);
        }
      } finally {
        await closed.close();
      }
    });

    test('creates answer 201 with the object; explicit ids are kept', async () => {
      const p = await admin(h.app, 'POST', '/projects', { id: 10, name: ' Sales ' });
      assert.deepEqual({ id: p.id, name: p.name }, { id: 10, name: 'Sales' });
      assert.deepEqual(await admin(h.app, 'GET', '/projects/10'), p);
      assert.deepEqual(await admin(h.app, 'POST', '/projects/10/statuses', { id: 10, name: 'Interested' }), { id: 10, project_id: 10, name: 'Interested', archived: false });
      assert.deepEqual(await admin(h.app, 'POST', '/projects/10/groups', { id: 3, name: 'A' }), { id: 3, project_id: 10, name: 'A', archived: false });
      assert.deepEqual(await admin(h.app, 'POST', '/projects/10/sites', { id: 4, name: 'TLV' }), { id: 4, project_id: 10, name: 'TLV', archived: false });
      assert.deepEqual(await admin(h.app, 'POST', '/projects/10/workers', { id: 99, name: 'Dana', group_id: 3 }), { id: 99, project_id: 10, name: 'Dana', group_id: 3, site_id: null, archived: false });
      assert.deepEqual(await admin(h.app, 'POST', '/projects/10/repositories', { id: 7, name: 'Leads', site_id: 4 }), { id: 7, project_id: 10, name: 'Leads', group_id: null, site_id: 4, archived: false });
      const did = await admin(h.app, 'POST', '/projects/10/dids', { did: '03-999-9999', repository_id: 7 });
      assert.deepEqual({ ...did, id: undefined }, { id: undefined, project_id: 10, did: '03-999-9999', repository_id: 7 });
      const f = await admin(h.app, 'POST', '/projects/10/fields', { display_name: 'plan', type: 'select', options: ['a', 'b'], required: true });
      assert.deepEqual({ display_name: f.display_name, type: f.type, options: f.options, required: f.required, unique: f.unique, label: f.label }, { display_name: 'plan', type: 'select', options: ['a', 'b'], required: true, unique: false, label: 'plan' });
    });

    test('a taken id, display_name or DID is a 409', async () => {
      assert.equal((await admin(h.app, 'POST', '/projects', { id: 10, name: 'again' }, 409)).error.code, 'conflict');
      await admin(h.app, 'POST', '/projects/10/statuses', { id: 10, name: 'again' }, 409);
      await admin(h.app, 'POST', '/projects/10/workers', { id: 99, name: 'again' }, 409);
      await admin(h.app, 'POST', '/projects/10/fields', { display_name: 'plan' }, 409);
      await admin(h.app, 'POST', '/projects/10/dids', { did: '039999999' }, 409);
    });

    test('invalid input is a 400 with details per field', async () => {
      const res = await admin(h.app, 'POST', '/projects', { id: -1, name: '' }, 400);
      assert.equal(res.error.code, 'invalid_input');
      assert.ok('id' in res.error.details && 'name' in res.error.details);
      assert.ok('options' in (await admin(h.app, 'POST', '/projects/10/fields', { display_name: 'kind', type: 'select' }, 400)).error.details);
      assert.ok('display_name' in (await admin(h.app, 'POST', '/projects/10/fields', { display_name: 'status_id' }, 400)).error.details);
      assert.ok('color' in (await admin(h.app, 'POST', '/projects/10/groups', { name: 'B', color: 'red' }, 400)).error.details);
      await admin(h.app, 'GET', '/projects/abc', undefined, 400);
    });

    test('an unknown project in the path is a 404 on every create and list', async () => {
      for (const r of ['fields', 'statuses', 'groups', 'sites', 'workers', 'repositories', 'dids', 'customers']) {
        const body = r === 'fields' ? { display_name: 'x' } : r === 'dids' ? { did: '031234567' } : r === 'customers' ? { fields: {} } : { name: 'x' };
        assert.equal((await admin(h.app, 'POST', `/projects/999/${r}`, body, 404)).error.code, 'not_found', r);
        assert.equal((await admin(h.app, 'GET', `/projects/999/${r}`, undefined, 404)).error.code, 'not_found', r);
      }
      await admin(h.app, 'GET', '/projects/999', undefined, 404);
    });

    test('a group, site or repository of another project in a body is a 422', async () => {
      await admin(h.app, 'POST', '/projects', { id: 11, name: 'Other' });
      await admin(h.app, 'POST', '/projects/11/groups', { id: 33, name: 'B' });
      assert.equal((await admin(h.app, 'POST', '/projects/10/workers', { name: 'x', group_id: 33 }, 422)).error.code, 'unprocessable');
      await admin(h.app, 'POST', '/projects/10/repositories', { name: 'x', site_id: 4242 }, 422);
      await admin(h.app, 'POST', '/projects/11/dids', { did: '031111111', repository_id: 7 }, 422);
    });

    describe('lists', () => {
      const created: Record<string, number[]> = {};
      before(async () => {
        await admin(h.app, 'POST', '/projects', { id: 50, name: 'Lists' });
        // Concurrent creates share group commits; each list is in id order (fields: form order).
        const make = (path: string, body: (i: number) => object) => Promise.all(Array.from({ length: 55 }, (_, i) => admin(h.app, 'POST', `/projects/50/${path}`, body(i))));
        const fields = await make('fields', (i) => ({ display_name: `f${i}` }));
        created.fields = fields.sort((a, b) => a.position - b.position || a.id - b.id).map((f) => f.id);
        for (const [path, body] of [
          ['statuses', (i: number) => ({ name: `s${i}` })],
          ['groups', (i: number) => ({ name: `g${i}` })],
          ['sites', (i: number) => ({ name: `t${i}` })],
          ['workers', (i: number) => ({ name: `w${i}` })],
          ['repositories', (i: number) => ({ name: `r${i}` })],
          ['dids', (i: number) => ({ did: `0312${String(i).padStart(5, '0')}` })],
        ] as const) {
          created[path] = (await make(path, body)).map((r) => r.id).sort((a, b) => a - b);
        }
      });

      for (const resource of ['fields', 'statuses', 'groups', 'sites', 'workers', 'repositories', 'dids']) {
        test(`${resource}: the default limit is 50 and walking the cursors lists every row exactly once`, async () => {
          const byDefault = await walk(h, `/projects/50/${resource}`);
          assert.deepEqual(byDefault.pages, [50, 5]);
          assert.deepEqual(byDefault.ids, created[resource]);
          const small = await walk(h, `/projects/50/${resource}`, 20);
          assert.deepEqual(small.pages, [20, 20, 15]);
          assert.deepEqual(small.ids, created[resource]);
        });

        test(`${resource}: a limit over 1000, a limit of 0 or a foreign cursor is a 400`, async () => {
          const over = await admin(h.app, 'GET', `/projects/50/${resource}?limit=1001`, undefined, 400);
          assert.ok('limit' in over.error.details);
          await admin(h.app, 'GET', `/projects/50/${resource}?limit=0`, undefined, 400);
          await admin(h.app, 'GET', `/projects/50/${resource}?cursor=bm9wZQ`, undefined, 400);
          await admin(h.app, 'GET', `/projects/50/${resource}?limit=1000`);
        });
      }

      test('projects: walking the cursors lists every project exactly once', async () => {
        await Promise.all(Array.from({ length: 60 }, (_, i) => admin(h.app, 'POST', '/projects', { name: `p${i}` })));
        const { ids, pages } = await walk(h, '/projects', 25);
        assert.equal(new Set(ids).size, ids.length);
        assert.ok(ids.length >= 63);
        assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
        assert.equal(pages.length, Math.ceil(ids.length / 25) + (ids.length % 25 === 0 ? 1 : 0));
      });
    });
  });
}
