// Migrations: equal in effect on SQLite and PostgreSQL, idempotent, all-or-nothing when one fails, and
// safe when several instances start at once. Schemas are compared in a dialect-neutral form read from
// each database's own catalog (not from what the migration code says it does).
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { sql, type Kysely, type Migration } from 'kysely';
import { openDatabase, type Db } from '../src/db/connect.ts';
import { MIGRATIONS, migrateToLatest } from '../src/db/migrate.ts';
import { dialects, type DialectName } from './helpers.ts';

interface Fresh {
  /** Opens another connection (pool) to the same database, as a second instance would. */
  open(): Db;
  close(): Promise<void>;
}

/** An empty database of the dialect: a temp SQLite file, or a new PostgreSQL schema. Nothing migrated. */
async function freshDatabase(dialect: DialectName): Promise<Fresh> {
  const opened: Db[] = [];
  const track = (db: Db) => (opened.push(db), db);
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'callcrm-migrations-'));
    const url = `sqlite:${join(dir, 'crm.sqlite')}`;
    return {
      open: () => track(openDatabase(url)),
      async close() {
        for (const db of opened) await db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const url = process.env.TEST_DATABASE_URL!;
  const schema = `m_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  return {
    open: () => track(openDatabase(url, { schema, poolSize: 3 })),
    async close() {
      for (const db of opened) await db.close();
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
    },
  };
}

interface TableShape {
  columns: Record<string, { type: string; nullable: boolean }>;
  primaryKey: string[];
  /** Column lists of unique constraints (names are not kept: SQLite does not keep them). */
  uniques: string[][];
  /** Indexes that back no constraint, by name. */
  indexes: Record<string, { columns: string[]; unique: boolean }>;
  foreignKeys: string[];
}
type SchemaShape = Record<string, TableShape>;

/** Type families: the migration picks integer/bigint ids per dialect on purpose; the family must agree. */
function typeFamily(t: string): string {
  const type = t.toLowerCase();
  if (/^(integer|bigint|int\d?|smallint)$/.test(type)) return 'integer';
  if (/^(text|varchar.*|character varying.*)$/.test(type)) return 'text';
  if (/^(real|double precision|float\d?)$/.test(type)) return 'float';
  return type;
}

const isAppTable = (name: string) => !name.startsWith('kysely_') && !name.startsWith('sqlite_');

async function sqliteShape(q: Kysely<any>): Promise<SchemaShape> {
  const rows = async <T>(query: ReturnType<typeof sql>) => (await query.execute(q)).rows as T[];
  const tables = await rows<{ name: string }>(sql`select name from sqlite_master where type = 'table' order by name`);
  const shape: SchemaShape = {};
  for (const { name } of tables.filter((t) => isAppTable(t.name))) {
    const cols = await rows<{ name: string; type: string; notnull: number; pk: number }>(sql`select * from pragma_table_info(${name})`);
    const pkCols = cols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
    // A lone INTEGER PRIMARY KEY is the rowid: it cannot hold NULL although pragma reports notnull=0.
    const rowid = pkCols.length === 1 && pkCols[0]!.type.toUpperCase() === 'INTEGER' ? pkCols[0]!.name : undefined;
    const t: TableShape = { columns: {}, primaryKey: pkCols.map((c) => c.name), uniques: [], indexes: {}, foreignKeys: [] };
    for (const c of cols) t.columns[c.name] = { type: typeFamily(c.type), nullable: c.notnull === 0 && c.name !== rowid };
    const indexes = await rows<{ name: string; unique: number; origin: string }>(sql`select * from pragma_index_list(${name})`);
    for (const ix of indexes) {
      if (ix.origin === 'pk') continue;
      const ixCols = (await rows<{ seqno: number; name: string }>(sql`select * from pragma_index_info(${ix.name})`)).sort((a, b) => a.seqno - b.seqno).map((c) => c.name);
      if (ix.origin === 'u') t.uniques.push(ixCols);
      else t.indexes[ix.name] = { columns: ixCols, unique: ix.unique === 1 };
    }
    const fks = await rows<{ id: number; seq: number; table: string; from: string; to: string }>(sql`select * from pragma_foreign_key_list(${name})`);
    const byId = new Map<number, typeof fks>();
    for (const fk of fks) byId.set(fk.id, [...(byId.get(fk.id) ?? []), fk]);
    for (const parts of byId.values()) {
      parts.sort((a, b) => a.seq - b.seq);
      t.foreignKeys.push(`(${parts.map((p) => p.from).join(',')}) -> ${parts[0]!.table}(${parts.map((p) => p.to).join(',')})`);
    }
    shape[name] = normalize(t);
  }
  return shape;
}

async function postgresShape(q: Kysely<any>): Promise<SchemaShape> {
  const rows = async <T>(query: ReturnType<typeof sql>) => (await query.execute(q)).rows as T[];
  const tables = await rows<{ name: string }>(sql`
    select table_name as name from information_schema.tables
    where table_schema = current_schema() and table_type = 'BASE TABLE' order by table_name`);
  const shape: SchemaShape = {};
  for (const { name } of tables.filter((t) => isAppTable(t.name))) {
    const t: TableShape = { columns: {}, primaryKey: [], uniques: [], indexes: {}, foreignKeys: [] };
    const cols = await rows<{ name: string; type: string; nullable: string }>(sql`
      select column_name as name, data_type as type, is_nullable as nullable from information_schema.columns
      where table_schema = current_schema() and table_name = ${name} order by ordinal_position`);
    for (const c of cols) t.columns[c.name] = { type: typeFamily(c.type), nullable: c.nullable === 'YES' };
    const constraints = await rows<{ kind: string; columns: string[]; ref_table: string | null; ref_columns: string[] | null }>(sql`
      select c.contype as kind,
        array(select a.attname::text from unnest(c.conkey) with ordinality k(n, i)
              join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.n order by k.i) as columns,
        rc.relname::text as ref_table,
        case when c.confrelid = 0 then null else
          array(select a.attname::text from unnest(c.confkey) with ordinality k(n, i)
                join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.n order by k.i) end as ref_columns
      from pg_constraint c
      left join pg_class rc on rc.oid = c.confrelid
      where c.conrelid = (quote_ident(current_schema()) || '.' || quote_ident(${name}))::regclass
        and c.contype in ('p', 'u', 'f')`);
    for (const c of constraints) {
      if (c.kind === 'p') t.primaryKey = c.columns;
      else if (c.kind === 'u') t.uniques.push(c.columns);
      else t.foreignKeys.push(`(${c.columns.join(',')}) -> ${c.ref_table}(${c.ref_columns!.join(',')})`);
    }
    const indexes = await rows<{ name: string; unique: boolean; columns: string[] }>(sql`
      select ic.relname::text as name, i.indisunique as unique,
        array(select a.attname::text from unnest(i.indkey::int2[]) with ordinality k(n, o)
              join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.n order by k.o) as columns
      from pg_index i join pg_class ic on ic.oid = i.indexrelid
      where i.indrelid = (quote_ident(current_schema()) || '.' || quote_ident(${name}))::regclass
        and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid and c.conrelid = i.indrelid)`);
    for (const ix of indexes) t.indexes[ix.name] = { columns: ix.columns, unique: ix.unique };
    shape[name] = normalize(t);
  }
  return shape;
}

function normalize(t: TableShape): TableShape {
  t.uniques.sort((a, b) => a.join().localeCompare(b.join()));
  t.foreignKeys.sort();
  return t;
}

const shapeOf = (db: Db) => (db.dialect === 'sqlite' ? sqliteShape(db.q) : postgresShape(db.q));

async function appliedMigrations(db: Db): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db.q);
  return rows.map((r) => r.name);
}

/** A migration after 001 that creates a table and then fails: everything of the run must roll back. */
const BROKEN: Migration = {
  async up(db) {
    await db.schema.createTable('half_done').addColumn('id', 'integer', (c) => c.primaryKey()).execute();
    await sql`select * from no_such_table`.execute(db);
  },
};

for (const dialect of dialects()) {
  describe(dialect, () => {
    const fresh: Fresh[] = [];
    const newDatabase = async () => {
      const f = await freshDatabase(dialect);
      fresh.push(f);
      return f;
    };
    after(async () => {
      for (const f of fresh) await f.close();
    });

    test('a fresh database gets every migration, and the schema has every table the code uses', async () => {
      const db = (await newDatabase()).open();
      assert.deepEqual(await migrateToLatest(db.q), Object.keys(MIGRATIONS));
      const shape = await shapeOf(db);
      assert.deepEqual(Object.keys(shape).sort(), [
        'api_keys', 'assigns', 'audit_log', 'call_events', 'call_requests', 'customer_phones', 'customer_uniques', 'customers',
        'dids', 'fields', 'groups', 'history', 'import_items', 'import_rejects', 'imports', 'integration_settings', 'projects', 'removed_assigns',
        'repositories', 'sessions', 'setup_version', 'sites', 'stats_hourly', 'statuses', 'users', 'webhook_deliveries', 'webhook_events', 'webhooks', 'workers',
      ]);
      assert.deepEqual(await appliedMigrations(db), Object.keys(MIGRATIONS));
    });

    test('migrating a second time applies nothing and leaves the schema unchanged', async () => {
      const db = (await newDatabase()).open();
      await migrateToLatest(db.q);
      const before = await shapeOf(db);
      assert.deepEqual(await migrateToLatest(db.q), []);
      assert.deepEqual(await shapeOf(db), before);
      assert.deepEqual(await appliedMigrations(db), Object.keys(MIGRATIONS));
    });

    test('a failing migration makes migrateToLatest throw naming it, and the failed run leaves nothing behind', async () => {
      const db = (await newDatabase()).open();
      await assert.rejects(migrateToLatest(db.q, { ...MIGRATIONS, '999_broken': BROKEN }), /migration 999_broken failed: .*no_such_table/);
      // The whole run is one transaction: neither the broken migration's table nor 001's tables stay.
      assert.deepEqual(await shapeOf(db), {});
      assert.deepEqual(await appliedMigrations(db), []);
      // The next start (with the fix shipped) migrates normally.
      assert.deepEqual(await migrateToLatest(db.q), Object.keys(MIGRATIONS));
    });

    test('a failing migration on an up-to-date database throws and keeps the schema and its data', async () => {
      const db = (await newDatabase()).open();
      await migrateToLatest(db.q);
      const before = await shapeOf(db);
      await db.q.insertInto('projects').values({ id: 10, name: 'Kept', created_at: 1 }).execute();
      await assert.rejects(migrateToLatest(db.q, { ...MIGRATIONS, '999_broken': BROKEN }), /999_broken/);
      assert.deepEqual(await shapeOf(db), before);
      assert.deepEqual(await appliedMigrations(db), Object.keys(MIGRATIONS));
      assert.deepEqual(await db.q.selectFrom('projects').select(['id', 'name']).execute(), [{ id: 10, name: 'Kept' }]);
    });

    if (dialect === 'postgres') {
      test('instances starting at once on a fresh database apply each migration exactly once', async () => {
        const f = await newDatabase();
        const instances = Array.from({ length: 4 }, () => f.open());
        const applied = await Promise.all(instances.map((db) => migrateToLatest(db.q)));
        // One instance applied everything; the others found nothing left to do.
        assert.deepEqual(applied.flat().sort(), Object.keys(MIGRATIONS).sort());
        assert.deepEqual(await appliedMigrations(instances[0]!), Object.keys(MIGRATIONS));
      });

      test('migrations give PostgreSQL the same tables, columns, nullability, keys and indexes as SQLite', async () => {
        const pgDb = (await newDatabase()).open();
        const sqliteFresh = await freshDatabase('sqlite');
        fresh.push(sqliteFresh);
        const liteDb = sqliteFresh.open();
        await migrateToLatest(pgDb.q);
        await migrateToLatest(liteDb.q);
        const [pgShape, liteShape] = [await postgresShape(pgDb.q), await sqliteShape(liteDb.q)];
        assert.ok(Object.keys(liteShape).length > 10, 'the SQLite schema was read');
        for (const table of new Set([...Object.keys(pgShape), ...Object.keys(liteShape)])) {
          assert.deepEqual(pgShape[table], liteShape[table], `table ${table} differs between PostgreSQL and SQLite`);
        }
      });

      test('a migration runs without the request statement_timeout, so a long index build does not fail', async () => {
        const db = (await newDatabase()).open();
        const probe: Migration = {
          async up(q) {
            await sql`create table timeout_probe as select current_setting('statement_timeout') as value`.execute(q);
          },
        };
        await migrateToLatest(db.q, { ...MIGRATIONS, '999_probe': probe });
        const { rows } = await sql<{ value: string }>`select value from timeout_probe`.execute(db.q);
        assert.deepEqual(rows, [{ value: '0' }]);
        // Requests keep their limit.
        const { rows: after } = await sql<{ statement_timeout: string }>`show statement_timeout`.execute(db.q);
        assert.deepEqual(after, [{ statement_timeout: '15s' }]);
      });

      test('migrating a schema is not confused by another schema of the same database that is already migrated', async () => {
        // Kysely alone would find the other schema's kysely_migration table and never create its own.
        const first = (await newDatabase()).open();
        await migrateToLatest(first.q);
        const second = (await newDatabase()).open();
        assert.deepEqual(await migrateToLatest(second.q), Object.keys(MIGRATIONS));
        assert.deepEqual(await appliedMigrations(second), Object.keys(MIGRATIONS));
      });

      test('migrating is not broken by other schemas of the database being created and dropped meanwhile', async () => {
        // Other apps and parallel test runs drop schemas at any moment. Kysely's own introspector resolved
        // every table of every schema by name and failed with "relation … does not exist" when one vanished
        // mid-query (seen in CI); ours reads the current schema only.
        const url = process.env.TEST_DATABASE_URL!;
        const churn = new pg.Client({ connectionString: url });
        await churn.connect();
        let stop = false;
        const churning = (async () => {
          for (let i = 0; !stop; i++) {
            const s = `churn_${process.pid}_${i}`;
            // Separate statements: one multi-statement query is one transaction, invisible until it is gone.
            await churn.query(`create schema ${s}`);
            await churn.query(`create table ${s}.t (id bigserial primary key, v text)`);
            await churn.query(`drop schema ${s} cascade`);
          }
        })();
        try {
          for (let i = 0; i < 15; i++) {
            const db = (await newDatabase()).open();
            assert.deepEqual(await migrateToLatest(db.q), Object.keys(MIGRATIONS));
          }
        } finally {
          stop = true;
          await churning;
          await churn.end();
        }
      });
    }
  });
}
