// The results: one markdown table (stdout and bench/results/<date>-<dataset>.md) and the same data as JSON.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FeatureCost } from './feature-costs.ts';
import { renderAb, type AbPhase } from './ab.ts';
import { CASE_TITLES, type CaseKey } from './cases.ts';
import type { LoadReport } from './load.ts';
import type { Measurement } from './measure.ts';
import { ROOT } from './processes.ts';

export type DbName = 'sqlite' | 'postgres';

export interface CaseRow {
  key: CaseKey;
  db: DbName | 'none';
  durable: boolean | null;
  workers: number;
  m: Measurement;
  /** Ratio of req/s to case (a) in the same run. */
  ratio: number;
  /** (a)'s server CPU per request over this case's: what the ratio would be if the server had a core of its own. */
  cpuRatio: number;
  /** RSS of the server (process tree) right after the case, in bytes. */
  serverRss: number;
}

export interface LoadRow {
  db: DbName;
  load: LoadReport;
}

export interface Report {
  date: string;
  customers: number;
  command: string;
  machine: { cores: number; cpu: string; memoryGb: number; node: string; platform: string };
  settings: {
    connections: number;
    duration: number;
    warmup: number;
    pipelining: 1;
    /** The load generator: wrk as a child process, or autocannon in the benchmark process (BENCH_LOADGEN). */
    loadgen: { name: 'wrk' | 'autocannon'; version: string; threads: number; process: 'child' | 'benchmark' };
  };
  csvSeconds: number;
  getDataBytes: number;
  loads: LoadRow[];
  rows: CaseRow[];
  /** RSS of the default server right after start-up, before any request. */
  serverRssAtStart: Partial<Record<DbName, number>>;
  serverRssAfterRun: Partial<Record<DbName, number>>;
  notes: string[];
  /** Markdown summaries of --cpu-prof profiles (BENCH_PROFILE). */
  profiles: string[];
  /** What each per-request feature adds to a write (feature-costs.ts), per database. */
  featureCosts: Partial<Record<DbName, FeatureCost[]>>;
  /** Writes per feature and way of measuring. */
  featureWrites: number;
  /** BENCH_AB's phases (ab.ts), and the B side's variables. */
  ab: { env: Readonly<Record<string, string>>; phases: AbPhase[] } | undefined;
}

/** The issue's targets (ratios to (a) at 1M customers, 32 connections). */
function target(r: CaseRow): { text: string; met: boolean } | undefined {
  if (r.durable === false || r.workers > 1) return undefined;
  const ratio = (min: number, p99?: number) => ({
    text: `≥ ${min.toFixed(2)}${p99 ? `, p99 ≤ ${p99} ms` : ''}`,
    met: r.ratio >= min && (p99 === undefined || r.m.p99 <= p99),
  });
  if (r.db === 'sqlite') {
    if (r.key === 'b') return ratio(0.3, 5);
    if (r.key === 'c') return ratio(0.33);
    if (r.key === 'd') return ratio(0.15);
    if (r.key === 'e') return ratio(0.12);
  }
  if (r.db === 'postgres') {
    if (r.key === 'b' || r.key === 'c') return ratio(0.15);
    if (r.key === 'd') return ratio(0.08);
  }
  return undefined;
}

/** Other processes' CPU during a case above which its figures are noise (in cores). */
export const NOISE_CORES = 0.1;

const mb = (bytes: number) => (bytes / (1024 * 1024)).toFixed(0);
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => (Number.isNaN(n) ? '–' : n < 10 ? n.toFixed(2) : n.toFixed(1));

/** A case failed when the server errored, answered non-2xx, or answered wrong. */
export function failed(r: CaseRow): boolean {
  return r.m.errors > 0 || r.m.non2xx > 0 || r.m.wrong > 0 || r.m.requests === 0;
}

