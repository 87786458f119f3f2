// `npm run bench`: generates a dataset, loads it through the product's import, starts the server as a
// separate process and measures the telephony endpoints with wrk (or autocannon, BENCH_LOADGEN)
// against a bare node:http ceiling, on SQLite and (BENCH_DATABASE_URL) PostgreSQL. Prints a markdown
// table and writes it to bench/results/. Settings: bench/options.ts (BENCH_CUSTOMERS, BENCH_DURATION,
// BENCH_CONNECTIONS, BENCH_SMOKE=1, BENCH_DATABASE_URL, BENCH_PROFILE=<dir>, BENCH_LOADGEN, ...).
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { CASE_TITLES, planCase, type CaseKey } from './cases.ts';
import { summarizeFile, renderSummary } from './cpuprofile.ts';
import { ASSIGN_BASE, OUT, PROJECT_ID, DIDS, mobileOf, spell, writeCsvFiles, type ImportFile } from './dataset.ts';
import { combineLoads, loadCustomers, pickLoader, setupProject } from './load.ts';
import { measure, type MeasureOptions, type Measurement } from './measure.ts';
import { measureFeatureCosts } from './feature-costs.ts';
import { readOptions, type BenchOptions } from './options.ts';
import { createBenchDatabase } from './postgres.ts';
import { runAb } from './ab.ts';
import { buildProduct, killChildren, processTree, startCeiling, startServer, treeRss, type Server } from './processes.ts';
import { failed, renderReport, writeResults, type CaseRow, type DbName, type LoadRow, type Report } from './report.ts';
import { SEED_KEYS } from '../src/config.ts';
import { WRK_THREADS, measureWithWrk, wrkVersion } from './wrk.ts';

