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
// measured in alternating phases (addedCpu), and set against the server CPU per request of (d) set_status
// or (e) set_data in the same run.
// Until the evening of 2026-12-04 the base was a write that wrote nothing and waited for nothing, so a
// feature that wrote a row was also charged the commit's WAL write and flush, which a write pays once
// whatever it writes, and a read was charged a round trip of its own, which the product's reads do not
// take. That way is still measured, in the same run, and reported beside (`usEmptyBase`).
import { openDatabase, type Db } from '../src/db/connect.ts';
import { insertAuditIn } from '../src/crm/audit.ts';
import { sendCallEventIdAhead, takeCallEventId } from '../src/crm/assigns.ts';
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
  /** Extra CPU per request, µs (this process, and on PostgreSQL the backends), inside a disposition-shaped write. */
  us: number;
  /** The same against a write that writes and waits for nothing (the method before 2026-12-04 evening). */
  usEmptyBase: number;
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

/** A feature as a write runs it: reads it sends right behind the lock, then its own work for that assign. */
interface Feature {
  ahead?: (trx: Q) => void;
  run: (trx: Q, assignId: number) => Promise<unknown>;
}

/** A write carrying a feature or not (the base: a disposition's lock and UPDATE, or nothing). */
type Write = (trx: Q, feature?: Feature) => Promise<void>;

/**
 * CPU µs per write that `feature` adds to `base`, from ABBA phases (see PHASES), after a phase of warm-up
 * with the feature (its statements prepared, its pages read).
 */
async function addedCpu(db: Db, backends: () => Promise<number[]>, base: Write, feature: Feature, writes: number): Promise<number> {
  const perPhase = Math.ceil(writes / PHASES);
  await cpuOf(db, backends, perPhase, (trx) => base(trx, feature));
  let baseUs = 0;
  let featureUs = 0;
  for (let phase = 0; phase < PHASES; phase++) {
    const featureFirst = phase % 4 === 1 || phase % 4 === 2;
    for (const withFeature of featureFirst ? [true, false] : [false, true]) {
      const us = await cpuOf(db, backends, perPhase, (trx) => (withFeature ? base(trx, feature) : base(trx)));
      if (withFeature) featureUs += us;
      else baseUs += us;
    }
  }
  // Negative only by noise (the feature cannot save work): 0.
  return Math.max(0, (featureUs - baseUs) / (perPhase * PHASES));
}

const lock = compileOnce((q) => lockRows(q, q.selectFrom('assigns').select('id').where('id', '=', slot(0))));
const touch = compileOnce((q) => q.updateTable('assigns').set({ activity_at: slot(0) }).where('id', '=', slot(1)));
export interface FeatureCostOptions {
  /** Customers in the dataset: each write locks and updates a random one's assign. */
  customers: number;
  /** PostgreSQL: the backends serving this database (their CPU counts). */
  backends?: () => Promise<number[]>;
  /** Writes with each feature (and as many without), per way of measuring; default WRITES. */
  writes?: number;
}

/**
 * Runs each feature in `writes` writes of a disposition's shape, then in writes that do nothing else, and
 * answers the CPU per write it adds each way.
 */
export async function measureFeatureCosts(databaseUrl: string, o: FeatureCostOptions): Promise<FeatureCost[]> {
  const { customers, backends = async () => [], writes = WRITES } = o;
  const db = openDatabase(databaseUrl, { durable: true, poolSize: 4 });
  const rand = rng(16);
  const assignId = () => ASSIGN_BASE + 1 + rand(customers);
  const disposition: Write = async (trx, feature) => {
    const id = assignId();
    const locked = lock.ahead(trx, [id]);
    feature?.ahead?.(trx);
    await locked;
    await touch.later(trx, [Date.now(), id]);
    await feature?.run(trx, id);
  };
  // The old base: nothing but the feature, its reads waited for where they run.
  const empty: Write = async (trx, feature) => {
    await feature?.run(trx, assignId());
  };
  try {
    const events = (assign: number, callEventIdOf: number): DomainEvent[] => [
      { type: 'assign.status_changed', project_id: 10, data: { assign_id: assign, customer_id: assign - ASSIGN_BASE, old_status_id: null, new_status_id: 201, worker_id: 301, source: 'set_status', call_id: null, notes: null } },
      { type: 'call.recorded', project_id: 10, data: { call_event_id: callEventIdOf, assign_id: assign, customer_id: assign - ASSIGN_BASE, worker_id: 301, status_id: 201, notes: null, call_id: null, source: 'set_status' } },
    ];
    const audit = (assign: number) => ({ at: Date.now(), endpoint: 'set_status', code: 0, latency_ms: 1.5, key_id: 'abcd1234', key_name: null, client_ip: '127.0.0.1', worker_id: '301', assign_id: assign, project_id: 10 });
    // Warm-up: the writer, the statements and the pages of the base writes.
    await cpuOf(db, backends, Math.ceil(writes / PHASES), (trx) => disposition(trx));
    const costs: FeatureCost[] = [];
    const add = async (feature: string, paidBy: 'd' | 'e', f: Feature) => {
      const us = await addedCpu(db, backends, disposition, f, writes);
      // The old way without the sends ahead: its reads ran where the feature ran, each its own round trip.
      const usEmptyBase = await addedCpu(db, backends, empty, { run: f.run }, writes);
      costs.push({ feature, paidBy, us, usEmptyBase });
    };
    await add('audit row in the write transaction', 'd', { run: (trx, id) => insertAuditIn(trx, audit(id)) });
    await add('setup-cache freshness check (setup version read)', 'e', { ahead: readSetupVersionAhead, run: (trx) => readSetupVersion(trx) });
    // No webhook: the read of the subscriptions only (emitEvents finds no subscriber and writes nothing).
    await add('webhook outbox, no webhook configured (subscriptions read)', 'd', { ahead: readSubscriptionsAhead, run: (trx, id) => emitEvents(trx, events(id, 0)) });
    const { webhook } = await createWebhook(db.q, { url: 'http://127.0.0.1:9/bench', events: ['assign.status_changed', 'call.recorded'] });
    try {
      await add('webhook outbox, one webhook subscribed (the two events of a set_status)', 'd', {
        // With a call.recorded subscriber the product takes the call event's id from its sequence behind
        // the lock (crm/assigns.ts; PostgreSQL with the pipeline only): part of what the webhook costs.
        ahead: (trx) => {
          readSubscriptionsAhead(trx);
          sendCallEventIdAhead(trx);
        },
        run: async (trx, id) => emitEvents(trx, events(id, (await takeCallEventId(trx)) ?? id)),
      });
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
