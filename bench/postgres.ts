// The PostgreSQL half runs in a fresh database on the server named by BENCH_DATABASE_URL, dropped after
// (kept with BENCH_KEEP=1, to profile or query it afterwards).
// A database rather than a schema: the server takes its schema from DATABASE_URL alone.
import pg from 'pg';

export interface BenchDatabase {
  url: string;
  /** The backends connected to this database (the server's pool): their CPU is part of the server's cost. */
  backendPids(): Promise<number[]>;
  /** Drops the database; with `keep`, only closes this module's connection and leaves the database. */
  drop(keep?: boolean): Promise<void>;
}

export async function createBenchDatabase(serverUrl: string): Promise<BenchDatabase> {
  const name = `callcrm_bench_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  let monitor: pg.Client | undefined;
  return {
    url: url.toString(),
    async backendPids() {
      if (!monitor) {
        monitor = new pg.Client({ connectionString: serverUrl });
        await monitor.connect();
      }
      const { rows } = await monitor.query<{ pid: number }>('select pid from pg_stat_activity where datname = $1', [name]);
      return rows.map((r) => r.pid);
    },
    async drop(keep = false) {
      await monitor?.end();
      if (keep) return;
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}
