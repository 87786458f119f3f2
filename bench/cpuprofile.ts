// Summarizes a V8 .cpuprofile (node --cpu-prof): self time by function, self time by module (a package
// under node_modules, a file of src/, node internals), and inclusive time of the project's own functions.
// Optionally only the samples of a time window (the measured run, not start-up or warm-up).
//
// tsx runs src/ as whitespace-minified one-line modules, so V8 reports every src/ function at line 1.
// The original line is read back from the source map tsx keeps in its cache (os.tmpdir()/tsx-<uid>).
//
// Run: npx tsx bench/cpuprofile.ts FILE.cpuprofile [TOP]
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  /** µs on the machine's monotonic clock */
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Row {
  name: string;
  ms: number;
  percent: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** Share of the time the thread was idle (waiting for I/O). */
  idlePercent: number;
  selfByFunction: Row[];
  selfByModule: Row[];
  /** Inclusive time of functions under src/ (a function counted once per sample, recursion or not). */
  inclusiveOwn: Row[];
}

/** Where a frame's code lives: a package name, a src/ or bench/ path, node internals, or a V8 pseudo-frame. */
export function moduleOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node: internals';
  const path = url.startsWith('file://') ? url.slice('file://'.length) : url;
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = path.slice(nm + '/node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  const own = path.search(/\/(src|bench|test)\//);
  return own >= 0 ? path.slice(own + 1) : path;
}

const isOwn = (url: string) => /\/src\//.test(url) && !url.includes('/node_modules/');

export function summarize(profile: CpuProfile, top = 30, window?: { fromUs: number; toUs: number }): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const lines = new SourceLines();
  const frameName = (f: CallFrame) => {
    const fn = f.functionName || '(anonymous)';
    if (f.url === '') return fn;
    const line = isOwn(f.url) ? lines.original(f.url, f.lineNumber, f.columnNumber) : f.lineNumber + 1;
    return `${fn} ${moduleOf(f.url, fn)}:${line ?? `1:${f.columnNumber + 1}`}`;
  };

  // Sample k is taken at startTime + timeDeltas[0..k]; its time is the gap to the next sample.
  const times = new Map<number, number>();
  const n = profile.samples.length;
  let at = profile.startTime;
  for (let k = 0; k < n; k++) {
    at += profile.timeDeltas[k]!;
    if (window && (at < window.fromUs || at > window.toUs)) continue;
    const dt = k + 1 < n ? profile.timeDeltas[k + 1]! : 0;
    times.set(profile.samples[k]!, (times.get(profile.samples[k]!) ?? 0) + Math.max(0, dt));
  }

  const self = new Map<string, number>();
  const modules = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of times) {
    const node = byId.get(id)!;
    total += us;
    if (node.callFrame.functionName === '(idle)') idle += us;
    const name = frameName(node.callFrame);
    self.set(name, (self.get(name) ?? 0) + us);
    const mod = moduleOf(node.callFrame.url, node.callFrame.functionName);
    modules.set(mod, (modules.get(mod) ?? 0) + us);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      if (!isOwn(f.url)) continue;
      const key = frameName(f);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + us);
    }
  }
  const rows = (m: Map<string, number>, limit: number): Row[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, us]) => ({ name, ms: us / 1000, percent: total ? (100 * us) / total : 0 }));
  return {
    totalMs: total / 1000,
    idlePercent: total ? (100 * idle) / total : 0,
    selfByFunction: rows(self, top),
    selfByModule: rows(modules, top),
    inclusiveOwn: rows(inclusive, top),
  };
}

export function summarizeFile(path: string, top = 30, window?: { fromUs: number; toUs: number }): ProfileSummary {
  return summarize(JSON.parse(readFileSync(path, 'utf8')) as CpuProfile, top, window);
}

