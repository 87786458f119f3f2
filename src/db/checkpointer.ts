// Starts the WAL checkpointer thread (checkpoint-worker.ts) for a server's SQLite database, and stops it.
// The writer keeps SQLite's automatic checkpoint as a backstop, at a threshold far above what the thread
// lets the WAL reach: if the thread fails, the WAL is still bounded (at ~80 MB) and nothing is lost.
import { Worker } from 'node:worker_threads';
import type SqliteDatabase from 'better-sqlite3';

/** WAL pages (4 KiB) after which the writer checkpoints by itself: the backstop. */
export const BACKSTOP_PAGES = 20_000;
/** How often the thread copies committed frames into the database file. */
const INTERVAL_MS = 100;

export interface Checkpointer {
  stop(): Promise<void>;
}

export function startCheckpointer(writer: SqliteDatabase.Database, path: string, durable: boolean, onError: (message: string) => void): Checkpointer {
  // Beside this module: in src/, and in dist/ where the build copies it (scripts/build.mjs).
  const file = new URL('./checkpoint-worker.mjs', import.meta.url);
  const worker = new Worker(file, { workerData: { path, durable, intervalMs: INTERVAL_MS } });
  worker.unref();
  writer.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
  let reported = false;
  worker.on('message', (m: { error?: string }) => {
    if (m.error && !reported) {
      reported = true;
      onError(`WAL checkpoint failed (the writer's own checkpoint still bounds the WAL): ${m.error}`);
    }
  });
  worker.on('error', (err) => onError(`WAL checkpointer stopped: ${err.message}`));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async stop() {
      worker.postMessage('stop');
      // A thread that does not stop within a second is ended: shutdown must not hang on it.
      const timeout = setTimeout(() => void worker.terminate(), 1000);
      await exited;
      clearTimeout(timeout);
    },
  };
}
