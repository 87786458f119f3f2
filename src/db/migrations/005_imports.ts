// Frozen: never edit a migration that has shipped; add a new one.
// Imports are objects (admin-api.md "Changing and removing", "Real files in and out"):
//   imports         one row per import: who, when, where, the counts, its format and status;
//   import_rejects  every rejected row as it was read (cells as a JSON array) with its line and error;
//   import_items    the assigns an import created, with their customer and whether the import created
//                   that customer too: what DELETE /imports/:id may undo.
// No foreign keys from import_items to customers/assigns: an erasure or an undo removes those rows, and
// the item rows must not stand in its way (they are deleted with them, or are harmless leftovers).
import { type Kysely, PostgresAdapter, type ColumnDefinitionBuilder } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  const pg = db.getExecutor().adapter instanceof PostgresAdapter;
  const idType = pg ? 'bigint' : 'integer';
  const id = (c: ColumnDefinitionBuilder) => (pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey());
  const ref = 'bigint';
  const time = 'bigint';

  await db.schema.createTable('imports')
    .addColumn('id', idType, id)
    .addColumn('project_id', ref, (c) => c.notNull().references('projects.id'))
    .addColumn('repository_id', ref, (c) => c.notNull().references('repositories.id'))
    .addColumn('who', 'text', (c) => c.notNull())
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('encoding', 'text')
    .addColumn('on_duplicate', 'text', (c) => c.notNull())
    // running, done, failed (stopped by an error after some batches were written), undone
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('started_at', time, (c) => c.notNull())
    .addColumn('finished_at', time)
    .addColumn('rows', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('bytes', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('created', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('updated', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('skipped', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('error_count', 'bigint', (c) => c.notNull().defaultTo(0))
    // JSON array of the header's cells as read (null for NDJSON)
    .addColumn('header', 'text')
    .addColumn('undone_at', time)
    .execute();
  await db.schema.createIndex('imports_project').on('imports').columns(['project_id', 'id']).execute();

  await db.schema.createTable('import_rejects')
    .addColumn('id', idType, id)
    .addColumn('import_id', ref, (c) => c.notNull().references('imports.id'))
    .addColumn('line', 'bigint', (c) => c.notNull())
    // JSON array of the row's cells as read (NDJSON: one cell, the line)
    .addColumn('cells', 'text', (c) => c.notNull())
    .addColumn('error', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('import_rejects_import').on('import_rejects').columns(['import_id', 'line']).execute();

  await db.schema.createTable('import_items')
    .addColumn('import_id', ref, (c) => c.notNull().references('imports.id'))
    .addColumn('assign_id', ref, (c) => c.notNull())
    .addColumn('customer_id', ref, (c) => c.notNull())
    // 1: the import created the customer too; 0: it put an existing customer in the repository
    .addColumn('new_customer', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('import_items_pk', ['import_id', 'assign_id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('import_items').execute();
  await db.schema.dropTable('import_rejects').execute();
  await db.schema.dropTable('imports').execute();
}
