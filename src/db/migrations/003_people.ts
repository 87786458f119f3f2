// Frozen: never edit a migration that has shipped; add a new one.
// People and access: console users, their server-side sessions, named telephony keys, and who made a
// change (history and call events name the signed-in user; the audit log names a named key).
import { type Kysely, PostgresAdapter, sql, type ColumnDefinitionBuilder } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const idType = pg ? 'bigint' : 'integer';
  const id = (c: ColumnDefinitionBuilder) => (pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey());
  const ref = 'bigint';
  const time = 'bigint';

  await db.schema.createTable('users')
    .addColumn('id', idType, id)
    .addColumn('username', 'text', (c) => c.notNull())
    // lower-cased username: sign-in is case-insensitive, and "Dana" and "dana" cannot both exist
    .addColumn('username_key', 'text', (c) => c.notNull().unique())
    // "scrypt$N$r$p$salt$hash": the parameters travel with the hash, so they can be raised later
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text')
    // not a foreign key: a user outlives an archived worker, and the API checks it on write
    .addColumn('worker_id', ref)
    // JSON array of project ids; null = every project
    .addColumn('project_ids', 'text')
    .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('updated_at', time, (c) => c.notNull())
    .execute();

  // id is the SHA-256 (hex) of the cookie's session id: a copy of the table signs no one in.
  await db.schema.createTable('sessions')
    // NOT NULL said explicitly: SQLite lets a non-integer primary key hold NULL otherwise.
    .addColumn('id', 'text', (c) => c.primaryKey().notNull())
    .addColumn('user_id', ref, (c) => c.notNull().references('users.id'))
    .addColumn('csrf_token', 'text', (c) => c.notNull())
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('last_seen_at', time, (c) => c.notNull())
    .addColumn('client_ip', 'text')
    .execute();
  await db.schema.createIndex('sessions_user').on('sessions').columns(['user_id']).execute();

  await db.schema.createTable('api_keys')
    .addColumn('id', idType, id)
    .addColumn('name', 'text', (c) => c.notNull())
    // SHA-256 (hex) of the secret; the secret itself is shown once and never stored
    .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
    // JSON arrays: endpoint names; project ids (null = every project)
    .addColumn('endpoints', 'text', (c) => c.notNull())
    .addColumn('project_ids', 'text')
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('last_used_at', time)
    .addColumn('revoked_at', time)
    .execute();
  // A name names one live key (the audit log shows names); a revoked key's name may be reused.
  await db.schema.createIndex('api_keys_live_name').on('api_keys').column('name').unique().where(sql.ref('revoked_at'), 'is', null).execute();

  await db.schema.alterTable('history').addColumn('user_id', ref).execute();
  await db.schema.alterTable('call_events').addColumn('user_id', ref).execute();
  await db.schema.alterTable('audit_log').addColumn('key_name', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('audit_log').dropColumn('key_name').execute();
  await db.schema.alterTable('call_events').dropColumn('user_id').execute();
  await db.schema.alterTable('history').dropColumn('user_id').execute();
  await db.schema.dropTable('api_keys').execute();
  await db.schema.dropTable('sessions').execute();
  await db.schema.dropTable('users').execute();
}