export function renderTable(rows: CaseRow[]): string {
  const head = '| case | db | durable | workers | req/s | p50 ms | p99 ms | ratio to (a) | target (1M) | server RSS MB | errors | wrong | other CPU | server CPU µs/req | CPU ratio to (a) |';
  const lines = [head, '|---|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|'];
  for (const r of rows) {
    const t = target(r);
    lines.push(
      `| ${CASE_TITLES[r.key]} | ${r.db === 'none' ? '–' : r.db} | ${r.durable === null ? '–' : r.durable} | ${r.key === 'a' ? '–' : r.workers} | ${int(r.m.rps)} | ${ms(r.m.p50)} | ${ms(r.m.p99)} | ${r.ratio.toFixed(2)} | ${t ? `${t.text} ${t.met ? 'met' : 'MISSED'}` : ''} | ${r.serverRss ? mb(r.serverRss) : '–'} | ${r.m.errors + r.m.non2xx} | ${r.m.wrong} | ${r.m.otherCores.toFixed(2)} | ${Number.isNaN(r.m.serverCpuUsPerRequest) ? '–' : int(r.m.serverCpuUsPerRequest)} | ${Number.isNaN(r.cpuRatio) ? '–' : r.cpuRatio.toFixed(2)} |`,
    );
  }
  return lines.join('\n');
}

export function renderReport(rep: Report): string {
  const out: string[] = [];
  out.push(`# callcrm benchmark, ${rep.customers.toLocaleString('en-US')} customers`);
  out.push('');
  out.push(`- date: ${rep.date}`);
  out.push(`- command: \`${rep.command}\``);
  out.push(`- machine: ${rep.machine.cores} cores (${rep.machine.cpu}), ${rep.machine.memoryGb} GB, ${rep.machine.platform}, Node ${rep.machine.node}`);
  const g = rep.settings.loadgen;
  const where = g.process === 'child' ? `a child process, ${g.threads} thread${g.threads > 1 ? 's' : ''}` : 'in the benchmark process';
  out.push(`- load generator: ${g.name} ${g.version} (${where}), ${rep.settings.connections} connections, pipelining ${rep.settings.pipelining}, ${rep.settings.warmup} s warm-up + ${rep.settings.duration} s per case`);
  out.push(`- dataset: 1 project, 6 fields (two phone fields: mobile, home), 10 repositories (one assign per customer), 100 DIDs, 20 statuses; CSV written in ${rep.csvSeconds.toFixed(1)} s; a get_data answer is ${rep.getDataBytes} bytes`);
  out.push('');
  out.push(renderTable(rep.rows));
  out.push('');
  out.push('## Load (the product\'s import)');
  out.push('');
  for (const { db, load } of rep.loads) {
    const rate = load.rows / load.seconds;
    const startup = load.startupSeconds !== undefined ? ` (of which ~${load.startupSeconds.toFixed(1)} s is CLI process start-up)` : '';
    const targets = rep.customers === 1_000_000 ? ` — target ≤ 60 s: ${load.seconds <= 60 ? 'met' : 'MISSED'}; ≤ 300 MB: ${load.peakRss <= 300 * 1024 * 1024 ? 'met' : 'MISSED'}` : '';
    out.push(`- ${db}: ${int(load.rows)} rows in ${load.seconds.toFixed(1)} s${startup}, ${int(rate)} rows/s, peak RSS ${mb(load.peakRss)} MB${targets}; via ${load.description}`);
  }
  out.push('');
  out.push('## Server memory');
  out.push('');
  for (const [db, rss] of Object.entries(rep.serverRssAfterRun)) {
    const t = db === 'sqlite' ? ` — target ≤ 150 MB: ${rss! <= 150 * 1024 * 1024 ? 'met' : 'MISSED'}` : '';
    const atStart = rep.serverRssAtStart[db as DbName];
    out.push(`- ${db}: ${mb(rss!)} MB RSS after its cases (b)–(e) on the default server (one process, durable; ${atStart ? mb(atStart) : '?'} MB right after start-up)${t}`);
  }
  out.push('');
  out.push(...renderFeatureCosts(rep));
  if (rep.ab) out.push(...renderAb(rep.ab.phases, rep.ab.env));
  out.push('## Notes');
  out.push('');
  const noisy = rep.rows.filter((r) => r.m.otherCores > NOISE_CORES);
  if (noisy.length > 0) {
    out.push(`- **The machine was busy**: other processes used more than ${NOISE_CORES} cores during ${noisy.length} of ${rep.rows.length} cases (column "other CPU", in cores); those figures are low and their ratios unreliable. Rerun on an idle machine.`);
  } else {
    out.push(`- "other CPU": cores' worth of CPU that processes other than the server and the load generator used during each case (${NOISE_CORES} or less everywhere: the machine was otherwise idle).`);
  }
  const backlog = rep.rows.filter((r) => r.m.busyBeforeMs > 2000);
  if (backlog.length > 0) {
    out.push(`- Before ${backlog.map((r) => `${r.key} (${r.db}, durable ${r.durable}, workers ${r.workers}): ${(r.m.busyBeforeMs / 1000).toFixed(0)} s`).join('; ')}, the server was still busy (the previous case's queued requests); the case started once it was idle.`);
  }
  out.push('- "server CPU µs/req": CPU time (user + system, all its processes) the server spent per answered request; "CPU ratio to (a)" is (a)\'s figure over the case\'s. It does not depend on how fast the load generator is (req/s of (a) can be the generator\'s limit, not the ceiling server\'s) and depends less than req/s on what else runs on the machine, though a busy machine inflates it too. For workers > 1 it sums every worker and the primary; on PostgreSQL it includes the database backends serving the server (the SQLite server has its database in-process).');
  for (const n of rep.notes) out.push(`- ${n}`);
  const wrong = rep.rows.filter((r) => r.m.wrongSamples.length > 0);
  if (wrong.length > 0) {
    out.push('');
    out.push('## Wrong answers (first few per case)');
    for (const r of wrong) {
      out.push('');
      out.push(`${CASE_TITLES[r.key]} (${r.db}, durable ${r.durable}, workers ${r.workers}):`);
      for (const s of r.m.wrongSamples) out.push(`    ${s}`);
    }
  }
  for (const profile of rep.profiles) {
    out.push('');
    out.push(profile);
  }
  out.push('');
  return out.join('\n');
}

