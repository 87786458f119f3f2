// The load generator: autocannon in this process, N connections, no pipelining, a warm-up run whose
// numbers are dropped, then the measured run. Latencies are recorded here at sub-millisecond resolution
// (autocannon's own histogram keeps whole milliseconds, too coarse for a p50 under 1 ms).
import autocannon, { type Instance } from 'autocannon';
import type { CaseRequests, Verifier } from './cases.ts';
import { cpuJiffies } from './processes.ts';

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
  /** A fresh request generator and its verifier (called once for the warm-up, once for the run). */
  make(seedOffset: number): { spec: CaseRequests; verifier: Verifier };
}

export async function measure(o: MeasureOptions): Promise<Measurement> {
  if (o.warmup > 0) {
    const warm = o.make(1);
    await run(o, o.warmup, warm.spec);
  }
  const { spec, verifier } = o.make(0);
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  let started = 0;
  const pids = [process.pid, ...o.serverPids()];
  const cpuBefore = cpuJiffies(pids);
  const fromUs = monotonicUs();
  const instance = start(o, o.duration, spec);
  instance.on('start', () => (started = performance.now()));
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
  const otherJiffies = cpuAfter.machine - cpuBefore.machine - (cpuAfter.ours - cpuBefore.ours);
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
    otherCores: Math.max(0, otherJiffies / 100 / seconds),
  };
}

function start(o: MeasureOptions, duration: number, spec: CaseRequests): Instance {
  return autocannon({ url: o.url, connections: o.connections, pipelining: 1, duration, timeout: 10, requests: spec.requests });
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
