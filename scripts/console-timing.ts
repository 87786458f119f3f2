// Time to a usable customer card on loopback, with N customers in the database (default 1,000,000):
// the card route's answer time (the API the card waits for) and the first load of the card page in
// headless Chromium, cold (empty cache) and warm, until the fields, the status picker and the history
// are on screen.
//
//   npx tsx scripts/console-timing.ts [customers]          e.g. 1000000 (takes a few minutes to load)
//   KEEP=/tmp/card-db npx tsx scripts/console-timing.ts   keeps (or reuses) the loaded database there
//
// The data is the benchmark's dataset (bench/dataset.ts), loaded through the import route.
import { createReadStream, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/connect.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { ASSIGN_BASE, PROJECT_ID, WORKER_ID, writeCsvFiles } from '../bench/dataset.ts';
import { setupProject } from '../bench/load.ts';
import { ADMIN_TOKEN } from '../bench/processes.ts';
import { launchBrowser } from '../test/browser.ts';
import { buildConsole } from './build-console.mjs';

const customers = Number(process.argv[2] ?? 1_000_000);
const PASSWORD = 'timing password 1';
const say = (s: string) => process.stderr.write(`[console-timing] ${s}\n`);

const dir = process.env.KEEP ?? mkdtempSync(join(tmpdir(), 'callcrm-card-'));
mkdirSync(dir, { recursive: true });
const file = join(dir, 'crm.sqlite');
const fresh = !existsSync(file);
const databaseUrl = `sqlite:${file}`;
const config = loadConfig({ DATABASE_URL: databaseUrl, CRM_ADMIN_TOKEN: ADMIN_TOKEN, LOG_LEVEL: 'warn', CRM_DURABLE: 'false' });
const db = openDatabase(databaseUrl, { durable: false, poolSize: 5 });
await migrateToLatest(db.q);
const app = await buildApp({ config, db });
const url = await app.listen({ port: 0, host: '127.0.0.1' });
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

if (fresh) {
  say(`loading ${customers.toLocaleString('en-US')} customers into ${file}`);
  await setupProject(url);
  const started = performance.now();
  for (const f of await writeCsvFiles(dir, customers)) {
    const res = await fetch(`${url}/admin/v1/projects/${PROJECT_ID}/import?repository_id=${f.repositoryId}`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'text/csv' },
      body: Readable.toWeb(createReadStream(f.path)) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    if (!res.ok) throw new Error(`import: HTTP ${res.status} ${await res.text()}`);
    rmSync(f.path);
  }
  say(`loaded in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const user = await fetch(`${url}/admin/v1/users`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'timing', password: PASSWORD, role: 'agent', worker_id: WORKER_ID, project_ids: [PROJECT_ID] }),
  });
  if (user.status !== 201) throw new Error(`user: HTTP ${user.status} ${await user.text()}`);
}

await buildConsole();
const login = await fetch(`${url}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'timing', password: PASSWORD }) });
if (!login.ok) throw new Error(`login: HTTP ${login.status}`);
const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
const total = Number((await db.q.selectFrom('customers').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
const pick = (k: number) => 1 + ((k * 7_919_993) % total);

// The card's API calls as the page makes them, one after the other.
const times: number[] = [];
for (let k = 1; k <= 50; k++) {
  const id = pick(k);
  const t0 = performance.now();
  const card = await fetch(`${url}/admin/v1/console/customers/${id}`, { headers: { cookie } });
  const history = await fetch(`${url}/admin/v1/assigns/${ASSIGN_BASE + id}/history?limit=100`, { headers: { cookie } });
  await Promise.all([card.text(), history.text()]);
  if (!card.ok || !history.ok) throw new Error(`card ${id}: HTTP ${card.status}/${history.status}`);
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
const ms = (n: number) => `${n.toFixed(1)} ms`;

const browser = await launchBrowser();
const loads: { cold: number; warm: number }[] = [];
try {
  for (let k = 1; k <= 5; k++) {
    const ctx = await browser.newContext();
    const [name, value] = cookie.split('=') as [string, string];
    await ctx.addCookies([{ name, value, url }]);
    const page = await ctx.newPage();
    const usable = async (id: number) => {
      const t0 = performance.now();
      await page.goto(`${url}/app/customers/${id}`);
      await page.locator('#f-first_name').waitFor();
      await page.locator('select[aria-label^="Status"], select[aria-label^="סטטוס"]').first().waitFor();
      await page.locator('section[aria-labelledby="history-title"] :is(ol, p)').first().waitFor();
      return performance.now() - t0;
    };
    const cold = await usable(pick(100 + k));
    const warm = await usable(pick(200 + k));
    loads.push({ cold, warm });
    await ctx.close();
  }
} finally {
  await browser.close();
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

console.log(`customers in the database: ${total.toLocaleString('en-US')} (SQLite, loopback)`);
console.log(`card API (GET /console/customers/:id + GET /assigns/:id/history, sequential): median ${ms(times[Math.floor(times.length / 2)]!)}, p95 ${ms(times[Math.floor(times.length * 0.95)]!)}, max ${ms(times[times.length - 1]!)} over ${times.length} customers`);
console.log(`card page usable in Chromium: cold cache median ${ms(median(loads.map((l) => l.cold)))}, warm median ${ms(median(loads.map((l) => l.warm)))} (${loads.length} runs each)`);
await app.close();
await db.close();
if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true });
