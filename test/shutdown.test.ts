// Graceful shutdown: on SIGTERM the server stops accepting connections, finishes the requests already in
// flight with their real answers, writes the buffered audit rows, closes the database and exits 0.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { dialects } from './helpers.ts';
import { KEYS, freePort, freshDatabase, seed, startServer } from '../scripts/crash-safety.ts';
import { openDatabase } from '../src/db/connect.ts';

const IN_FLIGHT = 30;

/** Waits for `check` to hold, polling; fails with `what` after `ms`. */
async function until(what: string, check: () => boolean | Promise<boolean>, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A set_status request whose body is sent in two halves: between them it is in flight on the server. */
function halfSent(port: number, body: string): Promise<{ socket: Socket; finish: () => void; answer: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const answer = new Promise<string>((done) => {
      socket.on('data', (c) => chunks.push(c));
      socket.on('close', () => done(Buffer.concat(chunks).toString()));
    });
    socket.on('error', reject);
    socket.on('connect', () => {
      const half = Math.floor(body.length / 2);
      socket.write(
        `POST /api/set_status.php HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: keep-alive\r\n\r\n${body.slice(0, half)}`,
      );
      resolve({ socket, finish: () => socket.write(body.slice(half)), answer });
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

for (const dialect of dialects()) {
  describe(dialect, () => {
    test('SIGTERM drains in-flight set_status requests to success, refuses new connections and exits 0', { timeout: 180_000 }, async () => {
      const db = await freshDatabase(dialect === 'postgres' ? process.env.TEST_DATABASE_URL : undefined);
      const port = await freePort();
      // debug: "incoming request" lines tell when every request has reached its handler.
      const server = await startServer(db.url, port, { LOG_LEVEL: 'debug' });
      try {
        const seeded = await seed(server.base, 1);
        const assignId = seeded.targets[0]!.assignId;

        // An idle kept-alive connection must not hold the shutdown open.
        const idle = await fetch(`${server.base}/healthz`);
        assert.equal(idle.status, 200);

        const incoming = () => server.output().split('\n').filter((l) => l.includes('"incoming request"') && l.includes('set_status')).length;
        const before = incoming();
        const requests = await Promise.all(
          Array.from({ length: IN_FLIGHT }, (_, i) =>
            halfSent(port, new URLSearchParams({ authkey: KEYS.set_status, repository_assign_id: String(assignId), status_id: String(seeded.statusIds[i % 2]), call_id: `drain-${i}`, notes: `in flight ${i}` }).toString()),
          ),
        );
        await until('every request to reach the server', () => incoming() - before === IN_FLIGHT);

        server.child.kill('SIGTERM');
        await until('the shutdown to start', () => server.output().includes('shutting down'));
        await until('the listener to close', async () => !(await canConnect(port)));

        for (const r of requests) r.finish();
        const answers = await Promise.all(requests.map((r) => r.answer));
        for (const a of answers) {
          assert.match(a, /^HTTP\/1\.1 200 /);
          // The answer closes its kept-alive connection: it must not hold the process until its idle timeout.
          assert.match(a, /\r\nconnection: close\r\n/i);
          assert.deepEqual(JSON.parse(a.slice(a.indexOf('\r\n\r\n') + 4)), { code: 0, status: 'success', message: 'Status set successfully' });
        }
        assert.equal(await server.exited, 0, server.output());
      } finally {
        if (server.child.exitCode === null) server.child.kill('SIGKILL');
      }

      // SQLite: both connections were closed (the last close checkpoints the WAL and removes it).
      if (db.url.startsWith('sqlite:')) assert.equal(existsSync(`${db.url.slice('sqlite:'.length)}-wal`), false);
      // Everything the drained requests did is in the database, audit rows included (flushed on close).
      const check = openDatabase(db.url, { poolSize: 1 });
      try {
        const events = await check.q.selectFrom('call_events').select('call_id').where('call_id', 'like', 'drain-%').execute();
        assert.equal(events.length, IN_FLIGHT);
        const audit = await check.q.selectFrom('audit_log').select('code').where('endpoint', '=', 'set_status').execute();
        assert.equal(audit.length, IN_FLIGHT);
        assert.ok(audit.every((r) => r.code === 0));
      } finally {
        await check.close();
      }
      await db.drop();
    });
  });
}