const began = performance.now();
const say = (line: string) => process.stderr.write(`[bench ${((performance.now() - began) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);

const SEEDS: Record<CaseKey, number> = { a: 1, b: 2, c: 3, d: 4, e: 5 };

/** One measurement with the load generator the options name (BENCH_LOADGEN). */
function measureCase(opts: BenchOptions, o: Omit<MeasureOptions, 'connections' | 'duration' | 'warmup' | 'perConnection'>): Promise<Measurement> {
  const full: MeasureOptions = { connections: opts.connections, duration: opts.duration, warmup: opts.warmup, perConnection: opts.perConnection, ...o };
  return opts.loadgen === 'wrk' ? measureWithWrk(full, opts.wrkPath!) : measure(full);
}

/** What the report says about the load generator. */
function loadGenerator(opts: BenchOptions): Report['settings']['loadgen'] {
  if (opts.loadgen === 'wrk') return { name: 'wrk', version: wrkVersion(opts.wrkPath!), threads: WRK_THREADS, process: 'child' };
  const version = (createRequire(import.meta.url)('autocannon/package.json') as { version: string }).version;
  return { name: 'autocannon', version, threads: 1, process: 'benchmark' };
}

async function main(): Promise<number> {
  const opts = readOptions();
  const date = new Date().toISOString();
  const tmp = mkdtempSync(join(tmpdir(), 'callcrm-bench-'));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      say(`${signal}: stopping`);
      killChildren();
      if (!opts.keep) rmSync(tmp, { recursive: true, force: true });
      process.exit(130);
    });
  }
  const loadgen = loadGenerator(opts);
  say(`${opts.customers.toLocaleString('en-US')} customers, ${loadgen.name} ${loadgen.version}, ${opts.connections} connections, ${opts.warmup} s warm-up + ${opts.duration} s per case; work dir ${tmp}`);

  const report: Report = {
    date,
    customers: opts.customers,
    command: commandLine(),
    machine: { cores: opts.cores, cpu: cpus()[0]?.model.trim() ?? 'unknown', memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version, platform: `${process.platform} ${process.arch}` },
    settings: { connections: opts.connections, duration: opts.duration, warmup: opts.warmup, pipelining: 1, loadgen },
    csvSeconds: 0,
    getDataBytes: 0,
    loads: [],
    rows: [],
    serverRssAtStart: {},
    serverRssAfterRun: {},
    notes: [],
    profiles: [],
    featureCosts: {},
    featureWrites: featureWrites(opts),
    ab: opts.abEnv ? { env: opts.abEnv, phases: [] } : undefined,
  };

  try {
    buildProduct();
    const t0 = performance.now();
    const files = await writeCsvFiles(tmp, opts.customers);
    report.csvSeconds = (performance.now() - t0) / 1000;
    say(`CSV: ${files.length} files in ${report.csvSeconds.toFixed(1)} s`);

    const ceiling = { rps: 0, cpuUs: NaN, body: '' };
    for (const db of halves(opts)) await runHalf(db, opts, files, tmp, report, ceiling);
    if (opts.only === 'postgres') report.notes.push('BENCH_ONLY=postgres: the SQLite half was not run.');

    const where = loadgen.name === 'wrk' ? `wrk, a child process of ${WRK_THREADS} thread${WRK_THREADS > 1 ? 's' : ''}` : 'autocannon, in the benchmark process';
    report.notes.push(
      `One machine: the load generator (${where}) shares the ${opts.cores} cores with the server. ` +
        `With CRM_WORKERS=${opts.workers} on ${opts.cores} cores, ${opts.workers} server workers and the load generator compete for the CPU, so that row understates what the workers gain on a machine of their own.`,
    );
    report.notes.push('Ratios are to (a) in the same run; p50/p99 are measured at the client over the measured seconds, warm-up excluded.');
    if (opts.smoke) report.notes.push('Smoke mode (BENCH_SMOKE=1): checks that every case runs and answers right; its figures mean nothing.');
    if (opts.customers !== 1_000_000) report.notes.push(`The targets are stated for 1,000,000 customers; this run has ${opts.customers.toLocaleString('en-US')}.`);
    report.notes.push(
      loadgen.name === 'wrk'
        ? 'Write cases POST form bodies (as the vendor\'s examples do); reads are GET with query parameters. Every answer is checked by what its case allows (wrk does not say which request an answer belongs to): (a) the constant body, (b) a customer or the empty success, with the share of misses as planned, (c) a customer, (d) and (e) a successful write (column "wrong"). BENCH_LOADGEN=autocannon checks every answer against its own request.'
        : 'Write cases POST form bodies (as the vendor\'s examples do); reads are GET with query parameters. Every answer is checked: a hit must name its customer, a miss must be an empty success, a write must succeed (column "wrong").',
    );
  } finally {
    if (!opts.keep) rmSync(tmp, { recursive: true, force: true });
    else say(`kept ${tmp}`);
  }

  const markdown = renderReport(report);
  process.stdout.write(markdown);
  if (opts.writeResults) say(`results written to ${writeResults(report, markdown)} (and .json)`);
  const bad = report.rows.filter(failed);
  for (const r of bad) say(`FAILED: ${CASE_TITLES[r.key]} on ${r.db}: ${r.m.errors} errors, ${r.m.non2xx} non-2xx, ${r.m.wrong} wrong answers, ${r.m.requests} requests`);
  return bad.length > 0 ? 1 : 0;
}

async function runHalf(db: DbName, opts: BenchOptions, files: ImportFile[], tmp: string, report: Report, ceiling: { rps: number; cpuUs: number; body: string }) {
  const pgdb = db === 'postgres' ? await createBenchDatabase(opts.postgresUrl!) : undefined;
  const databaseUrl = pgdb?.url ?? `sqlite:${join(tmp, 'crm.sqlite')}`;
  const logPath = join(tmp, `server-${db}.log`);
  try {
    // Set-up through the admin API, then the customers through the product's import.
    let server: Server | undefined = await startServer({ databaseUrl, durable: true, workers: 1, logPath });
    let load: LoadRow['load'];
    try {
      await setupProject(server.url);
      const { loader, cliStartupSeconds } = await pickLoader(server.url, tmp);
      const c = { loader, databaseUrl, serverUrl: server.url, serverPid: server.pid, files, tmpDir: tmp, cliStartupSeconds };
      say(`${db}: loading ${opts.customers.toLocaleString('en-US')} customers (${loader})`);
      if (opts.smoke && loader === 'cli') {
        // Smoke: one file through the CLI keeps that path working; the other nine through the admin import
        // route (the same import code), which spares nine CLI start-ups and keeps the smoke run short.
        const first = await loadCustomers({ ...c, files: files.slice(0, 1) });
        load = combineLoads(first, await loadCustomers({ ...c, loader: 'import-route', files: files.slice(1) }));
      } else {
        // The CLI works on the database directly: the server is stopped so the import has the machine to itself.
        if (loader === 'cli') await server.stop();
        load = await loadCustomers(c);
      }
      // The measured server starts fresh (its memory is then the benchmark's, not the set-up's); the smoke
      // run, whose figures mean nothing, keeps the set-up server and spares a start.
      if (!opts.smoke) {
        await server.stop();
        server = undefined;
      }
    } catch (err) {
      await server?.stop();
      throw err;
    }
    report.loads.push({ db, load });
    say(`${db}: loaded in ${load.seconds.toFixed(1)} s, peak RSS ${(load.peakRss / 2 ** 20).toFixed(0)} MB`);
    if (load.loader !== 'cli') report.notes.push(`${db}: the dataset was loaded with ${load.loader}, not \`callcrm import\` (BENCH_LOADER, or the CLI is not there): the load figures are not the CLI's.`);

    const runCase = async (key: CaseKey, s: Server, durable: boolean | null): Promise<CaseRow> => {
      const m = await measureCase(opts, {
        url: s.url,
        serverPids: () => processTree(s.pid),
        ...(pgdb ? { databasePids: pgdb.backendPids } : {}),
        make: (offset) => planCase(key, opts.customers, SEEDS[key] * 1000 + offset, ceiling.body),
      });
      const row: CaseRow = {
        key,
        db,
        durable,
        workers: s.settings.workers,
        m,
        ratio: ceiling.rps ? m.rps / ceiling.rps : 1,
        cpuRatio: ceiling.cpuUs / m.serverCpuUsPerRequest,
        serverRss: treeRss(s.pid),
      };
      say(`${db} ${CASE_TITLES[key]} durable=${durable} workers=${s.settings.workers}: ${fmt(m)}`);
      report.rows.push(row);
      return row;
    };

    // The default server: one process, durable.
    server ??= await startServer({ databaseUrl, durable: true, workers: 1, logPath });
    try {
      report.serverRssAtStart[db] = treeRss(server.pid);
      const sample = await sampleAnswer(server.url, opts.customers);
      if (ceiling.rps === 0) {
        report.getDataBytes = Buffer.byteLength(sample);
        ceiling.body = sample;
        const c = await startCeiling(sample, join(tmp, 'ceiling.log'));
        try {
          const m = await measureCase(opts, {
            url: c.url,
            serverPids: () => [c.pid],
            // The CRM server, just started beside it, must be idle too.
            quietPids: () => [c.pid, ...processTree(server!.pid)],
            make: () => planCase('a', opts.customers, SEEDS.a, sample),
          });
          ceiling.rps = m.rps;
          ceiling.cpuUs = m.serverCpuUsPerRequest;
          report.rows.push({ key: 'a', db: 'none', durable: null, workers: 1, m, ratio: 1, cpuRatio: 1, serverRss: treeRss(c.pid) });
          say(`${CASE_TITLES.a}: ${fmt(m)}`);
        } finally {
          await c.stop();
        }
      }
      for (const key of ['b', 'c', 'd', 'e'] as const) await runCase(key, server, true);
      report.serverRssAfterRun[db] = treeRss(server.pid);
    } finally {
      await server.stop();
    }
    if (opts.abEnv) {
      const phases = await runAb({
        db,
        databaseUrl,
        logPath,
        env: opts.abEnv,
        rounds: opts.abRounds,
        keys: ['d', 'e'],
        say,
        measure: (key, s) =>
          measureCase(opts, {
            url: s.url,
            serverPids: () => processTree(s.pid),
            ...(pgdb ? { databasePids: pgdb.backendPids } : {}),
            make: (offset) => planCase(key, opts.customers, SEEDS[key] * 1000 + 500 + offset, ceiling.body),
          }),
      });
      report.ab!.phases.push(...phases);
    }
    // What the audit row, the outbox and the freshness check add per write, on the same database.
    say(`${db}: measuring what each per-request feature adds`);
    report.featureCosts[db] = await measureFeatureCosts(databaseUrl, {
      customers: opts.customers,
      ...(pgdb ? { backends: pgdb.backendPids } : {}),
      writes: featureWrites(opts),
    });

    if (opts.variants) {
      // Writes without fsync per commit (CRM_DURABLE=false).
      server = await startServer({ databaseUrl, durable: false, workers: 1, logPath });
      try {
        for (const key of ['d', 'e'] as const) await runCase(key, server, false);
      } finally {
        await server.stop();
      }

      // Scaling: CRM_WORKERS processes sharing the port.
      server = await startServer({ databaseUrl, durable: true, workers: opts.workers, logPath });
      try {
        await runCase('b', server, true);
      } finally {
        await server.stop();
      }
    } else report.notes.push(`${db}: BENCH_VARIANTS=0: the non-durable and CRM_WORKERS servers were not run.`);

    if (opts.profileDir) for (const key of opts.profileCases) await profileCase(key, db, databaseUrl, opts, logPath, report, ceiling.body);
    const logged = loggedErrors(logPath);
    if (logged.count > 0) report.notes.push(`${db}: the server logged ${logged.count} errors; the first: \`${logged.first.slice(0, 300)}\``);
  } finally {
    await pgdb?.drop(opts.keep);
    if (pgdb && opts.keep) say(`kept the database ${withoutPassword(pgdb.url)}`);
  }
}

