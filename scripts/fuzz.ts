// The long fuzz run: ≥100,000 random and hostile requests (fuzz-requests.ts) against the three legacy
// endpoints through app.inject, on a fresh SQLite database (or PostgreSQL with --database-url), checking
// after each one: no 5xx, the JSON envelope with a numeric code, and no data changed by a failure code.
//
//   node --import tsx scripts/fuzz.ts [--requests 100000] [--seed 42] [--database-url postgres://…]
//
// Prints how many requests it sent, the answers by endpoint and code, and every failure (exit 1 if any).
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { setup, seedProject } from '../test/helpers.ts';
import { describeRequest, requestArb, sendAndCheck, snapshot, type Endpoint } from '../test/fuzz-requests.ts';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '100000' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    'database-url': { type: 'string' },
  },
});
const total = Number(args.requests);
const seed = Number(args.seed);
if (!Number.isInteger(total) || total <= 0 || !Number.isInteger(seed)) {
  process.stderr.write('usage: scripts/fuzz.ts [--requests N] [--seed N] [--database-url postgres://…]\n');
  process.exit(2);
}
if (args['database-url']) process.env.TEST_DATABASE_URL = args['database-url'];
const dialect = args['database-url'] ? 'postgres' : 'sqlite';

const h = await setup(dialect, { CRM_AUTH_FAIL_LIMIT: '0', LOG_LEVEL: 'silent' });
await seedProject(h.app);

const endpoints: Endpoint[] = ['get_data', 'set_data', 'set_status'];
const BATCH = 500;
const codes = new Map<string, number>();
const statuses = new Map<number, number>();
const failures: string[] = [];
let sent = 0;
let current = await snapshot(h.db);
const started = Date.now();

try {
  for (let batch = 0; sent < total; batch++) {
    const endpoint = endpoints[batch % endpoints.length]!;
    const requests = fc.sample(requestArb(endpoint), { numRuns: Math.min(BATCH, total - sent), seed: seed + batch });
    for (const req of requests) {
      const checked = await sendAndCheck(h.app, h.db, req, current);
      current = checked.after;
      sent++;
      statuses.set(checked.status, (statuses.get(checked.status) ?? 0) + 1);
      const k = `${endpoint} code ${checked.code ?? '-'}`;
      codes.set(k, (codes.get(k) ?? 0) + 1);
      if (checked.problem) failures.push(`${checked.problem}\n    ${describeRequest(req)}`);
    }
    if (batch % 20 === 0) process.stdout.write(`  ${sent} requests, ${failures.length} failures, ${Math.round((Date.now() - started) / 1000)} s\n`);
  }
} finally {
  await h.close();
}

process.stdout.write(`\nfuzz: ${sent} requests sent (${dialect}, seed ${seed}) in ${Math.round((Date.now() - started) / 1000)} s\n`);
process.stdout.write(`HTTP statuses: ${[...statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(', ')}\n`);
process.stdout.write(`answers: ${[...codes].sort().map(([k, n]) => `${k}: ${n}`).join('; ')}\n`);
process.stdout.write(`failures: ${failures.length}\n`);
for (const f of failures.slice(0, 50)) process.stdout.write(`  - ${f}\n`);
process.exit(failures.length > 0 ? 1 : 0);
