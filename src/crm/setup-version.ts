// The setup version: one row, bumped in the transaction of every setup change, so that every process
// can tell cheaply whether its setup cache is stale (crm/setup-cache.ts tells the whole story).
import type { Q } from '../db/connect.ts';
import { compileOnce, readAheadPerTransaction } from '../db/compiled.ts';

/** Marks a setup change; call inside the transaction that makes it. */
export async function bumpSetupVersion(trx: Q): Promise<void> {
  await trx.updateTable('setup_version').set((eb) => ({ version: eb('version', '+', 1) })).where('id', '=', 1).execute();
}

// Read in every set_data's transaction (setup-cache.ts syncIn): compiled once.
const read = compileOnce((q) => q.selectFrom('setup_version').select('version').where('id', '=', 1));

/** Sent ahead with set_data's lock, taken by its freshness check (setup-cache.ts syncIn). */
const versionRead = readAheadPerTransaction(read);

export async function readSetupVersion(q: Q): Promise<number | undefined> {
  const [row] = await versionRead.rows(q);
  return row === undefined ? undefined : Number(row.version);
}

/**
 * PostgreSQL: sends this transaction's version read now, right behind the write's lock (set_data), so it
 * travels in the lock's round trip and runs once the lock is granted; readSetupVersion in the transaction
 * takes it (db/pg-driver.ts). SQLite: nothing (the read is a direct call there).
 */
export const readSetupVersionAhead = (trx: Q): void => versionRead.sendAhead(trx);
