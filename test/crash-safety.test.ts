// Crash safety on every dialect: the real server, killed with SIGKILL under concurrent write load, keeps
// every write it acknowledged (scripts/crash-safety.ts; that script runs the large version).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dialects } from './helpers.ts';
import { freshDatabase, runCrashSafety } from '../scripts/crash-safety.ts';

for (const dialect of dialects()) {
  describe(dialect, () => {
    test('every write acknowledged before a SIGKILL is in the database after the restart', { timeout: 300_000 }, async () => {
      const db = await freshDatabase(dialect === 'postgres' ? process.env.TEST_DATABASE_URL : undefined);
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
