// Frozen: never edit a migration that has shipped; add a new one.
// Takes Kysely<any> and imports no application code, so it keeps meaning what it meant.
import { type Kysely, PostgresAdapter, type ColumnDefinitionBuilder } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  // Ids are caller-supplied or generated. SQLite: INTEGER PRIMARY KEY is the rowid (max+1 when generated).
  // PostgreSQL: an identity that still accepts explicit ids (the app advances the sequence past them).
  const idType = pg ? 'bigint' : 'integer';
  const id = (c: ColumnDefinitionBuilder) => (pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey());
  const ref = 'bigint';
  const time = 'bigint';

  await db.schema.createTable('projects')
    .addColumn('id', idType, id)
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', time, (c) => c.notNull())
    .execute();

  for (const table of ['groups', 'sites']) {
    await db.schema.createTable(table)
      .addColumn('id', idType, id)
      .addColumn('project_id', ref, (c) => c.notNull().references('projects.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('created_at', time, (c) => c.notNull())
      .execute();
    await db.schema.createIndex(`${table}_project`).on(table).columns(['project_id', 'id']).execute();
  }

  for (const table of ['workers', 'repositories']) {
    await db.schema.createTable(table)
      .addColumn('id', idType, id)
      .addColumn('project_id', ref, (c) => c.notNull().references('projects.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('group_id', ref, (c) => c.references('groups.id'))
      .addColumn('site_id', ref, (c) => c.references('sites.id'))
      .addColumn('created_at', time, (c) => c.notNull())
      .execute();
    await db.schema.createIndex(`${table}_project`).on(table).columns(['project_id', 'id']).execute();
  }

  await db.schema.createTable('dids')
    .addColumn('id', idType, id)
    .addColumn('project_id', ref, (c) => c.notNull().references('projects.id'))
    .addColumn('did', 'text', (c) => c.notNull())
    .addColumn('did_norm', 'text', (c) => c.notNull())
    .addColumn('repository_id', ref, (c) => c.references('repositories.id'))
    .addColumn('created_at', time, (c) => c.notNull())
    .addUniqueConstraint('dids_project_did', ['project_id', 'did_norm'])
    .execute();

  await db.schema.createTable('fields')
    .addColumn('id', idType, id)
    .addColumn('project_id', ref, (c) => c.notNull().references('projects.id'))
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('is_unique', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('is_required', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('options', 'text')
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('created_at', time, (c) => c.notNull())
    .addUniqueConstraint('fields_project_name', ['project_id', 'display_name'])
    .execute();

  await db.schema.createTable('statuses')
    .addColumn('id', idType, id)
    .addColumn('project_id', ref, (c) => c.notNull().references('projects.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('statuses_project').on('statuses').columns(['project_id', 'id']).execute();

  await db.schema.createTable('customers')
    .addColumn('id', idType, id)
    .addColumn('project_id', ref, (c) => c.notNull().references('projects.id'))
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('updated_at', time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('customers_project').on('customers').columns(['project_id', 'id']).execute();

  // The phone index: a lookup by (project, normalized phone) never scans customers.
  await db.schema.createTable('customer_phones')
    .addColumn('project_id', ref, (c) => c.notNull())
    .addColumn('phone', 'text', (c) => c.notNull())
    .addColumn('customer_id', ref, (c) => c.notNull().references('customers.id'))
    .addColumn('field_id', ref, (c) => c.notNull().references('fields.id'))
    .addPrimaryKeyConstraint('customer_phones_pk', ['project_id', 'phone', 'customer_id', 'field_id'])
    .execute();
  await db.schema.createIndex('customer_phones_customer').on('customer_phones').columns(['customer_id', 'field_id']).execute();

  // Unique field values: the primary key is what makes uniqueness race-free.
  await db.schema.createTable('customer_uniques')
    .addColumn('project_id', ref, (c) => c.notNull())
    .addColumn('field_id', ref, (c) => c.notNull().references('fields.id'))
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('customer_id', ref, (c) => c.notNull().references('customers.id'))
    .addPrimaryKeyConstraint('customer_uniques_pk', ['project_id', 'field_id', 'value'])
    .execute();
  await db.schema.createIndex('customer_uniques_customer').on('customer_uniques').columns(['customer_id', 'field_id']).execute();

  await db.schema.createTable('assigns')
    .addColumn('id', idType, id)
    .addColumn('project_id', ref, (c) => c.notNull().references('projects.id'))
    .addColumn('repository_id', ref, (c) => c.notNull().references('repositories.id'))
    .addColumn('customer_id', ref, (c) => c.notNull().references('customers.id'))
    .addColumn('group_id', ref, (c) => c.references('groups.id'))
    .addColumn('site_id', ref, (c) => c.references('sites.id'))
    .addColumn('worker_id', ref, (c) => c.references('workers.id'))
    .addColumn('status_id', ref, (c) => c.references('statuses.id'))
    .addColumn('last_call_at', time)
    .addColumn('last_notes', 'text')
    .addColumn('activity_at', time, (c) => c.notNull())
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('updated_at', time, (c) => c.notNull())
    .addUniqueConstraint('assigns_repository_customer', ['repository_id', 'customer_id'])
    .execute();
  await db.schema.createIndex('assigns_customer').on('assigns').columns(['customer_id', 'activity_at']).execute();
  await db.schema.createIndex('assigns_project').on('assigns').columns(['project_id', 'id']).execute();

  await db.schema.createTable('call_events')
    .addColumn('id', idType, id)
    .addColumn('project_id', ref, (c) => c.notNull())
    .addColumn('assign_id', ref, (c) => c.notNull().references('assigns.id'))
    .addColumn('at', time, (c) => c.notNull())
    .addColumn('worker_id', ref)
    .addColumn('status_id', ref)
    .addColumn('notes', 'text')
    .addColumn('call_id', 'text')
    .addColumn('source', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('call_events_assign').on('call_events').columns(['assign_id', 'at']).execute();

  await db.schema.createTable('history')
    .addColumn('id', idType, id)
    .addColumn('project_id', ref, (c) => c.notNull())
    .addColumn('customer_id', ref, (c) => c.notNull())
    .addColumn('assign_id', ref)
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('field', 'text')
    .addColumn('old_value', 'text')
    .addColumn('new_value', 'text')
    .addColumn('old_status_id', ref)
    .addColumn('new_status_id', ref)
    .addColumn('status_id', ref)
    .addColumn('notes', 'text')
    .addColumn('call_id', 'text')
    // worker_id is audit data as the dialer sent it: not a foreign key (an unregistered agent still counts).
    .addColumn('worker_id', ref)
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('at', time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('history_assign').on('history').columns(['assign_id', 'id']).execute();
  await db.schema.createIndex('history_customer').on('history').columns(['customer_id', 'id']).execute();

  await db.schema.createTable('call_requests')
    .addColumn('endpoint', 'text', (c) => c.notNull())
    .addColumn('call_id', 'text', (c) => c.notNull())
    .addColumn('assign_id', ref, (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('project_id', ref, (c) => c.notNull())
    .addColumn('response', 'text', (c) => c.notNull())
    .addColumn('created_at', time, (c) => c.notNull())
    .addPrimaryKeyConstraint('call_requests_pk', ['endpoint', 'call_id', 'assign_id', 'request_hash'])
    .execute();

  // Telephony write audit. project_id is nullable: a refused request may name no project.
  await db.schema.createTable('audit_log')
    .addColumn('id', idType, id)
    .addColumn('at', time, (c) => c.notNull())
    .addColumn('endpoint', 'text', (c) => c.notNull())
    .addColumn('code', 'integer', (c) => c.notNull())
    .addColumn('latency_ms', 'real', (c) => c.notNull())
    .addColumn('key_id', 'text')
    .addColumn('client_ip', 'text')
    .addColumn('worker_id', 'text')
    .addColumn('assign_id', ref)
    .addColumn('project_id', ref)
    .execute();
  await db.schema.createIndex('audit_log_at').on('audit_log').columns(['at']).execute();
  await db.schema.createIndex('audit_log_assign').on('audit_log').columns(['assign_id', 'id']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['audit_log', 'call_requests', 'history', 'call_events', 'assigns', 'customer_uniques', 'customer_phones',
    'customers', 'statuses', 'fields', 'dids', 'repositories', 'workers', 'sites', 'groups', 'projects']) {
    await db.schema.dropTable(t).execute();
  }
}
