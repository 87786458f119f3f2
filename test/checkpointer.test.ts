// The server's SQLite WAL checkpointer thread (db/checkpointer.ts): it copies committed frames into the
// database file, so the WAL is restarted instead of growing to the writer's backstop, and a failure of the
// thread loses nothing; closing the database stops it.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import SqliteDatabase from 'better-sqlite3';
import { openDatabase } from '../src/db/connect.ts';
import { BACKSTOP_PAGES, startCheckpointer } from '../src/db/checkpointer.ts';
import { migrateToLatest } from '../src/db/migrate.ts';

/** Writes `n` projects, one committed write each (each commit appends WAL frames). */
async function writeProjects(db: ReturnType<typeof openDatabase>, from: number, n: number) {
  for (let i = from; i < from + n; i++) {
    await db.write((trx) => trx.insertInto('projects').values({ id: i, name: `p${i}`.padEnd(2000, 'x'), created_at: Date.now() }).execute());
  }
}

describe('SQLite WAL checkpointer thread', () => {
  const root = mkdtempSync(join(tmpdir(), 'callcrm-ckpt-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  test('committed frames reach the database file while the server runs, and the WAL is reused instead of growing', async () => {
    const path = join(root, 'on.sqlite');
    const errors: string[] = [];
    const db = openDatabase(`sqlite:${path}`, { backgroundCheckpoint: true, onError: (e) => errors.push(e.message) });
    await migrateToLatest(db.q);
    await writeProjects(db, 1, 300);
    // The thread checkpoints every 100 ms.
    await sleep(500);
    const walBefore = statSync(`${path}-wal`).size;
    // Without checkpoints the WAL would grow by every new frame; with them the writer restarts it from the
    // beginning once everything was copied, so more writes leave its size about where it was.
    await writeProjects(db, 1000, 300);
    await sleep(500);
    await writeProjects(db, 2000, 300);
    const walAfter = statSync(`${path}-wal`).size;
    assert.ok(walAfter <= walBefore * 1.5 + 4096 * 50, `WAL grew from ${walBefore} to ${walAfter} bytes: nothing was checkpointed`);
    assert.deepEqual(errors, []);
    assert.equal((await db.q.selectFrom('projects').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n, 900);
    await db.close();
  });

  test('without the thread (the CLI, tests) the writer checkpoints by itself at SQLite default; with it the backstop is raised', async () => {
    const path = join(root, 'pragma.sqlite');
    const plain = openDatabase(`sqlite:${path}`);
    await migrateToLatest(plain.q);
    await plain.close();
    const raw = new SqliteDatabase(path);
    assert.equal(raw.pragma('wal_autocheckpoint', { simple: true }), 1000);
    raw.close();
    assert.ok(BACKSTOP_PAGES > 1000);
  });

  test('close() stops the thread: the process has no extra thread left and the database closes cleanly', async () => {
    const path = join(root, 'close.sqlite');
    const db = openDatabase(`sqlite:${path}`, { backgroundCheckpoint: true });
    await migrateToLatest(db.q);
    await writeProjects(db, 1, 20);
    const started = performance.now();
    await db.close();
    assert.ok(performance.now() - started < 2000, 'close() waited for the thread too long');
    // Everything is in the file after close (the writer checkpoints last): a fresh connection reads it.
    const raw = new SqliteDatabase(path, { readonly: true });
    assert.equal((raw.prepare('select count(*) as n from projects').get() as { n: number }).n, 20);
    raw.close();
  });

  test('a thread that fails hands checkpoints back to the writer (SQLite default 1,000 pages) and says so once', async () => {
    const path = join(root, 'fallback.sqlite');
    const writer = new SqliteDatabase(path);
    writer.pragma('journal_mode = WAL');
    const messages: string[] = [];
    // The thread cannot open its database (a directory that does not exist): it fails at start.
    const c = startCheckpointer(writer, join(root, 'missing', 'nowhere.sqlite'), true, (m) => messages.push(m));
    for (let i = 0; i < 50 && messages.length === 0; i++) await sleep(100);
    assert.equal(messages.length, 1, messages.join(' | '));
    assert.match(messages[0]!, /writer checkpoints by itself again/);
    assert.equal(writer.pragma('wal_autocheckpoint', { simple: true }), 1000);
    await c.stop();
    writer.close();
  });
});
