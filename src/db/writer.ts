// Group commit. A success answer to a write means it is on disk, and on SQLite every commit is an
// fsync (synchronous=FULL). Writes that arrive together share one transaction and one fsync: each
// runs in its own savepoint, so one that fails is rolled back alone and never fails its neighbours,
// and each caller is answered only after the shared commit.
// PostgreSQL commits concurrently on separate connections, so there each write is its own transaction.
import { CompiledQuery, type Kysely } from 'kysely';
import { attachSqliteStatements, type SqliteStatementSource } from './compiled.ts';
import { beginBatch, dropBatch, endJob, flushBatch } from './batch-tail.ts';
import type { Database } from './schema.ts';
import type { Dialect } from './dialect-name.ts';

type Q = Kysely<Database>;
type Job = { fn: (trx: Q) => Promise<unknown>; resolve: (v: unknown) => void; reject: (e: unknown) => void };

export interface Writer {
  run<T>(fn: (trx: Q) => Promise<T>): Promise<T>;
  /** Waits for queued writes to commit (shutdown). */
  drain(): Promise<void>;
}

// Each job's savepoint, sent as fixed SQL: Kysely's savepoint builder makes a new transaction object and
// compiles the statement for every job, three times per write (savepoint, release, rollback).
const SAVEPOINT = CompiledQuery.raw('savepoint job');
const RELEASE = CompiledQuery.raw('release savepoint job');
const ROLLBACK_TO = CompiledQuery.raw('rollback to savepoint job');

/** Most writes one shared transaction may carry; bounds the latency the last one in a batch sees. */
const MAX_BATCH = 256;

/** `statements`: SQLite, the writer connection's prepared statements (compiled.ts runs its statements on them). */
export function createWriter(dialect: Dialect, db: Q, statements?: SqliteStatementSource): Writer {
  if (dialect === 'postgres') {
    let inflight = 0;
    let idle: (() => void) | undefined;
    return {
      async run(fn) {
        inflight++;
        try {
          return await db.transaction().execute(fn);
        } finally {
          if (--inflight === 0) idle?.();
        }
      },
      drain: () => (inflight === 0 ? Promise.resolve() : new Promise<void>((r) => (idle = r))),
    };
  }

  const queue: Job[] = [];
  let running: Promise<void> | undefined;

  async function flush(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.splice(0, MAX_BATCH);
      const results: { ok: boolean; value: unknown }[] = [];
      let trx;
      try {
        trx = await db.startTransaction().execute();
      } catch (err) {
        for (const job of batch) job.reject(err);
        continue;
      }
      if (statements) attachSqliteStatements(trx, statements);
      beginBatch(trx);
      try {
        // Straight to the connection when its statements are at hand (compiled.ts), else through Kysely.
        const exec = statements ? async (c: CompiledQuery) => void statements.prepare(c.sql).run([]) : async (c: CompiledQuery) => void (await trx!.executeQuery(c));
        for (const job of batch) {
          await exec(SAVEPOINT);
          try {
            const value = await job.fn(trx);
            await exec(RELEASE);
            endJob(trx, true);
            results.push({ ok: true, value });
          } catch (err) {
            endJob(trx, false);
            await exec(ROLLBACK_TO);
            await exec(RELEASE);
            results.push({ ok: false, value: err });
          }
        }
        // Rows the writes handed to the batch's end (batch-tail.ts): in this transaction, or none of it.
        await flushBatch(trx);
        // The mark goes before the transaction ends: a statement a job left running past its end must
        // fail through Kysely ("transaction already committed"), never run on the bare connection.
        if (statements) attachSqliteStatements(trx, undefined);
        await trx.commit().execute();
      } catch (err) {
        // The commit (or the batch's end rows) failed (disk full, I/O error): nothing of this batch is on disk.
        if (statements) attachSqliteStatements(trx, undefined);
        dropBatch(trx);
        await trx.rollback().execute().catch(() => undefined);
        for (const job of batch) job.reject(err);
        continue;
      }
      batch.forEach((job, i) => (results[i]!.ok ? job.resolve(results[i]!.value) : job.reject(results[i]!.value)));
    }
  }

  function schedule() {
    if (running) return;
    // setImmediate lets every request already read from the sockets join this batch.
    running = new Promise<void>((resolve) => setImmediate(() => flush().finally(resolve))).then(() => {
      running = undefined;
      if (queue.length > 0) schedule();
    });
  }

  return {
    run<T>(fn: (trx: Q) => Promise<T>) {
      return new Promise<T>((resolve, reject) => {
        queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
        schedule();
      });
    },
    async drain() {
      while (running) await running;
    },
  };
}
