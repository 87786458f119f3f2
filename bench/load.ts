// Setting up and loading the dataset through the product's own surfaces: the project's setup through
// the admin API, the customers through the product's import (the CLI `callcrm import`, a child process,
// so its time and peak memory are the product's own).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ASSIGN_BASE, DIDS, FIELDS, PROJECT_ID, REPOSITORY_IDS, STATUS_IDS, WORKER_ID, customerFields, repositoryIndexOf, type ImportFile } from './dataset.ts';
import { ADMIN_TOKEN, ROOT, procMemory, runMeasured } from './processes.ts';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

async function adminPost(serverUrl: string, path: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${serverUrl}/admin/v1${path}`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`POST /admin/v1${path}: HTTP ${res.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text);
}

/** The project, its fields, statuses, repositories, a worker and the DIDs, through the admin API. */
export async function setupProject(serverUrl: string): Promise<void> {
  await adminPost(serverUrl, '/projects', { id: PROJECT_ID, name: 'Benchmark call center' });
  for (const f of FIELDS) await adminPost(serverUrl, `/projects/${PROJECT_ID}/fields`, f);
  for (const [k, id] of STATUS_IDS.entries()) await adminPost(serverUrl, `/projects/${PROJECT_ID}/statuses`, { id, name: `Status ${k + 1}` });
  for (const [k, id] of REPOSITORY_IDS.entries()) await adminPost(serverUrl, `/projects/${PROJECT_ID}/repositories`, { id, name: `Leads ${k + 1}` });
  await adminPost(serverUrl, `/projects/${PROJECT_ID}/workers`, { id: WORKER_ID, name: 'Bench agent' });
  for (const did of DIDS) await adminPost(serverUrl, `/projects/${PROJECT_ID}/dids`, { did });
}

export type LoaderKind = 'cli' | 'import-route' | 'admin-create';

export interface LoadReport {
  loader: LoaderKind;
  rows: number;
  /** Wall time of the whole load, in seconds. */
  seconds: number;
  /** Of which process start-up (CLI only: one `--help` run times the number of files). */
  startupSeconds?: number;
  /** Peak RSS of the process that did the load (the CLI child; the server for the admin routes). */
  peakRss: number;
  description: string;
}

/**
 * Which of the product's surfaces loads the dataset: the import CLI when it exists (the intended one),
 * else the admin import route, else (small datasets only, while neither exists) the admin create routes.
 * BENCH_LOADER forces one. cliStartupSeconds: the time of `callcrm import --help`, i.e. what each CLI
 * run spends starting (module loading) before it reads a row. The CLI runs from dist/ as the installed
 * `callcrm` does (bin/callcrm.js picks the build when it is up to date).
 */
export async function pickLoader(serverUrl: string, tmpDir: string): Promise<{ loader: LoaderKind; cliStartupSeconds?: number }> {
  const forced = process.env.BENCH_LOADER?.trim();
  if (forced && forced !== 'cli' && forced !== 'import-route' && forced !== 'admin-create') {
    throw new Error(`BENCH_LOADER=${forced} must be cli, import-route or admin-create`);
  }
  if ((!forced || forced === 'cli') && (await stat(join(ROOT, 'src/cli/index.ts')).catch(() => undefined)) !== undefined) {
    const help = await runMeasured(['dist/cli.js', 'import', '--help'], {}, join(tmpDir, 'cli-help.log'), tmpDir);
    if (help.code === 0) return { loader: 'cli', cliStartupSeconds: help.seconds };
  }
  if (forced) return { loader: forced as LoaderKind };
  // An empty CSV body: a 404 "No route" means the route itself is missing.
  const res = await fetch(`${serverUrl}/admin/v1/projects/${PROJECT_ID}/import?repository_id=${REPOSITORY_IDS[0]}`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'text/csv' },
    body: '',
  });
  const body = await res.text();
  if (res.status !== 404 || !body.includes('No route')) return { loader: 'import-route' };
  return { loader: 'admin-create' };
}

export interface LoadContext {
  loader: LoaderKind;
  databaseUrl: string;
  /** The running server (used by the admin-route loaders only). */
  serverUrl: string;
  serverPid: number;
  files: ImportFile[];
  tmpDir: string;
  cliStartupSeconds?: number;
}

