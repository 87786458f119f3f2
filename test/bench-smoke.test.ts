// The benchmark's quick smoke run, so `npm run bench` never rots: a small dataset loaded through the
// CLI and the import route, the ceiling and the four telephony cases (b-e) on SQLite with every answer
// checked, half a second each, driven by wrk where it is installed, else by autocannon
// (BENCH_LOADGEN=auto). It proves the benchmark runs and answers right, never a timing (CI machines are
// noisy). It used to run every case on every database with the non-durable and the CRM_WORKERS servers
// too, ~68 s of every `npm test`; that full smoke is `BENCH_SMOKE=1 npm run bench` (README
// "Performance"), which exercises the same code with two more server start-ups per database.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function runSmoke(): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, BENCH_SMOKE: '1' };
  delete env.BENCH_RESULTS;
  delete env.BENCH_CUSTOMERS;
  delete env.BENCH_DATABASE_URL;
  env.BENCH_ONLY = 'sqlite';
  env.BENCH_VARIANTS = '0';
  // Half a second per case after a fifth of warm-up: every case answers (and is checked) many times,
  // which is all this test claims.
  env.BENCH_DURATION = '0.5';
  env.BENCH_WARMUP = '0.2';
  delete env.NODE_TEST_CONTEXT; // the child is a script, not a test of this runner
  const child = spawn('npx', ['tsx', 'bench/run.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c));
  child.stderr.on('data', (c: Buffer) => (stderr += c));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

/** The table's rows: case title, db, durable, workers, req/s, …, wrong. */
function tableRows(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((l) => l.startsWith('| ('))
    .map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
}

const reqPerSec = (row: string[]) => Number(row[4]!.replace(/,/g, ''));

describe('npm run bench, quick smoke run', { timeout: 300_000 }, () => {
  let run: Run;
  let rows: string[][];
  before(async () => {
    run = await runSmoke();
    rows = tableRows(run.stdout);
  }, { timeout: 300_000 });

  test('completes, exits 0 and prints the results table', () => {
    assert.equal(run.code, 0, `exit ${run.code}\n${run.stderr.slice(-3000)}`);
    assert.match(run.stdout, /\| case \| db \| durable \| workers \| req\/s \| p50 ms \| p99 ms \| ratio to \(a\) \|/);
  });

  test('measures the node:http ceiling with a non-zero rate', () => {
    const ceiling = rows.filter((r) => r[0]!.startsWith('(a)'));
    assert.equal(ceiling.length, 1);
    assert.ok(reqPerSec(ceiling[0]!) > 0);
  });

  test('runs every telephony case on SQLite, each with a non-zero rate and no wrong answer', () => {
    const mine = rows.filter((r) => r[1] === 'sqlite');
    assert.deepEqual(mine.map((r) => `${r[0]!.slice(0, 3)} durable=${r[2]} workers=${r[3]}`), [
      '(b) durable=true workers=1',
      '(c) durable=true workers=1',
      '(d) durable=true workers=1',
      '(e) durable=true workers=1',
    ]);
    for (const r of mine) {
      assert.ok(reqPerSec(r) > 0, `${r[0]}: ${r[4]} req/s`);
      assert.equal(r[10], '0', `${r[0]}: errors or non-2xx`);
      assert.equal(r[11], '0', `${r[0]}: wrong answers`);
    }
  });

  test('names its load generator (wrk when installed, else autocannon)', () => {
    assert.match(run.stdout, /^- load generator: (wrk|autocannon) \S+ \(/m);
  });

  test("reports the load through the product's import", () => {
    assert.match(run.stdout, /- sqlite: 1,000 rows in [\d.]+ s/);
  });
});
