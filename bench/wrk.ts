// The load generator wrk (C, a child process: far less CPU per request than autocannon in this
// process, and the generator shares the machine's cores with the server). One measurement of one case,
// as measure.ts does it with autocannon: the same planned requests (cases.ts), written to a file that
// bench/wrk.lua formats once and cycles through; a warm-up run whose numbers are dropped, then the
// measured run.
//
// The check of the answers is weaker per request than autocannon's: wrk's Lua response() hook is not
// told which request an answer belongs to (one thread multiplexes all connections), so an answer is
// checked against its case, not its request: success and the constant body (a); a customer or the empty
// success (b), with the share of misses compared with the planned share over the requests sent; a
// customer (c); "Status set successfully" (d); an assign echoed (e). A server that answered with another
// customer would pass here and fail under autocannon (BENCH_LOADGEN=autocannon), whose every answer is
// compared with its own request's.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SUCCESS, plannedRequests, type Planned, type PlannedCase } from './cases.ts';
import { CpuMeter, monotonicUs, waitUntilQuiet, type MeasureOptions, type Measurement } from './measure.ts';
import { ROOT, trackChild } from './processes.ts';

/**
 * wrk threads. One keeps 32 connections busy; on 2 cores a second only competes with the server, and
 * two spent the same CPU per request as one with no steady gain in req/s (bench/README.md). bench/wrk.lua
 * handles any number (each thread starts at its own place in the requests; counts are summed).
 */
export const WRK_THREADS = 1;

const SCRIPT = join(ROOT, 'bench', 'wrk.lua');

/** The misses' share of (b)'s answers may differ from the planned share by this much before it counts as wrong. */
const MISS_SHARE_TOLERANCE = 0.03;