/** Loads every file into its repository. This is the one call that picks the product's path. */
export async function loadCustomers(c: LoadContext): Promise<LoadReport> {
  const rows = c.files.reduce((n, f) => n + f.rows, 0);
  if (c.loader === 'cli') return loadWithCli(c, rows);
  if (c.loader === 'import-route') return loadWithImportRoute(c, rows);
  if (rows > 200_000) {
    throw new Error(`no import is available (neither \`callcrm import\` nor POST /admin/v1/projects/:id/import); the admin create routes only load small datasets (BENCH_CUSTOMERS ≤ 200000)`);
  }
  return loadWithCreateRoutes(c, rows);
}

async function loadWithCli(c: LoadContext, rows: number): Promise<LoadReport> {
  let seconds = 0;
  let peakRss = 0;
  for (const f of c.files) {
    const args = ['dist/cli.js', 'import', f.path, '--project', String(PROJECT_ID), '--repository', String(f.repositoryId)];
    const run = await runMeasured(args, { DATABASE_URL: c.databaseUrl, LOG_LEVEL: 'warn' }, join(c.tmpDir, 'import.log'), c.tmpDir);
    if (run.code !== 0) throw new Error(`callcrm import ${f.path} exited ${run.code}:\n${run.output}`);
    checkCreated(run.output, f);
    seconds += run.seconds;
    peakRss = Math.max(peakRss, run.peakRss);
  }
  return {
    loader: 'cli',
    rows,
    seconds,
    ...(c.cliStartupSeconds !== undefined ? { startupSeconds: c.cliStartupSeconds * c.files.length } : {}),
    peakRss,
    description: `\`callcrm import FILE --project ${PROJECT_ID} --repository N\`, ${files(c.files.length)} (one per repository), each a child process`,
  };
}

/** The CLI prints the import summary; when it names a created count, it must be every row of the file. */
function checkCreated(output: string, f: ImportFile): void {
  const m = /"?created"?\s*[:=]?\s*(\d[\d,]*)/i.exec(output);
  if (m && Number(m[1]!.replace(/,/g, '')) !== f.rows) {
    throw new Error(`import of ${f.path} created ${m[1]} of ${f.rows} rows:\n${output}`);
  }
}

async function loadWithImportRoute(c: LoadContext, rows: number): Promise<LoadReport> {
  const started = performance.now();
  for (const f of c.files) {
    const res = await fetch(`${c.serverUrl}/admin/v1/projects/${PROJECT_ID}/import?repository_id=${f.repositoryId}`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'text/csv' },
      body: Readable.toWeb(createReadStream(f.path)) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    const text = await res.text();
    if (res.status !== 200) throw new Error(`import of ${f.path}: HTTP ${res.status}: ${text.slice(0, 500)}`);
    const summary = JSON.parse(text) as { created: number; error_count?: number; errors: unknown[] };
    if (summary.created !== f.rows) throw new Error(`import of ${f.path} created ${summary.created} of ${f.rows} rows: ${text.slice(0, 500)}`);
  }
  return {
    loader: 'import-route',
    rows,
    seconds: (performance.now() - started) / 1000,
    peakRss: procMemory(c.serverPid, 'VmHWM') ?? 0,
    description: `POST /admin/v1/projects/${PROJECT_ID}/import, ${files(c.files.length)} (peak RSS is the server's)`,
  };
}

/** Temporary: one POST per customer and per assign, 32 at a time. Small datasets only. */
async function loadWithCreateRoutes(c: LoadContext, rows: number): Promise<LoadReport> {
  const started = performance.now();
  let next = 1;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i > rows) return;
      await adminPost(c.serverUrl, `/projects/${PROJECT_ID}/customers`, { id: i, fields: customerFields(i) });
      const repo = REPOSITORY_IDS[repositoryIndexOf(i, rows)]!;
      await adminPost(c.serverUrl, `/repositories/${repo}/assigns`, { id: ASSIGN_BASE + i, customer_id: i });
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  return {
    loader: 'admin-create',
    rows,
    seconds: (performance.now() - started) / 1000,
    peakRss: procMemory(c.serverPid, 'VmHWM') ?? 0,
    description: 'admin create routes, one customer and one assign per request (temporary: no import available); peak RSS is the server\'s',
  };
}

const files = (n: number) => (n === 1 ? '1 file' : `${n} files`);

/** Two loads of parts of the dataset, one after the other, as one report. */
export function combineLoads(a: LoadReport, b: LoadReport): LoadReport {
  return {
    loader: a.loader,
    rows: a.rows + b.rows,
    seconds: a.seconds + b.seconds,
    ...(a.startupSeconds !== undefined ? { startupSeconds: a.startupSeconds + (b.startupSeconds ?? 0) } : {}),
    peakRss: Math.max(a.peakRss, b.peakRss),
    description: `${a.description}; then ${b.description}`,
  };
}
