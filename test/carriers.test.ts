// The telephony pipeline has two carriers: the node:http fast path (GET, HEAD and refused methods) and
// Fastify (POST). Every contract test goes through the server's own listener (helpers.ts), so both are
// covered by the same suites; this file checks what only a comparison can show: the log lines are of one
// shape, and a real socket answers as the injected listener does.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { KEYS, dialects, seedProject, setup, type Harness } from './helpers.ts';

const qs = (p: Record<string, string | number>) => new URLSearchParams(Object.entries(p).map(([k, v]) => [k, String(v)])).toString();

/** The shape of a JSON value: its keys, recursively, with the type of every leaf. */
function shape(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return typeof v;
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, shape((v as Record<string, unknown>)[k])]));
}

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

    test('a GET (fast path) and a POST (Fastify) write one log line each, of one shape, with client address and request id', async () => {
      const marker = `m${Date.now()}`;
      const get = await h.app.inject({ method: 'GET', url: `/api/get_data.php?${qs({ authkey: KEYS.get_data, repository_assign_id: 555, out: 'uid', marker })}`, remoteAddress: '10.1.2.3' });
      const post = await h.app.inject({
        method: 'POST',
        url: `/api/get_data.php?marker=${marker}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: qs({ authkey: KEYS.get_data, repository_assign_id: 555, out: 'uid' }),
        remoteAddress: '10.1.2.4',
      });
      assert.equal(get.json().code, 0);
      assert.equal(post.json().code, 0);
      const lines = h.logs.map((l) => JSON.parse(l)).filter((l) => typeof l.req?.url === 'string' && l.req.url.includes(marker));
      assert.equal(lines.length, 2, JSON.stringify(lines));
      const [g, p] = lines;
      assert.deepEqual(shape(g), shape(p));
      assert.deepEqual(Object.keys(g.req).sort(), ['method', 'remoteAddress', 'url']);
      assert.equal(g.req.method, 'GET');
      assert.equal(p.req.method, 'POST');
      assert.equal(g.req.remoteAddress, '10.1.2.3');
      assert.equal(p.req.remoteAddress, '10.1.2.4');
      assert.match(g.reqId, /^req-/);
      assert.match(p.reqId, /^req-/);
      assert.notEqual(g.reqId, p.reqId);
      assert.equal(g.res.statusCode, 200);
      assert.equal(g.msg, 'request completed');
      assert.ok(!g.req.url.includes(KEYS.get_data), 'the key is redacted');
      // Fastify's own request lines are off for telephony requests: nothing else names the marker.
      assert.equal(h.logs.filter((l) => l.includes(marker)).length, 2);
    });

    test('over a real socket, GET and POST answer what the injected listener answers', async () => {
      const url = `/api/get_data.php?${qs({ authkey: KEYS.get_data, did: '07333333333', phone: '0500000000', project_id: 10, out: 'first_name,last_status,repository_name' })}`;
      const viaSocket = await fetch(base + url);
      const injected = await h.app.inject({ method: 'GET', url });
      assert.equal(viaSocket.status, injected.statusCode);
      assert.equal(viaSocket.headers.get('content-type'), 'application/json; charset=utf-8');
      assert.equal(viaSocket.headers.get('x-content-type-options'), 'nosniff');
      assert.deepEqual(await viaSocket.json(), injected.json());
      const form = qs({ authkey: KEYS.get_data, repository_assign_id: 555, out: 'uid' });
      const post = await fetch(`${base}/api/get_data.php`, { method: 'POST', body: new URLSearchParams(form) });
      const postInjected = await h.app.inject({ method: 'POST', url: '/api/get_data.php', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: form });
      assert.equal(post.status, 200);
      assert.equal(post.headers.get('x-frame-options'), 'DENY');
      assert.deepEqual(await post.json(), postInjected.json());
    });
  });
}
