// Webhook benchmark (short; run: npx tsx bench/webhooks.ts [seconds per phase, default 3] [ABBA rounds, default 2]).
// 1. set_status throughput with and without a subscribed webhook, in ABBA phases on one server
//    (a child process, SQLite, durable; PostgreSQL in a fresh database when BENCH_DATABASE_URL names a
//    server), the receiver answering 204 in this process.
// 2. Delivery throughput: a backlog of outbox rows delivered to the local receiver, events/s.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { createBenchDatabase } from './postgres.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SECONDS = Number(process.argv[2] ?? 3);
// ABBA rounds (argv[3], default 2): phases of one run vary by ±20 % on this machine (fsync times).
const ROUNDS = Number(process.argv[3] ?? 2);
const TOKEN = 'bench-admin-token';
const PORT = 18000 + Math.floor(Math.random() * 1000);
const BASE = `http://127.0.0.1:${PORT}`;
// Enough assigns that a run changes each one a few dozen times, not hundreds (a real assign has a handful
// of dispositions; hundreds per assign slowed every phase of a run down as its history grew).
const ASSIGNS = 20_000;
const SEPARATE = process.env.BENCH_SEPARATE_SENDER === '1';
// BENCH_NO_SENDER=1: no process sends; the 'with' phases then cost only the outbox rows of the writes.
const NO_SENDER = process.env.BENCH_NO_SENDER === '1';
// BENCH_DATABASE_URL=postgres://…: the same on PostgreSQL (a database created for the run, dropped after);
// the CPU per set_status then includes the server's database backends.
const PG_SERVER = process.env.BENCH_DATABASE_URL;
// BENCH_CONNECTIONS (default 16): 1 measures a set_status's latency rather than the server's throughput.
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);

/** What the benchmark reads and writes in the server's database itself. */
interface Outbox {
  /** Deliveries not yet sent, and events not yet fanned out into deliveries. */
  pending(): Promise<number>;
  queueDeliveries(webhookId: number, count: number): Promise<void>;
  close(): Promise<void>;
}

const DELIVERY = "insert into webhook_deliveries (webhook_id, event_id, type, project_id, data, at, status, attempts, next_attempt_at, pending_since, created_at) values ($1, $2, 'call.recorded', 1, $3, $4, 'pending', 0, $4, $4, $4)";
const deliveryData = (i: number) => JSON.stringify({ assign_id: 1000 + (i % ASSIGNS), call_event_id: i });

function sqliteOutbox(file: string): Outbox {
  const db = new SqliteDatabase(file);
  db.pragma('busy_timeout = 10000');
  return {
    // A row holds the events of one group-commit batch; one webhook, so one delivery per event.
    pending: async () =>
      (db.prepare("select count(*) as n from webhook_deliveries where status = 'pending'").get() as { n: number }).n +
      (db.prepare('select coalesce(sum(json_array_length(events)), 0) as n from webhook_events').get() as { n: number }).n,
    async queueDeliveries(webhookId, count) {
      const insert = db.prepare(DELIVERY.replace(/\$\d/g, '?'));
      const now = Date.now();
      db.transaction(() => {
        for (let i = 0; i < count; i++) insert.run(webhookId, `bench-${i}`, deliveryData(i), now, now, now, now);
      })();
    },
    close: async () => void db.close(),
  };
}

