// Crash safety on every dialect: the real server, killed with SIGKILL under concurrent write load, keeps
// every write it acknowledged (scripts/crash-safety.ts; that script runs the large version).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { dialects } from './helpers.ts';
import { runCrashSafety, withSearchPath } from '../scripts/crash-safety.ts';

/** A fresh database for a server process: a temp SQLite file, or a PostgreSQL schema named in the URL. */
async function freshDatabase(dialect: string): Promise<{ url: string; drop: () => Promise<void> }> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'callcrm-crash-'));
    return { url: `sqlite:${join(dir, 'crm.sqlite')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const base = process.env.TEST_DATABASE_URL!;
  const schema = `crash_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const run = async (sql: string) => {
    const c = new pg.Client({ connectionString: base });
    await c.connect();
    await c.query(sql);
    await c.end();
  };
  await run(`create schema ${schema}`);
  return { url: withSearchPath(base, schema), drop: () => run(`drop schema ${schema} cascade`) };
}

for (const dialect of dialects()) {
  describe(dialect, () => {
    test('every write acknowledged before a SIGKILL is in the database after the restart', { timeout: 300_000 }, async () => {
      const db = await freshDatabase(dialect);
      try {
        const r = await runCrashSafety({ databaseUrl: db.url, clients: 16, killAfter: 250 });
        assert.ok(r.acknowledged >= 250);
        assert.deepEqual(r.missing, []);
        assert.equal(r.finalExitCode, 0);
      } finally {
        await db.drop();
      }
    });
  });
}
