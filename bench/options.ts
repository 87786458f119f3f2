// The benchmark's settings, read from the environment once (the benchmark is a script: it reads its own
// BENCH_* variables; the server under test reads its own configuration).
import { accessSync, constants, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { delimiter, join } from 'node:path';

export type LoadGenerator = 'wrk' | 'autocannon';

export interface BenchOptions {
  /** Customers in the dataset (BENCH_CUSTOMERS, default 1,000,000; smoke: 1,000). */
  readonly customers: number;
  /** Measured seconds per case (BENCH_DURATION, default 10; smoke: 2). */
  readonly duration: number;
  /** Warm-up seconds before each measurement (BENCH_WARMUP, default 2; smoke: 0.25). */
  readonly warmup: number;
  /** Concurrent connections, no pipelining (BENCH_CONNECTIONS, default 32). */
  readonly connections: number;
  /** Worker processes of the scaling case (BENCH_WORKERS, default 2). */
  readonly workers: number;
  /** PostgreSQL server for the second half (BENCH_DATABASE_URL; a fresh database is made on it and dropped after). */
  readonly postgresUrl: string | undefined;
  /** BENCH_SMOKE=1: 1,000 customers, 2 s per case, no results file unless BENCH_RESULTS=1. */
  readonly smoke: boolean;
  /** Write bench/results/<date>-<dataset>.md and .json (BENCH_RESULTS; default on, off in smoke mode). */
  readonly writeResults: boolean;
  /** BENCH_PROFILE=<dir>: after the cases, run some once more on a server started with --cpu-prof, into dir. */
  readonly profileDir: string | undefined;
  /** Which cases BENCH_PROFILE profiles (BENCH_PROFILE_CASES, comma-separated of b,c,d,e; default b). */
  readonly profileCases: readonly ('b' | 'c' | 'd' | 'e')[];
  /** BENCH_ONLY=sqlite|postgres: run one half only (default: sqlite, and postgres when BENCH_DATABASE_URL is set). */
  readonly only: 'sqlite' | 'postgres' | undefined;
  /** BENCH_KEEP=1: keep the temporary directory (database, CSV files, server logs) and the PostgreSQL database. */
  readonly keep: boolean;
  /**
   * BENCH_VARIANTS=0: only the default server (one process, durable), skipping the non-durable and the
   * CRM_WORKERS servers: two server starts fewer (the quick smoke test; default on).
   */
  readonly variants: boolean;
  /**
   * The load generator (BENCH_LOADGEN=auto|wrk|autocannon; auto: wrk when it is on PATH, else autocannon).
   * wrk (C, a child process) spends about half the CPU per request autocannon (JavaScript, in this
   * process) does, and the generator shares the machine's cores with the server.
   */
  readonly loadgen: LoadGenerator;
  /** The wrk found on PATH (undefined when there is none). */
  readonly wrkPath: string | undefined;
  /** Requests prepared per connection before a case (enough distinct ones for a real run; few in smoke mode). */
  readonly perConnection: number;
  readonly cores: number;
  /**
   * BENCH_AB=VAR=value[,VAR=value]: after the cases, the write cases (d) and (e) in ABBA phases on the
   * default server (A) and on one started with these variables (B), e.g. DATABASE_PIPELINE=false: a
   * before/after of one setting within one run, on a machine whose speed drifts between runs.
   */
  readonly abEnv: Readonly<Record<string, string>> | undefined;
  /** ABBA rounds of BENCH_AB (BENCH_AB_ROUNDS, default 2: A B B A A B B A). */
  readonly abRounds: number;
}

export function readOptions(env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const problems: string[] = [];
  const smoke = flag(env.BENCH_SMOKE);
  const num = (name: string, fallback: number, min: number, max: number, integer = true) => {
    const raw = env[name]?.trim().replace(/_/g, '');
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      problems.push(`${name}=${JSON.stringify(env[name])} must be a ${integer ? 'whole ' : ''}number from ${min} to ${max}`);
      return fallback;
    }
    return n;
  };
  const only = env.BENCH_ONLY?.trim() || undefined;
  if (only !== undefined && only !== 'sqlite' && only !== 'postgres') problems.push(`BENCH_ONLY=${JSON.stringify(only)} must be sqlite or postgres`);
  const postgresUrl = env.BENCH_DATABASE_URL?.trim() || undefined;
  if (postgresUrl !== undefined && !/^postgres(ql)?:\/\//.test(postgresUrl)) problems.push('BENCH_DATABASE_URL must be a postgres:// URL');
  if (only === 'postgres' && postgresUrl === undefined) problems.push('BENCH_ONLY=postgres needs BENCH_DATABASE_URL');

  const wrkPath = onPath('wrk', env.PATH);
  const loadgenRaw = env.BENCH_LOADGEN?.trim().toLowerCase() || 'auto';
  let loadgen: LoadGenerator = wrkPath !== undefined ? 'wrk' : 'autocannon';
  if (loadgenRaw === 'wrk' || loadgenRaw === 'autocannon') loadgen = loadgenRaw;
  else if (loadgenRaw !== 'auto') problems.push(`BENCH_LOADGEN=${JSON.stringify(env.BENCH_LOADGEN)} must be auto, wrk or autocannon`);
  if (loadgenRaw === 'wrk' && wrkPath === undefined) problems.push('BENCH_LOADGEN=wrk, but there is no wrk on PATH (apt-get install wrk)');

  const profileCases = (env.BENCH_PROFILE_CASES?.trim() || 'b').split(',').map((c) => c.trim());
  const badCase = profileCases.find((c) => !['b', 'c', 'd', 'e'].includes(c));
  if (badCase !== undefined) problems.push(`BENCH_PROFILE_CASES names ${JSON.stringify(badCase)}: the cases are b, c, d, e`);

  let abEnv: Record<string, string> | undefined;
  const abRaw = env.BENCH_AB?.trim();
  if (abRaw) {
    abEnv = {};
    for (const part of abRaw.split(',')) {
      const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(part.trim());
      if (!m) problems.push(`BENCH_AB: ${JSON.stringify(part)} is not VAR=value`);
      else abEnv[m[1]!] = m[2]!;
    }
  }

  const options: BenchOptions = {
    // Ids and phone numbers are generated as bijections over 7-digit numbers (dataset.ts): at most 9,999,999.
    customers: num('BENCH_CUSTOMERS', smoke ? 1_000 : 1_000_000, 100, 9_999_999),
    // Fractions allowed: the smoke test measures half a second per case (it proves the bench runs, not its speed).
    duration: num('BENCH_DURATION', smoke ? 2 : 10, 0.1, 3600, false),
    warmup: num('BENCH_WARMUP', smoke ? 0.25 : 2, 0, 600, false),
    connections: num('BENCH_CONNECTIONS', 32, 1, 10_000),
    workers: num('BENCH_WORKERS', 2, 2, 256),
    postgresUrl,
    smoke,
    writeResults: env.BENCH_RESULTS === undefined ? !smoke : flag(env.BENCH_RESULTS),
    profileDir: env.BENCH_PROFILE?.trim() || undefined,
    profileCases: profileCases as BenchOptions['profileCases'],
    only: only as BenchOptions['only'],
    keep: flag(env.BENCH_KEEP),
    variants: env.BENCH_VARIANTS === undefined || flag(env.BENCH_VARIANTS),
    loadgen,
    wrkPath,
    perConnection: smoke ? 64 : 2048,
    cores: availableParallelism(),
    abEnv,
    abRounds: num('BENCH_AB_ROUNDS', 2, 1, 20),
  };
  if (problems.length > 0) throw new Error(problems.join('; '));
  return Object.freeze(options);
}

/** The first executable named so in PATH's directories, or undefined. */
function onPath(name: string, path: string | undefined): string | undefined {
  for (const dir of (path ?? '').split(delimiter)) {
    if (dir === '') continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

function flag(v: string | undefined): boolean {
  return v !== undefined && ['1', 'true', 'yes', 'on'].includes(v.trim().toLowerCase());
}
