// The load generator: autocannon in this process, N connections, no pipelining, a warm-up run whose
// numbers are dropped, then the measured run. Latencies are recorded here at sub-millisecond resolution
// (autocannon's own histogram keeps whole milliseconds, too coarse for a p50 under 1 ms).
import autocannon, { type Instance } from 'autocannon';
import type { CaseRequests, Verifier } from './cases.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuJiffies, processJiffies } from './processes.ts';

export interface Measurement {
  /** Mean requests per second over the measured run. */
  rps: number;
  requests: number;
  seconds: number;
  /** Latency percentiles in milliseconds. */
  p50: number;
  p99: number;
  /** Connection errors and timeouts. */
  errors: number;
  non2xx: number;
  /** Answers that were not the right answer (see cases.ts). */
  wrong: number;
  checked: number;
  wrongSamples: string[];
  /** The measured run on the machine's monotonic clock (µs, as V8's profiler stamps its samples). */
  window: { fromUs: number; toUs: number };
  /**
   * CPU time the server's processes (and, on PostgreSQL, the database backends serving it) spent per
   * answered request, in µs: independent of the load generator's speed.
   */
  serverCpuUsPerRequest: number;
  /** How long the processes were still busy (a previous case's backlog) before this case could start. */
  busyBeforeMs: number;
  /** Cores' worth of CPU used by other processes on the machine while this case ran (noise). */
  otherCores: number;
}

export interface MeasureOptions {
  url: string;
  connections: number;
  duration: number;
  warmup: number;
  /** The server's processes (with this one, they are "ours"; any other CPU use is noise). */
  serverPids: () => number[];
  /** PostgreSQL: the backends serving the server's database (their CPU is the server's, not noise). */
  databasePids?: () => Promise<number[]>;
  /** Processes that must be idle before the case starts (default: the server's). */
  quietPids?: () => number[];
  /** A fresh request generator and its verifier (called once for the warm-up, once for the run). */
  make(seedOffset: number): { spec: CaseRequests; verifier: Verifier };
}

export async function measure(o: MeasureOptions): Promise<Measurement> {
  // A slow case leaves requests queued in the server after its clients have gone; the next case must not
  // start until the server has worked them off (else it measures the previous case's backlog).
  const busyMs = await waitIdle(o.quietPids?.() ?? o.serverPids());
  if (o.warmup > 0) {
    const warm = o.make(1);
    await run(o, o.warmup, warm.spec);
  }
  const { spec, verifier } = o.make(0);
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  let started = 0;
  const serverPids = o.serverPids();
  const pids = [process.pid, ...serverPids];
  const dbBefore = new Map((o.databasePids ? await o.databasePids() : []).map((pid) => [pid, processJiffies(pid)]));
  // The clock and the CPU counters start when autocannon does, after it has built every connection's
  // requests (seconds of work for the benchmark process, none for the server).
  let cpuBefore = cpuJiffies(pids);
  let serverBefore = cpuJiffies(serverPids).ours;
  let fromUs = monotonicUs();
  const instance = start(o, o.duration, spec);
  instance.on('start', () => {
    started = performance.now();
    fromUs = monotonicUs();
    cpuBefore = cpuJiffies(pids);
    serverBefore = cpuJiffies(serverPids).ours;
  });
  instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => {
    if (count === latencies.length) {
      const grown = new Float64Array(latencies.length * 2);
      grown.set(latencies);
      latencies = grown;
    }
    latencies[count++] = ms;
  });
  const result = await instance;
  const seconds = (performance.now() - (started || performance.now())) / 1000 || result.duration;
  const toUs = monotonicUs();
  const cpuAfter = cpuJiffies(pids);
  let dbJiffies = 0;
  for (const pid of new Set([...dbBefore.keys(), ...(o.databasePids ? await o.databasePids() : [])])) {
    dbJiffies += Math.max(0, processJiffies(pid) - (dbBefore.get(pid) ?? 0));
  }
  const serverJiffies = cpuJiffies(serverPids).ours - serverBefore + dbJiffies;
  const otherJiffies = cpuAfter.machine - cpuBefore.machine - (cpuAfter.ours - cpuBefore.ours) - dbJiffies;
  const sorted = latencies.subarray(0, count).sort();
  return {
    rps: count / seconds,
    requests: count,
    seconds,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    errors: result.errors,
    non2xx: result.non2xx,
    wrong: verifier.wrong,
    checked: verifier.checked,
    wrongSamples: verifier.samples,
    window: { fromUs, toUs },
    busyBeforeMs: busyMs,
    // A jiffy is 10 ms (USER_HZ 100).
    serverCpuUsPerRequest: count ? (serverJiffies * 10_000) / count : NaN,
    otherCores: Math.max(0, otherJiffies / 100 / seconds),
  };
}

/** Waits until the processes use at most a tenth of a core (over 200 ms), at most two minutes; returns the ms waited. */
async function waitIdle(pids: number[]): Promise<number> {
  const began = performance.now();
  while (performance.now() - began < 120_000) {
    const before = cpuJiffies(pids).ours;
    await sleep(200);
    if (cpuJiffies(pids).ours - before <= 2) break;
  }
  return performance.now() - began - 200;
}

function start(o: MeasureOptions, duration: number, spec: CaseRequests): Instance {
  return autocannon({ url: o.url, connections: o.connections, pipelining: 1, duration, timeout: 10, requests: spec.requests, setupClient: spec.setupClient });
}

async function run(o: MeasureOptions, duration: number, spec: CaseRequests): Promise<void> {
  await start(o, duration, spec);
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}
