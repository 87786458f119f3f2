// Frozen: never edit a migration that has shipped; add a new one.
// Ids end at 2^53 − 1 (telephony-api.md "Legacy realities"): a JSON number holds no larger integer
// exactly, so an automatic id past it would answer the same number as its neighbour and make cursor walks
// loop. After an explicit id of 9007199254740991, the next automatic id of that table is refused instead
// of passing the bound. PostgreSQL: the identity sequences end there (nextval then fails with 2200H).
// SQLite: a rowid is max(id)+1, so a trigger refuses a row past the bound ("id space exhausted").
import { type Kysely, PostgresAdapter, sql } from 'kysely';

const MAX_ID = '9007199254740991';
const TABLES = ['projects', 'groups', 'sites', 'workers', 'repositories', 'dids', 'fields', 'statuses', 'customers', 'assigns', 'call_events', 'history', 'audit_log'];

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  for (const table of TABLES) {
    if (pg) await sql.raw(`alter table ${table} alter column id set maxvalue ${MAX_ID}`).execute(db);
    else {
      await sql.raw(
        `create trigger ${table}_id_bound after insert on ${table} when new.id > ${MAX_ID} ` +
          `begin select raise(abort, 'id space exhausted: ${table}'); end`,
      ).execute(db);
    }
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  for (const table of TABLES) {
    if (pg) await sql.raw(`alter table ${table} alter column id set no maxvalue`).execute(db);
    else await sql.raw(`drop trigger ${table}_id_bound`).execute(db);
  }
}
