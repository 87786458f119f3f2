// Security headers on every answer, and CORS: off by default, and when CRM_CORS_ORIGINS is set, only for
// the admin API and only for the listed origins.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { dialects, setup, adminHeaders, KEYS, type Harness } from './helpers.ts';

const ORIGIN = 'https://crm.example.com';

function assertSecurityHeaders(headers: Record<string, unknown>, what: string) {
  assert.equal(headers['x-content-type-options'], 'nosniff', what);
  assert.equal(headers['x-frame-options'], 'DENY', what);
  assert.equal(headers['referrer-policy'], 'no-referrer', what);
  assert.equal(headers['x-powered-by'], undefined, what);
  const csp = String(headers['content-security-policy'] ?? '');
  assert.match(csp, /default-src 'none'/, what);
  assert.match(csp, /frame-ancestors 'none'/, what);
  // Nothing may load from another host.
  assert.doesNotMatch(csp, /https?:|\*|'unsafe-eval'/, what);
}

for (const dialect of dialects()) {
  describe(dialect, () => {
    let h: Harness;
    before(async () => {
      h = await setup(dialect);
    });
    after(() => h.close());

    test('admin answers, errors included, carry the security headers and no X-Powered-By', async () => {
      const answers = {
        list: await h.app.inject({ method: 'GET', url: '/admin/v1/projects', headers: adminHeaders }),
        unauthorized: await h.app.inject({ method: 'GET', url: '/admin/v1/projects' }),
        invalid: await h.app.inject({ method: 'POST', url: '/admin/v1/projects', headers: adminHeaders, payload: {} }),
        notFound: await h.app.inject({ method: 'GET', url: '/admin/v1/nowhere', headers: adminHeaders }),
      };
      assert.equal(answers.list.statusCode, 200);
      assert.equal(answers.unauthorized.statusCode, 401);
      for (const [what, res] of Object.entries(answers)) assertSecurityHeaders(res.headers, what);
    });

    test('the docs page keeps its own self-contained policy, with the other headers', async () => {
      const docs = await h.app.inject({ method: 'GET', url: '/docs' });
      assert.equal(docs.statusCode, 200);
      assert.match(String(docs.headers['content-type']), /^text\/html/);
      assertSecurityHeaders(docs.headers, 'docs');
      assert.doesNotMatch(String(docs.headers['content-security-policy']), /'unsafe-inline'/);
      assertSecurityHeaders((await h.app.inject({ method: 'GET', url: '/openapi.json' })).headers, 'openapi.json');
    });

    test('telephony answers keep their envelope and content type, with the headers too', async () => {
      const res = await h.app.inject({ method: 'GET', url: `/api/get_data.php?authkey=${KEYS.get_data}` });
      assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal(res.json().code, 2);
      assertSecurityHeaders(res.headers, 'get_data');
    });

    test('without CRM_CORS_ORIGINS no answer carries CORS headers, preflights included', async () => {
      const get = await h.app.inject({ method: 'GET', url: '/admin/v1/projects', headers: { ...adminHeaders, origin: ORIGIN } });
      assert.equal(get.headers['access-control-allow-origin'], undefined);
      const preflight = await h.app.inject({
        method: 'OPTIONS',
        url: '/admin/v1/projects',
        headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
      });
      assert.equal(preflight.headers['access-control-allow-origin'], undefined);
      assert.equal(preflight.headers['access-control-allow-methods'], undefined);
    });
  });

  describe(`${dialect}, CRM_CORS_ORIGINS set`, () => {
    let h: Harness;
    before(async () => {
      h = await setup(dialect, { CRM_CORS_ORIGINS: `${ORIGIN}, https://other.example.org` });
    });
    after(() => h.close());

    const preflight = (origin: string, url = '/admin/v1/projects') =>
      h.app.inject({ method: 'OPTIONS', url, headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });

    test('a preflight from a listed origin is answered before the token check, allowing the Authorization header', async () => {
      const res = await preflight(ORIGIN);
      assert.equal(res.statusCode, 204);
      assert.equal(res.headers['access-control-allow-origin'], ORIGIN);
      assert.match(String(res.headers['access-control-allow-methods']), /POST/);
      assert.match(String(res.headers['access-control-allow-headers']), /authorization/);
      assert.match(String(res.headers.vary), /Origin/);
      assert.equal((await preflight('https://other.example.org', '/admin/v1/projects/10/fields')).headers['access-control-allow-origin'], 'https://other.example.org');
    });

    test('an origin not listed gets no CORS headers', async () => {
      const res = await preflight('https://evil.example.net');
      assert.equal(res.headers['access-control-allow-origin'], undefined);
      const get = await h.app.inject({ method: 'GET', url: '/admin/v1/projects', headers: { ...adminHeaders, origin: 'https://evil.example.net' } });
      assert.equal(get.statusCode, 200);
      assert.equal(get.headers['access-control-allow-origin'], undefined);
      assert.match(String(get.headers.vary), /Origin/);
    });

    test('admin answers to a listed origin, errors included, name that origin', async () => {
      const ok = await h.app.inject({ method: 'GET', url: '/admin/v1/projects', headers: { ...adminHeaders, origin: ORIGIN } });
      assert.equal(ok.statusCode, 200);
      assert.equal(ok.headers['access-control-allow-origin'], ORIGIN);
      const denied = await h.app.inject({ method: 'GET', url: '/admin/v1/projects', headers: { origin: ORIGIN } });
      assert.equal(denied.statusCode, 401);
      assert.equal(denied.headers['access-control-allow-origin'], ORIGIN);
    });

    test('CORS stays off for the telephony API', async () => {
      const res = await h.app.inject({ method: 'GET', url: `/api/get_data.php?authkey=${KEYS.get_data}`, headers: { origin: ORIGIN } });
      assert.equal(res.headers['access-control-allow-origin'], undefined);
      const pre = await preflight(ORIGIN, '/api/set_data.php');
      assert.equal(pre.headers['access-control-allow-origin'], undefined);
    });
  });
}
