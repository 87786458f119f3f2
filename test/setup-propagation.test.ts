// A setup change made by one server process is seen by every other process on the same database within
// one second (admin-api.md; crm/setup-cache.ts polls the setup version). Two real processes: this test's
// app, and a server started as `callcrm serve` — with CRM_WORKERS=2 on SQLite (three processes on one
// file), a second instance on the same PostgreSQL schema.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ADMIN_TOKEN, KEYS, admin, dialects, seedProject, setup, tel, type Harness } from './helpers.ts';

const BIN = fileURLToPath(new URL('../bin/callcrm.js', import.meta.url));
const WITHIN_MS = 1000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** The harness's database as a DATABASE_URL: PostgreSQL gets the test schema through libpq's options. */
function databaseUrl(h: Harness): string {
  if (!h.pgSchema) return h.databaseUrl;
  const url = new URL(h.databaseUrl);
  url.searchParams.set('options', `-c search_path=${h.pgSchema}`);
  return url.toString();
}

/** One request on a new connection (agent: false), so the cluster's round robin spreads them over its workers. */
function call(port: number, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      { host: '127.0.0.1', port, method, path, agent: false, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(payload ? { 'content-type': 'application/json' } : {}) } },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, json: text ? JSON.parse(text) : undefined }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const cityOf = async (port: number) =>
  (await call(port, 'GET', `/api/get_data.php?authkey=${KEYS.get_data}&repository_assign_id=2190811&out=city`)).json.message[0].city as string | null;

/** Milliseconds until `n` answers in a row satisfy ok (polling every 25 ms); fails after 5 s. */
async function msUntil(ok: () => Promise<boolean>, n: number): Promise<number> {
  const t0 = Date.now();
  let inRow = 0;
  while (Date.now() - t0 < 5000) {
    inRow = (await ok()) ? inRow + 1 : 0;
    if (inRow >= n) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('not seen within 5 s');
}

for (const dialect of dialects()) {
  describe(dialect, () => {
    let h: Harness;
    let child: ChildProcess;
    let port: number;
    let stderr = '';
    let cityField: number;
    before(async () => {
      h = await setup(dialect);
      await seedProject(h.app);
      await admin(h.app, 'PATCH', '/customers/123', { fields: { city: 'Haifa' } });
      cityField = (await admin(h.app, 'GET', '/projects/10/fields')).items.find((f: { display_name: string }) => f.display_name === 'city').id;
      port = await freePort();
      const workers = dialect === 'sqlite' ? 2 : 1;
      child = spawn(process.execPath, [BIN, 'serve'], {
        env: { ...process.env, DATABASE_URL: databaseUrl(h), PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info', CRM_ADMIN_TOKEN: ADMIN_TOKEN, CRM_WORKERS: String(workers) },
        stdio: 'pipe',
      });
      let stdout = '';
      child.stdout!.on('data', (d) => (stdout += d));
      child.stderr!.on('data', (d) => (stderr += d));
      // Every worker listening (each logs it once): a worker that starts after the change could not prove anything.
      const t0 = Date.now();
      while (stdout.split('Server listening').length - 1 < workers && child.exitCode === null && Date.now() - t0 < 120_000) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(stdout.split('Server listening').length - 1, workers, stderr);
    });
    after(async () => {
      if (child && child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      await h?.close();
    });

    test('a field archived here answers null in the other server within a second (every worker)', async () => {
      // Warm every worker's cache with the field in use.
      assert.equal(await msUntil(async () => (await cityOf(port)) === 'Haifa', 6).then(() => 'warm'), 'warm', stderr);
      await admin(h.app, 'PATCH', `/projects/10/fields/${cityField}`, { archived: true });
      const ms = await msUntil(async () => (await cityOf(port)) === null, 6);
      assert.ok(ms < WITHIN_MS, `seen after ${ms} ms`);
    });

    test('a change made through the other server is seen here within a second', async () => {
      // This app remembers the field as archived (and the status as settable).
      assert.equal((await tel(h.app, 'get_data', { authkey: KEYS.get_data, repository_assign_id: 2190811, out: 'city' })).message[0].city, null);
      assert.equal((await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 555, status_id: 2 })).code, 0);
      assert.equal((await call(port, 'PATCH', `/admin/v1/projects/10/fields/${cityField}`, { archived: false })).status, 200);
      assert.equal((await call(port, 'PATCH', '/admin/v1/projects/10/statuses/2', { archived: true })).status, 200);
      const ms = await msUntil(async () => {
        const city = (await tel(h.app, 'get_data', { authkey: KEYS.get_data, repository_assign_id: 2190811, out: 'city' })).message[0].city;
        const status = (await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 555, status_id: 2 })).code;
        return city === 'Haifa' && status === 5;
      }, 1);
      assert.ok(ms < WITHIN_MS, `seen after ${ms} ms`);
    });
  });
}