/** Error and fatal lines (pino levels 50, 60) the servers of a half wrote to their log. */
function loggedErrors(logPath: string): { count: number; first: string } {
  let text = '';
  try {
    text = readFileSync(logPath, 'utf8');
  } catch {
    return { count: 0, first: '' };
  }
  const lines = text.split('\n').filter((l) => /"level":(50|60)\b/.test(l));
  return { count: lines.length, first: lines[0] ?? '' };
}

/** Writes per feature and way of measuring (feature-costs.ts): fewer in the smoke run, which only proves it runs. */
function featureWrites(opts: BenchOptions): number {
  return opts.smoke ? 800 : 8_000;
}

/** A database URL fit to print: its password, if any, replaced. */
function withoutPassword(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

function halves(opts: BenchOptions): DbName[] {
  return opts.only ? [opts.only] : opts.postgresUrl ? ['sqlite', 'postgres'] : ['sqlite'];
}

/**
 * A case once more on a server started with --cpu-prof (durable, one process), stopped with SIGTERM so
 * the profile is written; the summary of the measured seconds goes into the report.
 */
async function profileCase(key: CaseKey, db: DbName, databaseUrl: string, opts: BenchOptions, logPath: string, report: Report, ceilingBody: string) {
  const dir = opts.profileDir!;
  const before = Date.now();
  const server = await startServer({ databaseUrl, durable: true, workers: 1, logPath, nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
  let m: Measurement;
  try {
    m = await measureCase(opts, {
      url: server.url,
      serverPids: () => processTree(server.pid),
      make: (offset) => planCase(key, opts.customers, 7000 + SEEDS[key] * 10 + offset, ceilingBody),
    });
  } finally {
    await server.stop();
  }
  // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main thread (1 is tsx's loader-hooks thread).
  const mainThread = new RegExp(`^CPU\\.\\d+\\.\\d+\\.${server.pid}\\.0\\.\\d+\\.cpuprofile$`);
  const profiles = readdirSync(dir)
    .filter((f) => mainThread.test(f))
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).mtimeMs >= before);
  if (profiles.length === 0) {
    report.notes.push(`BENCH_PROFILE: no .cpuprofile was written to ${dir}`);
    return;
  }
  say(`profile of ${CASE_TITLES[key]} on ${db}: ${profiles[0]} (${fmt(m)} under --cpu-prof)`);
  report.profiles.push(
    renderSummary(
      summarizeFile(profiles[0]!, 30, m.window),
      `CPU profile of the server (${db}) during ${CASE_TITLES[key]}: ${Math.round(m.rps).toLocaleString('en-US')} req/s under --cpu-prof; the measured ${opts.duration} s only`,
    ),
  );
}

/**
 * A few get_data answers by phone before measuring: proves the dataset is loaded and answers right,
 * and gives the typical answer (the median size), which the ceiling then serves verbatim.
 */
async function sampleAnswer(serverUrl: string, customers: number): Promise<string> {
  const bodies: string[] = [];
  for (let k = 0; k < 15; k++) {
    const i = 1 + Math.floor((k * (customers - 1)) / 14);
    const phone = encodeURIComponent(spell(mobileOf(i), k));
    const res = await fetch(`${serverUrl}/api/get_data.php?authkey=${SEED_KEYS.get_data}&did=${DIDS[k]}&project_id=${PROJECT_ID}&phone=${phone}&out=${OUT}`);
    const body = await res.text();
    if (res.status !== 200 || !body.startsWith('{"code":0,') || !body.includes(`"uid":"${i}"`)) {
      throw new Error(`get_data for customer ${i} (assign ${ASSIGN_BASE + i}) answered HTTP ${res.status} ${body.slice(0, 300)}: the dataset is not loaded right`);
    }
    bodies.push(body);
  }
  bodies.sort((x, y) => Buffer.byteLength(x) - Buffer.byteLength(y));
  return bodies[Math.floor(bodies.length / 2)]!;
}

function fmt(m: Measurement): string {
  return `${Math.round(m.rps).toLocaleString('en-US')} req/s, p50 ${m.p50.toFixed(2)} ms, p99 ${m.p99.toFixed(2)} ms, ${m.errors} errors, ${m.non2xx} non-2xx, ${m.wrong}/${m.checked} wrong`;
}

/** How this run was started, with BENCH_* settings (a database URL without its credentials). */
function commandLine(): string {
  const vars = Object.entries(process.env)
    .filter(([k, v]) => k.startsWith('BENCH_') && v !== undefined && v !== '')
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => {
      if (k !== 'BENCH_DATABASE_URL') return `${k}=${v}`;
      try {
        const u = new URL(v!);
        return `${k}=${u.protocol}//${u.host}${u.pathname}`;
      } catch {
        return `${k}=…`;
      }
    });
  return [...vars, 'npm run bench'].join(' ');
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`[bench] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
