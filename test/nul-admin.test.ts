// U+0000 in the admin API (issue 10, item 1): PostgreSQL cannot store it in text and answered 500; SQLite
// stored it. Both now answer 400 naming the field, and nothing is written.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { admin, adminHeaders, importBody, dialects, seedProject, setup, type Harness } from './helpers.ts';

for (const dialect of dialects()) {
  describe(dialect, () => {
    let h: Harness;
    before(async () => {
      h = await setup(dialect);
      await seedProject(h.app);
    });
    after(() => h.close());

    const send = (method: 'POST' | 'PATCH' | 'GET', url: string, payload?: unknown) =>
      h.app.inject({ method, url: `/admin/v1${url}`, headers: adminHeaders, ...(payload === undefined ? {} : { payload: payload as object }) });

    test('U+0000 in a name, a customer field, call notes or an audit filter is a 400 naming the field; nothing is written', async () => {
      const cases: [string, 'POST' | 'PATCH' | 'GET', string, unknown?][] = [
        ['name', 'POST', '/projects', { name: 'A\u0000B' }],
        ['name', 'POST', '/projects/10/statuses', { name: 'St\u0000' }],
        ['did', 'POST', '/projects/10/dids', { did: '0733\u00003333' }],
        ['display_name', 'POST', '/projects/10/fields', { display_name: 'x\u0000' }],
        ['fields.city', 'POST', '/projects/10/customers', { fields: { first_name: 'N', city: 'Hai\u0000fa' } }],
        ['fields.city', 'PATCH', '/customers/123', { fields: { city: '\u0000' } }],
        ['fields.ci\\0ty', 'PATCH', '/customers/123', { fields: { 'ci\u0000ty': 'x' } }],
        ['notes', 'POST', '/assigns/2190811/calls', { notes: 'called\u0000back' }],
        ['worker_id', 'GET', '/audit?worker_id=%00'],
        ['q', 'GET', '/projects/10/customers?q=J%00'],
      ];
      for (const [field, method, url, body] of cases) {
        const res = await send(method, url, body);
        assert.equal(res.statusCode, 400, `${method} ${url}: ${res.body}`);
        const err = res.json().error;
        assert.equal(err.code, 'invalid_input');
        assert.ok(field in err.details, `${method} ${url}: details ${JSON.stringify(err.details)}`);
        assert.match(err.message, /U\+0000/);
      }
      const projects = await admin(h.app, 'GET', '/projects');
      assert.deepEqual(projects.items.map((p: any) => p.name), ['Project 10']);
      assert.deepEqual((await admin(h.app, 'GET', '/customers/123')).fields.city, undefined);
      const hist = await admin(h.app, 'GET', '/assigns/2190811/history');
      assert.equal(hist.items.length, 0);
    });

    test('U+0000 in an imported cell is an error of that row on both databases; the other rows are imported', async () => {
      const res = await importBody(h.app, 'first_name,city\nNul,Hai\u0000fa\nFine,Akko\n', { repository: 7 });
      assert.equal(res.statusCode, 200, res.body);
      const sum = res.json();
      assert.equal(sum.created, 1);
      assert.deepEqual(sum.errors.map((e: any) => e.line), [2]);
      assert.match(sum.errors[0].message, /U\+0000/);
    });
  });
}
