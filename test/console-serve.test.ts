// The console's files and its read routes, without a browser: index.html at every console address,
// hashed assets with their own CSP, and the screen pop, search and card routes (with the bearer token and
// with an agent's session limited to one project), on both databases.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildConsole } from '../scripts/build-console.mjs';
import { CONSOLE_CSP } from '../src/console/serve.ts';
import { admin, adminHeaders, dialects, seedProject, setup, type Harness } from './helpers.ts';

const PASSWORD = 'correct horse battery';

async function signIn(app: FastifyInstance, username: string) {
  const res = await app.inject({ method: 'POST', url: '/auth/login', payload: { username, password: PASSWORD } });
  assert.equal(res.statusCode, 200, res.body);
  return { cookie: String(res.headers['set-cookie']).split(';')[0]! };
}

let built: Awaited<ReturnType<typeof buildConsole>>;
before(async () => {
  built = await buildConsole();
});

describe('console files', () => {
  let h: Harness;
  before(async () => {
    h = await setup('sqlite', { CRM_BASE_PATH: '/dev-6', CRM_TIMEZONE: 'Asia/Jerusalem' });
  });
  after(() => h.close());

  test('every console address answers index.html with the console CSP, the base path and the time zone', async () => {
    for (const url of ['/dev-6/app/', '/dev-6/app', '/dev-6/app/login?next=%2Fdev-6%2Fapp%2F', '/dev-6/app/pop?phone=0500000000&did=1', '/dev-6/app/customers/123', '/dev-6/app/search?q=x']) {
      const res = await h.app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 200, url);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      assert.equal(res.headers['content-security-policy'], CONSOLE_CSP);
      assert.match(CONSOLE_CSP, /script-src 'self';/);
      assert.equal(res.headers['x-frame-options'], 'DENY');
      assert.equal(res.headers['cache-control'], 'no-cache');
      assert.ok(res.body.includes(`src="/dev-6/app/assets/${built.js}"`), res.body);
      assert.ok(res.body.includes(`href="/dev-6/app/assets/${built.css}"`));
      assert.ok(res.body.includes('<meta name="crm-base" content="/dev-6">'));
      assert.ok(res.body.includes('<meta name="crm-timezone" content="Asia/Jerusalem">'));
      // No inline script: every <script> has a src.
      assert.deepEqual(res.body.match(/<script(?![^>]*\bsrc=)[^>]*>/g), null);
      assert.ok(!/https?:\/\//.test(res.body), 'nothing from another host');
    }
  });

  test('assets are served with a long cache and the CSP; an unknown asset is a 404, not the page', async () => {
    const js = await h.app.inject({ method: 'GET', url: `/dev-6/app/assets/${built.js}` });
    assert.equal(js.statusCode, 200);
    assert.match(String(js.headers['content-type']), /javascript/);
    assert.match(String(js.headers['cache-control']), /max-age=31536000.*immutable|immutable.*max-age=31536000/);
    assert.equal(js.headers['content-security-policy'], CONSOLE_CSP);
    const gz = await h.app.inject({ method: 'GET', url: `/dev-6/app/assets/${built.js}`, headers: { 'accept-encoding': 'gzip' } });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.ok(gz.rawPayload.length < js.rawPayload.length / 2, `${gz.rawPayload.length} of ${js.rawPayload.length}`);
    assert.equal((await h.app.inject({ method: 'GET', url: `/dev-6/app/assets/${built.js}`, headers: { 'accept-encoding': 'br, gzip' } })).headers['content-encoding'], 'br');
    const css = await h.app.inject({ method: 'GET', url: `/dev-6/app/assets/${built.css}` });
    assert.equal(css.statusCode, 200);
    assert.match(String(css.headers['content-type']), /text\/css/);
    const missing = await h.app.inject({ method: 'GET', url: '/dev-6/app/assets/nope.js' });
    assert.equal(missing.statusCode, 404);
    // Outside the console the API's own CSP stays.
    const health = await h.app.inject({ method: 'GET', url: '/dev-6/healthz' });
    assert.match(String(health.headers['content-security-policy']), /default-src 'none'/);
    assert.doesNotMatch(String(health.headers['content-security-policy']), /script-src/);
  });
});

