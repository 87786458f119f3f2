// Console users and what each role may do: /admin/v1/users CRUD (never a password), the role matrix on
// admin routes, project scoping of every id in a path, attribution of session changes in history, and
// the CLI's `user add|list|passwd`.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { dialects, setup, seedProject, admin, type Harness } from './helpers.ts';

const PASSWORD = 'correct horse battery';
const BIN = fileURLToPath(new URL('../bin/callcrm.js', import.meta.url));

async function signIn(app: FastifyInstance, username: string, password = PASSWORD) {
  const res = await app.inject({ method: 'POST', url: '/auth/login', payload: { username, password } });
  assert.equal(res.statusCode, 200, res.body);
  return { cookie: String(res.headers['set-cookie']).split(';')[0]!, csrf: res.json().csrf_token as string };
}

/** A request as a signed-in user (with the CSRF token on unsafe methods). */
function as(app: FastifyInstance, s: { cookie: string; csrf: string }) {
  return (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, payload?: unknown) =>
    app.inject({ method, url: `/admin/v1${path}`, headers: { cookie: s.cookie, ...(method === 'GET' ? {} : { 'x-csrf-token': s.csrf }) }, ...(payload === undefined ? {} : { payload: payload as object }) });
}

function cli(h: Harness, args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  let url = h.databaseUrl;
  if (h.pgSchema) {
    const u = new URL(h.databaseUrl);
    u.searchParams.set('options', `-c search_path=${h.pgSchema}`);
    url = u.toString();
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, DATABASE_URL: url }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

for (const dialect of dialects()) {
  describe(dialect, () => {
    let h: Harness;
    let agent10: { cookie: string; csrf: string };
    let agent20: { cookie: string; csrf: string };
    let supervisor10: { cookie: string; csrf: string };
    let adminAll: { cookie: string; csrf: string };
    before(async () => {
      h = await setup(dialect);
      await seedProject(h.app, 10);
      await seedProject(h.app, 20, 1000);
      await admin(h.app, 'POST', '/users', { username: 'dana', password: PASSWORD, role: 'agent', worker_id: 99, project_ids: [10], display_name: 'Dana Cohen' });
      await admin(h.app, 'POST', '/users', { username: 'eli', password: PASSWORD, role: 'agent', worker_id: 1099, project_ids: [20] });
      await admin(h.app, 'POST', '/users', { username: 'sara', password: PASSWORD, role: 'supervisor', project_ids: [10] });
      await admin(h.app, 'POST', '/users', { username: 'root', password: PASSWORD, role: 'admin' });
      agent10 = await signIn(h.app, 'dana');
      agent20 = await signIn(h.app, 'eli');
      supervisor10 = await signIn(h.app, 'sara');
      adminAll = await signIn(h.app, 'root');
    });
    after(() => h.close());

    test('users are created, listed, read and changed; no answer holds the password or its hash', async () => {
      const created = await admin(h.app, 'POST', '/users', { username: 'Noa', password: PASSWORD, role: 'supervisor', project_ids: [20, 10, 10] });
      assert.deepEqual(
        { ...created, created_at: undefined, updated_at: undefined },
        { id: created.id, username: 'Noa', role: 'supervisor', display_name: null, worker_id: null, project_ids: [10, 20], disabled: false, created_at: undefined, updated_at: undefined },
      );
      const changed = await admin(h.app, 'PATCH', `/users/${created.id}`, { role: 'agent', worker_id: 99, project_ids: null, display_name: 'Noa L' });
      assert.equal(changed.role, 'agent');
      assert.equal(changed.project_ids, null);
      assert.equal(changed.worker_id, 99);
      const one = await admin(h.app, 'GET', `/users/${created.id}`);
      assert.deepEqual(one, changed);
      const list = await admin(h.app, 'GET', '/users?limit=2');
      assert.equal(list.items.length, 2);
      assert.ok(list.next_cursor);
      const rest = await admin(h.app, 'GET', `/users?cursor=${list.next_cursor}`);
      assert.deepEqual([...list.items, ...rest.items].map((u: { username: string }) => u.username), ['dana', 'eli', 'sara', 'root', 'Noa']);
      const stored = await h.db.q.selectFrom('users').select('password_hash').where('id', '=', created.id).executeTakeFirstOrThrow();
      assert.match(stored.password_hash, /^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
      const everything = JSON.stringify([created, changed, one, list, rest]);
      assert.ok(!everything.includes(PASSWORD) && !everything.includes(stored.password_hash) && !everything.includes('password'));
      assert.ok(!h.logs.join('').includes(PASSWORD), 'the password is in no log line');
    });

    test('bad user input is a 400 or 409 or 422 naming it, and creates nothing', async () => {
      const before = (await admin(h.app, 'GET', '/users?limit=1000')).items.length;
      const post = (body: unknown) => h.app.inject({ method: 'POST', url: '/admin/v1/users', headers: { authorization: 'Bearer test-admin-token' }, payload: body as object });
      assert.equal((await post({ username: 'x', password: 'short', role: 'agent' })).statusCode, 400);
      assert.equal((await post({ username: 'x', password: PASSWORD, role: 'owner' })).statusCode, 400);
      assert.equal((await post({ username: 'has space', password: PASSWORD, role: 'agent' })).statusCode, 400);
      assert.equal((await post({ username: 'DANA', password: PASSWORD, role: 'agent' })).statusCode, 409, 'usernames ignore case');
      const worker = await post({ username: 'x', password: PASSWORD, role: 'agent', worker_id: 424242 });
      assert.equal(worker.statusCode, 422);
      assert.equal((await post({ username: 'x', password: PASSWORD, role: 'agent', project_ids: [77] })).statusCode, 422);
      assert.equal((await admin(h.app, 'GET', '/users?limit=1000')).items.length, before);
      assert.equal((await h.app.inject({ method: 'GET', url: '/admin/v1/users/999999', headers: { authorization: 'Bearer test-admin-token' } })).statusCode, 404);
    });

    test('an agent reads and changes its project\'s customers, assigns and history, and records calls as its worker', async () => {
      const a = as(h.app, agent10);
      assert.equal((await a('GET', '/customers/123')).statusCode, 200);
      assert.equal((await a('GET', '/assigns/2190811')).statusCode, 200);
      assert.equal((await a('GET', '/projects/10/fields')).statusCode, 200);
      assert.equal((await a('GET', '/projects/10/statuses')).statusCode, 200);
      const patched = await a('PATCH', '/customers/123', { fields: { city: 'Eilat' } });
      assert.equal(patched.statusCode, 200, patched.body);
      const call = await a('POST', '/assigns/2190811/calls', { status_id: 10, notes: 'wants gold' });
      assert.equal(call.statusCode, 201, call.body);
      assert.equal(call.json().worker_id, 99, 'recorded as the agent\'s worker');
      assert.equal((await a('POST', '/assigns/2190811/calls', { worker_id: 1099, notes: 'as someone else' })).statusCode, 403);
      const history = await a('GET', '/assigns/2190811/history');
      assert.equal(history.statusCode, 200);
      const items = history.json().items as { kind: string; worker_id: number | null; user_id: number | null; user_name: string | null; source: string; field?: string }[];
      const dana = (await admin(h.app, 'GET', '/users?limit=1000')).items.find((u: { username: string }) => u.username === 'dana');
      for (const kind of ['field', 'status', 'call']) {
        const item = items.find((i) => i.kind === kind);
        assert.ok(item, kind);
        assert.equal(item.worker_id, 99, `${kind} by the agent's worker`);
        assert.equal(item.user_id, dana.id, `${kind} by the user`);
        assert.equal(item.user_name, 'Dana Cohen');
        assert.equal(item.source, 'admin');
      }
      // The phone lookup the screen pop needs, but not listing or free-text search.
      assert.equal((await a('GET', '/projects/10/customers?phone=0500000000')).statusCode, 200);
      assert.equal((await a('GET', '/projects/10/customers')).statusCode, 403);
      assert.equal((await a('GET', '/projects/10/customers?q=John')).statusCode, 403);
    });

    test('an agent gets 403 on setup, people, keys, audit, imports and exports', async () => {
      const a = as(h.app, agent10);
      const refused: [Parameters<typeof a>[0], string, unknown?][] = [
        ['POST', '/projects', { name: 'Mine' }],
        ['POST', '/projects/10/fields', { display_name: 'x' }],
        ['POST', '/projects/10/statuses', { name: 'x' }],
        ['POST', '/projects/10/workers', { name: 'x' }],
        ['GET', '/projects/10/dids'],
        ['GET', '/users'],
        ['POST', '/users', { username: 'x', password: PASSWORD, role: 'admin' }],
        ['PATCH', '/users/1', { role: 'admin' }],
        ['GET', '/keys'],
        ['POST', '/keys', { name: 'x', endpoints: ['get_data'] }],
        ['GET', '/audit'],
        ['GET', '/projects/10/export?repository_id=7'],
        ['GET', '/repositories/7/assigns'],
        ['POST', '/repositories/7/assigns', { customer_id: 123 }],
      ];
      for (const [method, path, body] of refused) {
        const res = await a(method, path, body);
        assert.equal(res.statusCode, 403, `${method} ${path}: ${res.body}`);
        assert.equal(res.json().error.code, 'forbidden');
      }
      assert.equal((await admin(h.app, 'GET', '/projects')).items.length, 2, 'nothing was created');
    });

    test('a supervisor lists, searches and exports its projects, but sets nothing up', async () => {
      const s = as(h.app, supervisor10);
      assert.equal((await s('GET', '/projects/10/customers?q=John')).statusCode, 200);
      assert.equal((await s('GET', '/repositories/7/assigns')).statusCode, 200);
      const exp = await s('GET', '/projects/10/export?repository_id=7');
      assert.equal(exp.statusCode, 200);
      assert.match(exp.body, /^id,repository_assign_id,status_id/);
      assert.equal((await s('POST', '/projects/10/statuses', { name: 'x' })).statusCode, 403);
      assert.equal((await s('GET', '/users')).statusCode, 403);
      assert.equal((await s('GET', '/projects/20/customers?q=John')).statusCode, 403);
      assert.equal((await s('GET', '/repositories/1007/assigns')).statusCode, 403);
      assert.equal((await s('GET', '/repositories/7/assigns?worker_id=1099')).statusCode, 403, 'a query id of another project');
      assert.equal((await s('GET', '/projects/10/statistics')).statusCode, 200);
      assert.equal((await s('GET', '/projects/20/statistics')).statusCode, 403);
      assert.equal((await as(h.app, agent10)('GET', '/projects/10/statistics')).statusCode, 403, 'statistics are for supervisors');
    });

    test('an agent of another project gets 403 for every id of this one, and sees only its projects', async () => {
      const b = as(h.app, agent20);
      const other: [Parameters<typeof b>[0], string, unknown?][] = [
        ['GET', '/customers/123'],
        ['PATCH', '/customers/123', { fields: { city: 'Nowhere' } }],
        ['GET', '/assigns/2190811'],
        ['GET', '/assigns/2190811/history'],
        ['POST', '/assigns/2190811/calls', { notes: 'x' }],
        ['GET', '/projects/10'],
        ['GET', '/projects/10/fields'],
        ['GET', '/projects/10/customers?phone=0500000000'],
        ['POST', '/projects/10/customers', { fields: { first_name: 'X' } }],
      ];
      for (const [method, path, body] of other) {
        const res = await b(method, path, body);
        assert.equal(res.statusCode, 403, `${method} ${path}: ${res.body}`);
      }
      assert.equal((await admin(h.app, 'GET', '/customers/123')).fields.city, 'Eilat', 'unchanged');
      const projects = await b('GET', '/projects');
      assert.deepEqual(projects.json().items.map((p: { id: number }) => p.id), [20]);
      assert.equal((await b('GET', '/customers/1123')).statusCode, 200, 'its own project works');
      assert.equal((await b('GET', '/customers/999999')).statusCode, 404);
    });

    test('an admin session does everything, also with a user limited to no project list', async () => {
      const x = as(h.app, adminAll);
      assert.equal((await x('POST', '/projects', { id: 30, name: 'Thirty' })).statusCode, 201);
      assert.equal((await x('GET', '/users')).statusCode, 200);
      assert.equal((await x('GET', '/audit')).statusCode, 200);
      assert.equal((await x('GET', '/projects')).json().items.length, 3);
    });

    test('with no CRM_ADMIN_TOKEN, sessions still open the admin API; requests without either are 403 admin_closed', async () => {
      const closed = await setup(dialect, { CRM_ADMIN_TOKEN: '' });
      try {
        const r = await cli(closed, ['user', 'add', '--username', 'first', '--role', 'admin', '--password-stdin'], `${PASSWORD}\n`);
        assert.equal(r.code, 0, r.stderr);
        const nothing = await closed.app.inject({ method: 'GET', url: '/admin/v1/projects' });
        assert.equal(nothing.statusCode, 403);
        assert.equal(nothing.json().error.code, 'admin_closed');
        const s = await signIn(closed.app, 'first');
        assert.equal((await as(closed.app, s)('POST', '/projects', { name: 'From the console' })).statusCode, 201);
      } finally {
        await closed.close();
      }
    });

    test('CLI: user add (password from stdin), user list, user passwd; the password is never printed', async () => {
      const add = await cli(h, ['user', 'add', '--username', 'cli-admin', '--role', 'admin', '--password-stdin', '--display-name', 'From CLI'], `${PASSWORD}\n`);
      assert.equal(add.code, 0, add.stderr);
      const created = JSON.parse(add.stdout);
      assert.equal(created.username, 'cli-admin');
      assert.equal(created.role, 'admin');
      await signIn(h.app, 'cli-admin');
      const list = await cli(h, ['user', 'list']);
      assert.equal(list.code, 0, list.stderr);
      assert.ok(list.stdout.trim().split('\n').map((l) => JSON.parse(l).username).includes('cli-admin'));
      const s = await signIn(h.app, 'cli-admin');
      const passwd = await cli(h, ['user', 'passwd', 'CLI-ADMIN', '--password-stdin'], 'a brand new password\n');
      assert.equal(passwd.code, 0, passwd.stderr);
      assert.equal((await h.app.inject({ method: 'GET', url: '/auth/me', headers: { cookie: s.cookie } })).statusCode, 401, 'passwd ended the session');
      await signIn(h.app, 'cli-admin', 'a brand new password');
      const short = await cli(h, ['user', 'add', '--username', 'x', '--role', 'agent', '--password-stdin'], 'short\n');
      assert.equal(short.code, 2);
      const noTty = await cli(h, ['user', 'add', '--username', 'y', '--role', 'agent']);
      assert.equal(noTty.code, 2);
      assert.match(noTty.stderr, /--password-stdin/);
      const missing = await cli(h, ['user', 'passwd', 'nobody', '--password-stdin'], `${PASSWORD}\n`);
      assert.equal(missing.code, 1);
      for (const out of [add, list, passwd, short, noTty, missing]) assert.ok(!(out.stdout + out.stderr).includes(PASSWORD) && !(out.stdout + out.stderr).includes('brand new'));
    });
  });
}
