// Crash safety: an acknowledged write survives the process being killed.
//
// Starts the real server as a child process (node --import tsx src/server.ts) on a database, seeds a project
// through the admin API, runs write load (set_data and set_status with call_id, many concurrent clients),
// records every request answered with success, kills the server with SIGKILL mid-load, restarts it, and
// checks in the database that every acknowledged write is there:
//   - each acknowledged set_data wrote a unique value v<n> to the `note` field of its client's customer:
//     a history row with that new value exists, and the field holds v<m> with m ≥ the client's last
//     acknowledged n (each client writes in sequence, so nothing older may win);
//   - each acknowledged set_status call_id s<n> has its call event.
//
//   node --import tsx scripts/crash-safety.ts [--database-url sqlite:/tmp/x.sqlite | postgres://…]
//        [--clients 50] [--kill-after 5000] [--rounds 3]
//
// A SIGKILL loses the process, not the machine: it proves a write is acknowledged only after its commit.
// Surviving power loss rests on the fsync settings (SQLite synchronous=FULL, PostgreSQL
// synchronous_commit=on) that CRM_DURABLE=true (the default) selects.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openDatabase } from '../src/db/connect.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const ADMIN_TOKEN = 'crash-safety-admin-token';
export const KEYS = { set_data: 'crash-set-data-key', set_status: 'crash-set-status-key' };

export interface CrashOptions {
  /** sqlite:<path> or postgres://… (a fresh database or schema; see withSearchPath). */
  databaseUrl: string;
  /** Concurrent writing clients, one customer each. */
  clients: number;
  /** SIGKILL once this many writes were acknowledged in the round. */
  killAfter: number;
  /** Kill-and-restart rounds; each round's acknowledged writes are checked after its restart. */
  rounds?: number;
  log?: (line: string) => void;
}

