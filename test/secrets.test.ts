// Secrets never reach the logs: authkeys (query, body, X-Api-Key, or sent under a wrong name) and the
// admin token, at every log level, on success, refusal and error paths, including requests Node refuses
// before Fastify parses them.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { InjectOptions } from 'fastify';
import { ADMIN_TOKEN, dialects, setup, seedProject, type Harness } from './helpers.ts';
import { createKeyChecker } from '../src/telephony/auth.ts';
import { loadConfig } from '../src/config.ts';
import { redactUrl, secretScrubber } from '../src/log.ts';

// Characters that JSON and URL encoding change, so that encoded copies are caught too.
const SECRETS = {
  CRM_AUTHKEY_GET_DATA: 'gd-Secret "quoted" key',
  CRM_AUTHKEY_SET_DATA: 'sd-Secret/Key+1=&x',
  CRM_AUTHKEY_SET_STATUS: 'ss-Secret-Key-č-2',
};
// The harness's token (seedProject uses it); the scrubber must catch it like the keys.
const values = [...Object.values(SECRETS), ADMIN_TOKEN];

function encodedForms(s: string) {
  return [s, encodeURIComponent(s), new URLSearchParams({ k: s }).toString().slice(2), JSON.stringify(s).slice(1, -1)];
}

function rawRequest(port: number, data: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(data));
    socket.on('data', () => undefined);
    socket.on('close', () => resolve());
    socket.on('error', () => resolve());
  });
}

