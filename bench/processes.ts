// Child processes of the benchmark: the server under test, the node:http ceiling, the import CLI.
// Each is a separate process, so its memory and CPU are its own, measured from /proc.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ADMIN_TOKEN = 'bench-admin-token-0123456789';

/** A free TCP port on loopback (asked of the kernel, then released). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  srv.close();
  await once(srv, 'close');
  return port;
}

/** One line of /proc/<pid>/status in bytes (VmRSS: now; VmHWM: peak), or undefined once the process is gone. */
export function procMemory(pid: number, key: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The pids of a process and all its descendants (cluster workers), from /proc/<pid>/stat. */
export function processTree(root: number): number[] {
  const parentOf = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parentOf.set(Number(name), ppid);
    } catch {
      // the process ended while we looked
    }
  }
  const tree = [root];
  for (let k = 0; k < tree.length; k++) {
    for (const [pid, ppid] of parentOf) if (ppid === tree[k]) tree.push(pid);
  }
  return tree;
}

function commandName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Resident memory of a process tree, in bytes (the server with its cluster workers). */
export function treeRss(root: number): number {
  return processTree(root).reduce((sum, pid) => sum + (procMemory(pid, 'VmRSS') ?? 0), 0);
}

export interface Child {
  proc: ChildProcess;
  pid: number;
  logPath: string;
  /** Last lines of the child's output, for error messages. */
  tail(): string;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();

/** Interrupted: SIGTERM to every child still running (servers, imports), so none outlives the benchmark. */
export function killChildren(): void {
  // Descendants too: GNU time does not pass a SIGTERM on to the import it measures.
  for (const proc of live) {
    for (const pid of processTree(proc.pid!).reverse()) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  }
}

/** A child spawned elsewhere (wrk, bench/wrk.ts) that killChildren must stop too, until it closes. */
export function trackChild(proc: ChildProcess): void {
  live.add(proc);
  proc.once('close', () => live.delete(proc));
}

/** Spawns `node ...args` in the repository root; stdout and stderr go to logPath. */
export function spawnNode(args: string[], env: Record<string, string>, logPath: string): Child {
  return spawnChild(process.execPath, args, env, logPath);
}

function spawnChild(command: string, args: string[], env: Record<string, string>, logPath: string): Child {
  const log = createWriteStream(logPath, { flags: 'a' });
  const proc = spawn(command, args, { cwd: ROOT, env: { ...baseEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let recent = '';
  const keep = (chunk: Buffer) => {
    log.write(chunk);
    recent = (recent + chunk.toString()).slice(-4000);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  // 'close' comes after the output pipes are drained, so nothing is written to the log after it ends.
  const closed = once(proc, 'close').then(() => new Promise<void>((resolve) => log.end(resolve)));
  live.add(proc);
  void closed.then(() => live.delete(proc));
  return {
    proc,
    pid: proc.pid!,
    logPath,
    tail: () => recent.trim().split('\n').slice(-15).join('\n'),
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const killer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
        await closed;
        clearTimeout(killer);
      }
      await closed;
    },
  };
}

/**
 * The environment of children: the bench's own, less variables that would change what is measured
 * (a DATABASE_URL or CRM_* setting of the shell running the benchmark).
 */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k.startsWith('CRM_') || k === 'DATABASE_URL' || k === 'PORT' || k === 'HOST' || k === 'LOG_LEVEL') continue;
    if (k === 'NODE_OPTIONS') continue; // a --cpu-prof or inspector in NODE_OPTIONS would profile every child
    env[k] = v;
  }
  return env;
}

export interface ServerSettings {
  databaseUrl: string;
  durable: boolean;
  workers: number;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeFlags?: string[];
  /** Extra environment of the server (BENCH_AB's B side). */
  env?: Readonly<Record<string, string>>;
  logPath: string;
}

export interface Server extends Child {
  url: string;
  settings: ServerSettings;
}

/**
 * The product's server as `npm start` runs it (`node dist/server.js`, built by buildProduct) and waits
 * until /readyz answers 200. A profiled server (--cpu-prof) runs from source through tsx instead, so
 * bench/cpuprofile.ts can name src/ functions and lines; its figures are the profile's, not the table's.
 */
