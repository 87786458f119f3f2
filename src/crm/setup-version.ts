// The setup version: one row, bumped in the transaction of every setup change, so that every process
// can tell cheaply whether its setup cache is stale (crm/setup-cache.ts tells the whole story).
import type { Q } from '../db/connect.ts';
import { compileOnce } from '../db/compiled.ts';
import { isPostgres } from '../db/dialect.ts';

/** Marks a setup change; call inside the transaction that makes it. */
export async function bumpSetupVersion(trx: Q): Promise<void> {
  await trx.updateTable('setup_version').set((eb) => ({ version: eb('version', '+', 1) })).where('id', '=', 1).execute();
}

// Read in every set_data's transaction (setup-cache.ts syncIn): compiled once.
const read = compileOnce((q) => q.selectFrom('setup_version').select('version').where('id', '=', 1));

export async function readSetupVersion(q: Q): Promise<number | undefined> {
  const ahead = readAhead.get(q);
  if (ahead) readAhead.delete(q);
  const [row] = ahead ? await ahead : await read.rows(q, []);
  return row === undefined ? undefined : Number(row.version);
}

/** Version reads sent ahead, by transaction. */
const readAhead = new WeakMap<Q, Promise<{ version: number | string }[]>>();

/**
 * PostgreSQL: sends this transaction's version read now, right behind the write's lock (set_data), so it
 * travels in the lock's round trip and runs once the lock is granted; the next readSetupVersion in the
 * transaction takes it (db/pg-driver.ts). SQLite: nothing (the read is a direct call there).
 */
export function readSetupVersionAhead(trx: Q): void {
  if (!trx.isTransaction || !isPostgres(trx)) return; // on the pool, some other read would take it
  const rows = read.ahead(trx, []);
  rows.catch(() => undefined); // a refused write never reads it; a failure still fails the commit
  readAhead.set(trx, rows);
}
