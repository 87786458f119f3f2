// A database outage, through a real listening server: /readyz says so, the telephony API answers its
// failure codes (never a hang, never a 500), the admin API answers 503, and all of it recovers by itself
// when the database is back. PostgreSQL is reached through a small TCP proxy that the test cuts
// (existing connections dropped, new ones refused: the database is down) and restores.
import { describe, test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import pg from 'pg';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { openDatabase, type Db } from '../src/db/connect.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { ADMIN_TOKEN, KEYS, dialects, seedProject, setup, type Harness } from './helpers.ts';

/** Only a hang guard: the answers are expected in milliseconds (refused connections fail at once). */
const HANG_GUARD_MS = 10_000;

/** A TCP proxy to the real PostgreSQL that can be cut (drop every connection, refuse new ones) and restored. */
class CuttableProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** Accept connections but forward nothing: a database host that answers TCP and then nothing. */
  private silent = false;
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<void> {
    const server = createServer((downstream) => {
      if (this.silent) {
        this.sockets.add(downstream.on('error', () => undefined).on('close', () => this.sockets.delete(downstream)));
        return;
      }
      const upstream = connect(this.target.port, this.target.host);
      for (const s of [downstream, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      downstream.pipe(upstream).pipe(downstream);
      downstream.on('close', () => upstream.destroy());
      upstream.on('close', () => downstream.destroy());
    });
    // The same port on restore: the app's pool keeps the URL it was given.
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(this.port, '127.0.0.1', () => resolve()));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    this.silent = false;
  }

  /** A partition: every open connection stays open and carries nothing, in either direction. */
  freeze(): void {
    for (const s of this.sockets) s.pause();
  }

  thaw(): void {
    for (const s of this.sockets) s.resume();
  }

  /** The database stops answering: pooled connections die, new ones are accepted and never answered. */
  silence(): void {
    this.silent = true;
    for (const s of this.sockets) s.destroy();
  }

  /** The database "goes down": pooled connections die mid-whatever, new connections are refused. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Back to normal from any state: frozen connections carry data again, silent ones are dropped. */
  async ensureUp(): Promise<void> {
    this.thaw();
    if (this.silent) await this.cut();
    if (!this.server) await this.start();
  }

  async stop(): Promise<void> {
    await this.cut();
  }
}

interface Outage {
  app: FastifyInstance;
  db: Db;
  logs: string[];
  base: string;
  proxy: CuttableProxy;
  close(): Promise<void>;
}

/** A fresh migrated PostgreSQL schema, an app whose pool reaches it only through the proxy, listening. */
async function outageSetup(): Promise<Outage> {
  const direct = new URL(process.env.TEST_DATABASE_URL!);
  const proxy = new CuttableProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
  await proxy.start();
  const viaProxy = new URL(direct);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(proxy.port);

  const schema = `o_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const adminClient = new pg.Client({ connectionString: direct.toString() });
  await adminClient.connect();
  await adminClient.query(`create schema ${schema}`);

  const config = loadConfig({ DATABASE_URL: viaProxy.toString(), CRM_ADMIN_TOKEN: ADMIN_TOKEN, LOG_LEVEL: 'info' });
  const logs: string[] = [];
  const db = openDatabase(config.databaseUrl, { poolSize: 5, schema, onError: (err) => logs.push(`pool: ${err.message}`) });
  await migrateToLatest(db.q);
  const app = await buildApp({
    config,
    db,
    logStream: new Writable({
      write(chunk, _enc, cb) {
        logs.push(String(chunk));
        cb();
      },
    }),
  });
  await seedProject(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    app,
    db,
    logs,
    proxy,
    base: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    async close() {
      await app.close();
      await db.close().catch(() => undefined);
      await proxy.stop();
      await adminClient.query(`drop schema if exists ${schema} cascade`);
      await adminClient.end();
    },
  };
}

/** GET with a hang guard; answers the HTTP status and the parsed JSON body. */
async function get(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(HANG_GUARD_MS) });
  return { http: res.status, body: (await res.json()) as any };
}

async function post(url: string, body: unknown) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(HANG_GUARD_MS),
  });
  return { http: res.status, body: (await res.json()) as any };
}

function telUrl(base: string, endpoint: keyof typeof KEYS, params: Record<string, string | number>) {
  const qs = new URLSearchParams(Object.entries({ authkey: KEYS[endpoint], ...params }).map(([k, v]) => [k, String(v)]));
  return `${base}/api/${endpoint}.php?${qs}`;
}

const adminAuth = { authorization: `Bearer ${ADMIN_TOKEN}` };

for (const dialect of dialects()) {
  describe(dialect, () => {
    test('/readyz answers 200 and names the database while it is reachable', async () => {
      const h: Harness = await setup(dialect);
      try {
        const res = await h.app.inject({ method: 'GET', url: '/readyz' });
        assert.equal(res.statusCode, 200);
        assert.deepEqual(res.json(), { status: 'ok', database: dialect });
      } finally {
        await h.close();
      }
    });

    if (dialect !== 'postgres') return;

    describe('while PostgreSQL is unreachable', () => {
      let o: Outage;
      before(async () => {
        o = await outageSetup();
      });
      after(() => o.close());
      // A failed assertion must not leave the database down for the tests after it.
      afterEach(() => o.proxy.ensureUp());

      test('before the outage every surface answers normally', async () => {
        assert.equal((await get(`${o.base}/readyz`)).http, 200);
        const g = await get(telUrl(o.base, 'get_data', { repository_assign_id: 2190811, out: 'first_name' }));
        assert.deepEqual(g.body, { code: 0, status: 'success', message: [{ uid: '123', first_name: 'John' }] });
        assert.equal((await get(`${o.base}/admin/v1/projects/10`, adminAuth)).http, 200);
      });

      test('during the outage: readyz 503, get_data 7, set_status and set_data 5, admin 503, healthz still 200', async () => {
        await o.proxy.cut();
        const logStart = o.logs.length;

        const ready = await get(`${o.base}/readyz`);
        assert.deepEqual([ready.http, ready.body], [503, { status: 'unavailable', database: 'postgres', reason: 'unreachable' }]);
        assert.equal((await get(`${o.base}/healthz`)).http, 200, 'the process itself is up');

        const byAssign = await get(telUrl(o.base, 'get_data', { repository_assign_id: 2190811, out: 'first_name' }));
        assert.deepEqual([byAssign.http, byAssign.body], [200, { code: 7, status: 'fail', message: 'Database exception' }]);
        const byPhone = await get(telUrl(o.base, 'get_data', { phone: '0500000000', did: '07333333333', project_id: 10, out: 'first_name' }));
        assert.deepEqual([byPhone.http, byPhone.body], [200, { code: 7, status: 'fail', message: 'Database exception' }]);

        const status = await get(telUrl(o.base, 'set_status', { repository_assign_id: 2190811, status_id: 10 }));
        assert.deepEqual([status.http, status.body], [200, { code: 5, status: 'fail', message: 'Failed to set status' }]);
        const data = await get(telUrl(o.base, 'set_data', { repository_assign_id: 2190811, city: 'Eilat' }));
        assert.deepEqual([data.http, data.body], [200, { code: 5, status: 'fail', message: 'Update failed' }]);
        const dataByPhone = await get(telUrl(o.base, 'set_data', { phone: '0500000000', did: '07333333333', project_id: 10, city: 'Eilat' }));
        assert.deepEqual([dataByPhone.http, dataByPhone.body], [200, { code: 5, status: 'fail', message: 'Update failed' }]);

        const read = await get(`${o.base}/admin/v1/projects/10`, adminAuth);
        assert.deepEqual([read.http, read.body.error.code], [503, 'database_unavailable']);
        const write = await post(`${o.base}/admin/v1/projects/10/customers`, { fields: { first_name: 'Lost' } });
        assert.deepEqual([write.http, write.body.error.code], [503, 'database_unavailable']);
        assert.doesNotMatch(JSON.stringify([read.body, write.body]), /ECONNREFUSED|terminated|127\.0\.0\.1/, 'no internals in answers');

        // The detail went to the log instead.
        assert.match(o.logs.slice(logStart).join(''), /ECONNREFUSED|Connection terminated/);
      });

      test('after the outage everything recovers without a restart, and nothing refused was written', async () => {
        await o.proxy.ensureUp();
        assert.deepEqual((await get(`${o.base}/readyz`)).body, { status: 'ok', database: 'postgres' });

        const status = await get(telUrl(o.base, 'set_status', { repository_assign_id: 2190811, status_id: 2 }));
        assert.deepEqual(status.body, { code: 0, status: 'success', message: 'Status set successfully' });
        const data = await get(telUrl(o.base, 'set_data', { repository_assign_id: 2190811, last_name: 'Back' }));
        assert.equal(data.body.code, 0);
        const g = await get(telUrl(o.base, 'get_data', { phone: '0500000000', did: '07333333333', project_id: 10, out: 'repository_assign_id,last_name,city,last_status_id' }));
        assert.equal(g.body.code, 0);
        const row = (g.body.message as any[]).find((r) => r.repository_assign_id === '2190811');
        // city 'Eilat' was refused during the outage; status 10 too. Only the later writes are there.
        assert.deepEqual(row, { uid: '123', repository_assign_id: '2190811', last_name: 'Back', city: null, last_status_id: '2' });

        const created = await post(`${o.base}/admin/v1/projects/10/customers`, { fields: { first_name: 'Found' } });
        assert.equal(created.http, 201);
        const lost = await o.db.q.selectFrom('customers').select('id').where('data', 'like', '%Lost%').execute();
        assert.deepEqual(lost, []);
      });

      test('a database that accepts connections and never answers still gets a failure answer, bounded by the connect timeout', async () => {
        o.proxy.silence();
        const g = await get(telUrl(o.base, 'get_data', { repository_assign_id: 2190811, out: 'first_name' }));
        assert.deepEqual(g.body, { code: 7, status: 'fail', message: 'Database exception' });
        const ready = await get(`${o.base}/readyz`);
        assert.equal(ready.http, 503);
        const read = await get(`${o.base}/admin/v1/projects/10`, adminAuth);
        assert.deepEqual([read.http, read.body.error.code], [503, 'database_unavailable']);
        await o.proxy.ensureUp();
        assert.equal((await get(`${o.base}/readyz`)).http, 200);
      });

      test('/readyz answers 503 even when its pooled connection silently stops carrying data (a partition)', async () => {
        // Warm the pool so the ping is handed an existing, idle connection; then freeze every connection.
        assert.equal((await get(`${o.base}/readyz`)).http, 200);
        o.proxy.freeze();
        const ready = await get(`${o.base}/readyz`);
        assert.deepEqual([ready.http, ready.body], [503, { status: 'unavailable', database: 'postgres', reason: 'unreachable' }]);
        // The partition heals: the stuck connection was discarded, the others carry data again.
        o.proxy.thaw();
        assert.equal((await get(`${o.base}/readyz`)).http, 200);
      });

      test('a cut in the middle of a burst of writes answers each one with success or its failure code, never a 500 or a hang', async () => {
        // 60 dispositions, 6 in flight at a time; the database goes down once 12 have been answered, so
        // the cut lands on requests in every stage (waiting for a connection, mid-transaction, committing).
        const statuses = [10, 2];
        const answers: { http: number; body: any }[] = new Array(60);
        let answered = 0;
        let next = 0;
        let cutting: Promise<void> | undefined;
        await Promise.all(
          Array.from({ length: 6 }, async () => {
            while (next < answers.length) {
              const i = next++;
              answers[i] = await get(telUrl(o.base, 'set_status', { repository_assign_id: 555, status_id: statuses[i % 2]!, notes: `burst ${i}` }));
              if (++answered === 12) cutting = o.proxy.cut();
            }
          }),
        );
        await cutting;
        await o.proxy.ensureUp();
        for (const a of answers) {
          assert.equal(a.http, 200);
          assert.ok(
            (a.body.code === 0 && a.body.message === 'Status set successfully') || (a.body.code === 5 && a.body.message === 'Failed to set status'),
            JSON.stringify(a.body),
          );
        }
        assert.ok(answers.some((a) => a.body.code === 0) && answers.some((a) => a.body.code === 5), 'the cut fell inside the burst');
        // Every acknowledged disposition is on disk. (A failure answer may still have committed: the
        // connection can die after COMMIT reached the server and before its answer came back.)
        const events = await o.db.q.selectFrom('call_events').select('notes').where('assign_id', '=', 555).where('notes', 'like', 'burst %').execute();
        const acknowledged = answers.flatMap((a, i) => (a.body.code === 0 ? [`burst ${i}`] : []));
        const stored = new Set(events.map((e) => e.notes));
        for (const n of acknowledged) assert.ok(stored.has(n), `${n} was acknowledged and is stored`);
        assert.equal((await get(`${o.base}/readyz`)).http, 200);
      });
    });
  });
}