function postgresOutbox(url: string): Outbox {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  return {
    async pending() {
      const { rows } = await pool.query<{ n: string }>(
        "select (select count(*) from webhook_deliveries where status = 'pending') + (select coalesce(sum(json_array_length(events::json)), 0) from webhook_events) as n",
      );
      return Number(rows[0]!.n);
    },
    async queueDeliveries(webhookId, count) {
      const now = Date.now();
      await pool.query('begin');
      for (let i = 0; i < count; i++) await pool.query(DELIVERY, [webhookId, `bench-${i}`, deliveryData(i), now]);
      await pool.query('commit');
    },
    close: () => pool.end(),
  };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'callcrm-bench-webhooks-'));
  const file = join(dir, 'crm.sqlite');
  const pgDatabase = PG_SERVER ? await createBenchDatabase(PG_SERVER) : undefined;
  const databaseUrl = pgDatabase ? pgDatabase.url : `sqlite:${file}`;
  // The receiver is its own process, so its work does not slow this one's load generator.
  const RECEIVER = `const http = require('node:http'); let n = 0;
    const s = http.createServer((req, res) => { if (req.method === 'GET') { res.end(String(n)); return; } req.resume(); req.on('end', () => { n++; res.writeHead(204).end(); }); });
    s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;
  const rxProc = spawn(process.execPath, ['-e', RECEIVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const rxPort = await new Promise<number>((resolve) => rxProc.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim()))));
  const rxUrl = `http://127.0.0.1:${rxPort}/hook`;
  const receivedCount = async () => Number(await (await fetch(`http://127.0.0.1:${rxPort}/count`)).text());
  const server = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(PORT), CRM_ADMIN_TOKEN: TOKEN, LOG_LEVEL: 'error', CRM_WEBHOOK_POLL_MS: process.env.BENCH_WEBHOOK_POLL_MS ?? '1000', CRM_WEBHOOK_SENDER: String(!SEPARATE && !NO_SENDER) },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  // BENCH_SEPARATE_SENDER=1: the API process does not send; a second server process on the database does.
  const sender = SEPARATE
    ? spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(PORT + 1), CRM_ADMIN_TOKEN: TOKEN, LOG_LEVEL: 'error', CRM_WEBHOOK_POLL_MS: process.env.BENCH_WEBHOOK_POLL_MS ?? '1000' },
        stdio: ['ignore', 'inherit', 'inherit'],
      })
    : undefined;
  let outbox: Outbox | undefined;
  try {
    for (let i = 0; i < 300; i++) {
      try {
        if ((await fetch(`${BASE}/readyz`)).ok) break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const api = async (method: string, path: string, body?: unknown, type = 'application/json') => {
      const res = await fetch(`${BASE}/admin/v1${path}`, { method, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': type }, body: typeof body === 'string' ? body : JSON.stringify(body) });
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return res.json() as Promise<any>;
    };
    await api('POST', '/projects', { id: 1, name: 'Bench' });
    await api('POST', '/projects/1/fields', { display_name: 'first_name' });
    await api('POST', '/projects/1/fields', { display_name: 'phone', type: 'phone' });
    for (const id of [1, 2]) await api('POST', '/projects/1/statuses', { id, name: `S${id}` });
    await api('POST', '/projects/1/repositories', { id: 1, name: 'Leads' });
    const csv = 'repository_assign_id,first_name,phone\n' + Array.from({ length: ASSIGNS }, (_, i) => `${1000 + i},N${i},05${String(20000000 + i)}`).join('\n') + '\n';
    await api('POST', '/projects/1/import?repository_id=1', csv, 'text/csv');
    const hook = await api('POST', '/webhooks', { url: rxUrl, events: ['assign.status_changed', 'call.recorded'] });

    // CPU seconds a process has used (Linux /proc: utime + stime, in clock ticks of 1/100 s).
    const cpu = (pid: number | undefined) => {
      if (pid === undefined) return 0;
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100;
    };
    // PostgreSQL: the backends serving this database work for the set_status too. Those of a phase are
    // the ones connected at its end (the server's pool stays connected); a backend gone meanwhile is lost.
    const backendsCpu = async () => {
      if (!pgDatabase) return 0;
      let sum = 0;
      for (const pid of await pgDatabase.backendPids()) {
        try {
          sum += cpu(pid);
        } catch {
          // ended between the listing and the read
        }
      }
      return sum;
    };
    let n = 0;
    let failedAnswers = 0;
    const load = async () => {
      const result = await autocannon({
        url: BASE,
        connections: CONNECTIONS,
        duration: SECONDS,
        requests: [
          {
            onResponse: (status: number, body: string) => {
              if (status !== 200 || !body.includes('"code":0')) {
                failedAnswers++;
                if (failedAnswers === 1) console.error(`a set_status did not succeed: ${status} ${body.slice(0, 200)}`);
              }
            },
            setupRequest: (req) => {
              n++;
              // Each pass over the assigns flips their status, so every set_status changes it: two events
              // (assign.status_changed and call.recorded), as a real disposition has.
              return { ...req, method: 'GET', path: `/api/set_status.php?authkey=Mindc_2023_set_status&repository_assign_id=${1000 + (n % ASSIGNS)}&status_id=${1 + (Math.floor(n / ASSIGNS) % 2)}` };
            },
          },
        ],
      });
      return result;
    };
    // Per phase: throughput, and the CPU the API process spent per set_status (what the outbox adds to
    // the request path) and the separate sender's CPU per set_status (BENCH_SEPARATE_SENDER=1).
    outbox = pgDatabase ? postgresOutbox(pgDatabase.url) : sqliteOutbox(file);
    const pending = () => outbox!.pending();
    // After a phase with the webhook: what the load left waiting (held while the loop was saturated:
    // webhooks/pace.ts) and how long it takes to send once the load stops. Every phase starts with an
    // empty outbox, so no phase pays for the one before.
    const drain = async () => {
      const t0 = performance.now();
      const backlog = await pending();
      for (let i = 0; i < 1200 && (await pending()) > 0; i++) await new Promise((r) => setTimeout(r, 100));
      return { backlog, seconds: (performance.now() - t0) / 1000, left: await pending() };
    };
    await load(); // warm-up: the first seconds of a fresh process are slower (JIT, caches)
    if (!NO_SENDER) await drain();
    const rows: { phase: string; rps: number; apiUs: number; senderUs: number; delivered: number; drained?: Awaited<ReturnType<typeof drain>> }[] = [];
    // ABBA: the database grows during the run (every set_status adds a call event, history and audit
    // rows), so later phases are slower; without-with-with-without cancels that drift from the comparison.
    for (const enabled of Array.from({ length: ROUNDS }, () => [false, true, true, false]).flat()) {
      await api('PATCH', `/webhooks/${hook.id}`, { disabled: !enabled });
      const [api0, snd0, rx0] = [cpu(server.pid) + (await backendsCpu()), cpu(sender?.pid), await receivedCount()];
      const result = await load();
      const done = result.requests.total;
      const api1 = cpu(server.pid) + (await backendsCpu());
      rows.push({ phase: enabled ? 'with webhook' : 'without', rps: result.requests.average, apiUs: ((api1 - api0) / done) * 1e6, senderUs: ((cpu(sender?.pid) - snd0) / done) * 1e6, delivered: (await receivedCount()) - rx0 });
      if (enabled && !NO_SENDER) rows.at(-1)!.drained = await drain();
    }
    if (failedAnswers > 0) console.log(`WARNING: ${failedAnswers} set_status answers were not code 0: the figures above do not measure successful writes`);
    const avg = (p: string, k: 'rps' | 'apiUs' | 'senderUs') => rows.filter((r) => r.phase === p).reduce((a, r) => a + r[k], 0) / (2 * ROUNDS);
    const pct = (k: 'rps' | 'apiUs') => `${((avg('with webhook', k) / avg('without', k) - 1) * 100).toFixed(1)}%`;
    console.log(
      rows
        .map(
          (r) =>
            `${r.phase}: ${r.rps.toFixed(0)} set_status/s, API process${pgDatabase ? ' and its backends' : ''} ${r.apiUs.toFixed(0)} µs CPU/set_status${SEPARATE ? `, sender process ${r.senderUs.toFixed(0)} µs` : ''}, ${(r.delivered / SECONDS).toFixed(0)} events/s delivered during the load` +
            (r.drained ? `; ${r.drained.backlog} events waiting when it stopped, all sent ${r.drained.seconds.toFixed(1)} s later${r.drained.left > 0 ? ` (NOT: ${r.drained.left} still waiting)` : ''}` : ''),
        )
        .join('\n'),
    );
    console.log(`set_status/s without ${avg('without', 'rps').toFixed(0)}, with ${avg('with webhook', 'rps').toFixed(0)} (${pct('rps')})`);
    console.log(`API process${pgDatabase ? ' and backends' : ''} CPU per set_status without ${avg('without', 'apiUs').toFixed(0)} µs, with ${avg('with webhook', 'apiUs').toFixed(0)} µs (${pct('apiUs')})${SEPARATE ? `; sender process ${avg('with webhook', 'senderUs').toFixed(0)} µs per set_status` : ''}`);

    // Delivery throughput: a backlog queued at once, timed until the receiver has it all.
    if (NO_SENDER) return;
    await api('PATCH', `/webhooks/${hook.id}`, { disabled: false });
    const BACKLOG = 5000;
    const start0 = await receivedCount();
    await outbox.queueDeliveries(hook.id, BACKLOG);
    // Timed from the first event received: the sender finds the backlog at its next poll (up to
    // CRM_WEBHOOK_POLL_MS, 1 s by default, the server's default), which is not delivery speed.
    const queued = performance.now();
    while ((await receivedCount()) === start0 && performance.now() - queued < 10_000) await new Promise((r) => setTimeout(r, 5));
    const t0 = performance.now();
    let got = 0;
    while (got < BACKLOG && performance.now() - t0 < 120_000) {
      await new Promise((r) => setTimeout(r, 50));
      got = (await receivedCount()) - start0;
    }
    const secs = (performance.now() - t0) / 1000;
    console.log(`delivered ${got} queued events in ${secs.toFixed(2)} s: ${(got / secs).toFixed(0)} events/s (CRM_WEBHOOK_CONCURRENCY default 8)`);
  } finally {
    await outbox?.close();
    server.kill('SIGTERM');
    sender?.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    rxProc.kill();
    rmSync(dir, { recursive: true, force: true });
    await pgDatabase?.drop();
  }
}

await main();
