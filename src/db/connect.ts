// Opens the database named by DATABASE_URL: sqlite:<path> (embedded, default) or postgres://….
// The dialect differences that matter to the rest of the code are named on the Db object, not hidden.
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { CompiledQuery, Kysely, SqliteAdapter, SqliteDialect, SqliteDriver, type DatabaseConnection, type SqliteDialectConfig } from 'kysely';
import type { Database } from './schema.ts';
import { CallcrmPostgresDialect } from './pg-introspector.ts';
import { createWriter, type Writer } from './writer.ts';
import type { SqliteStatementSource } from './compiled.ts';
import { namedStatement } from './pg-named.ts';
import { startCheckpointer } from './checkpointer.ts';
import { prepareSqliteFiles } from './files.ts';
import type { Dialect } from './dialect-name.ts';

export type { Dialect } from './dialect-name.ts';
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
  /**
   * SQLite only: the raw read-only connection, for hot-path reads prepared once (see prepared.ts).
   * Kysely's SQLite driver prepares every statement anew on each call.
   */
  readonly sqliteReader?: SqliteDatabase.Database;
  /**
   * PostgreSQL only, when named prepared statements are allowed (OpenOptions.preparedStatements): the
   * pool, for hot-path reads sent with a statement name (see prepared.ts).
   */
  readonly pgNamedPool?: pg.Pool;
  /** Runs fn in a transaction; on SQLite, concurrent calls share one commit (group commit). */
  readonly write: Writer['run'];
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** fsync before a commit is acknowledged (SQLite synchronous=FULL, PostgreSQL synchronous_commit=on). */
  durable?: boolean;
  poolSize?: number;
  /** PostgreSQL: may hot-path reads be named prepared statements? (default true; see prepared.ts) */
  preparedStatements?: boolean;
  /**
   * PostgreSQL: pg's pipeline mode, so a transaction's statements that nobody waits for travel with the
   * next one (pg-driver.ts; default true).
   */
  pipeline?: boolean;
  /** PostgreSQL schema to use (tests run each file in a fresh schema). */
  schema?: string;
  /** Background failures that no request sees (a lost idle connection, a failed WAL checkpoint): logged. */
  onError?: (err: Error) => void;
  /**
   * SQLite, for a bulk import: checkpoint the WAL every ~40 MB instead of every ~4 MB. An import batch
   * dirties thousands of scattered phone-index pages; checkpointing after nearly every batch copied each
   * of them into the database file again and again (`callcrm import` of 100k rows into a database of
   * 500k customers: 17.9 s → 14.0 s). The WAL is folded in when the importer closes.
   */
  bulk?: boolean;
  /**
   * SQLite, for the server: checkpoint the WAL on a thread of its own (checkpointer.ts) instead of in
   * the writer's commits, which run on the event loop.
   */
  backgroundCheckpoint?: boolean;
}

/**
 * SQLite runs DDL inside transactions, but Kysely's SQLite adapter says it does not, so its Migrator
 * would leave a failing migration half applied. Saying it does makes every migration all-or-nothing on
 * both dialects, as PostgreSQL's already is. (A migration cannot toggle PRAGMA foreign_keys inside a
 * transaction; one that rebuilds a table uses PRAGMA defer_foreign_keys instead.)
 */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}
class CallcrmSqliteDialect extends SqliteDialect {
  override createAdapter() {
    return new TransactionalDdlSqliteAdapter();
  }
}

/**
 * The writer's transactions start with BEGIN IMMEDIATE: a plain (deferred) BEGIN takes the write lock
 * only at the first write, and when another process (the CLI beside the server, a cluster worker)
 * committed after this transaction's first read, that write fails at once with SQLITE_BUSY_SNAPSHOT
 * instead of waiting out busy_timeout. IMMEDIATE waits for the lock up front, then reads and writes.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}
class WriterSqliteDialect extends CallcrmSqliteDialect {
  constructor(private readonly writerConfig: SqliteDialectConfig) {
    super(writerConfig);
  }
  override createDriver() {
    return new ImmediateSqliteDriver(this.writerConfig);
  }
}

/**
 * Kysely's SQLite driver prepares every statement anew on each call; preparing was ~15% of a telephony
 * write's CPU. The application runs a bounded set of SQL texts, so each is prepared once per connection
 * and reused (better-sqlite3 statements are reusable; calls are synchronous, so one is never busy — the
 * code does not stream with iterate()). The cache is bounded for the variable-length multi-row inserts
 * of imports.
 */