/** The summary as markdown tables. */
export function renderSummary(s: ProfileSummary, title: string): string {
  const table = (heading: string, unit: string, rows: Row[]) =>
    [`| ${heading} | ${unit} | % of samples |`, '|---|---:|---:|', ...rows.map((r) => `| \`${r.name.replace(/\|/g, '\\|')}\` | ${r.ms.toFixed(0)} | ${r.percent.toFixed(1)} |`)].join('\n');
  return [
    `### ${title}`,
    '',
    `${(s.totalMs / 1000).toFixed(1)} s of samples; idle (waiting for I/O): ${s.idlePercent.toFixed(1)} %. Self time of a JavaScript function that calls native code (better-sqlite3's statement.all, a socket write) includes that native call.`,
    '',
    table('function (self time)', 'self ms', s.selfByFunction),
    '',
    table('module (self time)', 'self ms', s.selfByModule),
    '',
    table('src/ function (inclusive time)', 'incl. ms', s.inclusiveOwn),
    '',
  ].join('\n');
}

/** Original line numbers of tsx-compiled files, from the source maps in tsx's cache (newest per file). */
class SourceLines {
  private maps: Map<string, number[][][]> | undefined;

  original(url: string, line: number, column: number): number | undefined {
    const path = url.startsWith('file://') ? fileURLToPath(url) : url;
    const segments = this.load().get(path)?.[line];
    if (!segments || segments.length === 0) return undefined;
    // The last segment starting at or before the column: [generatedColumn, originalLine].
    let lo = 0;
    let hi = segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (segments[mid]![0]! <= column) lo = mid;
      else hi = mid - 1;
    }
    return segments[lo]![1]! + 1;
  }

  private load(): Map<string, number[][][]> {
    if (this.maps) return this.maps;
    this.maps = new Map();
    const dir = join(tmpdir(), `tsx-${process.geteuid?.() ?? 0}`);
    const newest = new Map<string, { mtime: number; file: string }>();
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      return this.maps;
    }
    for (const name of names) {
      const file = join(dir, name);
      try {
        const text = readFileSync(file, 'utf8');
        const m = /"sources":\["([^"]+)"\]/.exec(text.slice(-4096)) ?? /"sources":\["([^"]+)"\]/.exec(text);
        if (!m) continue;
        const mtime = statSync(file).mtimeMs;
        const prev = newest.get(m[1]!);
        if (!prev || prev.mtime < mtime) newest.set(m[1]!, { mtime, file });
      } catch {
        // not a cache entry we understand
      }
    }
    for (const [source, { file, mtime }] of newest) {
      try {
        // A cache entry older than its source is of an earlier version: its lines would mislead.
        if (statSync(source).mtimeMs > mtime) continue;
        const entry = JSON.parse(readFileSync(file, 'utf8')) as { map?: { mappings?: string } };
        if (entry.map?.mappings) this.maps.set(source, decodeMappings(entry.map.mappings));
      } catch {
        // skip
      }
    }
    return this.maps;
  }
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Source map v3 mappings → per generated line, [generatedColumn, originalLine] pairs in order. */
export function decodeMappings(mappings: string): number[][][] {
  const out: number[][][] = [];
  let origLine = 0;
  for (const lineText of mappings.split(';')) {
    const segs: number[][] = [];
    let genCol = 0;
    for (const seg of lineText.split(',')) {
      if (seg === '') continue;
      const values: number[] = [];
      let value = 0;
      let shift = 0;
      for (let k = 0; k < seg.length; k++) {
        const digit = BASE64.indexOf(seg[k]!);
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          values.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      genCol += values[0]!;
      if (values.length >= 4) {
        origLine += values[2]!;
        segs.push([genCol, origLine]);
      }
    }
    out.push(segs);
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: npx tsx bench/cpuprofile.ts FILE.cpuprofile [TOP]\n');
    process.exit(2);
  }
  process.stdout.write(renderSummary(summarizeFile(file, Number(process.argv[3] ?? 30)), file));
}
