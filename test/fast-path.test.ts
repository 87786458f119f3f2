// The GET fast path (telephony/fast-path.ts) answers over a real socket exactly what the Fastify route
// answers through inject(): same status, same envelope, same content type.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { KEYS, dialects, seedProject, setup, type Harness } from './helpers.ts';

const READS: Record<string, string | number>[] = [
  { authkey: KEYS.get_data, did: '07333333333', phone: '0500000000', project_id: 10, out: 'first_name,last_status,repository_name,nope' },
  { authkey: KEYS.get_data, did: '07333333333', phone: '+972 50-000-0000', worker_id: 99, out: 'repository_assign_id,last_call' },
  { authkey: KEYS.get_data, did: '039999999', phone: '972500000000', project_id: 10, out: 'repository_name' },
  { authkey: KEYS.get_data, did: '07333333333', phone: '0529999999', project_id: 10, out: 'first_name' },
  { authkey: KEYS.get_data, repository_assign_id: '2190811,555,999', out: 'uid,repository_name,customer_name' },
  { authkey: KEYS.get_data, repository_assign_id: 'abc', out: 'uid' },
  { authkey: 'wrong', did: '1', phone: '1', project_id: 10, out: 'x' },
  { authkey: KEYS.get_data, phone: '0500000000', project_id: 10, out: 'x' },
  { authkey: KEYS.get_data, did: '1', project_id: 10, out: 'x' },
  { authkey: KEYS.get_data, did: '1', phone: '1', project_id: 10 },
  { authkey: KEYS.get_data, did: '1', phone: '1', out: 'x' },
  { authkey: KEYS.get_data, did: '1', phone: '1', project_id: 4242, out: 'x' },
];

for (const dialect of dialects()) {
  describe(dialect, () => {
    let h: Harness;
    let base: string;
    before(async () => {
      h = await setup(dialect, { CRM_AUTH_FAIL_LIMIT: '0' });
      await seedProject(h.app);
      await h.app.listen({ port: 0, host: '127.0.0.1' });
      base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
    });
    after(() => h.close());

    const qs = (p: Record<string, string | number>) => new URLSearchParams(Object.entries(p).map(([k, v]) => [k, String(v)])).toString();

    test('every get_data answer over the socket equals the route answer through inject', async () => {
      for (const params of READS) {
        const url = `/api/get_data.php?${qs(params)}`;
        const viaRoute = await h.app.inject({ method: 'GET', url });
        const viaSocket = await fetch(base + url);
        assert.equal(viaSocket.status, viaRoute.statusCode, url);
        assert.equal(viaSocket.headers.get('content-type'), 'application/json; charset=utf-8');
        assert.equal(viaSocket.headers.get('x-content-type-options'), 'nosniff');
        assert.deepEqual(await viaSocket.json(), viaRoute.json(), url);
      }
    });

    test('set_status and set_data by GET over the socket write, and get_data sees the writes', async () => {
      const s = await (await fetch(`${base}/api/set_status.php?${qs({ authkey: KEYS.set_status, repository_assign_id: 555, status_id: 10, notes: 'fast' })}`)).json();
      assert.deepEqual(s, { code: 0, status: 'success', message: 'Status set successfully' });
      const d = await (await fetch(`${base}/api/set_data.php?${qs({ authkey: KEYS.set_data, repository_assign_id: 555, city: 'חיפה' })}`)).json();
      assert.equal(d.code, 0);
      assert.equal(d.message, "city was updated to 'חיפה'");
      const g = await (await fetch(`${base}/api/get_data.php?${qs({ authkey: KEYS.get_data, repository_assign_id: 555, out: 'city,last_status,last_notes' })}`)).json();
      assert.deepEqual(g.message, [{ uid: '123', city: 'חיפה', last_status: 'Interested', last_notes: 'fast' }]);
    });

    test('the X-Api-Key header works on the fast path and the key is checked per endpoint', async () => {
      const ok = await (await fetch(`${base}/api/get_data.php?${qs({ repository_assign_id: 555, out: 'uid' })}`, { headers: { 'x-api-key': KEYS.get_data } })).json();
      assert.equal(ok.code, 0);
      const wrong = await (await fetch(`${base}/api/get_data.php?${qs({ repository_assign_id: 555, out: 'uid' })}`, { headers: { 'x-api-key': KEYS.set_data } })).json();
      assert.equal(wrong.code, 1);
    });

    test('requests the fast path does not take still reach Fastify (POST, HEAD, 404, 405, a trailing slash)', async () => {
      const post = await fetch(`${base}/api/get_data.php`, { method: 'POST', body: new URLSearchParams({ authkey: KEYS.get_data, repository_assign_id: '555', out: 'uid' }) });
      assert.equal((await post.json()).code, 0);
      assert.equal((await fetch(`${base}/api/nope.php`)).status, 404);
      assert.equal((await fetch(`${base}/api/get_data.php`, { method: 'DELETE' })).status, 405);
      const slash = await (await fetch(`${base}/api/get_data.php/?${qs({ authkey: KEYS.get_data, repository_assign_id: 555, out: 'uid' })}`)).json();
      assert.equal(slash.code, 0);
    });

    test('a parameter over the length limit is refused on the fast path with the envelope', async () => {
      const res = await fetch(`${base}/api/get_data.php?${qs({ authkey: KEYS.get_data, repository_assign_id: 555, out: 'x'.repeat(70_000) })}`);
      // Node's header limit (16 KiB) refuses a URL this long before any handler: 431 with the envelope.
      assert.ok(res.status === 400 || res.status === 431, String(res.status));
      assert.equal((await res.json()).code, 7);
      const many = await fetch(`${base}/api/get_data.php?${qs({ authkey: KEYS.get_data, repository_assign_id: 555, out: Array.from({ length: 300 }, (_, i) => `f${i}`).join(',') })}`);
      const routed = await h.app.inject({ method: 'GET', url: `/api/get_data.php?${qs({ authkey: KEYS.get_data, repository_assign_id: 555, out: Array.from({ length: 300 }, (_, i) => `f${i}`).join(',') })}` });
      assert.equal(many.status, routed.statusCode);
      assert.deepEqual(await many.json(), routed.json());
    });
  });
}

describe('throttling on the fast path', () => {
  test('an address over the failed-key limit gets code 1 even with a valid key, with Retry-After', async () => {
    const h = await setup('sqlite', { CRM_AUTH_FAIL_LIMIT: '3' });
    try {
      await seedProject(h.app);
      await h.app.listen({ port: 0, host: '127.0.0.1' });
      const base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
      for (let i = 0; i < 3; i++) assert.equal((await (await fetch(`${base}/api/get_data.php?authkey=bad&repository_assign_id=555&out=uid`)).json()).code, 1);
      const res = await fetch(`${base}/api/get_data.php?authkey=${KEYS.get_data}&repository_assign_id=555&out=uid`);
      assert.equal((await res.json()).code, 1);
      assert.ok(Number(res.headers.get('retry-after')) >= 1);
    } finally {
      await h.close();
    }
  });
});
