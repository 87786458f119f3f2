// The SQLite WAL checkpointer, on a thread of its own (started by checkpointer.ts). better-sqlite3 runs
// everything on the thread that calls it, so a checkpoint run by the writer (SQLite's automatic one,
// after the commit that fills the WAL past 1,000 pages) stalled every request on the event loop while
// it copied ~4 MB into the database file and fsynced it. Here a second connection copies committed WAL
// frames with PASSIVE checkpoints, which never block the writer or readers and never wait for locks.
// Plain JavaScript: a thread's entry module is loaded without the parent's TypeScript loader (tsx) on
// Node 20, so the same file runs from src/ (tests, npm run dev) and, copied by the build, from dist/.
import { parentPort, workerData } from 'node:worker_threads';
import SqliteDatabase from 'better-sqlite3';

/** @type {{ path: string, durable: boolean, intervalMs: number }} */
const { path, durable, intervalMs } = workerData;
const db = new SqliteDatabase(path);
// The checkpoint fsyncs the database file before the WAL may be restarted (NORMAL and FULL both do);
// the WAL's own commits are the writer's, made durable there.
db.pragma(`synchronous = ${durable ? 'FULL' : 'NORMAL'}`);
db.pragma('busy_timeout = 0');

const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    // Reported to the parent, which hands checkpoints back to the writer at the first report (checkpointer.ts).
    parentPort?.postMessage({ error: err instanceof Error ? err.message : String(err) });
  }
}, intervalMs);

parentPort?.on('message', (m) => {
  if (m === 'stop') {
    clearInterval(timer);
    db.close();
    parentPort?.close();
  }
});
