// One measurement of one case: a warm-up run whose numbers are dropped, then the measured run, with the
// server's CPU per request and other processes' CPU over it. The load generator here is autocannon in
// this process (N connections, no pipelining); bench/wrk.ts does the same with wrk. Latencies are
// recorded here at sub-millisecond resolution (autocannon's own histogram keeps whole milliseconds, too
// coarse for a p50 under 1 ms).
import autocannon, { type Instance } from 'autocannon';
import { Verifier, autocannonRequests, type CaseRequests, type PlannedCase } from './cases.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuJiffies, endedChildrenJiffies, processJiffies } from './processes.ts';

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
  /** Distinct requests planned per connection (the generator cycles through them). */
  perConnection: number;
  /** The server's processes (with this one, they are "ours"; any other CPU use is noise). */
  serverPids: () => number[];
  /** PostgreSQL: the backends serving the server's database (their CPU is the server's, not noise). */
  databasePids?: () => Promise<number[]>;
  /** Processes that must be idle before the case starts (default: the server's). */
  quietPids?: () => number[];
  /** The case's planned requests (called once for the warm-up with 1, once for the measured run with 0). */
  make(seedOffset: number): PlannedCase;
}

export async function measure(o: MeasureOptions): Promise<Measurement> {
  const busyMs = await waitUntilQuiet(o);
  if (o.warmup > 0) await start(o, o.warmup, autocannonRequests(o.make(1), new Verifier(), o.perConnection));
  const verifier = new Verifier();
  const spec = autocannonRequests(o.make(0), verifier, o.perConnection);
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  const meter = new CpuMeter(o.serverPids(), o.databasePids);
  await meter.prepare();
  // The clock and the CPU counters start again when autocannon does, after it has built every
  // connection's requests (seconds of work for the benchmark process, none for the server).
  meter.start();
  const instance = start(o, o.duration, spec);
  instance.on('start', () => meter.start());
  instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => {
    if (count === latencies.length) {
      const grown = new Float64Array(latencies.length * 2);
      grown.set(latencies);
      latencies = grown;
    }
    latencies[count++] = ms;
  });
  const result = await instance;
  const cpu = await meter.stop(count);
  const seconds = cpu.seconds || result.duration;
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
    window: cpu.window,
    busyBeforeMs: busyMs,
    serverCpuUsPerRequest: cpu.serverCpuUsPerRequest,
    otherCores: cpu.otherCores,
  };
}

/**
 * A slow case leaves requests queued in the server after its clients have gone; the next case must not
 * start until the server has worked them off (else it measures the previous case's backlog). Returns
 * the ms waited.
 */
export function waitUntilQuiet(o: MeasureOptions): Promise<number> {
  return waitIdle(o.quietPids?.() ?? o.serverPids());
}

/** Waits until the processes use at most a tenth of a core (over 200 ms), at most two minutes; returns the ms waited. */
export async function waitIdle(pids: number[]): Promise<number> {
  const began = performance.now();
  while (performance.now() - began < 120_000) {
    const before = cpuJiffies(pids).ours;
    await sleep(200);
    if (cpuJiffies(pids).ours - before <= 2) break;
  }
  return performance.now() - began - 200;
}

/**
 * CPU over a measured run, from /proc: the server's (with its database backends) per answered request,
 * and what processes other than ours used meanwhile. "Ours" are this process (autocannon runs in it),
 * the server's processes, the database backends, and children of this process that ended during the
 * run (a wrk run: its CPU is the load generator's, not noise).
 */
export class CpuMeter {
  private dbBefore = new Map<number, number>();
  private before = { machine: 0, ours: 0 };
  private serverBefore = 0;
  private startedMs = 0;
  private fromUs = 0;

  constructor(
    private readonly serverPids: number[],
    private readonly databasePids?: () => Promise<number[]>,
  ) {}

  /** Reads the database backends' counters (asynchronous: before the run starts). */
  async prepare(): Promise<void> {
    this.dbBefore = new Map((this.databasePids ? await this.databasePids() : []).map((pid) => [pid, processJiffies(pid)]));
  }

  /** The measured run starts now (again, if called twice). */
  start(): void {
    this.startedMs = performance.now();
    this.fromUs = monotonicUs();
    this.before = this.ours();
    this.serverBefore = cpuJiffies(this.serverPids).ours;
  }

  /** The measured run has ended, with this many answers. */
  async stop(requests: number): Promise<{ seconds: number; window: Measurement['window']; serverCpuUsPerRequest: number; otherCores: number }> {
    const seconds = (performance.now() - this.startedMs) / 1000;
    const toUs = monotonicUs();
    const after = this.ours();
    const serverAfter = cpuJiffies(this.serverPids).ours;
    let dbJiffies = 0;
    for (const pid of new Set([...this.dbBefore.keys(), ...(this.databasePids ? await this.databasePids() : [])])) {
      dbJiffies += Math.max(0, processJiffies(pid) - (this.dbBefore.get(pid) ?? 0));
    }
    const serverJiffies = serverAfter - this.serverBefore + dbJiffies;
    const otherJiffies = after.machine - this.before.machine - (after.ours - this.before.ours) - dbJiffies;
    return {
      seconds,
      window: { fromUs: this.fromUs, toUs },
      // A jiffy is 10 ms (USER_HZ 100).
      serverCpuUsPerRequest: requests ? (serverJiffies * 10_000) / requests : NaN,
      otherCores: seconds > 0 ? Math.max(0, otherJiffies / 100 / seconds) : 0,
    };
  }

  private ours(): { machine: number; ours: number } {
    const j = cpuJiffies([process.pid, ...this.serverPids]);
    return { machine: j.machine, ours: j.ours + endedChildrenJiffies() };
  }
}

function start(o: MeasureOptions, duration: number, spec: CaseRequests): Instance {
  return autocannon({ url: o.url, connections: o.connections, pipelining: 1, duration, timeout: 10, requests: spec.requests, setupClient: spec.setupClient });
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}
