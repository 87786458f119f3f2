// BENCH_AB: one setting's before/after inside one run. The write cases run in ABBA phases on the default
// server (A) and on a server started with BENCH_AB's variables (B), each phase on a freshly started
// server: this machine's speed drifts by tens of per cent between runs (and within one), so comparing
// two whole runs says little about one setting; phases interleaved in one run share the drift.
import type { CaseKey } from './cases.ts';
import { CASE_TITLES } from './cases.ts';
import type { Measurement } from './measure.ts';
import { startServer, type Server } from './processes.ts';

export interface AbPhase {
  /** sqlite or postgres */
  db: string;
  side: 'A' | 'B';
  key: CaseKey;
  m: Measurement;
}

export interface AbRun {
  db: string;
  databaseUrl: string;
  logPath: string;
  env: Readonly<Record<string, string>>;
  rounds: number;
  keys: readonly CaseKey[];
  measure(key: CaseKey, server: Server): Promise<Measurement>;
  say(line: string): void;
}

/** A B B A per round; every phase runs each of the keys once. */
export async function runAb(r: AbRun): Promise<AbPhase[]> {
  const phases: AbPhase[] = [];
  const order: ('A' | 'B')[] = [];
  for (let i = 0; i < r.rounds; i++) order.push(...(i % 2 === 0 ? (['A', 'B', 'B', 'A'] as const) : (['B', 'A', 'A', 'B'] as const)));
  for (const side of order) {
    const server = await startServer({ databaseUrl: r.databaseUrl, durable: true, workers: 1, logPath: r.logPath, ...(side === 'B' ? { env: r.env } : {}) });
    try {
      for (const key of r.keys) {
        const m = await r.measure(key, server);
        phases.push({ db: r.db, side, key, m });
        r.say(`${r.db} A/B ${side} ${CASE_TITLES[key]}: ${Math.round(m.rps)} req/s, ${Math.round(m.serverCpuUsPerRequest)} µs CPU/req`);
      }
    } finally {
      await server.stop();
    }
  }
  return phases;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (b: number, a: number) => `${b >= a ? '+' : '−'}${Math.abs((b / a - 1) * 100).toFixed(1)} %`;

export function renderAb(phases: AbPhase[], env: Readonly<Record<string, string>>): string[] {
  if (phases.length === 0) return [];
  const b = Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ');
  const out = [`## A/B in this run: A = the default server, B = ${b}`, ''];
  out.push('| case | db | A req/s (phases) | B req/s (phases) | median A → B req/s | median A → B server CPU µs/req |');
  out.push('|---|---|---|---|---|---|');
  const groups = new Map<string, AbPhase[]>();
  for (const p of phases) groups.set(`${p.db}\0${p.key}`, [...(groups.get(`${p.db}\0${p.key}`) ?? []), p]);
  for (const list of groups.values()) {
    const side = (s: 'A' | 'B') => list.filter((p) => p.side === s);
    const rps = (s: 'A' | 'B') => side(s).map((p) => p.m.rps);
    const cpu = (s: 'A' | 'B') => side(s).map((p) => p.m.serverCpuUsPerRequest);
    const [ra, rb, ca, cb] = [median(rps('A')), median(rps('B')), median(cpu('A')), median(cpu('B'))];
    out.push(
      `| ${CASE_TITLES[list[0]!.key]} | ${list[0]!.db} | ${rps('A').map(int).join(', ')} | ${rps('B').map(int).join(', ')} | ${int(ra)} → ${int(rb)} (${pct(rb, ra)}) | ${int(ca)} → ${int(cb)} (${pct(cb, ca)}) |`,
    );
  }
  const bad = phases.filter((p) => p.m.errors > 0 || p.m.non2xx > 0 || p.m.wrong > 0);
  out.push('');
  out.push(
    bad.length === 0
      ? 'Every answer of every phase was checked and right. Phases in ABBA order, each on a freshly started server (durable, one process).'
      : `**${bad.length} phases had errors or wrong answers**: ${bad.map((p) => `${p.side} ${p.key} (${p.m.errors} errors, ${p.m.non2xx} non-2xx, ${p.m.wrong} wrong)`).join('; ')}.`,
  );
  out.push('');
  return out;
}
