// Statements on the telephony write path, built and compiled once per dialect instead of on every call.
// Building a query with Kysely (immutable node trees, frozen at every step) and compiling it to SQL cost
// more than running it: in the 1M benchmark's profile of set_status, Kysely's own JavaScript was ~17 % of
// the server's CPU, for statements whose text never changes. Here a statement is built once with slots
// (slots.ts) where its run-time values go, and each call binds the values and hands the compiled
// query to the caller's transaction: the same SQL, the same connection and transaction, the same
// driver (and the SQLite connection's statement cache, connect.ts), only without the rebuilding.
import type { Compilable, CompiledQuery, Kysely } from 'kysely';
import { isPostgres } from './dialect.ts';
import type { Database } from './schema.ts';
import { MAX_SLOTS, slot, slotBinder } from './slots.ts';
import { registerNamed } from './pg-named.ts';
import { answerOf, markAhead, markLater, pipelines } from './pg-driver.ts';

type Q = Kysely<Database>;

interface Compiled {
  query: CompiledQuery;
  bind(params: readonly unknown[]): unknown[];
}

function compile<R>(q: Q, build: (q: Q) => Compilable<R>): Compiled {
  const query = build(q).compile();
  return { query, bind: slotBinder(query.parameters, query.sql) };
}

/**
 * SQLite: the writer's transaction carries its connection's statement source (writer.ts), and a
 * compiled statement run in that transaction goes straight to the prepared better-sqlite3 statement,
 * synchronously, past Kysely's executor (its connection hand-off and result plumbing cost ~8 µs per
 * statement, as much as a small INSERT itself). The statement runs on the same connection, inside the
 * same transaction and savepoint: Kysely holds that connection for the whole batch, and better-sqlite3
 * runs one statement at a time.
 */
const SQLITE_STATEMENTS = Symbol('sqlite statements');
export interface SqliteStatementSource {
  prepare(sql: string): { reader: boolean; all(params: unknown[]): unknown[]; run(params: unknown[]): unknown };
}
type WithStatements = { [SQLITE_STATEMENTS]?: SqliteStatementSource };

/** The SQLite writer marks each batch transaction with its connection's statements, and unmarks it before it ends (writer.ts). */
export function attachSqliteStatements(trx: Q, source: SqliteStatementSource | undefined): void {
  (trx as unknown as WithStatements)[SQLITE_STATEMENTS] = source;
}

export interface CompiledStatement<R> {
  /** Runs the statement in q (a transaction, usually) with these slot values; its rows (RETURNING, SELECT). */
  rows(q: Q, params: readonly unknown[]): Promise<R[]>;
  /** The first row, or undefined. */
  first(q: Q, params: readonly unknown[]): Promise<R | undefined>;
  /**
   * Runs a statement whose answer nobody reads. In a PostgreSQL transaction it is not waited for: it goes
   * out with the next statement that is (pg-driver.ts), and if it fails, that statement or the COMMIT
   * throws its error, so the write still fails as a whole. Elsewhere it runs as rows() does.
   */
  later(q: Q, params: readonly unknown[]): Promise<void>;
  /**
   * Sends a read now and gives its rows when awaited: in a PostgreSQL transaction the statements sent
   * after it (reads behind a lock, say) go out without waiting for its answer, and the server runs them
   * in order. Elsewhere it runs at once, as rows() does.
   */
  ahead(q: Q, params: readonly unknown[]): Promise<R[]>;
}

export interface CompileOptions {
  /**
   * PostgreSQL: send it as a named prepared statement (default true): parsed once per connection, and
   * after five runs PostgreSQL may keep one generic plan for it. Off for a read whose best plan depends
   * on its values and on how big its tables have grown since the connection prepared it (the import's
   * IN-list reads: a generic plan made while the tables were empty filtered 100,000 rows per lookup).
   */
  named?: boolean;
}

/**
 * One statement, compiled on its first use on each dialect (a process may hold both: the test suite).
 * `build` must put slot(i) wherever a value varies between calls; a value written as a constant is
 * compiled in for good.
 */
