// Personal data on disk (operations.md "Files on disk"): the SQLite directory is 0700 and its files 0600,
// and start-up warns about an existing database others can read. /readyz reports not-ready while the
// database refuses writes, not only while it is unreachable (issue 10, items 8 and 10).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pg from 'pg';
import { sql } from 'kysely';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/connect.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { dialects, setup, seedProject, tel, KEYS, ADMIN_TOKEN } from './helpers.ts';

const modeOf = (p: string) => statSync(p).mode & 0o777;

describe('SQLite files', () => {
  const root = mkdtempSync(join(tmpdir(), 'callcrm-files-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  test('a new database gets a 0700 directory and 0600 database, -wal and -shm files, whatever the umask', async () => {
    const old = process.umask(0o022);
    try {
      const path = join(root, 'data', 'crm.sqlite');
      const db = openDatabase(`sqlite:${path}`);
      await migrateToLatest(db.q);
      await db.write((trx) => trx.insertInto('projects').values({ id: 1, name: 'p', created_at: Date.now() }).execute());
      assert.equal(modeOf(join(root, 'data')).toString(8), '700');
      for (const f of [path, `${path}-wal`, `${path}-shm`]) assert.equal(modeOf(f).toString(8), '600', f);
      await db.close();
    } finally {
      process.umask(old);
    }
  });

  test('start-up warns when an existing database is readable by other users, and not when it is not', async () => {
    const path = join(root, 'data', 'crm.sqlite');
    const start = async () => {
      const logs: string[] = [];
      const config = loadConfig({ DATABASE_URL: `sqlite:${path}`, CRM_ADMIN_TOKEN: ADMIN_TOKEN });
      const db = openDatabase(config.databaseUrl);
      const app = await buildApp({ config, db, logStream: new Writable({ write: (c, _e, cb) => (logs.push(String(c)), cb()) }) });
      await app.close();
      await db.close();
      return logs.filter((l) => /readable by other users/.test(l));
    };
    assert.deepEqual(await start(), []);
    chmodSync(path, 0o644);
    const warned = await start();
    assert.equal(warned.length, 1);
    const line = JSON.parse(warned[0]!);
    assert.equal(line.level, 40);
    assert.match(line.msg, /readable by other users: .*crm\.sqlite \(mode 0644\).*chmod 600/);
    assert.equal(modeOf(path).toString(8), '644', 'an existing file is not re-moded behind the operator');
  });
});

for (const dialect of dialects()) {
  describe(`${dialect}: /readyz`, () => {
    test('answers 503 "read_only" while the database refuses writes, and 200 again once it takes them', async () => {
      const h = await setup(dialect);
      const cleanups: (() => Promise<void>)[] = [];
      try {
        await seedProject(h.app);
        assert.equal((await h.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
        let app = h.app;
        if (dialect === 'sqlite') {
          // The writer connection refuses every write from now on, as a read-only file or disk would.
          await sql`pragma query_only = 1`.execute(h.db.q);
          cleanups.push(async () => void (await sql`pragma query_only = 0`.execute(h.db.q)));
        } else {
          // A server whose sessions are read-only (a standby, default_transaction_read_only): a role of its own.
          const role = `ro_${h.pgSchema}`;
          const admin = new pg.Client({ connectionString: h.databaseUrl });
          await admin.connect();
          await admin.query(`create role ${role} login superuser`);
          await admin.query(`alter role ${role} set default_transaction_read_only = on`);
          const url = new URL(h.databaseUrl);
          url.username = role;
          const db = openDatabase(url.toString(), { schema: h.pgSchema, poolSize: 2 });
          app = await buildApp({ config: h.config, db, logStream: new Writable({ write: (_c, _e, cb) => cb() }) });
          cleanups.push(async () => {
            await app.close();
            await db.close();
            await admin.query(`drop role ${role}`);
            await admin.end();
          });
        }
        const res = await app.inject({ method: 'GET', url: '/readyz' });
        assert.equal(res.statusCode, 503, res.body);
        assert.deepEqual(res.json(), { status: 'unavailable', database: dialect, reason: 'read_only' });
        // What the load balancer is told is true: writes fail.
        assert.equal((await tel(app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 2190811, status_id: 10 })).code, 5);
        for (const c of cleanups.splice(0)) await c();
        assert.equal((await h.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
      } finally {
        for (const c of cleanups) await c().catch(() => undefined);
        await h.close();
      }
    });
  });
}
