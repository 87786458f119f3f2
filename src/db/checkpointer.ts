// Starts the WAL checkpointer thread (checkpoint-worker.mjs) for a server's SQLite database, and stops it.
// The writer keeps SQLite's automatic checkpoint as a backstop, at a threshold far above what the thread
// lets the WAL reach; if the thread fails, the writer goes back to checkpointing every 1,000 pages itself.
import { Worker } from 'node:worker_threads';
import type SqliteDatabase from 'better-sqlite3';

/** WAL pages (4 KiB) after which the writer checkpoints by itself: the backstop. */
export const BACKSTOP_PAGES = 20_000;
/** SQLite's own default, which the writer goes back to when the thread fails. */
const DEFAULT_PAGES = 1000;
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
  let stopping = false;
  let fellBack = false;
  // The thread failed (it could not load, died, or its checkpoints fail): the writer checkpoints by
  // itself again at SQLite's usual 1,000 pages, as before there was a thread, rather than at the backstop
  // (80 MB copied on the event loop). Said once; the server goes on.
  const fallBack = (why: string) => {
    if (fellBack || stopping) return;
    fellBack = true;
    if (writer.open) writer.pragma(`wal_autocheckpoint = ${DEFAULT_PAGES}`);
    onError(`WAL checkpointer failed, the writer checkpoints by itself again: ${why}`);
  };
  worker.on('message', (m: { error?: string }) => {
    if (m.error) fallBack(m.error);
  });
  worker.on('error', (err) => fallBack(err.message));
  worker.on('exit', (code) => fallBack(`the thread exited (code ${code})`));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async stop() {
      stopping = true;
      worker.postMessage('stop');
      // A thread that does not stop within a second is ended: shutdown must not hang on it.
      const timeout = setTimeout(() => void worker.terminate(), 1000);
      await exited;
      clearTimeout(timeout);
    },
  };
}