export function compileOnce<R>(build: (q: Q) => Compilable<R>, options: CompileOptions = {}): CompiledStatement<R> {
  let sqlite: Compiled | undefined;
  let postgres: Compiled | undefined;
  const forQ = (q: Q): Compiled => {
    if (!isPostgres(q)) return (sqlite ??= compile(q, build));
    if (!postgres) {
      postgres = compile(q, build);
      // Sent as a named prepared statement where the pool allows it (connect.ts, pg-named.ts), unless it
      // selects or returns `*`: a named statement's result columns are fixed when it is prepared.
      if (options.named !== false && !/(select|returning)\s+\*/i.test(postgres.query.sql)) registerNamed(postgres.query.sql);
    }
    return postgres;
  };
  /** SQLite inside the writer's batch: straight to the prepared statement, synchronously. */
  function runDirect(direct: SqliteStatementSource, q: Q, params: readonly unknown[]): R[] {
    const c = (sqlite ??= compile(q, build));
    const stmt = direct.prepare(c.query.sql);
    if (stmt.reader) return stmt.all(c.bind(params)) as R[];
    stmt.run(c.bind(params));
    return [];
  }
  const bound = (q: Q, params: readonly unknown[]): CompiledQuery<R> => {
    const c = forQ(q);
    return { ...c.query, parameters: c.bind(params) } as CompiledQuery<R>;
  };
  async function rows(q: Q, params: readonly unknown[]): Promise<R[]> {
    const direct = (q as unknown as WithStatements)[SQLITE_STATEMENTS];
    if (direct) return runDirect(direct, q, params);
    return (await q.executeQuery<R>(bound(q, params))).rows;
  }
  async function later(q: Q, params: readonly unknown[]): Promise<void> {
    const direct = (q as unknown as WithStatements)[SQLITE_STATEMENTS];
    if (direct) return void runDirect(direct, q, params);
    await q.executeQuery(markLater(bound(q, params)));
  }
  async function ahead(q: Q, params: readonly unknown[]): Promise<R[]> {
    const direct = (q as unknown as WithStatements)[SQLITE_STATEMENTS];
    if (direct) return runDirect(direct, q, params);
    const query = markAhead(bound(q, params));
    const { rows: now } = await q.executeQuery<R>(query);
    return answerOf(query) ?? now;
  }
  return { rows, first: async (q, params) => (await rows(q, params))[0], later, ahead };
}

/**
 * Statements whose shape varies with a few switches (which columns an UPDATE sets, how many rows an
 * INSERT has): one compiled statement per shape, made on first use. Keys must come from a small, fixed
 * set (never from client input), so the map stays small.
 */
export function compileByShape<K, R>(build: (key: K) => (q: Q) => Compilable<R>, options: CompileOptions = {}): (key: K) => CompiledStatement<R> {
  const shapes = new Map<K, CompiledStatement<R>>();
  return (key) => {
    let s = shapes.get(key);
    if (!s) {
      s = compileOnce(build(key), options);
      shapes.set(key, s);
    }
    return s;
  };
}

/**
 * A read a write's transaction may send ahead (PostgreSQL: it travels in the round trip of the statement
 * sent next, a lock; pg-driver.ts) and then take, once or several times, as its rows in that transaction
 * (`rows`), or once only (`takeSent`: a value that must not serve twice, such as an id). Keyed by
 * transaction object; on the pool (no transaction) or on SQLite nothing is sent ahead and every take
 * reads. `pipelinedOnly`: nor without the pipeline, where sending it ahead is a round trip of its own.
 */
export function readAheadPerTransaction<R>(statement: CompiledStatement<R>, options: { pipelinedOnly?: boolean } = {}) {
  const sent = new WeakMap<Q, Promise<R[]>>();
  return {
    sendAhead(trx: Q): void {
      // On the pool, a read sent ahead would be taken by some other, later write.
      if (!trx.isTransaction || !(options.pipelinedOnly ? pipelines(trx) : isPostgres(trx))) return;
      const rows = statement.ahead(trx, []);
      // Handled here too: a write refused before taking it never reads it (a failure still fails its commit).
      rows.catch(() => undefined);
      sent.set(trx, rows);
    },
    rows: (q: Q): Promise<R[]> => sent.get(q) ?? statement.rows(q, []),
    /** The rows sent ahead in this transaction, once; undefined when none were (or they were taken). */
    takeSent(q: Q): Promise<R[]> | undefined {
      const rows = sent.get(q);
      sent.delete(q);
      return rows;
    },
  };
}

