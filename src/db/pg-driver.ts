// Kysely's driver for PostgreSQL, with one difference: inside a transaction, a statement whose answer the
// caller does not wait for (compiled.ts `later`, `ahead`) is written to the connection at once and
// answered later, so the statements of a disposition travel together instead of one round trip each.
//
// Why: a set_status on PostgreSQL was eight round trips (BEGIN, lock, UPDATE, history, call event,
// subscriptions read, audit row, COMMIT), and each one costs both processes a wake-up, a read and a
// write of the socket: most of the CPU of a disposition. pg's pipeline mode (Client `pipeline: true`)
// writes each query to the socket as soon as it is submitted; this driver only stops waiting where nothing
// needs the answer yet. BEGIN goes out with the transaction's first statement, the writes whose rows
// nobody reads go out with the next statement that is waited for (or the COMMIT).
//
// Failure rules, so that a statement nobody waited for can never be lost:
// - In a transaction block, a failed statement aborts the transaction: every statement after it fails
//   too, and COMMIT answers ROLLBACK. So the first failure is remembered, the next waited-for statement
//   that fails throws that first failure (the cause, not "current transaction is aborted"), and COMMIT
//   throws it instead of reporting success. An acknowledged write is therefore a committed one.
// - Outside a transaction (no abort to carry the failure forward), and when pipelining is off
//   (DATABASE_PIPELINE=false), every statement is waited for, as before.
// - ROLLBACK TO SAVEPOINT undoes a failure kept from after the savepoint; a failure already known before
//   the COMMIT (one pg found before sending) is not committed past.
// Everything else (pool, acquire and release, savepoints, the result shape) is as Kysely's own
// PostgresDriver does it.
import { CompiledQuery, PostgresAdapter, type DatabaseConnection, type Driver, type Kysely, type QueryResult, type TransactionSettings } from 'kysely';
import type pg from 'pg';

const LATER = Symbol('sent without waiting for its answer');
const AHEAD = Symbol('sent now, its answer read later');
const ANSWER = Symbol('the answer of a statement sent ahead');

/** A compiled query marked to be sent without waiting (compiled.ts). */
export type Pipelined<R = unknown> = CompiledQuery<R> & { [LATER]?: true; [AHEAD]?: true; [ANSWER]?: Promise<R[]> };

/** Marks a query whose answer nobody reads: inside a pipelined transaction it is not waited for. */
export function markLater<R>(query: CompiledQuery<R>): Pipelined<R> {
  return { ...query, [LATER]: true };
}

/** Marks a query whose rows are read later: inside a pipelined transaction, answerOf gives them. */
export function markAhead<R>(query: CompiledQuery<R>): Pipelined<R> {
  return { ...query, [AHEAD]: true };
}