const STATEMENT_CACHE_SIZE = 1000;
function withStatementCache(raw: SqliteDatabase.Database): SqliteDialectConfig['database'] {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => raw.close(),
    prepare(sql: string) {
      let stmt = cache.get(sql);
      if (!stmt) {
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.clear();
        stmt = raw.prepare(sql);
        cache.set(sql, stmt);
      }
      return stmt as never;
    },
  };
}

export function openDatabase(url: string, opts: OpenOptions = {}): Db {
  return url.startsWith('sqlite:') ? openSqlite(url.slice('sqlite:'.length), opts) : openPostgres(url, opts);
}

function openSqlite(path: string, opts: OpenOptions): Db {
  // Directory 0700, file 0600 (and so -wal and -shm): customer data is personal data (db/files.ts).
  if (path !== ':memory:') prepareSqliteFiles(path);
  const writer = new SqliteDatabase(path);
  writer.pragma('journal_mode = WAL');
  writer.pragma(`synchronous = ${opts.durable === false ? 'NORMAL' : 'FULL'}`);
  writer.pragma('foreign_keys = ON');
  // Erasure (crm/erase.ts): deleted and overwritten content is zeroed instead of left in free space, so an
  // erased person's values do not survive in the file. ON, not FAST: FAST leaves freed pages as they were.
  // The cost is a memset of what is freed; the pages are written anyway.
  writer.pragma('secure_delete = ON');
  // Other processes (CLI import, cluster workers) may hold the write lock for a while.
  writer.pragma('busy_timeout = 10000');
  // get_data's "newest first, at most 100" (ORDER BY … LIMIT) builds a temporary B-tree; with SQLite's
  // default temp_store=FILE that creates a temp file per query: ~200 µs of a ~270 µs by-phone lookup at
  // 1M customers, against ~10 µs in memory. Both connections: set_data by phone runs it on the writer.
  writer.pragma('temp_store = MEMORY');
  if (opts.bulk) writer.pragma('wal_autocheckpoint = 10000');
  const checkpointer =
    opts.backgroundCheckpoint && path !== ':memory:'
      ? startCheckpointer(writer, path, opts.durable !== false, (message) => opts.onError?.(new Error(message)))
      : undefined;
  const statements = withStatementCache(writer);
  const q = new Kysely<Database>({ dialect: new WriterSqliteDialect({ database: statements }) });

  let reader: SqliteDatabase.Database | undefined;
  let read = q;
  if (path !== ':memory:') {
    reader = new SqliteDatabase(path, { readonly: true });
    reader.pragma('busy_timeout = 10000');
    reader.pragma('temp_store = MEMORY');
    read = new Kysely<Database>({ dialect: new CallcrmSqliteDialect({ database: withStatementCache(reader) }) });
  }
  const w = createWriter('sqlite', q, statements as unknown as SqliteStatementSource);
  return {
    dialect: 'sqlite',
    q,
    read,
    sqliteReader: reader ?? writer,
    write: w.run,
    async ping() {
      writer.prepare('select 1').get();
    },
    async close() {
      await w.drain();
      await checkpointer?.stop();
      if (read !== q) await read.destroy();
      // Kysely closes a connection only if it ever opened it; prepared reads (prepared.ts) use the raw
      // reader without Kysely. The writer closes last, so it checkpoints the WAL into the database file.
      reader?.close();
      await q.destroy();
      if (writer.open) writer.close();
    },
  };
}

/**
 * pg-pool bounds two different waits with one connectionTimeoutMillis: a connect that gets no answer (a
 * database host that is gone) and a request waiting for a free pooled connection (a burst, or writes
 * queued on one hot row). The first must fail fast so a live call gets "Database exception" instead of a
 * hang; the second is ordinary queueing and must not fail a disposition that would have committed a moment
 * later. So the client gets its own short connect timeout, and the pool a longer wait, still inside a
 * dialer's usual 10-second patience.
 */
