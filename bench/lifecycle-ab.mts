// A/B micro-benchmark (notes/lifecycle.md): server CPU per get_data by phone through app.inject, in one process,
// for the source tree given as the first argument: npx tsx bench/lifecycle-ab.mts /path/to/tree 20000
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const root = process.argv[2]!;
const N = Number(process.argv[3] ?? 20000);
const { buildApp } = await import(`${root}/src/app.ts`);
const { loadConfig } = await import(`${root}/src/config.ts`);
const { openDatabase } = await import(`${root}/src/db/connect.ts`);
const { migrateToLatest } = await import(`${root}/src/db/migrate.ts`);
const dir = mkdtempSync(join(tmpdir(), 'lc-micro-'));
const url = `sqlite:${join(dir, 'crm.sqlite')}`;
const config = loadConfig({ DATABASE_URL: url, CRM_ADMIN_TOKEN: 'bench-admin-token', LOG_LEVEL: 'warn' });
const db = openDatabase(url, { durable: false });
await migrateToLatest(db.q);
const app = await buildApp({ config, db });
const H = { authorization: 'Bearer bench-admin-token' };
const post = async (u: string, p: object) => { const r = await app.inject({ method: 'POST', url: `/admin/v1${u}`, headers: H, payload: p }); if (r.statusCode !== 201) throw new Error(r.body); return r.json(); };
await post('/projects', { id: 10, name: 'P' });
await post('/projects/10/fields', { display_name: 'first_name' });
await post('/projects/10/fields', { display_name: 'mobile', type: 'phone' });
await post('/projects/10/repositories', { id: 7, name: 'R' });
await post('/projects/10/dids', { did: '07333333333' });
const C = 1000;
for (let i = 0; i < C; i++) {
  const c = await post('/projects/10/customers', { fields: { first_name: `N${i}`, mobile: `050${String(1000000 + i).slice(-7)}` } });
  await post('/repositories/7/assigns', { customer_id: c.id });
}
const urls = Array.from({ length: 512 }, (_, k) => `/api/get_data.php?authkey=Mindc_2023_get_data&did=07333333333&project_id=10&phone=050${String(1000000 + ((k * 7919) % C)).slice(-7)}&out=first_name,mobile`);
async function run(n: number) {
  for (let i = 0; i < n; i++) {
    const r = await app.inject({ method: 'GET', url: urls[i % urls.length]! });
    if (i === 0 && !r.body.includes('"first_name":"N')) throw new Error(r.body);
  }
}
await run(3000);
const t = process.cpuUsage();
const w = performance.now();
await run(N);
const d = process.cpuUsage(t);
console.log(JSON.stringify({ root, cpu_us_per_req: +((d.user + d.system) / N).toFixed(1), wall_us_per_req: +(((performance.now() - w) * 1000) / N).toFixed(1) }));
await app.close();
await db.close();
rmSync(dir, { recursive: true, force: true });
