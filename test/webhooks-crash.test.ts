// A server killed with SIGKILL between a write's commit and its webhook delivery: the event is in the
// outbox with the change, and the next start delivers it. The server runs as a child process, as in
// production (src/server.ts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { ADMIN_TOKEN, KEYS, admin, dialects, seedProject, setup, type Harness } from './helpers.ts';
import { Receiver } from './receiver.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function databaseUrl(h: Harness): string {
  if (!h.pgSchema) return h.databaseUrl;
  const url = new URL(h.databaseUrl);
  url.searchParams.set('options', `-c search_path=${h.pgSchema}`);
  return url.toString();
}

async function startServer(h: Harness, port: number, env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl(h), PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'error', CRM_WORKERS: '1', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) return child;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  child.kill('SIGKILL');
  throw new Error('server did not start');
}

for (const dialect of dialects()) {
  describe(`webhooks across a kill -9 (${dialect})`, () => {
    let h: Harness;
    const rx = new Receiver();
    before(async () => {
      // This in-process app only seeds; its sender polls rarely so the child server does the sending.
      h = await setup(dialect, { CRM_WEBHOOK_POLL_MS: '60000' });
      await seedProject(h.app);
      await rx.start();
    });
    after(async () => {
      await h.close();
      await rx.stop();
    });

    it('an event committed but not yet delivered when the server is killed is delivered after the restart', async () => {
      await admin(h.app, 'POST', '/webhooks', { url: rx.url, events: ['assign.status_changed'] });
      const rxPort = rx.port;
      await rx.stop(); // the receiver is down: the first server cannot deliver
      const port = await freePort();
      const fast = { CRM_WEBHOOK_POLL_MS: '20', CRM_WEBHOOK_RETRY_FIRST_MS: '100', CRM_WEBHOOK_RETRY_MAX_MS: '200', CRM_WEBHOOK_TIMEOUT_MS: '500' };
      const first = await startServer(h, port, fast);
      let answer: { code: number };
      try {
        const res = await fetch(`http://127.0.0.1:${port}/api/set_status.php?authkey=${KEYS.set_status}&repository_assign_id=555&status_id=10`);
        answer = (await res.json()) as { code: number };
      } finally {
        first.kill('SIGKILL');
      }
      assert.equal(answer.code, 0);
      await new Promise<void>((r) => (first.exitCode !== null || first.signalCode !== null ? r() : first.once('exit', () => r())));
      await rx.start(rxPort);
      assert.equal(rx.received.length, 0);
      // The restart: a new server on the same database (in this process, to keep the test short: starting
      // a child costs seconds on a busy machine; the kill -9 above is what matters).
      const second = await buildApp({ config: loadConfig({ DATABASE_URL: h.databaseUrl, CRM_ADMIN_TOKEN: ADMIN_TOKEN, LOG_LEVEL: 'silent', ...fast }), db: h.db, logStream: new Writable({ write: (_c, _e, cb) => cb() }) });
      await second.ready();
      try {
        await rx.waitFor((x) => x.events('assign.status_changed').length >= 1, 10_000);
      } finally {
        await second.close();
      }
      const [e] = rx.events('assign.status_changed');
      assert.equal(e.data.assign_id, 555);
      assert.equal(e.data.new_status_id, 10);
      assert.equal(e.data.status_name, 'Interested');
    });
  });
}
