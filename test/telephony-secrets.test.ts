// Keys never reach the logs: real requests carry authkeys in the query, the form body, a JSON body, a
// multipart body and X-Api-Key, and the admin token in Authorization; successes, warnings, refusals and
// failures are all logged at the most verbose level, and no key or token text appears (telephony-api.md).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { InjectOptions } from 'fastify';
import { setup, seedProject, dialects, ADMIN_TOKEN, adminHeaders, type Harness } from './helpers.ts';

const KEY = { get_data: 'GetKey-s3cr3t-4821', set_data: 'SetKey-s3cr3t-9377', set_status: 'StatusKey-s3cr3t-1604' };
/** Keys a client got wrong: not configured anywhere, so only redaction (not the scrubber of known secrets) hides them. */
const WRONG = { query: 'WrongQuery-zq81x', body: 'WrongBody-kk27m', header: 'WrongHeader-pp93v', json: 'WrongJson-tt45w', token: 'WrongToken-yy62r' };
const SECRETS = [...Object.values(KEY), ...Object.values(WRONG), ADMIN_TOKEN];

async function multipart(params: Record<string, string>) {
  const fd = new FormData();
  for (const [k, v] of Object.entries(params)) fd.append(k, v);
  const r = new Response(fd);
  return { payload: Buffer.from(await r.arrayBuffer()), headers: { 'content-type': r.headers.get('content-type')! } };
}

async function waitFor(check: () => boolean, what: string) {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), `timed out waiting for ${what}`);
}