export interface CrashResult {
  rounds: number;
  /** Writes answered with success, over all rounds. */
  acknowledged: number;
  /** Requests that got no answer because the server died under them. */
  unanswered: number;
  /** Acknowledged writes not found after the restart (must be empty). */
  missing: string[];
  /** The restarted server's exit code on SIGTERM (must be 0). */
  finalExitCode: number | null;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export interface ServerProcess {
  child: ChildProcess;
  base: string;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts src/server.ts as a child process and waits until /healthz answers. */
export async function startServer(databaseUrl: string, port: number, extraEnv: Record<string, string> = {}): Promise<ServerProcess> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    HOST: '127.0.0.1',
    CRM_ADMIN_TOKEN: ADMIN_TOKEN,
    CRM_AUTHKEY_SET_DATA: KEYS.set_data,
    CRM_AUTHKEY_SET_STATUS: KEYS.set_status,
    CRM_AUTH_FAIL_LIMIT: '0',
    CRM_WORKERS: '1',
    LOG_LEVEL: 'warn',
    ...extraEnv,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const base = `http://127.0.0.1:${port}`;
  let dead = false;
  void exited.then(() => (dead = true));
  for (let i = 0; ; i++) {
    if (dead) throw new Error(`the server exited during start-up:\n${out}`);
    try {
      const res = await fetch(`${base}/healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (i > 600) {
      child.kill('SIGKILL');
      throw new Error(`the server did not start within 60 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, base, output: () => out, exited };
}

async function adminPost(base: string, path: string, body: unknown): Promise<{ id: number }> {
  const res = await fetch(`${base}/admin/v1${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: number };
}

export interface Seeded {
  projectId: number;
  statusIds: number[];
  /** Per client: its customer and assign. */
  targets: { customerId: number; assignId: number }[];
}

/** A project with a `note` field, two statuses and one customer with an assign per client. */
export async function seed(base: string, clients: number): Promise<Seeded> {
  const project = await adminPost(base, '/projects', { name: 'Crash safety' });
  await adminPost(base, `/projects/${project.id}/fields`, { display_name: 'note' });
  const statusIds = [(await adminPost(base, `/projects/${project.id}/statuses`, { name: 'Answered' })).id, (await adminPost(base, `/projects/${project.id}/statuses`, { name: 'Busy' })).id];
  const repo = await adminPost(base, `/projects/${project.id}/repositories`, { name: 'Load' });
  const targets = [];
  for (let c = 0; c < clients; c++) {
    const customer = await adminPost(base, `/projects/${project.id}/customers`, { fields: { note: 'v0' } });
    const assign = await adminPost(base, `/repositories/${repo.id}/assigns`, { customer_id: customer.id });
    targets.push({ customerId: customer.id, assignId: assign.id });
  }
  return { projectId: project.id, statusIds, targets };
}

interface Ack {
  kind: 'set_data' | 'set_status';
  n: number;
  client: number;
}

/** Clients write until the server dies under them; the server is killed after `killAfter` acknowledgements. */
async function load(server: ServerProcess, s: Seeded, opts: CrashOptions, firstN: number) {
  const acks: Ack[] = [];
  let unanswered = 0;
  let next = firstN;
  let killed = false;
  const agent = async (client: number) => {
    const { assignId } = s.targets[client]!;
    for (let i = 0; ; i++) {
      const n = next++;
      const kind = i % 2 === 0 ? 'set_data' : 'set_status';
      const params: Record<string, string> =
        kind === 'set_data'
          ? { authkey: KEYS.set_data, repository_assign_id: String(assignId), note: `v${n}`, call_id: `d${n}` }
          : { authkey: KEYS.set_status, repository_assign_id: String(assignId), status_id: String(s.statusIds[n % 2]), call_id: `s${n}`, notes: `n${n}` };
      let code: number;
      try {
        // POST form bodies (the key stays out of the URL), on kept-alive connections.
        const res = await fetch(`${server.base}/api/${kind}.php`, { method: 'POST', body: new URLSearchParams(params) });
        code = ((await res.json()) as { code: number }).code;
      } catch {
        unanswered++;
        return; // the server is gone
      }
      if (code !== 0) throw new Error(`${kind} v${n} answered code ${code} before the kill`);
      acks.push({ kind, n, client });
      if (!killed && acks.length >= opts.killAfter) {
        killed = true;
        server.child.kill('SIGKILL');
      }
    }
  };
  await Promise.all(Array.from({ length: opts.clients }, (_, c) => agent(c)));
  if (!killed) throw new Error('the load ended before the kill');
  await server.exited;
  return { acks, unanswered, next };
}

async function verify(databaseUrl: string, s: Seeded, acks: Ack[]): Promise<string[]> {
  const db = openDatabase(databaseUrl, { poolSize: 2 });
  try {
    const noted = new Set(
      (await db.q.selectFrom('history').select('new_value').where('project_id', '=', s.projectId).where('field', '=', 'note').execute()).map((r) => r.new_value),
    );
    const called = new Set(
      (await db.q.selectFrom('call_events').select('call_id').where('project_id', '=', s.projectId).where('call_id', 'is not', null).execute()).map((r) => r.call_id),
    );
    const customers = new Map(
      (await db.q.selectFrom('customers').select(['id', 'data']).where('project_id', '=', s.projectId).execute()).map((r) => [r.id, JSON.parse(r.data) as Record<string, string>]),
    );
    const missing: string[] = [];
    const lastNote = new Map<number, number>();
    for (const a of acks) {
      if (a.kind === 'set_data') {
        if (!noted.has(`v${a.n}`)) missing.push(`set_data note=v${a.n} (client ${a.client}): no history row`);
        lastNote.set(a.client, Math.max(lastNote.get(a.client) ?? 0, a.n));
      } else if (!called.has(`s${a.n}`)) missing.push(`set_status call_id=s${a.n} (client ${a.client}): no call event`);
    }
    for (const [client, n] of lastNote) {
      const note = customers.get(s.targets[client]!.customerId)?.note ?? '';
      const m = Number(note.slice(1));
      if (!(m >= n)) missing.push(`client ${client}: note is ${note}, older than its last acknowledged v${n}`);
    }
    return missing;
  } finally {
    await db.close();
  }
}

export async function runCrashSafety(opts: CrashOptions): Promise<CrashResult> {
  const log = opts.log ?? (() => undefined);
  const rounds = opts.rounds ?? 1;
  const port = await freePort();
  let server = await startServer(opts.databaseUrl, port);
  const result: CrashResult = { rounds, acknowledged: 0, unanswered: 0, missing: [], finalExitCode: null };
  try {
    const seeded = await seed(server.base, opts.clients);
    log(`seeded project ${seeded.projectId}: ${opts.clients} customers`);
    let next = 1;
    const allAcks: Ack[] = [];
    for (let round = 1; round <= rounds; round++) {
      const r = await load(server, seeded, opts, next);
      next = r.next;
      allAcks.push(...r.acks);
      result.acknowledged += r.acks.length;
      result.unanswered += r.unanswered;
      log(`round ${round}: ${r.acks.length} writes acknowledged, ${r.unanswered} in flight at SIGKILL; restarting`);
      server = await startServer(opts.databaseUrl, port);
      const missing = await verify(opts.databaseUrl, seeded, allAcks);
      result.missing.push(...missing);
      log(`round ${round}: ${allAcks.length - missing.length}/${allAcks.length} acknowledged writes found after restart`);
      if (missing.length > 0) break;
    }
    server.child.kill('SIGTERM');
    result.finalExitCode = await server.exited;
    return result;
  } finally {
    if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
  }
}

/**
 * A fresh database for a server process: a temp SQLite file, or (given a PostgreSQL URL) a new schema,
 * named in the returned URL so that the server's connections use it.
 */
export async function freshDatabase(postgresUrl?: string): Promise<{ url: string; drop: () => Promise<void> }> {
  if (!postgresUrl) {
    const dir = mkdtempSync(join(tmpdir(), 'callcrm-crash-'));
    return { url: `sqlite:${join(dir, 'crm.sqlite')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const schema = `crash_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const run = async (sql: string) => {
    const c = new pg.Client({ connectionString: postgresUrl });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await run(`create schema ${schema}`);
  return { url: withSearchPath(postgresUrl, schema), drop: () => run(`drop schema ${schema} cascade`) };
}

/** A PostgreSQL URL whose connections use `schema` (the server reads it from DATABASE_URL). */
export function withSearchPath(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values: args } = parseArgs({
    options: {
      'database-url': { type: 'string' },
      clients: { type: 'string', default: '50' },
      'kill-after': { type: 'string', default: '5000' },
      rounds: { type: 'string', default: '3' },
    },
  });
  const given = args['database-url'];
  // The SQLite file or PostgreSQL schema is fresh, and removed afterwards (a sqlite: URL is used as given).
  const db = given?.startsWith('sqlite:') ? { url: given, drop: async () => undefined } : await freshDatabase(given);
  const started = Date.now();
  try {
    const r = await runCrashSafety({
      databaseUrl: db.url,
      clients: Number(args.clients),
      killAfter: Number(args['kill-after']),
      rounds: Number(args.rounds),
      log: (l) => process.stdout.write(`  ${l}\n`),
    });
    process.stdout.write(
      `\ncrash-safety: ${r.rounds} SIGKILL rounds, ${r.acknowledged} acknowledged writes, ${r.unanswered} unanswered at the kills, ` +
        `${r.missing.length} missing after restart, final SIGTERM exit ${r.finalExitCode} (${Math.round((Date.now() - started) / 1000)} s)\n`,
    );
    for (const m of r.missing.slice(0, 50)) process.stdout.write(`  MISSING ${m}\n`);
    process.exitCode = r.missing.length === 0 && r.finalExitCode === 0 ? 0 : 1;
  } finally {
    await db.drop();
  }
}