/**
 * A multi-row INSERT of `columns` into `table`, compiled once per row count. Bulk writes (the import) send
 * up to `maxRows` rows a statement; building such an INSERT with Kysely for every batch (a node tree of
 * thousands of values, then its SQL) took ~10 % of an import's CPU. A remainder below `maxRows` goes out
 * in pieces of power-of-two sizes, so a table has at most log2(maxRows) + 1 shapes, not one per count.
 * `rows` holds each row's values in `columns` order.
 */
export function compileRowsInsert<T extends keyof Database & string>(table: T, columns: readonly (keyof Database[T] & string)[], maxRows: number) {
  // Named on PostgreSQL (an INSERT's plan does not depend on the tables' statistics): parsing 500 rows of
  // values for every batch made the 200,000-row benchmark import ~10 % slower (31.9/32.5 s unnamed against
  // 29.0 s). The cost: a backend keeps each shape's parse and plan, ~1.7 MB for 500 rows of 13 values
  // (pg_backend_memory_contexts), ~7 MB for an import's shapes in a connection that ran one, until the
  // pool closes it (idle 30 s).
  const shape = compileByShape((n: number) => (q: Q) =>
    q.insertInto(table).values(
      Array.from({ length: n }, (_, i) => Object.fromEntries(columns.map((c, k) => [c, slot(i * columns.length + k)]))) as never,
    ),
  );
  if (maxRows * columns.length > MAX_SLOTS) throw new RangeError(`${table}: ${maxRows} rows of ${columns.length} values exceed ${MAX_SLOTS} slots`);
  return async (trx: Q, rows: readonly (readonly unknown[])[]): Promise<void> => {
    let i = 0;
    while (i < rows.length) {
      const left = rows.length - i;
      const n = left >= maxRows ? maxRows : 2 ** Math.floor(Math.log2(left));
      const values: unknown[] = [];
      for (let r = i; r < i + n; r++) {
        const row = rows[r]!;
        // A short row would shift every value after it into the wrong column.
        if (row.length !== columns.length) throw new RangeError(`${table}: a row of ${row.length} values for ${columns.length} columns`);
        for (let k = 0; k < row.length; k++) {
          // Kysely left a column whose value was undefined out of its INSERT (its default: a generated id);
          // bound, undefined is NULL, and an id would be chosen by the database instead of the caller.
          if (row[k] === undefined) throw new RangeError(`${table}: no value for ${columns[k]}`);
          values.push(row[k]);
        }
      }
      await shape(n).rows(trx, values);
      i += n;
    }
  };
}

/** Values of one compiled IN list at most (the rest of a longer list goes in further statements). */
const MAX_IN_LIST = 4096;

/**
 * A read with one `IN (…)` list of run-time length (the import's owner reads: a batch's ids and phones),
 * compiled once per list length rounded up to a power of two: the list is padded with repeats of its
 * first value, which an IN list ignores. Slots 0…fixed-1 are the statement's other values; `build` gets
 * the list's slots to put in the IN. A longer list is read in parts; so the statement must not order or
 * limit its rows, which then come part after part.
 */
export function compileInList<R>(fixed: number, build: (list: never[]) => (q: Q) => Compilable<R>) {
  // Unnamed on PostgreSQL: planned for its values every time (see CompileOptions).
  const shape = compileByShape((n: number) => build(Array.from({ length: n }, (_, i) => slot(fixed + i))), { named: false });
  return async (q: Q, params: readonly unknown[], list: readonly unknown[]): Promise<R[]> => {
    // One value more or less would shift the list by a slot without a word.
    if (params.length !== fixed) throw new RangeError(`an IN-list read takes ${fixed} values before its list, got ${params.length}`);
    const out: R[] = [];
    for (let i = 0; i < list.length; i += MAX_IN_LIST) {
      const part = list.slice(i, i + MAX_IN_LIST);
      const n = 2 ** Math.ceil(Math.log2(part.length));
      const values = [...params, ...part];
      while (values.length < fixed + n) values.push(part[0]);
      for (const row of await shape(n).rows(q, values)) out.push(row);
    }
    return out;
  };
}