for (const dialect of dialects()) {
  describe(dialect, () => {
    let h: Harness;
    before(async () => {
      h = await setup(dialect, { ...SECRETS, LOG_LEVEL: 'trace', CRM_AUTH_FAIL_LIMIT: '0' });
      await seedProject(h.app);
    });
    after(() => h.close());

    test('no log line holds a secret, in any encoding, whatever the request did', async () => {
      const sd = SECRETS.CRM_AUTHKEY_SET_DATA;
      const q = (o: Record<string, string>) => new URLSearchParams(o).toString();
      const requests: InjectOptions[] = [
        // authkey in the query, the body (form, JSON, multipart) and the header; success and refusals.
        { method: 'GET', url: `/api/set_data.php?${q({ authkey: sd, repository_assign_id: '2190811', city: 'Haifa' })}` },
        { method: 'GET', url: `/api/get_data.php?${q({ authkey: SECRETS.CRM_AUTHKEY_GET_DATA, repository_assign_id: '2190811', out: 'first_name,nope' })}` },
        { method: 'POST', url: '/api/set_data.php', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: q({ authkey: sd, repository_assign_id: '2190811', city: 'Akko' }) },
        { method: 'POST', url: '/api/set_data.php', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ authkey: sd, repository_assign_id: 'x' }) },
        {
          method: 'POST',
          url: '/api/set_status.php',
          headers: { 'content-type': 'multipart/form-data; boundary=B', 'x-api-key': SECRETS.CRM_AUTHKEY_SET_STATUS },
          payload: `--B\r\nContent-Disposition: form-data; name="repository_assign_id"\r\n\r\n2190811\r\n--B\r\nContent-Disposition: form-data; name="status_id"\r\n\r\n10\r\n--B--\r\n`,
        },
        { method: 'GET', url: '/api/set_status.php?repository_assign_id=2190811&status_id=10', headers: { 'x-api-key': SECRETS.CRM_AUTHKEY_SET_STATUS } },
        // Malformed bodies: refused by a parser, with the key in the URL and in the broken body.
        { method: 'POST', url: `/api/set_data.php?authkey=${encodeURIComponent(sd)}`, headers: { 'content-type': 'application/json' }, payload: `{"authkey": "${sd}", ` },
        { method: 'POST', url: `/api/set_data.php?authkey=${encodeURIComponent(sd)}`, headers: { 'content-type': 'multipart/form-data' }, payload: `authkey=${sd}` },
        { method: 'POST', url: `/api/set_data.php?authkey=${encodeURIComponent(sd)}`, headers: { 'content-type': 'text/plain' }, payload: sd },
        // The admin API: a malformed JSON body echoing the token, a wrong token, the token in a query.
        { method: 'POST', url: '/admin/v1/projects', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, payload: `{"name": "${ADMIN_TOKEN}` },
        { method: 'GET', url: `/admin/v1/projects?token=${ADMIN_TOKEN}`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } },
        // A key sent under a wrong name, or in the path, is not recognisable by name: the scrubber catches it.
        { method: 'GET', url: `/api/set_data.php?key=${encodeURIComponent(sd)}&repository_assign_id=2190811` },
        { method: 'GET', url: `/api/${encodeURIComponent(SECRETS.CRM_AUTHKEY_SET_STATUS)}/set_status.php` },
      ];
      for (const r of requests) {
        const res = await h.app.inject(r);
        assert.ok(res.statusCode < 500, `${r.method} ${r.url}: ${res.statusCode}`);
      }
      // A request Node's parser refuses (header overflow, bad Content-Length) never reaches Fastify's
      // serializers; its raw bytes must not be logged either.
      await h.app.listen({ port: 0, host: '127.0.0.1' });
      const port = (h.app.server.address() as { port: number }).port;
      await rawRequest(port, `GET /api/set_data.php?authkey=${encodeURIComponent(sd)}&x=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
      await rawRequest(port, `GET /api/set_data.php?authkey=${encodeURIComponent(sd)} HTTP/1.1\r\nHost: x\r\nX-Api-Key: ${SECRETS.CRM_AUTHKEY_SET_STATUS}\r\nContent-Length: zz\r\n\r\n`);
      await h.app.close();

      const log = h.logs.join('');
      assert.ok(h.logs.length > 20, 'the requests were logged at trace level');
      assert.match(log, /authkey=\[REDACTED\]/);
      for (const secret of values) for (const form of encodedForms(secret)) assert.ok(!log.includes(form), `log holds ${form}`);
      // Not even as the byte array a Buffer serializes to (the raw packet of a parser error).
      assert.doesNotMatch(log, /"rawPacket"/);
    });
  });
}

describe('log redaction helpers', () => {
  test('redactUrl replaces the value of every secret-looking parameter, however its name is encoded', () => {
    assert.equal(redactUrl('/api/x.php?authkey=abc&phone=1'), '/api/x.php?authkey=[REDACTED]&phone=1');
    assert.equal(redactUrl('/api/x.php?%61uthkey=abc'), '/api/x.php?%61uthkey=[REDACTED]');
    assert.equal(redactUrl('/api/x.php?authkey[]=abc&AuthKey=d'), '/api/x.php?authkey[]=[REDACTED]&AuthKey=[REDACTED]');
    assert.equal(redactUrl('/admin/v1/x?token=abc&api_key=d&x-api-key=e'), '/admin/v1/x?token=[REDACTED]&api_key=[REDACTED]&x-api-key=[REDACTED]');
  });

  test('the scrubber replaces each secret in plain, JSON-escaped and URL-encoded form, and ignores short ones', () => {
    const scrub = secretScrubber(['s3cr3t/"k+y', 'abc'])!;
    for (const form of encodedForms('s3cr3t/"k+y')) assert.equal(scrub(`x ${form} y`), 'x [REDACTED] y');
    assert.equal(scrub('abc'), 'abc');
    assert.equal(secretScrubber(['abc']), undefined);
  });
});

describe('key checks', () => {
  const config = loadConfig({ CRM_AUTHKEY_SET_DATA: 'old-key-123,new-key-456', CRM_AUTHKEY_GET_DATA: 'get-key-789' });
  const check = createKeyChecker(config);

  test('every rotation key is accepted, and the audit key id is a digest prefix, never the key', () => {
    const a = check('set_data', 'old-key-123');
    const b = check('set_data', 'new-key-456');
    assert.ok(a.ok && b.ok);
    assert.match(a.keyId!, /^[0-9a-f]{8}$/);
    assert.notEqual(a.keyId, b.keyId);
    assert.ok(!'old-key-123'.includes(a.keyId!));
  });

  test('a key of one endpoint, a prefix, a longer string or nothing is refused', () => {
    for (const candidate of ['get-key-789', 'old-key-12', 'old-key-1234', '', ' old-key-123', undefined]) {
      assert.equal(check('set_data', candidate).ok, false, String(candidate));
      assert.equal(check('set_data', candidate).keyId, null);
    }
  });
});
