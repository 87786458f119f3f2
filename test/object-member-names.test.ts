// Field display_names that are JavaScript object members (issue 10, item 2): __proto__, constructor and
// prototype are refused with a 400; the others (valueOf, toString, hasOwnProperty...) are ordinary fields
// through every path: admin create and PATCH, set_data, get_data, history, CSV and NDJSON import, export.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { admin, adminHeaders, importBody, dialects, setup, tel, KEYS, type Harness } from './helpers.ts';

const P = 40;
const MEMBERS = ['valueOf', 'toString', 'hasOwnProperty', 'toLocaleString', 'isPrototypeOf', '__defineGetter__'] as const;

for (const dialect of dialects()) {
  describe(dialect, () => {
    let h: Harness;
    let repo: number;
    before(async () => {
      h = await setup(dialect);
      await admin(h.app, 'POST', '/projects', { id: P, name: 'Members' });
      await admin(h.app, 'POST', `/projects/${P}/fields`, { display_name: 'valueOf', type: 'number' });
      for (const n of MEMBERS.slice(1)) await admin(h.app, 'POST', `/projects/${P}/fields`, { display_name: n, required: n === 'isPrototypeOf' });
      await admin(h.app, 'POST', `/projects/${P}/fields`, { display_name: 'city' });
      repo = (await admin(h.app, 'POST', `/projects/${P}/repositories`, { name: 'R' })).id;
    });
    after(() => h.close());

    const post = (url: string, payload: unknown) => h.app.inject({ method: 'POST', url: `/admin/v1${url}`, headers: adminHeaders, payload: payload as object });

    test('__proto__, constructor and prototype are refused as display_names with a 400 naming display_name', async () => {
      for (const name of ['__proto__', 'constructor', 'prototype']) {
        const res = await post(`/projects/${P}/fields`, { display_name: name });
        assert.equal(res.statusCode, 400, `${name}: ${res.body}`);
        assert.equal(res.json().error.details.display_name, 'reserved');
        assert.match(res.json().error.message, new RegExp(`display_name ${name} is not allowed`));
      }
      const names = (await admin(h.app, 'GET', `/projects/${P}/fields`)).items.map((f: any) => f.display_name);
      assert.deepEqual(names, [...MEMBERS, 'city']);
    });

    test('admin create, PATCH and GET keep member-named fields as ordinary values; absent ones are absent', async () => {
      const c = await admin(h.app, 'POST', `/projects/${P}/customers`, { id: 4001, fields: { valueOf: '5', toString: 't', hasOwnProperty: 'h', isPrototypeOf: 'i', city: 'Haifa' } });
      assert.deepEqual(c.fields, { valueOf: '5', toString: 't', hasOwnProperty: 'h', isPrototypeOf: 'i', city: 'Haifa' });
      // A required member-named field is required like any other.
      const missing = await post(`/projects/${P}/customers`, { fields: { city: 'Akko' } });
      assert.equal(missing.statusCode, 400);
      assert.equal(missing.json().error.details.isPrototypeOf, 'isPrototypeOf is required');
      const patched = await admin(h.app, 'PATCH', '/customers/4001', { fields: { toString: 'T2', valueOf: null, toLocaleString: 'L' } });
      assert.deepEqual(patched.fields, { toString: 'T2', hasOwnProperty: 'h', isPrototypeOf: 'i', city: 'Haifa', toLocaleString: 'L' });
      const got = await admin(h.app, 'GET', '/customers/4001');
      assert.equal(Object.hasOwn(got.fields, 'valueOf'), false);
      assert.equal(got.fields.toLocaleString, 'L');
    });

    test('set_data writes every member-named field of the request, get_data reads them, history records them', async () => {
      const c = await admin(h.app, 'POST', `/projects/${P}/customers`, { id: 4002, fields: { isPrototypeOf: 'i', city: 'Eilat' } });
      const a = await admin(h.app, 'POST', `/repositories/${repo}/assigns`, { id: 40020, customer_id: c.id });
      const s = await tel(h.app, 'set_data', { authkey: KEYS.set_data, repository_assign_id: a.id, valueOf: '7', toString: 'ts', hasOwnProperty: 'ho', __defineGetter__: 'dg', city: 'Tyre' });
      assert.equal(s.code, 0, JSON.stringify(s));
      assert.equal(s.errors, undefined);
      const g = await tel(h.app, 'get_data', { authkey: KEYS.get_data, repository_assign_id: a.id, out: `${MEMBERS.join(',')},city` });
      assert.equal(g.code, 0);
      assert.deepEqual(g.message[0], { uid: '4002', valueOf: '7', toString: 'ts', hasOwnProperty: 'ho', toLocaleString: null, isPrototypeOf: 'i', __defineGetter__: 'dg', city: 'Tyre' });
      const stored = await admin(h.app, 'GET', '/customers/4002');
      assert.deepEqual(stored.fields, { isPrototypeOf: 'i', city: 'Tyre', valueOf: '7', toString: 'ts', hasOwnProperty: 'ho', __defineGetter__: 'dg' });
      const hist = await admin(h.app, 'GET', `/assigns/${a.id}/history`);
      const changes = hist.items.filter((i: any) => i.kind === 'field').map((i: any) => [i.field, i.old_value, i.new_value]).sort();
      assert.deepEqual(changes, [['__defineGetter__', null, 'dg'], ['city', 'Eilat', 'Tyre'], ['hasOwnProperty', null, 'ho'], ['toString', null, 'ts'], ['valueOf', null, '7']]);
    });

    test('CSV and NDJSON imports take member-named columns and enforce a required one; export writes them back', async () => {
      const r2 = (await admin(h.app, 'POST', `/projects/${P}/repositories`, { name: 'Imported' })).id;
      const imp = async (type: string, payload: string) => {
        const res = await h.app.inject({ method: 'POST', url: `/admin/v1/projects/${P}/import?repository_id=${r2}`, headers: { ...adminHeaders, 'content-type': type }, payload });
        assert.equal(res.statusCode, 200, res.body);
        return res.json();
      };
      const csv = await imp('text/csv', 'id,valueOf,toString,hasOwnProperty,isPrototypeOf,city\n4101,1,a,b,c,X\n4102,2,,,,Y\n');
      assert.equal(csv.created, 1);
      assert.deepEqual(csv.errors.map((e: any) => [e.line, /isPrototypeOf/.test(e.message)]), [[3, true]]);
      const nd = await imp('application/x-ndjson', '{"id":4103,"toLocaleString":"l","isPrototypeOf":"p","valueOf":3}\n{"id":4104,"city":"Z"}\n');
      assert.equal(nd.created, 1);
      assert.deepEqual(nd.errors.map((e: any) => e.line), [2]);
      assert.deepEqual((await admin(h.app, 'GET', '/customers/4101')).fields, { valueOf: '1', toString: 'a', hasOwnProperty: 'b', isPrototypeOf: 'c', city: 'X' });
      assert.deepEqual((await admin(h.app, 'GET', '/customers/4103')).fields, { toLocaleString: 'l', isPrototypeOf: 'p', valueOf: '3' });

      const exp = await h.app.inject({ method: 'GET', url: `/admin/v1/projects/${P}/export?repository_id=${r2}`, headers: adminHeaders });
      assert.equal(exp.statusCode, 200);
      const lines = exp.body.trim().split(/\r?\n/);
      assert.equal(lines[0], `id,repository_assign_id,status_id,${MEMBERS.join(',')},city`);
      const rows = lines.slice(1).map((l) => l.split(','));
      assert.deepEqual(rows.map((r) => [r[0], ...r.slice(3)]), [
        ['4101', '1', 'a', 'b', '', 'c', '', 'X'],
        ['4103', '3', '', '', 'l', 'p', '', ''],
      ]);
      // A __proto__ column is an unknown column, never a silently dropped one.
      const proto = await importBody(h.app, 'isPrototypeOf,__proto__\np,x\n', { project: P, repository: r2 });
      assert.ok(proto.statusCode === 400 || proto.json().created === 0, proto.body);
    });
  });
}