/** `wrk -v`'s version, e.g. "4.1.0" of "wrk debian/4.1.0-3+b2 [epoll] …" (the whole first word when it has no x.y.z). */
export function wrkVersion(wrk: string): string {
  const r = spawnSync(wrk, ['-v'], { encoding: 'utf8' });
  const first = `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n')[0] ?? '';
  return /(\d+\.\d+\.\d+)/.exec(first)?.[1] ?? first.split(' ')[1] ?? 'unknown';
}

interface ThreadCounts {
  first: number;
  answered: number;
  ok: number;
  hits: number;
  misses: number;
  wrong: number;
  non2xx: number;
  samples: string[];
}

interface WrkResult {
  requests: number;
  durationUs: number;
  p50Us: number;
  p99Us: number;
  errors: { connect: number; read: number; write: number; timeout: number; status: number };
  threads: ThreadCounts[];
}

export async function measureWithWrk(o: MeasureOptions, wrk: string): Promise<Measurement> {
  const dir = mkdtempSync(join(tmpdir(), 'callcrm-wrk-'));
  try {
    // Planned and written before anything is measured (the full run plans 32 × 2048 requests).
    const n = o.connections * o.perConnection;
    const warmFile = join(dir, 'warmup.tsv');
    if (o.warmup > 0) writeRequests(warmFile, o.make(1), n);
    const measured = o.make(0);
    const planned = writeRequests(join(dir, 'measured.tsv'), measured, n);

    const busyMs = await waitUntilQuiet(o);
    if (o.warmup > 0) await runWrk(wrk, o, o.warmup, warmFile);

    const meter = new CpuMeter(o.serverPids(), o.databasePids);
    await meter.prepare();
    // The counters start before wrk does and stop after it has exited and been waited for: its CPU is
    // then in this process's children's time, which CpuMeter counts as ours.
    meter.start();
    const spawnedUs = monotonicUs();
    const r = await runWrk(wrk, o, o.duration, join(dir, 'measured.tsv'));
    const cpu = await meter.stop(r.requests);
    // wrk's own clock starts after its Lua init() has read the file: the measured window ends when it
    // exited and is its duration long.
    const window = { fromUs: Math.max(spawnedUs, cpu.window.toUs - r.durationUs), toUs: cpu.window.toUs };

    let wrong = 0;
    let checked = 0;
    const samples: string[] = [];
    for (const t of r.threads) {
      wrong += t.wrong;
      checked += t.answered;
      for (const s of t.samples) if (samples.length < 5) samples.push(`(an answer; wrk does not say to which request) → ${s}`);
    }
    if (measured.check.kind === 'hit-or-miss') {
      const share = missShare(planned, r.threads, o.connections);
      if (share.deviation > 0) {
        wrong += share.deviation;
        if (samples.length < 5) samples.push(share.text);
      }
    }
    const seconds = r.durationUs / 1e6;
    return {
      rps: seconds > 0 ? r.requests / seconds : 0,
      requests: r.requests,
      seconds,
      p50: r.requests ? r.p50Us / 1000 : NaN,
      p99: r.requests ? r.p99Us / 1000 : NaN,
      // wrk's "status" errors are answers ≥ 400, counted in non2xx below.
      errors: r.errors.connect + r.errors.read + r.errors.write + r.errors.timeout,
      non2xx: r.threads.reduce((sum, t) => sum + t.non2xx, 0),
      wrong,
      checked,
      wrongSamples: samples,
      window,
      busyBeforeMs: busyMs,
      serverCpuUsPerRequest: cpu.serverCpuUsPerRequest,
      otherCores: cpu.otherCores,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * (b)'s misses among the answers against the misses planned among the requests each thread sent (from
 * its first request on, cycling): answers arrive out of order only across the connections' requests in
 * flight, so beyond that and a few percentage points, a difference is answers of the wrong kind (a hit
 * answered as a miss or the other way round). Returns those answers, 0 when within.
 */
function missShare(planned: Planned[], threads: ThreadCounts[], connections: number): { deviation: number; text: string } {
  let expected = 0;
  let observed = 0;
  let answered = 0;
  for (const t of threads) {
    // The answered requests are (but for those still in flight) the first ones the thread sent.
    const sent = t.answered;
    const cycles = Math.floor(sent / planned.length);
    let misses = cycles * planned.filter((p) => p.miss).length;
    for (let k = 0; k < sent % planned.length; k++) if (planned[(t.first + k) % planned.length]!.miss) misses++;
    expected += misses;
    observed += t.misses;
    answered += sent;
  }
  const off = Math.abs(observed - expected);
  const pct = (x: number) => `${answered ? ((100 * x) / answered).toFixed(1) : '0'} %`;
  return {
    deviation: off > Math.max(MISS_SHARE_TOLERANCE * answered, connections) ? off : 0,
    text: `misses (empty successes) were ${pct(observed)} of ${answered} answers; the requests sent planned ${pct(expected)}`,
  };
}

/** The check and the requests of a case, in bench/wrk.lua's format; returns the requests. */
function writeRequests(file: string, c: PlannedCase, n: number): Planned[] {
  const planned = plannedRequests(c, n);
  const check = c.check;
  const texts = check.kind === 'equals' ? [check.body] : check.kind === 'hit-or-miss' ? [check.hit, check.miss] : [check.text];
  const lines = [[check.kind, SUCCESS, ...texts].map(escape).join('\t')];
  for (const p of planned) lines.push([p.method, p.path, p.body ?? ''].map(escape).join('\t'));
  writeFileSync(file, lines.join('\n') + '\n');
  return planned;
}

function escape(field: string): string {
  return field.replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!);
}

/**
 * One wrk run. wrk takes whole seconds (-d): a fractional duration (the smoke test's half second) runs
 * with the next whole number and is stopped with SIGINT, after which wrk reports as usual.
 */
async function runWrk(wrk: string, o: MeasureOptions, duration: number, file: string): Promise<WrkResult> {
  const args = [`-t${WRK_THREADS}`, `-c${o.connections}`, `-d${Math.ceil(duration)}s`, '--timeout', '10s', '--latency', '-s', SCRIPT, o.url, '--', file, String(WRK_THREADS)];
  const child = spawn(wrk, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c));
  child.stderr.on('data', (c: Buffer) => (stderr += c));
  const stopper = Number.isInteger(duration) ? undefined : setTimeout(() => child.kill('SIGINT'), duration * 1000);
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  clearTimeout(stopper);
  const line = stdout.split('\n').find((l) => l.startsWith('WRK-RESULT '));
  if (code !== 0 || line === undefined) {
    throw new Error(`wrk ${args.join(' ')} exited ${code ?? signal} without a result:\n${(stdout + stderr).trim().split('\n').slice(-15).join('\n')}`);
  }
  return JSON.parse(line.slice('WRK-RESULT '.length)) as WrkResult;
}
