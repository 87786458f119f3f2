// Opens the database named by DATABASE_URL: sqlite:<path> (embedded, default) or postgres://….
// The dialect differences that matter to the rest of the code are named on the Db object, not hidden.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import type { Database } from './schema.ts';
import { createWriter, type Writer } from './writer.ts';

export type Dialect = 'sqlite' | 'postgres';
export type Q = Kysely<Database>;

export interface Db {
  readonly dialect: Dialect;
  /** Reads and non-batched writes. */
  readonly q: Q;
  /**
   * Hot-path reads. SQLite: a second, read-only connection, so a lookup never waits behind the
   * writer's open transaction (WAL lets readers run beside one writer). PostgreSQL: the same pool.
   */
  readonly read: Q;
  /** Runs fn in a transaction; on SQLite, concurrent calls share one commit (group commit). */
  readonly write: Writer['run'];
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** fsync before a commit is acknowledged (SQLite synchronous=FULL, PostgreSQL synchronous_commit=on). */
  durable?: boolean;
  poolSize?: number;
  /** PostgreSQL schema to use (tests run each file in a fresh schema). */
  schema?: string;
  onError?: (err: Error) => void;
}

export function openDatabase(url: string, opts: OpenOptions = {}): Db {
  return url.startsWith('sqlite:') ? openSqlite(url.slice('sqlite:'.length), opts) : openPostgres(url, opts);
}

function openSqlite(path: string, opts: OpenOptions): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const writer = new SqliteDatabase(path);
  writer.pragma('journal_mode = WAL');
  writer.pragma(`synchronous = ${opts.durable === false ? 'NORMAL' : 'FULL'}`);
  writer.pragma('foreign_keys = ON');
  // Other processes (CLI import, cluster workers) may hold the write lock for a while.
  writer.pragma('busy_timeout = 10000');
  const q = new Kysely<Database>({ dialect: new SqliteDialect({ database: writer }) });

  let reader: SqliteDatabase.Database | undefined;
  let read = q;
  if (path !== ':memory:') {
    reader = new SqliteDatabase(path, { readonly: true });
    reader.pragma('busy_timeout = 10000');
    read = new Kysely<Database>({ dialect: new SqliteDialect({ database: reader }) });
  }
  const w = createWriter('sqlite', q);
  return {
    dialect: 'sqlite',
    q,
    read,
    write: w.run,
    async ping() {
      writer.prepare('select 1').get();
    },
    async close() {
      await w.drain();
      if (read !== q) await read.destroy();
      await q.destroy();
    },
  };
}

function openPostgres(url: string, opts: OpenOptions): Db {
  const options: string[] = [];
  if (opts.durable === false) options.push('-c synchronous_commit=off');
  if (opts.schema) options.push(`-c search_path=${opts.schema}`);
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolSize ?? 10,
    // An unreachable database must turn into a quick "Database exception", not a hung IVR call.
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 30000,
    statement_timeout: 15000,
    ...(options.length ? { options: options.join(' ') } : {}),
    types: {
      // bigint ids and millisecond times fit a JS number (2^53); strings would leak into every answer.
      getTypeParser: ((oid: number, format?: string) =>
        oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', (err) => opts.onError?.(err));
  const q = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const w = createWriter('postgres', q);
  return {
    dialect: 'postgres',
    q,
    read: q,
    write: w.run,
    async ping() {
      const client = await pool.connect();
      try {
        await client.query('select 1');
      } finally {
        client.release();
      }
    },
    async close() {
      await w.drain();
      await q.destroy();
    },
  };
}
