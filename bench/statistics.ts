// Dashboard load time at call-center scale: builds a SQLite database with STATS_CUSTOMERS customers and
// assigns (default 1M), STATS_HISTORY history rows (default 10M) and STATS_CALLS call events (default
// 3M) spread over the last 30 days, then times GET /projects/:id/statistics (the one request a dashboard
// load makes) through the app, cold and warm, and each of its queries alone. Prints the figures.
//
//   npm run bench:statistics                       # 1M customers, 10M history rows
//   STATS_CUSTOMERS=100000 STATS_HISTORY=1000000 STATS_CALLS=300000 npm run bench:statistics
//
// The rows are generated in SQL (recursive CTEs) rather than through the import: the dashboard reads
// call_events, history and assigns only, and 10M history rows through the API would take hours here.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/connect.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { localDayStart } from '../src/crm/local-time.ts';
import { HOUR, hourlyCounts, recentActivity, repositoryProgress, settledEnd } from '../src/crm/statistics.ts';

const CUSTOMERS = Number(process.env.STATS_CUSTOMERS ?? 1_000_000);
const HISTORY = Number(process.env.STATS_HISTORY ?? 10_000_000);
const CALLS = Number(process.env.STATS_CALLS ?? 3_000_000);
const RUNS = Number(process.env.STATS_RUNS ?? 10);
const P = 10;
const DAYS = 30;
const TZ = 'Asia/Jerusalem';

const dir = mkdtempSync(join(tmpdir(), 'callcrm-stats-'));
const file = join(dir, 'crm.sqlite');
const url = `sqlite:${file}`;
const ms = (t: number) => `${t.toFixed(1)} ms`;

async function build() {
  const db = openDatabase(url, { durable: false, poolSize: 1 });
  await migrateToLatest(db.q);
  await db.close();
  const raw = new Database(file);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = OFF');
  raw.pragma('cache_size = -262144');
  const now = Date.now();
  const start = now - DAYS * 86_400_000;
  const t0 = performance.now();
  raw.exec(`insert into projects (id, name, created_at) values (${P}, 'Bench', ${start})`);
  raw.exec(`with recursive n(i) as (select 1 union all select i + 1 from n where i < 20) insert into statuses (id, project_id, name, created_at) select 200 + i, ${P}, 'Status ' || i, ${start} from n`);
  raw.exec(`with recursive n(i) as (select 1 union all select i + 1 from n where i < 50) insert into workers (id, project_id, name, created_at) select 300 + i, ${P}, 'Agent ' || i, ${start} from n`);
  raw.exec(`with recursive n(i) as (select 1 union all select i + 1 from n where i < 10) insert into repositories (id, project_id, name, created_at) select 100 + i, ${P}, 'List ' || i, ${start} from n`);
  const tx = (sql: string) => raw.exec(`begin; ${sql}; commit;`);
  tx(`with recursive n(i) as (select 1 union all select i + 1 from n where i < ${CUSTOMERS})
      insert into customers (id, project_id, data, created_at, updated_at) select i, ${P}, '{"first_name":"C' || i || '"}', ${start}, ${start} from n`);
  // 40 % of assigns have no status yet; the rest one of 20 statuses; agents 301..350.
  tx(`with recursive n(i) as (select 1 union all select i + 1 from n where i < ${CUSTOMERS})
      insert into assigns (id, project_id, repository_id, customer_id, worker_id, status_id, last_call_at, activity_at, created_at, updated_at)
      select i, ${P}, 101 + (i % 10), i, 301 + (i % 50), case when i % 5 < 2 then null else 201 + (i % 20) end,
             ${start} + (i * 2591) % ${DAYS * 86_400_000}, ${start}, ${start}, ${start} from n`);
  console.log(`customers and assigns: ${CUSTOMERS.toLocaleString()} in ${ms(performance.now() - t0)}`);
  const t1 = performance.now();
  const step = (DAYS * 86_400_000) / CALLS;
  tx(`with recursive n(i) as (select 1 union all select i + 1 from n where i < ${CALLS})
      insert into call_events (project_id, assign_id, at, worker_id, status_id, notes, call_id, source)
      select ${P}, 1 + (i * 7919) % ${CUSTOMERS}, ${start} + cast(i * ${step} as integer), 301 + (i % 50), case when i % 7 = 0 then null else 201 + (i % 20) end, null, null, 'set_status' from n`);
  console.log(`call events: ${CALLS.toLocaleString()} in ${ms(performance.now() - t1)}`);
  const t2 = performance.now();
  const hstep = (DAYS * 86_400_000) / HISTORY;
  // Kinds as a call center's history holds them: 60 % field changes, 25 % status changes, 15 % calls.
  tx(`with recursive n(i) as (select 1 union all select i + 1 from n where i < ${HISTORY})
      insert into history (project_id, customer_id, assign_id, kind, field, old_value, new_value, old_status_id, new_status_id, worker_id, source, at)
      select ${P}, 1 + (i * 104729) % ${CUSTOMERS}, 1 + (i * 104729) % ${CUSTOMERS},
             case when i % 20 < 12 then 'field' when i % 20 < 17 then 'status' else 'call' end,
             case when i % 20 < 12 then 'city' else null end,
             case when i % 20 < 12 then 'Haifa' else null end, case when i % 20 < 12 then 'Tel Aviv' else null end,
             null, case when i % 20 between 12 and 16 then 201 + (i % 20) else null end,
             301 + (i % 50), 'set_data', ${start} + cast(i * ${hstep} as integer) from n`);
  console.log(`history: ${HISTORY.toLocaleString()} in ${ms(performance.now() - t2)}`);
  raw.exec('analyze');
  raw.pragma('wal_checkpoint(TRUNCATE)');
  raw.close();
  console.log(`database: ${(statSync(file).size / 2 ** 20).toFixed(0)} MiB`);
}

