// Console sign-in: the session cookie, fixation, idle expiry, sign-out, password change and disabling,
// CSRF and Origin checks on a session's unsafe requests, and sign-in throttling.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { dialects, setup, seedProject, admin, type Harness } from './helpers.ts';

const PASSWORD = 'correct horse battery';

/** Signs in with JSON; answers the cookie pair to send back, the CSRF token and the raw answer. */
export async function signIn(app: FastifyInstance, username: string, password = PASSWORD, headers: Record<string, string> = {}) {
  const res = await app.inject({ method: 'POST', url: '/auth/login', payload: { username, password }, headers });
  assert.equal(res.statusCode, 200, res.body);
  const setCookie = String(res.headers['set-cookie']);
  const cookie = setCookie.split(';')[0]!;
  return { cookie, csrf: res.json().csrf_token as string, res, setCookie };
}

for (const dialect of dialects()) {
  describe(dialect, () => {
    let h: Harness;
    before(async () => {
      h = await setup(dialect);
      await seedProject(h.app);
      await admin(h.app, 'POST', '/users', { username: 'dana', password: PASSWORD, role: 'agent', worker_id: 99, project_ids: [10] });
      await admin(h.app, 'POST', '/users', { username: 'boss', password: PASSWORD, role: 'admin' });
    });
    after(() => h.close());

    test('sign-in sets an HttpOnly, SameSite session cookie and answers the user and a CSRF token, never the password', async () => {
      const { setCookie, res, csrf } = await signIn(h.app, 'Dana');
      assert.match(setCookie, /^callcrm_session=[A-Za-z0-9_-]{40,}; Path=\/; HttpOnly; SameSite=Lax$/);
      const body = res.json();
      assert.equal(body.user.username, 'dana');
      assert.equal(body.user.role, 'agent');
      assert.equal(body.user.worker_id, 99);
      assert.ok(csrf.length >= 32);
      assert.ok(!res.body.includes(PASSWORD) && !/password|hash/.test(res.body));
      assert.equal(res.headers['cache-control'], 'no-store');
    });

    test('over HTTPS (X-Forwarded-Proto from a trusted proxy) the cookie is Secure; from an untrusted peer it is not', async () => {
      const proxied = await setup(dialect, { CRM_TRUST_PROXY: '127.0.0.1' });
      try {
        await admin(proxied.app, 'POST', '/users', { username: 'ann', password: PASSWORD, role: 'admin' });
        const viaProxy = await signIn(proxied.app, 'ann', PASSWORD, { 'x-forwarded-proto': 'https' });
        assert.match(viaProxy.setCookie, /; Secure$/);
        const plain = await signIn(proxied.app, 'ann');
        assert.doesNotMatch(plain.setCookie, /Secure/);
      } finally {
        await proxied.close();
      }
      const spoofed = await signIn(h.app, 'boss', PASSWORD, { 'x-forwarded-proto': 'https' });
      assert.doesNotMatch(spoofed.setCookie, /Secure/, 'X-Forwarded-Proto from a peer not in CRM_TRUST_PROXY is ignored');
    });

    test('every sign-in gets a new session id; a session id planted before sign-in is not promoted', async () => {
      const planted = 'callcrm_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
      const first = await signIn(h.app, 'dana', PASSWORD, { cookie: planted });
      assert.notEqual(first.cookie, planted);
      const planted401 = await h.app.inject({ method: 'GET', url: '/auth/me', headers: { cookie: planted } });
      assert.equal(planted401.statusCode, 401);
      // Signing in again (with the first cookie) gives another id, and ends the first session.
      const second = await signIn(h.app, 'dana', PASSWORD, { cookie: first.cookie });
      assert.notEqual(second.cookie, first.cookie);
      assert.equal((await h.app.inject({ method: 'GET', url: '/auth/me', headers: { cookie: first.cookie } })).statusCode, 401);
      const me = await h.app.inject({ method: 'GET', url: '/auth/me', headers: { cookie: second.cookie } });
      assert.equal(me.statusCode, 200);
      assert.equal(me.json().csrf_token, second.csrf);
      assert.equal(me.json().user.username, 'dana');
    });

    test('the database keeps only a hash of the session id', async () => {
      const { cookie } = await signIn(h.app, 'boss');
      const id = cookie.split('=')[1]!;
      const rows = await h.db.q.selectFrom('sessions').selectAll().execute();
      assert.ok(rows.length > 0);
      assert.ok(!JSON.stringify(rows).includes(id));
    });

    test('a form sign-in from a page is redirected to next (same site only) with the cookie', async () => {
      const res = await h.app.inject({
        method: 'POST',
        url: '/auth/login',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
        payload: `username=dana&password=${encodeURIComponent(PASSWORD)}&next=${encodeURIComponent('/app/pop?phone=0500000000')}`,
      });
      assert.equal(res.statusCode, 303);
      assert.equal(res.headers.location, '/app/pop?phone=0500000000');
      assert.match(String(res.headers['set-cookie']), /^callcrm_session=/);
      const evil = await h.app.inject({
        method: 'POST',
        url: '/auth/login',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
        payload: `username=dana&password=${encodeURIComponent(PASSWORD)}&next=${encodeURIComponent('//evil.example/x')}`,
      });
      assert.equal(evil.headers.location, '/app/');
      const wrong = await h.app.inject({
        method: 'POST',
        url: '/auth/login',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
        payload: 'username=boss&password=nope-nope-nope',
      });
      assert.equal(wrong.statusCode, 303);
      assert.match(String(wrong.headers.location), /^\/app\/login\?error=invalid/);
      assert.equal(wrong.headers['set-cookie'], undefined);
      // JSON clients get JSON, form-encoded too when they do not ask for HTML.
      const formJson = await h.app.inject({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `username=boss&password=${encodeURIComponent(PASSWORD)}` });
      assert.equal(formJson.statusCode, 200);
      assert.equal(formJson.json().user.username, 'boss');
    });

    test('a sign-in form on another site is refused', async () => {
      const res = await h.app.inject({ method: 'POST', url: '/auth/login', headers: { origin: 'https://evil.example' }, payload: { username: 'dana', password: PASSWORD } });
      assert.equal(res.statusCode, 403);
      assert.equal(res.headers['set-cookie'], undefined);
    });

    test('a session works on the admin API; unsafe requests need the CSRF token and no foreign Origin', async () => {
      const { cookie, csrf } = await signIn(h.app, 'dana');
      const read = await h.app.inject({ method: 'GET', url: '/admin/v1/customers/123', headers: { cookie } });
      assert.equal(read.statusCode, 200, read.body);
      const patch = (headers: Record<string, string>) =>
        h.app.inject({ method: 'PATCH', url: '/admin/v1/customers/123', headers: { cookie, ...headers }, payload: { fields: { city: 'Haifa' } } });
      const missing = await patch({});
      assert.equal(missing.statusCode, 403);
      assert.equal(missing.json().error.code, 'forbidden');
      assert.equal((await patch({ 'x-csrf-token': 'not-the-token' })).statusCode, 403);
      assert.equal((await patch({ 'x-csrf-token': csrf, origin: 'https://evil.example' })).statusCode, 403);
      assert.equal((await patch({ 'x-csrf-token': csrf, 'sec-fetch-site': 'cross-site' })).statusCode, 403);
      assert.equal((await patch({ 'x-csrf-token': csrf, origin: 'null' })).statusCode, 403);
      const customer = await admin(h.app, 'GET', '/customers/123');
      assert.equal(customer.fields.city, undefined, 'nothing changed by the refused requests');
      const ok = await patch({ 'x-csrf-token': csrf, origin: 'http://localhost:80', host: 'localhost' });
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal(ok.json().fields.city, 'Haifa');
    });

    test('a cross-site form POST carrying the session cookie is refused before its body is read', async () => {
      const { cookie } = await signIn(h.app, 'boss');
      const res = await h.app.inject({
        method: 'POST',
        url: '/admin/v1/projects',
        headers: { cookie, origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'name=Pwned',
      });
      assert.equal(res.statusCode, 403);
      assert.equal(res.json().error.code, 'forbidden');
      const text = await h.app.inject({ method: 'POST', url: '/admin/v1/projects', headers: { cookie, 'content-type': 'text/plain' }, payload: '{"name":"Pwned"}' });
      assert.equal(text.statusCode, 403, 'no token: refused even without an Origin');
      const projects = await admin(h.app, 'GET', '/projects');
      assert.ok(!JSON.stringify(projects).includes('Pwned'));
    });

    test('sign-out ends the session: the old cookie is refused', async () => {
      const { cookie, csrf } = await signIn(h.app, 'dana');
      const noToken = await h.app.inject({ method: 'POST', url: '/auth/logout', headers: { cookie } });
      assert.equal(noToken.statusCode, 403, 'sign-out needs the CSRF token too');
      const out = await h.app.inject({ method: 'POST', url: '/auth/logout', headers: { cookie, 'x-csrf-token': csrf } });
      assert.equal(out.statusCode, 204);
      assert.match(String(out.headers['set-cookie']), /^callcrm_session=; Max-Age=0/);
      assert.equal((await h.app.inject({ method: 'GET', url: '/auth/me', headers: { cookie } })).statusCode, 401);
      const api = await h.app.inject({ method: 'GET', url: '/admin/v1/customers/123', headers: { cookie } });
      assert.equal(api.statusCode, 401);
    });

    test('a session idle longer than CRM_SESSION_IDLE_MINUTES has ended', async () => {
      const { cookie } = await signIn(h.app, 'dana');
      assert.equal((await h.app.inject({ method: 'GET', url: '/auth/me', headers: { cookie } })).statusCode, 200);
      // 480 minutes (the default) and one more since the session was last seen.
      const id = (await h.db.q.selectFrom('sessions').select(['id', 'last_seen_at']).orderBy('created_at', 'desc').limit(1).executeTakeFirstOrThrow()).id;
      await h.db.q.updateTable('sessions').set({ last_seen_at: Date.now() - 481 * 60_000 }).where('id', '=', id).execute();
      assert.equal((await h.app.inject({ method: 'GET', url: '/auth/me', headers: { cookie } })).statusCode, 401);
      assert.equal((await h.app.inject({ method: 'GET', url: '/admin/v1/customers/123', headers: { cookie } })).statusCode, 401);
    });

    test('a password change or disabling the user ends its sessions', async () => {
      const user = await admin(h.app, 'POST', '/users', { username: 'temp', password: PASSWORD, role: 'supervisor' });
      const a = await signIn(h.app, 'temp');
      await admin(h.app, 'PATCH', `/users/${user.id}`, { display_name: 'Temp' });
      assert.equal((await h.app.inject({ method: 'GET', url: '/auth/me', headers: { cookie: a.cookie } })).statusCode, 200, 'other changes keep the session');
      await admin(h.app, 'PATCH', `/users/${user.id}`, { password: 'another password' });
      assert.equal((await h.app.inject({ method: 'GET', url: '/auth/me', headers: { cookie: a.cookie } })).statusCode, 401);
      const old = await h.app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'temp', password: PASSWORD } });
      assert.equal(old.statusCode, 401);
      const b = await signIn(h.app, 'temp', 'another password');
      await admin(h.app, 'PATCH', `/users/${user.id}`, { disabled: true });
      assert.equal((await h.app.inject({ method: 'GET', url: '/admin/v1/projects/10', headers: { cookie: b.cookie } })).statusCode, 401);
      const disabled = await h.app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'temp', password: 'another password' } });
      assert.equal(disabled.statusCode, 401);
    });

    test('an admin ends every session of a user at once', async () => {
      const user = await admin(h.app, 'POST', '/users', { username: 'phone-lost', password: PASSWORD, role: 'agent', project_ids: [10] });
      const a = await signIn(h.app, 'phone-lost');
      const b = await signIn(h.app, 'phone-lost');
      const other = await signIn(h.app, 'boss');
      const del = await h.app.inject({ method: 'DELETE', url: `/admin/v1/users/${user.id}/sessions`, headers: { cookie: other.cookie, 'x-csrf-token': other.csrf } });
      assert.equal(del.statusCode, 204);
      for (const s of [a, b]) assert.equal((await h.app.inject({ method: 'GET', url: '/auth/me', headers: { cookie: s.cookie } })).statusCode, 401);
      assert.equal((await h.app.inject({ method: 'GET', url: '/auth/me', headers: { cookie: other.cookie } })).statusCode, 200);
    });

    test('failed sign-ins are throttled per username and per address; the password is never logged', async () => {
      const t = await setup(dialect, { CRM_LOGIN_FAIL_LIMIT: '3' });
      after(() => t.close());
      await admin(t.app, 'POST', '/users', { username: 'target', password: PASSWORD, role: 'agent' });
      await admin(t.app, 'POST', '/users', { username: 'boss', password: PASSWORD, role: 'admin' });
      const attempt = (username: string, password: string, ip: string) =>
        t.app.inject({ method: 'POST', url: '/auth/login', payload: { username, password }, remoteAddress: ip });
      // Per username: 3 failures from three addresses, then even the right password from a fourth waits.
      for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) assert.equal((await attempt('target', 'wrong-password-1', ip)).statusCode, 401);
      const locked = await attempt('target', PASSWORD, '10.0.0.4');
      assert.equal(locked.statusCode, 429);
      assert.ok(Number(locked.headers['retry-after']) > 0);
      // Per address: 3 failures on three usernames, then that address waits, also for another user.
      for (const u of ['nobody1', 'nobody2', 'nobody3']) assert.equal((await attempt(u, 'wrong-password-2', '10.0.0.9')).statusCode, 401);
      assert.equal((await attempt('boss', PASSWORD, '10.0.0.9')).statusCode, 429);
      assert.equal((await attempt('boss', PASSWORD, '10.0.0.10')).statusCode, 200, 'another address and user are not affected');
      const logs = h.logs.join('') + t.logs.join('');
      for (const secret of [PASSWORD, 'wrong-password-1', 'wrong-password-2', 'another password']) assert.ok(!logs.includes(secret), secret);
      assert.match(logs, /sign-in failed/);
    });
  });
}
