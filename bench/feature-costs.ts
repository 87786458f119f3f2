// What each per-request feature adds to a telephony write, measured in the same run as the cases, on the
// same 1M database (issue 16: "show in the same run what each new per-request cost adds … each under 10%"):
// - the audit row inserted in the write's own transaction (crm/audit.ts insertAuditIn);
// - the webhook outbox: the read of the (empty) subscriptions a set_status pays when no webhook exists,
//   and the outbox row of its two events when one is subscribed (crm/events.ts emitEvents; the fan-out
//   into deliveries is the sender's, off the request);
// - the setup-cache freshness check every set_data makes in its transaction (crm/setup-version.ts).
// Each is run through the product's own writer (group commit, a savepoint per write) the way the server
// runs it, 32 writes at a time, in this process against the server's database (the server is stopped).
// The base write has a disposition's shape: it locks a random assign (its read waited for: on PostgreSQL
// the write's first round trip, which reads sent ahead ride along) and updates its activity_at (unwaited
// on PostgreSQL: it goes with the COMMIT). A feature runs inside that shape the way the product runs it:
// its reads sent ahead right behind the lock, its rows unwaited. Its cost is what it adds to that write,
// measured in alternating phases (addedCpu). Until the evening of 2026-12-04 the base wrote nothing and waited for
// nothing, so a feature that wrote a row was also charged the commit's WAL write and flush, which a write
// pays once whatever it writes, and a read was charged a round trip of its own, which the product's reads
// do not take; BENCH_FEATURE_BASE=empty measures that way again. The difference is set against the server
// CPU per request of (d) set_status or (e) set_data in the same run.
import { openDatabase, type Db } from '../src/db/connect.ts';
import { insertAuditIn } from '../src/crm/audit.ts';
import { emitEvents, readSubscriptionsAhead, type DomainEvent } from '../src/crm/events.ts';
import { readSetupVersion, readSetupVersionAhead } from '../src/crm/setup-version.ts';
import { createWebhook, deleteWebhook } from '../src/crm/webhooks.ts';
import type { Q } from '../src/db/connect.ts';
import { compileOnce } from '../src/db/compiled.ts';
import { lockRows } from '../src/db/dialect.ts';
import { slot } from '../src/db/slots.ts';
import { ASSIGN_BASE, rng } from './dataset.ts';
import { processJiffies } from './processes.ts';

export interface FeatureCost {
  feature: string;
  /** Which case's request pays it: d set_status, e set_data. */
  paidBy: 'd' | 'e';
  /** Extra CPU per request, µs (this process, and on PostgreSQL the backends). */
  us: number;
}

const CONCURRENT = 32;
/** Writes with a feature (and as many without) per feature; the smoke run passes fewer. */
const WRITES = 8_000;
/**
 * Base and feature writes alternate in ABBA phases of WRITES / PHASES each, so both see the same state
 * of a database that grows (dead row versions, WAL) and of a machine whose speed drifts: measured one
 * after the other, the difference of two 8,000-write runs varied by ±100 µs on PostgreSQL.
 */
const PHASES = 8;

async function cpuOf(db: Db, backends: () => Promise<number[]>, writes: number, fn: (trx: Q, i: number) => Promise<unknown>): Promise<number> {
  const pids = await backends();
  const before = new Map(pids.map((p) => [p, processJiffies(p)]));
  const start = process.cpuUsage();
  for (let done = 0; done < writes; done += CONCURRENT) {
    await Promise.all(Array.from({ length: Math.min(CONCURRENT, writes - done) }, (_, k) => db.write((trx) => fn(trx, done + k))));
  }
  const own = process.cpuUsage(start);
  let backendUs = 0;
  for (const pid of await backends()) backendUs += Math.max(0, processJiffies(pid) - (before.get(pid) ?? 0)) * 10_000;
  return own.user + own.system + backendUs;
}

/** A feature as a write runs it: reads it sends right behind the lock, then its own work. */
interface Feature {
  ahead?: (trx: Q) => void;
  run: (trx: Q, i: number) => Promise<unknown>;
}

/** The base write: a disposition's lock and its assign's UPDATE, with a feature inside it or not. */
type Write = (trx: Q, feature?: Feature, i?: number) => Promise<void>;