function summary(times: number[]) {
  const s = [...times].sort((a, b) => a - b);
  return `median ${ms(s[Math.floor(s.length / 2)]!)}, max ${ms(s[s.length - 1]!)}`;
}

async function measure() {
  const config = loadConfig({ DATABASE_URL: url, CRM_ADMIN_TOKEN: 'bench-admin-token', CRM_TIMEZONE: TZ, LOG_LEVEL: 'warn' });
  const db = openDatabase(url, { durable: true, poolSize: 1 });
  const app = await buildApp({ config, db });
  await app.ready();
  const load = async () => {
    const t = performance.now();
    const res = await app.inject({ method: 'GET', url: `/admin/v1/projects/${P}/statistics?days=7`, headers: { authorization: 'Bearer bench-admin-token' } });
    if (res.statusCode !== 200) throw new Error(`statistics: HTTP ${res.statusCode} ${res.body}`);
    return { ms: performance.now() - t, body: res.json() };
  };
  const first = await load();
  console.log(`\ndashboard load (GET /projects/${P}/statistics?days=7), the first (rolls up 7 days of hours): ${ms(first.ms)}`);
  console.log(`  7 days: ${first.body.totals.calls.toLocaleString()} calls, ${first.body.totals.status_changes.toLocaleString()} status changes; ${first.body.repositories.length} repositories`);
  const times: number[] = [];
  for (let k = 0; k < RUNS; k++) times.push((await load()).ms);
  console.log(`  warm, ${RUNS} loads: ${summary(times)}  (target ≤ 200 ms)`);
  for (const days of [1, 31]) {
    const t: number[] = [];
    for (let k = 0; k < 3; k++) {
      const s = performance.now();
      await app.inject({ method: 'GET', url: `/admin/v1/projects/${P}/statistics?days=${days}`, headers: { authorization: 'Bearer bench-admin-token' } });
      t.push(performance.now() - s);
    }
    console.log(`  days=${days}: ${summary(t)}`);
  }
  const now = Date.now();
  const fromHour = Math.floor(localDayStart(now, TZ, 6) / HOUR);
  const parts: [string, () => Promise<unknown>][] = [
    ['hourly counts (rollup + live hour)', () => hourlyCounts(db.q, P, fromHour, settledEnd(now), now)],
    ['repository progress', () => repositoryProgress(db.q, P)],
    ['recent activity', () => recentActivity(db.q, P, 20)],
  ];
  console.log('each query alone:');
  for (const [name, run] of parts) {
    const t: number[] = [];
    for (let k = 0; k < 5; k++) {
      const s = performance.now();
      await run();
      t.push(performance.now() - s);
    }
    console.log(`  ${name}: ${summary(t)}`);
  }
  await app.close();
  await db.close();
}

try {
  console.log(`dashboard bench: ${CUSTOMERS.toLocaleString()} customers, ${HISTORY.toLocaleString()} history rows, ${CALLS.toLocaleString()} call events over ${DAYS} days (SQLite, ${file})`);
  await build();
  await measure();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