for (const dialect of dialects()) {
  describe(`console routes (${dialect})`, () => {
    let h: Harness;
    let agent: { cookie: string };
    before(async () => {
      h = await setup(dialect);
      await seedProject(h.app, 10);
      await seedProject(h.app, 20, 1000);
      for (const id of [501, 502]) {
        await admin(h.app, 'POST', '/projects/10/customers', { id, fields: { first_name: `Shared${id}`, mobile: '052-111-2222', email: `s${id}@mail.com` } });
      }
      await admin(h.app, 'POST', '/users', { username: 'dana', password: PASSWORD, role: 'agent', worker_id: 99, project_ids: [10] });
      await admin(h.app, 'POST', '/users', { username: 'boss', password: PASSWORD, role: 'supervisor', project_ids: [10] });
      agent = await signIn(h.app, 'dana');
    });
    after(() => h.close());

    const get = (url: string, headers: Record<string, string> = adminHeaders) => h.app.inject({ method: 'GET', url: `/admin/v1${url}`, headers });

    test('the pop finds the caller by any spelling of the number, by project, worker or DID', async () => {
      for (const spelling of ['0500000000', '050-000-0000', '+972 50-000-0000', '972500000000']) {
        const res = await get(`/console/pop?phone=${encodeURIComponent(spelling)}&project_id=10`);
        assert.equal(res.statusCode, 200, res.body);
        assert.deepEqual(res.json().items.map((c: { id: number }) => c.id), [123], spelling);
        assert.deepEqual(res.json().items[0].phones, ['050-000-0000']);
      }
      assert.deepEqual((await get('/console/pop?phone=0500000000&agent=1099')).json().items.map((c: { id: number }) => c.id), [1123]);
      assert.deepEqual((await get('/console/pop?phone=0500000000')).json().items.map((c: { id: number }) => c.id).sort((a: number, b: number) => a - b), [123, 1123]);
      assert.deepEqual((await get('/console/pop?phone=0521112222&project_id=10')).json().items.map((c: { id: number }) => c.id).sort(), [501, 502]);
      assert.deepEqual((await get('/console/pop?phone=0549998888&project_id=10')).json().items, []);
      const noDigit = await get('/console/pop?phone=abc');
      assert.equal(noDigit.statusCode, 400);
    });

    test("an agent's pop and search see only the agent's projects; another project's card is a 403", async () => {
      const headers = { cookie: agent.cookie };
      const pop = await get('/console/pop?phone=0500000000', headers);
      assert.equal(pop.statusCode, 200, pop.body);
      assert.deepEqual(pop.json().items.map((c: { id: number }) => c.id), [123]);
      assert.equal((await get('/console/pop?phone=0500000000&project_id=20', headers)).statusCode, 403);
      assert.equal((await get('/console/customers/1123', headers)).statusCode, 403);
      const card = await get('/console/customers/123', headers);
      assert.equal(card.statusCode, 200);
      const body = card.json();
      assert.equal(body.project.name, 'Project 10');
      assert.deepEqual(body.statuses.map((s: { id: number }) => s.id), [2, 10]);
      assert.deepEqual(body.assigns.map((a: { id: number }) => a.id).sort((a: number, b: number) => a - b), [555, 2190811]);
      assert.equal(body.fields.find((f: { display_name: string }) => f.display_name === 'plan').type, 'select');
      // An agent looks up by number; a name or email search is the supervisor's.
      const search = await get('/console/search?q=050-000-0000', headers);
      assert.deepEqual(search.json().items.map((c: { id: number }) => c.id), [123]);
      assert.deepEqual((await get('/console/search?q=123', headers)).json().items.map((c: { id: number }) => c.id), [123]);
      assert.equal((await get('/console/search?q=john', headers)).statusCode, 403);
      const boss = await signIn(h.app, 'boss');
      assert.deepEqual((await get('/console/search?q=john', { cookie: boss.cookie })).json().items.map((c: { id: number }) => c.id), [123]);
      const projects = await get('/console/projects', headers);
      assert.deepEqual(projects.json().items.map((p: { id: number }) => p.id), [10]);
    });

    test('search by phone in any spelling, name, email and id, paged', async () => {
      const ids = async (q: string, extra = '') => (await get(`/console/search?q=${encodeURIComponent(q)}${extra}`)).json().items.map((c: { id: number }) => c.id);
      assert.deepEqual(await ids('+972-52-111-2222', '&project_id=10'), [501, 502]);
      assert.deepEqual(await ids('Shared502'), [502]);
      assert.deepEqual(await ids('S501@MAIL'), [501]);
      assert.deepEqual(await ids('123'), [123]);
      // Paged: one at a time, every match once.
      const seen: number[] = [];
      let cursor: string | null = '';
      for (let i = 0; i < 10 && cursor !== null; i++) {
        const page: { items: { id: number }[]; next_cursor: string | null } = (await get(`/console/search?q=0500000000&limit=1${cursor ? `&cursor=${cursor}` : ''}`)).json();
        seen.push(...page.items.map((c) => c.id));
        cursor = page.next_cursor;
      }
      assert.deepEqual(seen, [123, 1123]);
      assert.equal((await get('/console/search?q=x&cursor=bad')).statusCode, 400);
    });
  });
}