/** bench/results/<date>-<dataset>.md and .json; returns the markdown path. */
export function writeResults(rep: Report, markdown: string): string {
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `${rep.date.slice(0, 10)}-${datasetName(rep.customers)}`);
  writeFileSync(`${base}.md`, markdown);
  writeFileSync(`${base}.json`, JSON.stringify(rep, null, 2) + '\n');
  return `${base}.md`;
}

/** 1000000 → 1m, 100000 → 100k, 1500 → 1500. */
export function datasetName(customers: number): string {
  if (customers % 1_000_000 === 0) return `${customers / 1_000_000}m`;
  if (customers % 1_000 === 0 && customers >= 10_000) return `${customers / 1_000}k`;
  return String(customers);
}

/** The per-request features against the server CPU per request of the case that pays them (default server). */
function renderFeatureCosts(rep: Report): string[] {
  const dbs = Object.keys(rep.featureCosts) as DbName[];
  if (dbs.length === 0) return [];
  const out = ['## What each per-request feature adds (same run, same database)', ''];
  out.push('| feature | db | paid by | extra CPU µs/request | case\'s server CPU µs/req | share | target ≤ 10 % | the old way: µs, share |');
  out.push('|---|---|---|---:|---:|---:|---|---:|');
  for (const db of dbs) {
    for (const f of rep.featureCosts[db]!) {
      const row = rep.rows.find((r) => r.db === db && r.key === f.paidBy && r.durable === true && r.workers === 1);
      const total = row?.m.serverCpuUsPerRequest;
      const share = (us: number) => (total ? us / total : NaN);
      const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)} %` : '?');
      const s = share(f.us);
      out.push(`| ${f.feature} | ${db} | ${CASE_TITLES[f.paidBy]} | ${f.us.toFixed(1)} | ${total ? int(total) : '?'} | ${pct(s)} | ${Number.isFinite(s) ? (s <= 0.1 ? 'met' : 'MISSED') : ''} | ${f.usEmptyBase.toFixed(1)}, ${pct(share(f.usEmptyBase))} |`);
    }
  }
  out.push('');
  out.push(`Each feature runs in writes through the product's writer (group commit, 32 at a time) in the benchmark process against the stopped server's database: ${int(rep.featureWrites)} writes with it and as many without, alternating in ABBA phases after a phase of warm-up. The write without it has a disposition's shape (it locks a random assign and updates its activity_at; on PostgreSQL the lock is the first round trip, reads sent ahead ride along with it, and the rows go unwaited with the COMMIT), and the feature runs inside it as the product runs it; its cost is the CPU per write it adds (on PostgreSQL the backends' CPU included), set against the server CPU per request of the case that pays it. "The old way" (results before the evening of 2026-12-04): the same feature against a write that writes and waits for nothing, which also charges a feature that writes a row with the commit's WAL write and flush, and a read with a round trip of its own (bench/feature-costs.ts). The outbox with a webhook is what a set_status adds when one webhook is subscribed to its two events (its row, and on PostgreSQL the call event's id taken ahead); delivering them is the sender's work (bench/webhooks.ts measures it).`);
  out.push('');
  return out;
}