export async function startServer(settings: ServerSettings): Promise<Server> {
  const port = await freePort();
  const flags = settings.nodeFlags ?? [];
  const profiled = flags.some((f) => f.startsWith('--cpu-prof'));
  const child = spawnNode(
    [...flags, ...(profiled ? ['--import', 'tsx', 'src/server.ts'] : ['dist/server.js'])],
    {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: settings.databaseUrl,
      LOG_LEVEL: 'warn',
      CRM_ADMIN_TOKEN: ADMIN_TOKEN,
      CRM_DURABLE: String(settings.durable),
      CRM_WORKERS: String(settings.workers),
      ...settings.env,
    },
    settings.logPath,
  );
  const url = `http://127.0.0.1:${port}`;
  await waitReady(child, `${url}/readyz`, 60_000);
  if (settings.workers > 1) {
    // /readyz answers as soon as the first worker listens: wait until every worker is up.
    const deadline = Date.now() + 60_000;
    // (Counting node processes only: tsx may run an esbuild service child beside them.)
    const nodes = () => processTree(child.pid).filter((pid) => commandName(pid) === 'node').length;
    while (nodes() < settings.workers + 1 && Date.now() < deadline) await sleep(100);
    await sleep(1000);
  }
  return { ...child, url, settings };
}

/** Builds dist/ (scripts/build.mjs, what `npm start` and the CLI run) once, before anything is measured. */
export function buildProduct(): void {
  const r = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stdout}${r.stderr}`);
}

/** The ceiling: a bare node:http server answering one constant JSON body (bench/ceiling-server.ts). */
export async function startCeiling(body: string, logPath: string): Promise<Child & { url: string }> {
  const port = await freePort();
  const child = spawnNode(['--import', 'tsx', 'bench/ceiling-server.ts'], { PORT: String(port), CEILING_BODY: body }, logPath);
  const url = `http://127.0.0.1:${port}`;
  await waitReady(child, `${url}/`, 30_000);
  return { ...child, url };
}

async function waitReady(child: Child, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.proc.exitCode !== null || child.proc.signalCode !== null) {
      throw new Error(`${url.split('/').slice(0, 3).join('/')}: the process exited (${child.proc.exitCode ?? child.proc.signalCode}) before it was ready:\n${child.tail()}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await child.stop();
      throw new Error(`${url} did not answer within ${timeoutMs / 1000} s:\n${child.tail()}`);
    }
    await sleep(100);
  }
}

export interface RunResult {
  code: number | null;
  seconds: number;
  /** The child's peak resident memory in bytes. */
  peakRss: number;
  output: string;
}

/**
 * Runs `node ...args` to completion and measures its wall time and peak RSS: GNU time's %M when
 * /usr/bin/time exists (exact, from the kernel's rusage), else VmHWM polled from /proc every 50 ms.
 */
export async function runMeasured(args: string[], env: Record<string, string>, logPath: string, tmpDir: string): Promise<RunResult> {
  const gnuTime = existsSync('/usr/bin/time');
  const rssFile = join(tmpDir, `rss-${process.hrtime.bigint()}.txt`);
  const started = performance.now();
  const child = gnuTime
    ? spawnChild('/usr/bin/time', ['-f', '%M', '-o', rssFile, process.execPath, ...args], env, logPath)
    : spawnNode(args, env, logPath);
  let polled = 0;
  const poll = setInterval(() => {
    polled = Math.max(polled, procMemory(child.pid, 'VmHWM') ?? 0);
  }, 50);
  const [code] = (await once(child.proc, 'exit')) as [number | null];
  clearInterval(poll);
  await child.stop();
  const seconds = (performance.now() - started) / 1000;
  let peakRss = polled;
  if (gnuTime) {
    const kb = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop());
    rmSync(rssFile, { force: true });
    if (Number.isFinite(kb) && kb > 0) peakRss = kb * 1024;
  }
  return { code, seconds, peakRss, output: child.tail() };
}

/**
 * CPU time in jiffies (USER_HZ, 100 a second on Linux): busy time of the whole machine from /proc/stat,
 * and of the given processes from /proc/<pid>/stat. The difference over a case is CPU that something
 * else on the machine used while we measured: the noise in the figures.
 */
export function cpuJiffies(pids: number[]): { machine: number; ours: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal …: busy is everything but idle and iowait.
  const machine = cpu.slice(0, 8).reduce((s, v, k) => (k === 3 || k === 4 ? s : s + v), 0);
  let ours = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // after "pid (comm) ": state is field 0, utime 11, stime 12
      ours += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone
    }
  }
  return { machine, ours };
}

/**
 * CPU jiffies of this process's children that have ended and been waited for (cutime + cstime of
 * /proc/self/stat): a finished wrk run's, which its own /proc/<pid>/stat no longer shows once it has
 * exited (Node waits for its children as soon as they exit).
 */
export function endedChildrenJiffies(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // after "pid (comm) ": cutime is field 13, cstime 14
  return Number(fields[13]) + Number(fields[14]);
}

/** CPU jiffies one process has used so far (0 once it is gone). */
export function processJiffies(pid: number): number {
  return cpuJiffies([pid]).ours;
}
