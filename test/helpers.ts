// Test harness: every database test runs on SQLite (a fresh temp file) and, when TEST_DATABASE_URL is
// set, on PostgreSQL (a fresh schema), through the same buildApp the server uses.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import type { IncomingMessage, ServerResponse } from 'node:http';
import pg from 'pg';
import inject from 'light-my-request';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.ts';
import { loadConfig, type Config } from '../src/config.ts';
import { openDatabase, type Db } from '../src/db/connect.ts';
import { migrateToLatest } from '../src/db/migrate.ts';

export type DialectName = 'sqlite' | 'postgres';

export const ADMIN_TOKEN = 'test-admin-token';

/** The databases this run tests on. PostgreSQL only when TEST_DATABASE_URL names one. */
export function dialects(): DialectName[] {
  return process.env.TEST_DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite'];
}

export interface Harness {
  dialect: DialectName;
  db: Db;
  config: Config;
  app: FastifyInstance;
  /** Every log line the app wrote, as text. */
  logs: string[];
  /** The database URL (with schema for PostgreSQL: see pgSchema). */
  databaseUrl: string;
  pgSchema?: string;
  close(): Promise<void>;
}

/** A fresh, migrated database of the dialect, and an app on it. env overrides configuration variables. */
export async function setup(dialect: DialectName, env: Record<string, string> = {}): Promise<Harness> {
  let databaseUrl: string;
  let pgSchema: string | undefined;
  let cleanup: () => Promise<void>;
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'callcrm-test-'));
    databaseUrl = `sqlite:${join(dir, 'crm.sqlite')}`;
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    databaseUrl = process.env.TEST_DATABASE_URL!;
    pgSchema = `t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    await client.query(`create schema ${pgSchema}`);
    await client.end();
    const schema = pgSchema;
    cleanup = async () => {
      const c = new pg.Client({ connectionString: databaseUrl });
      await c.connect();
      await c.query(`drop schema if exists ${schema} cascade`);
      await c.end();
    };
  }
  const config = loadConfig({ DATABASE_URL: databaseUrl, CRM_ADMIN_TOKEN: ADMIN_TOKEN, LOG_LEVEL: 'info', ...env });
  const db = openDatabase(databaseUrl, { durable: config.durable, poolSize: 5, schema: pgSchema, preparedStatements: config.databasePreparedStatements, pipeline: config.databasePipeline });
  await migrateToLatest(db.q);
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const app = await buildApp({ config, db, logStream });
  await app.ready();
  throughListener(app);
  return {
    dialect,
    db,
    config,
    app,
    logs,
    databaseUrl,
    pgSchema,
    async close() {
      await app.close();
      await db.close();
      await cleanup();
    },
  };
}

/**
 * app.inject() through the server's own request listener, as production runs: a telephony GET takes the
 * fast path, everything else Fastify. (Fastify's inject() would go straight to Fastify's router.)
 */
function throughListener(app: FastifyInstance) {
  const listener = app.server.listeners('request')[0] as (req: IncomingMessage, res: ServerResponse) => void;
  app.inject = ((opts: Parameters<typeof inject>[1]) => inject(listener, opts)) as unknown as FastifyInstance['inject'];
}

export const adminHeaders = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** POST/GET/PATCH on the admin API; throws with the body when the status is not the expected one. */
export async function admin<T = any>(app: FastifyInstance, method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown, expect?: number): Promise<T> {
  const res = await app.inject({ method, url: `/admin/v1${path}`, headers: adminHeaders, ...(body === undefined ? {} : { payload: body as object }) });
  const want = expect ?? (method === 'POST' ? 201 : 200);
  if (res.statusCode !== want) throw new Error(`${method} ${path}: expected ${want}, got ${res.statusCode}: ${res.body}`);
  return res.json() as T;
}

/** POSTs an import body (CSV unless `type` says otherwise) with the admin token; returns the response. */
export async function importBody(app: FastifyInstance, body: string | Readable, q: { project?: number; repository: number; onDuplicate?: 'skip' | 'update'; type?: string }) {
  const qs = new URLSearchParams({ repository_id: String(q.repository), ...(q.onDuplicate ? { on_duplicate: q.onDuplicate } : {}) });
  return app.inject({
    method: 'POST',
    url: `/admin/v1/projects/${q.project ?? 10}/import?${qs}`,
    headers: { ...adminHeaders, 'content-type': q.type ?? 'text/csv' },
    payload: body,
  });
}

/** Calls a telephony endpoint with GET and query parameters; returns the parsed envelope. */
export async function tel(app: FastifyInstance, endpoint: 'get_data' | 'set_data' | 'set_status', params: Record<string, string | number>, base = '') {
  const qs = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString();
  const res = await app.inject({ method: 'GET', url: `${base}/api/${endpoint}.php?${qs}` });
  if (res.statusCode !== 200) throw new Error(`${endpoint}: HTTP ${res.statusCode}: ${res.body}`);
  return res.json() as { code: number; status: string; message: any; errors?: Record<string, string>; repository_assign_id?: string };
}

export const KEYS = { get_data: 'Mindc_2023_get_data', set_data: 'Mindc_2023_set_data', set_status: 'Mindc_2023_set_status' } as const;

/**
 * A project like the seed's examples: project 10, fields first_name/last_name/mobile(phone)/home(phone)/
 * email(email, unique)/city/age(number)/birthday(date)/plan(select), statuses 10 Interested and 2 Call back,
 * group 3, site 4, repositories 7 "Leads" and 8 "VIP" (group 3, site 4), worker 99 (group 3),
 * DID 07333333333 (unpinned) and 039999999 pinned to repository 8.
 * Customer 123 John Doe (mobile 050-000-0000) with assign 2190811 in repository 7 and assign 555 in 8.
 */
/** The fields seedProject gives a project, in form order. */
export const SEED_FIELDS = [
  { display_name: 'first_name', label: 'First name' },
  { display_name: 'last_name' },
  { display_name: 'mobile', type: 'phone' },
  { display_name: 'home', type: 'phone' },
  { display_name: 'email', type: 'email', unique: true },
  { display_name: 'city' },
  { display_name: 'age', type: 'number' },
  { display_name: 'birthday', type: 'date' },
  { display_name: 'plan', type: 'select', options: ['basic', 'gold'] },
] as const;

export async function seedProject(app: FastifyInstance, projectId = 10, idBase = 0) {
  const P = projectId;
  await admin(app, 'POST', '/projects', { id: P, name: `Project ${P}` });
  for (const f of SEED_FIELDS) await admin(app, 'POST', `/projects/${P}/fields`, f);
  await admin(app, 'POST', `/projects/${P}/statuses`, { id: idBase + 10, name: 'Interested' });
  await admin(app, 'POST', `/projects/${P}/statuses`, { id: idBase + 2, name: 'Call back' });
  await admin(app, 'POST', `/projects/${P}/groups`, { id: idBase + 3, name: 'Team A' });
  await admin(app, 'POST', `/projects/${P}/sites`, { id: idBase + 4, name: 'Tel Aviv' });
  await admin(app, 'POST', `/projects/${P}/repositories`, { id: idBase + 7, name: 'Leads' });
  await admin(app, 'POST', `/projects/${P}/repositories`, { id: idBase + 8, name: 'VIP', group_id: idBase + 3, site_id: idBase + 4 });
  await admin(app, 'POST', `/projects/${P}/workers`, { id: idBase + 99, name: 'Dana', group_id: idBase + 3 });
  await admin(app, 'POST', `/projects/${P}/dids`, { did: '07333333333' });
  await admin(app, 'POST', `/projects/${P}/dids`, { did: '039999999', repository_id: idBase + 8 });
  await admin(app, 'POST', `/projects/${P}/customers`, {
    id: idBase + 123,
    fields: { first_name: 'John', last_name: 'Doe', mobile: '050-000-0000', email: 'john@mail.com' },
  });
  await admin(app, 'POST', `/repositories/${idBase + 7}/assigns`, { id: idBase + 2190811, customer_id: idBase + 123 });
  await admin(app, 'POST', `/repositories/${idBase + 8}/assigns`, { id: idBase + 555, customer_id: idBase + 123 });
}
