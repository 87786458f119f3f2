// What each per-request feature adds to a telephony write, measured in the same run as the cases, on the
// same 1M database (issue 16: "show in the same run what each new per-request cost adds … each under 10%"):
// - the audit row inserted in the write's own transaction (crm/audit.ts insertAuditIn);
// - the webhook outbox: the read of the (empty) subscriptions a set_status pays when no webhook exists,
//   and the outbox row of its two events when one is subscribed (crm/events.ts emitEvents; the fan-out
//   into deliveries is the sender's, off the request);
// - the setup-cache freshness check every set_data makes in its transaction (crm/setup-version.ts).
// Each is run through the product's own writer (group commit, a savepoint per write) the way the server
// runs it, 32 writes at a time, in this process against the server's database (the server is stopped);
// the cost of a write doing only that is compared with a write doing nothing, and the difference is set
// against the server CPU per request of (d) set_status or (e) set_data in the same run.
import { openDatabase, type Db } from '../src/db/connect.ts';
import { insertAuditIn } from '../src/crm/audit.ts';
import { emitEvents, type DomainEvent } from '../src/crm/events.ts';
import { readSetupVersion } from '../src/crm/setup-version.ts';
import { createWebhook, deleteWebhook } from '../src/crm/webhooks.ts';
import type { Q } from '../src/db/connect.ts';
import { processJiffies } from './processes.ts';

export interface FeatureCost {
  feature: string;
  /** Which case's request pays it: d set_status, e set_data. */
  paidBy: 'd' | 'e';
  /** Extra CPU per request, µs (this process, and on PostgreSQL the backends). */
  us: number;
}

const CONCURRENT = 32;
const WRITES = 8_000;

async function cpuOf(db: Db, backends: () => Promise<number[]>, fn: (trx: Q, i: number) => Promise<unknown>): Promise<number> {
  const pids = await backends();
  const before = new Map(pids.map((p) => [p, processJiffies(p)]));
  const start = process.cpuUsage();
  for (let done = 0; done < WRITES; done += CONCURRENT) {
    await Promise.all(Array.from({ length: CONCURRENT }, (_, k) => db.write((trx) => fn(trx, done + k))));
  }
  const own = process.cpuUsage(start);
  let backendUs = 0;
  for (const pid of await backends()) backendUs += Math.max(0, processJiffies(pid) - (before.get(pid) ?? 0)) * 10_000;
  return (own.user + own.system + backendUs) / WRITES;
}

/** Runs each feature alone in writes and answers its extra CPU per request over an empty write. */
export async function measureFeatureCosts(databaseUrl: string, backends: () => Promise<number[]> = async () => []): Promise<FeatureCost[]> {
  const db = openDatabase(databaseUrl, { durable: true, poolSize: 4 });
  try {
    const events = (i: number): DomainEvent[] => [
      { type: 'assign.status_changed', project_id: 10, data: { assign_id: i, customer_id: i, old_status_id: null, new_status_id: 201, worker_id: 301, source: 'set_status', call_id: null, notes: null } },
      { type: 'call.recorded', project_id: 10, data: { call_event_id: i, assign_id: i, customer_id: i, worker_id: 301, status_id: 201, notes: null, call_id: null, source: 'set_status' } },
    ];
    const audit = (i: number) => ({ at: Date.now(), endpoint: 'set_status', code: 0, latency_ms: 1.5, key_id: 'abcd1234', key_name: null, client_ip: '127.0.0.1', worker_id: '301', assign_id: i, project_id: 10 });
    const empty = async () => undefined;
    // Warm-up: the writer, the statements and the pages the features touch.
    await cpuOf(db, backends, empty);
    const base = await cpuOf(db, backends, empty);
    const costs: FeatureCost[] = [];
    const add = async (feature: string, paidBy: 'd' | 'e', fn: (trx: Q, i: number) => Promise<unknown>) => {
      costs.push({ feature, paidBy, us: Math.max(0, (await cpuOf(db, backends, fn)) - base) });
    };
    await add('audit row in the write transaction', 'd', (trx, i) => insertAuditIn(trx, audit(i)));
    await add('setup-cache freshness check (setup version read)', 'e', (trx) => readSetupVersion(trx));
    // No webhook: the read of the subscriptions only.
    await add('webhook outbox, no webhook configured (subscriptions read)', 'd', (trx, i) => emitEvents(trx, events(i)));
    const { webhook } = await createWebhook(db.q, { url: 'http://127.0.0.1:9/bench', events: ['assign.status_changed', 'call.recorded'] });
    try {
      await add('webhook outbox, one webhook subscribed (the two events of a set_status)', 'd', (trx, i) => emitEvents(trx, events(i)));
    } finally {
      // Its deliveries and outbox rows go with it: the database is left as the cases found it.
      await deleteWebhook(db.q, webhook.id);
      await db.q.deleteFrom('webhook_events').execute();
    }
    return costs;
  } finally {
    await db.close();
  }
}
