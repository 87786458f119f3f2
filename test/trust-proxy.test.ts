// CRM_TRUST_PROXY: behind a load balancer every request comes from the balancer's address, so the
// failed-key throttle would lock out every client at once. X-Forwarded-For names the client, but only
// when the TCP peer is a configured proxy; anyone else's X-Forwarded-For is ignored (else a guesser
// would get a fresh address per request). Both carriers: Fastify's route and the GET fast path.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { ConfigError, loadConfig } from '../src/config.ts';
import { dialects, setup, seedProject, KEYS, type Harness } from './helpers.ts';

const wrong = '/api/set_status.php?authkey=wrong&repository_assign_id=2190811&status_id=10';
const right = `/api/set_status.php?authkey=${KEYS.set_status}&repository_assign_id=2190811&status_id=10`;

test('CRM_TRUST_PROXY takes addresses, CIDR ranges and the loopback/linklocal/uniquelocal names, and refuses anything else', () => {
  const base = { DATABASE_URL: 'sqlite::memory:' };
  assert.deepEqual(loadConfig(base).trustProxy, []);
  assert.deepEqual(loadConfig({ ...base, CRM_TRUST_PROXY: ' 10.0.0.1, 10.1.0.0/16 ,loopback' }).trustProxy, ['10.0.0.1', '10.1.0.0/16', 'loopback']);
  assert.throws(() => loadConfig({ ...base, CRM_TRUST_PROXY: 'true' }), (err: unknown) => err instanceof ConfigError && /CRM_TRUST_PROXY/.test(err.message));
  assert.throws(() => loadConfig({ ...base, CRM_TRUST_PROXY: '10.0.0.300' }), (err: unknown) => err instanceof ConfigError && /CRM_TRUST_PROXY/.test(err.message));
});

for (const dialect of dialects()) {
  describe(`CRM_TRUST_PROXY=127.0.0.1 (${dialect})`, () => {
    let h: Harness;
    let url: string;
    before(async () => {
      h = await setup(dialect, { CRM_AUTH_FAIL_LIMIT: '3', CRM_TRUST_PROXY: '127.0.0.1' });
      await seedProject(h.app);
      await h.app.listen({ port: 0, host: '127.0.0.1' });
      url = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
    });
    after(() => h.close());

    const inject = (path: string, forwardedFor: string, remoteAddress = '127.0.0.1') =>
      h.app.inject({ method: 'POST', url: path, headers: { 'x-forwarded-for': forwardedFor }, remoteAddress }).then((r) => r.json());
    // A GET over a real socket takes the fast path (telephony/fast-path.ts).
    const fast = (path: string, forwardedFor: string) => fetch(`${url}${path}`, { headers: { 'x-forwarded-for': forwardedFor } }).then((r) => r.json());

    test('behind the proxy, the throttle counts each forwarded client, not the proxy (Fastify route)', async () => {
      for (let i = 0; i < 3; i++) assert.equal((await inject(wrong, '203.0.113.10')).code, 1);
      assert.equal((await inject(right, '203.0.113.10')).code, 1, 'the guessing client is throttled');
      assert.equal((await inject(right, '203.0.113.11')).code, 0, 'another client behind the same proxy is served');
    });

    test('behind the proxy, the throttle counts each forwarded client, not the proxy (GET fast path)', async () => {
      for (let i = 0; i < 3; i++) assert.equal((await fast(wrong, '203.0.113.20')).code, 1);
      assert.equal((await fast(right, '203.0.113.20')).code, 1, 'the guessing client is throttled');
      assert.equal((await fast(right, '203.0.113.21')).code, 0, 'another client behind the same proxy is served');
    });

    test('X-Forwarded-For from a peer that is not a trusted proxy is ignored', async () => {
      for (let i = 0; i < 3; i++) assert.equal((await inject(wrong, `198.51.100.${i}`, '10.9.9.9')).code, 1);
      assert.equal((await inject(right, '198.51.100.99', '10.9.9.9')).code, 1, 'the peer itself is throttled, whatever it forwards');
    });
  });

  describe(`no CRM_TRUST_PROXY (${dialect})`, () => {
    let h: Harness;
    before(async () => {
      h = await setup(dialect, { CRM_AUTH_FAIL_LIMIT: '3' });
      await seedProject(h.app);
    });
    after(() => h.close());

    test('X-Forwarded-For is ignored: the TCP peer is the client', async () => {
      const send = (path: string, forwardedFor: string) =>
        h.app.inject({ method: 'POST', url: path, headers: { 'x-forwarded-for': forwardedFor }, remoteAddress: '10.8.0.1' }).then((r) => r.json());
      for (let i = 0; i < 3; i++) assert.equal((await send(wrong, `203.0.113.${30 + i}`)).code, 1);
      assert.equal((await send(right, '203.0.113.99')).code, 1);
    });
  });
}