/** The rows of a query sent ahead, when it was (else undefined: it ran and answered as usual). */
export function answerOf<R>(query: Pipelined<R>): Promise<R[]> | undefined {
  return query[ANSWER];
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
const ROLLBACK_TO = /^\s*rollback\s+to\b/i;

class PipelinedConnection implements DatabaseConnection {
  inTransaction = false;
  discarded = false;
  /** Statements sent and not waited for, settled or not. */
  private sent: Promise<unknown>[] = [];
  /** The first failure of a statement nobody waited for, in this transaction. */
  private failure: { error: unknown } | undefined;
  private corked = false;

  constructor(readonly client: pg.PoolClient) {}

  private get pipelining(): boolean {
    return this.inTransaction && (this.client as unknown as { pipeline?: boolean }).pipeline === true;
  }

  /** Writes the query now; a failure is kept for the next waited-for statement or the commit. */
  private send(query: CompiledQuery): Promise<pg.QueryResult> {
    this.corkForThisTick();
    const answer = this.client.query(query.sql, [...query.parameters]);
    this.sent.push(
      answer.then(undefined, (error: unknown) => {
        this.failure ??= { error };
      }),
    );
    return answer;
  }

  /**
   * pg corks its socket for the messages of one query, so a query is one write system call; the statements
   * sent here one after the other within a tick (and the waited-for one submitted behind them) would
   * still cost a system call each. Corked until the tick's work is done, they leave in one. On this
   * project's machine the socket write to a local PostgreSQL was the largest entry in the server's
   * profile of a PostgreSQL set_status: a quarter of the samples.
   */
  private corkForThisTick(): void {
    const stream = (this.client as unknown as { connection?: { stream?: { cork?(): void; uncork?(): void; writable?: boolean } } }).connection?.stream;
    if (this.corked || !stream?.writable || typeof stream.cork !== 'function') return;
    this.corked = true;
    stream.cork();
    // After the promise jobs of this tick (the statements a transaction submits one after the other).
    process.nextTick(() => {
      this.corked = false;
      stream.uncork!();
    });
  }

  /** Waits until every statement sent without waiting has its answer (they come back in order). */
  async settle(): Promise<void> {
    if (this.sent.length === 0) return;
    const sent = this.sent;
    this.sent = [];
    await Promise.all(sent);
  }

  /** The kept failure, once; undefined when there is none. */
  takeFailure(): { error: unknown } | undefined {
    const f = this.failure;
    this.failure = undefined;
    return f;
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const query = compiled as Pipelined<R>;
    if (this.discarded) throw new Error('PostgreSQL connection has been discarded');
    if (this.pipelining && (query[LATER] || query[AHEAD])) {
      const answer = this.send(query);
      if (query[AHEAD]) {
        const rows = answer.then(
          (r) => (r.rows ?? []) as R[],
          // An earlier unwaited statement's failure aborted the transaction: that is the cause.
          (err: unknown) => {
            throw this.failure ? this.failure.error : err;
          },
        );
        // Handled here as well: a caller that stops early (a refusal) never reads it; the failure is
        // still kept by send() for the commit.
        rows.catch(() => undefined);
        query[ANSWER] = rows;
      }
      return { rows: [] };
    }
    let result: pg.QueryResult;
    try {
      result = await this.client.query(query.sql, [...query.parameters]);
    } catch (err) {
      // A statement sent earlier without waiting failed and aborted the transaction: that is the cause.
      await this.settle();
      const earlier = this.takeFailure();
      throw earlier ? earlier.error : err;
    }
    // ROLLBACK TO SAVEPOINT (import-batch.ts writes it as SQL) undoes what failed after the savepoint, and
    // the transaction goes on: a failure kept from then must not fail its commit. (A failure from before
    // the savepoint would have failed the SAVEPOINT statement itself.)
    if (this.failure && ROLLBACK_TO.test(query.sql)) {
      await this.settle();
      this.failure = undefined;
    }
    const { command, rowCount, rows } = result;
    if (command === 'ROLLBACK' || command === 'COMMIT') return { rows: [{ command } as R] };
    return {
      numAffectedRows: command === 'INSERT' || command === 'UPDATE' || command === 'DELETE' || command === 'MERGE' ? BigInt(rowCount ?? 0) : undefined,
      rows: (rows ?? []) as R[],
    };
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming queries are not used by callcrm');
  }
}

/**
 * The adapter of a database whose pool pipelines (DATABASE_PIPELINE, the default): the same as Kysely's,
 * and a mark a caller can test (`pipelines`) before sending something ahead that only pays off when it
 * travels with the statement before it. A transaction shares its database's adapter.
 */
export class PipeliningPostgresAdapter extends PostgresAdapter {}

/** Does q send a transaction's unwaited and ahead statements without waiting (PostgreSQL, pipeline on)? */
export function pipelines(q: Kysely<any>): boolean {
  return q.getExecutor().adapter instanceof PipeliningPostgresAdapter;
}

export class PipelinedPostgresDriver implements Driver {
  private readonly connections = new WeakMap<pg.PoolClient, PipelinedConnection>();
  private pool: pg.Pool | undefined;

  constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    if (!this.pool) throw new Error('driver has already been destroyed');
    const client = await this.pool.connect();
    let connection = this.connections.get(client);
    if (!connection) {
      connection = new PipelinedConnection(client);
      this.connections.set(client, connection);
    }
    return connection;
  }

  async beginTransaction(c: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const connection = c as PipelinedConnection;
    let text = 'begin';
    if (settings.isolationLevel || settings.accessMode) {
      text = 'start transaction';
      if (settings.isolationLevel) text += ` isolation level ${settings.isolationLevel}`;
      if (settings.accessMode) text += ` ${settings.accessMode}`;
    }
    connection.inTransaction = true;
    // Goes out with the first statement of the transaction instead of a round trip of its own.
    await connection.executeQuery(markLater(CompiledQuery.raw(text)));
  }

  async commitTransaction(c: DatabaseConnection): Promise<void> {
    const connection = c as PipelinedConnection;
    // A failure already known is not committed past: one that pg found before sending (a value it could
    // not bind) never reached the server, which would otherwise commit the rest. Kysely rolls back.
    const known = connection.takeFailure();
    if (known) throw known.error;
    const { rows } = await connection.executeQuery<{ command: string }>(CompiledQuery.raw('commit'));
    connection.inTransaction = false;
    await connection.settle();
    // A statement nobody waited for failed: PostgreSQL rolled the transaction back and answered the
    // COMMIT with ROLLBACK. The write must fail, with its cause.
    const failure = connection.takeFailure();
    if (failure) throw failure.error;
    if (rows[0]?.command === 'ROLLBACK') throw new Error('the transaction was rolled back: an earlier statement failed');
  }

  async rollbackTransaction(c: DatabaseConnection): Promise<void> {
    const connection = c as PipelinedConnection;
    connection.inTransaction = false;
    try {
      await connection.client.query('rollback');
    } catch (err) {
      connection.discarded = true;
      throw err;
    } finally {
      await connection.settle();
      connection.takeFailure();
    }
  }

  async savepoint(c: DatabaseConnection, name: string): Promise<void> {
    await c.executeQuery(CompiledQuery.raw(`savepoint ${quoteIdent(name)}`));
  }

  async rollbackToSavepoint(c: DatabaseConnection, name: string): Promise<void> {
    // What failed after the savepoint is undone with it (executeQuery drops the kept failure).
    await c.executeQuery(CompiledQuery.raw(`rollback to savepoint ${quoteIdent(name)}`));
  }

  async releaseSavepoint(c: DatabaseConnection, name: string): Promise<void> {
    await c.executeQuery(CompiledQuery.raw(`release savepoint ${quoteIdent(name)}`));
  }

  async releaseConnection(c: DatabaseConnection): Promise<void> {
    const connection = c as PipelinedConnection;
    // A connection given back mid-transaction (should not happen: Kysely commits or rolls back first)
    // is not handed out again.
    const unclean = connection.discarded || connection.inTransaction;
    await connection.settle();
    connection.takeFailure();
    connection.inTransaction = false;
    connection.client.release(unclean);
    if (unclean) this.connections.delete(connection.client);
  }

  async destroy(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end();
  }
}