/** CPU µs per write that `feature` adds to `base`, from ABBA phases (see PHASES). */
async function addedCpu(db: Db, backends: () => Promise<number[]>, base: Write, feature: Feature, writes: number): Promise<number> {
  const perPhase = Math.ceil(writes / PHASES);
  let baseUs = 0;
  let featureUs = 0;
  for (let phase = 0; phase < PHASES; phase++) {
    const featureFirst = phase % 4 === 1 || phase % 4 === 2;
    for (const withFeature of featureFirst ? [true, false] : [false, true]) {
      const offset = phase * perPhase;
      const us = await cpuOf(db, backends, perPhase, (trx, i) => (withFeature ? base(trx, feature, offset + i) : base(trx)));
      if (withFeature) featureUs += us;
      else baseUs += us;
    }
  }
  return Math.max(0, (featureUs - baseUs) / (perPhase * PHASES));
}

const lock = compileOnce((q) => lockRows(q, q.selectFrom('assigns').select('id').where('id', '=', slot(0))));
const touch = compileOnce((q) => q.updateTable('assigns').set({ activity_at: slot(0) }).where('id', '=', slot(1)));

export interface FeatureCostOptions {
  /** Customers in the dataset: the base write locks and updates a random one's assign. */
  customers: number;
  /** PostgreSQL: the backends serving this database (their CPU counts). */
  backends?: () => Promise<number[]>;
  /** Writes with each feature (and as many without); default WRITES. */
  writes?: number;
  /** BENCH_FEATURE_BASE=empty: the old base, a write that writes and waits for nothing. */
  emptyBase?: boolean;
}

/** Runs each feature in `writes` writes of the base's shape and answers the CPU per write it adds. */
export async function measureFeatureCosts(databaseUrl: string, o: FeatureCostOptions): Promise<FeatureCost[]> {
  const { customers, backends = async () => [], writes = WRITES, emptyBase = false } = o;
  const db = openDatabase(databaseUrl, { durable: true, poolSize: 4 });
  const rand = rng(16);
  const base: Write = async (trx, feature, i = 0) => {
    if (emptyBase) {
      await feature?.run(trx, i);
      return;
    }
    const id = ASSIGN_BASE + 1 + rand(customers);
    const locked = lock.ahead(trx, [id]);
    feature?.ahead?.(trx);
    await locked;
    await touch.later(trx, [Date.now(), id]);
    await feature?.run(trx, i);
  };
  try {
    const events = (i: number): DomainEvent[] => [
      { type: 'assign.status_changed', project_id: 10, data: { assign_id: i, customer_id: i, old_status_id: null, new_status_id: 201, worker_id: 301, source: 'set_status', call_id: null, notes: null } },
      { type: 'call.recorded', project_id: 10, data: { call_event_id: i, assign_id: i, customer_id: i, worker_id: 301, status_id: 201, notes: null, call_id: null, source: 'set_status' } },
    ];
    const audit = (i: number) => ({ at: Date.now(), endpoint: 'set_status', code: 0, latency_ms: 1.5, key_id: 'abcd1234', key_name: null, client_ip: '127.0.0.1', worker_id: '301', assign_id: i, project_id: 10 });
    // Warm-up: the writer, the statements and the pages the features touch.
    await cpuOf(db, backends, Math.ceil(writes / PHASES), (trx) => base(trx));
    const costs: FeatureCost[] = [];
    const add = async (feature: string, paidBy: 'd' | 'e', f: Feature) => {
      costs.push({ feature, paidBy, us: await addedCpu(db, backends, base, f, writes) });
    };
    await add('audit row in the write transaction', 'd', { run: (trx, i) => insertAuditIn(trx, audit(i)) });
    await add('setup-cache freshness check (setup version read)', 'e', { ahead: readSetupVersionAhead, run: (trx) => readSetupVersion(trx) });
    // No webhook: the read of the subscriptions only.
    await add('webhook outbox, no webhook configured (subscriptions read)', 'd', { ahead: readSubscriptionsAhead, run: (trx, i) => emitEvents(trx, events(i)) });
    const { webhook } = await createWebhook(db.q, { url: 'http://127.0.0.1:9/bench', events: ['assign.status_changed', 'call.recorded'] });
    try {
      await add('webhook outbox, one webhook subscribed (the two events of a set_status)', 'd', { ahead: readSubscriptionsAhead, run: (trx, i) => emitEvents(trx, events(i)) });
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