for (const dialect of dialects()) {
  describe(`secrets stay out of the logs (${dialect})`, () => {
    let h: Harness;
    before(async () => {
      h = await setup(dialect, {
        LOG_LEVEL: 'trace',
        CRM_AUTHKEY_GET_DATA: KEY.get_data,
        CRM_AUTHKEY_SET_DATA: KEY.set_data,
        CRM_AUTHKEY_SET_STATUS: KEY.set_status,
        CRM_BODY_LIMIT: '2048',
      });
      await seedProject(h.app);
      h.logs.length = 0;

      const inject = async (opts: InjectOptions, expect: number) => {
        const res = await h.app.inject(opts);
        assert.equal(res.statusCode, expect, `${JSON.stringify(opts).slice(0, 120)} → ${res.body}`);
        return res.json() as { code: number };
      };
      const form = { 'content-type': 'application/x-www-form-urlencoded' };
      const json = { 'content-type': 'application/json' };

      // Successes, with the key in the query, a form body, a JSON body, a multipart body and the header.
      assert.equal((await inject({ method: 'GET', url: `/api/get_data.php?authkey=${KEY.get_data}&did=07333333333&phone=0500000000&project_id=10&out=first_name` }, 200)).code, 0);
      assert.equal((await inject({ method: 'POST', url: '/api/set_data.php', headers: form, payload: `authkey=${KEY.set_data}&repository_assign_id=555&city=Haifa` }, 200)).code, 0);
      assert.equal((await inject({ method: 'POST', url: '/api/set_data.php', headers: json, payload: JSON.stringify({ authkey: KEY.set_data, repository_assign_id: 555, city: 'Acre' }) }, 200)).code, 0);
      assert.equal((await inject({ method: 'POST', url: '/api/set_status.php', ...(await multipart({ authkey: KEY.set_status, repository_assign_id: '555', status_id: '10' })) }, 200)).code, 0);
      assert.equal((await inject({ method: 'GET', url: '/api/set_status.php?repository_assign_id=555&status_id=2', headers: { 'x-api-key': KEY.set_status } }, 200)).code, 0);

      // A warning: an unknown out name.
      assert.equal((await inject({ method: 'GET', url: `/api/get_data.php?authkey=${KEY.get_data}&repository_assign_id=555&out=no_such_field` }, 200)).code, 0);

      // Refusals before the parameters are read, each carrying a key.
      await inject({ method: 'POST', url: `/api/set_data.php?authkey=${KEY.set_data}`, headers: json, payload: `{"authkey":"${KEY.set_data}",` }, 400);
      await inject({ method: 'POST', url: `/api/set_data.php?authkey=${KEY.set_data}`, headers: form, payload: `authkey=${KEY.set_data}&city=${'x'.repeat(4096)}` }, 413);
      await inject({ method: 'POST', url: `/api/set_status.php?authkey=${KEY.set_status}`, headers: { 'content-type': 'text/plain', 'content-encoding': 'gzip' }, payload: `authkey=${KEY.set_status}` }, 415);
      await inject({ method: 'POST', url: `/api/set_status.php`, headers: { 'content-type': 'multipart/form-data; boundary=B' }, payload: `--B\r\nContent-Disposition: form-data; name="authkey"\r\n\r\n${KEY.set_status}` }, 400);
      await inject({ method: 'GET', url: `/api/nothing.php?authkey=${KEY.get_data}` }, 404);
      await inject({ method: 'DELETE', url: `/api/set_status.php?authkey=${KEY.set_status}`, headers: { 'x-api-key': KEY.set_status } }, 405);
      await inject({ method: 'GET', url: `/api/%E0%A4%A.php?authkey=${KEY.get_data}` }, 400);

      // Wrong keys, in every place a key can be.
      assert.equal((await inject({ method: 'GET', url: `/api/get_data.php?authkey=${WRONG.query}&repository_assign_id=555&out=uid` }, 200)).code, 1);
      assert.equal((await inject({ method: 'POST', url: '/api/set_data.php', headers: form, payload: `authkey=${WRONG.body}&repository_assign_id=555&city=X` }, 200)).code, 1);
      assert.equal((await inject({ method: 'POST', url: '/api/set_data.php', headers: json, payload: JSON.stringify({ authkey: WRONG.json, repository_assign_id: 555, city: 'X' }) }, 200)).code, 1);
      assert.equal((await inject({ method: 'GET', url: '/api/set_status.php?repository_assign_id=555&status_id=2', headers: { 'x-api-key': WRONG.header } }, 200)).code, 1);

      // Admin requests with the bearer token, and with a wrong one.
      await inject({ method: 'GET', url: '/admin/v1/projects', headers: adminHeaders }, 200);
      await inject({ method: 'POST', url: '/admin/v1/projects', headers: adminHeaders, payload: { name: 'x'.repeat(500) } }, 400);
      await inject({ method: 'GET', url: `/admin/v1/projects?token=${ADMIN_TOKEN}`, headers: adminHeaders }, 200);
      await inject({ method: 'GET', url: '/admin/v1/projects', headers: { authorization: `Bearer ${WRONG.token}` } }, 401);

      // A database failure while the key is in the URL: logged as an error with its detail.
      await h.db.q.schema.alterTable('call_events').renameTo('call_events_gone').execute();
      try {
        assert.equal((await inject({ method: 'GET', url: `/api/set_status.php?authkey=${KEY.set_status}&repository_assign_id=555&status_id=10` }, 200)).code, 5);
      } finally {
        await h.db.q.schema.alterTable('call_events_gone').renameTo('call_events').execute();
      }
      await waitFor(() => h.logs.some((l) => l.includes('no_such_field')), 'the unknown-out warning');
    });
    after(() => h.close());

    test('the requests were logged, with warnings and errors among them', () => {
      assert.ok(h.logs.filter((l) => l.includes('incoming request') || l.includes('request completed')).length >= 20);
      assert.ok(h.logs.some((l) => l.includes('"level":40')), 'a warning was logged');
      assert.ok(h.logs.some((l) => l.includes('"level":50')), 'an error was logged');
      assert.ok(h.logs.some((l) => l.includes('/api/get_data.php?authkey=[REDACTED]')), 'the URL is logged with the key redacted');
    });

    for (const secret of SECRETS) {
      test(`the text ${secret.replace(/s3cr3t|zq81x|kk27m|pp93v|tt45w|yy62r/, '…')} appears in no log line`, () => {
        const forms = [secret, encodeURIComponent(secret), secret.toLowerCase()];
        const leaks = h.logs.filter((l) => forms.some((f) => l.includes(f)));
        assert.deepEqual(leaks, []);
      });
    }
  });
}