const CONNECT_TIMEOUT_MS = 3000;
const POOL_WAIT_MS = 8000;
class FastConnectClient extends pg.Client {
  constructor(config?: pg.ClientConfig) {
    super({ ...config, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  }
}

/**
 * Kysely sends every query unnamed (`client.query(text, values)`), so PostgreSQL parses and plans it on
 * every call. A text registered as a hot statement (pg-named.ts: the write path's compiled statements)
 * goes out as a named prepared statement instead; pg prepares it once per connection. Every other query
 * is passed through as it came.
 */
class NamedStatementClient extends FastConnectClient {
  // pg's query() has many overloads; this only looks at the (text, values) form Kysely uses.
  override query(...args: unknown[]): never {
    const [text, values] = args;
    const name = typeof text === 'string' && args.length === 2 && Array.isArray(values) ? namedStatement(text) : undefined;
    const call = super.query as (...a: unknown[]) => never;
    return name === undefined ? call.apply(this, args) : call.call(this, { name, text, values });
  }
}

function openPostgres(url: string, opts: OpenOptions): Db {
  const options: string[] = [];
  if (opts.durable === false) options.push('-c synchronous_commit=off');
  if (opts.schema) options.push(`-c search_path=${opts.schema}`);
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolSize ?? 10,
    // An unreachable database must turn into a quick "Database exception", not a hung IVR call: a refused
    // or reset connection fails at once, a connect that gets no answer after CONNECT_TIMEOUT_MS.
    // DATABASE_PREPARED_STATEMENTS=false (an old PgBouncer in transaction pooling): nothing is named.
    Client: opts.preparedStatements !== false ? NamedStatementClient : FastConnectClient,
    // Each query is written to the socket when it is submitted. Only a transaction's statements whose
    // answer nobody waits for yet are submitted before the previous answer arrives (pg-driver.ts);
    // everything else still waits for its answer before the next query, as without it.
    pipeline: opts.pipeline !== false,
    connectionTimeoutMillis: POOL_WAIT_MS,
    idleTimeoutMillis: 30000,
    // Sent as a startup parameter. Behind PgBouncer, list it in ignore_startup_parameters and set it on
    // the role instead (docs/scaling.md).
    statement_timeout: 15000,
    // A database host that vanishes without resetting connections is noticed by TCP keepalive, and the
    // broken connections are dropped instead of handed out again.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    application_name: 'callcrm',
    ...(options.length ? { options: options.join(' ') } : {}),
    types: {
      // bigint ids and millisecond times fit a JS number (2^53); strings would leak into every answer.
      getTypeParser: ((oid: number, format?: string) =>
        oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', (err) => opts.onError?.(new Error(`idle database connection lost: ${err.message}`, { cause: err })));
  // A checked-out client has no listener of the pool's: pg emits 'error' on it when its connection dies
  // between two queries (inside a transaction, while JS awaits), and an unheard 'error' would crash the
  // process at the first database restart. Its next query fails instead ("not queryable"), that request
  // gets its failure answer, and the pool discards the client on release.
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  const q = new Kysely<Database>({ dialect: new CallcrmPostgresDialect(pool, opts.pipeline !== false) });
  const w = createWriter('postgres', q);
  return {
    dialect: 'postgres',
    q,
    read: q,
    ...(opts.preparedStatements !== false ? { pgNamedPool: pool } : {}),
    write: w.run,
    async ping() {
      const client = await pool.connect();
      try {
        // Bounded on the client side too: on a connection whose packets vanish (a network partition)
        // the server's statement_timeout never fires, and /readyz must still answer.
        // (pg reads query_timeout from the query config; @types/pg does not list it there.)
        await client.query({ text: 'select 1', query_timeout: 3000 } as pg.QueryConfig);
        client.release();
      } catch (err) {
        // Passing the error makes the pool discard this connection instead of reusing it.
        client.release(err as Error);
        throw err;
      }
    },
    async close() {
      await w.drain();
      await q.destroy();
    },
  };
}
