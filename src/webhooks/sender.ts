// The background webhook sender: fans the outbox's events out into deliveries (crm/webhooks.ts
// fanOutEvents), claims due deliveries (claimDue), POSTs them at the pace the telephony API leaves room
// for (pace.ts), records each attempt. Nothing here is on a request's path: a telephony answer only waits for its own commit,
// which holds the outbox rows; a slow or dead receiver costs at most `concurrency` open requests of at
// most the timeout each, and memory holds only the claimed rows.
//
// Retries: exponential backoff from CRM_WEBHOOK_RETRY_FIRST_MS (10 s), doubled per attempt up to
// CRM_WEBHOOK_RETRY_MAX_MS (1 h), until CRM_WEBHOOK_GIVE_UP_MS (24 h) after the delivery was queued; then
// it is marked failed and kept for a manual retry. At least once: a receiver de-duplicates by event id.
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.ts';
import type { Db } from '../db/connect.ts';
import { anyDue, claimDue, fanOutEvents, pruneDelivered, recordAttempt, statusNames, type AttemptResult, type DeliveryRow } from '../crm/webhooks.ts';
import { relaxCommit } from '../db/dialect.ts';
import { startPace } from './pace.ts';
import { post, signedRequest } from './deliver.ts';

export type DeliveryOutcome = 'delivered' | 'retry' | 'failed';

export interface Sender {
  /** Stops claiming, aborts requests in flight (they become due again at once) and waits for that to be recorded. */
  stop(): Promise<void>;
}

export interface SenderOptions {
  db: Db;
  config: Config;
  log: FastifyBaseLogger;
  onDelivery?: (outcome: DeliveryOutcome, seconds: number) => void;
}

/** Delivered rows are kept this long in the log, then pruned. */
const KEEP_DELIVERED_MS = 7 * 86_400_000;
const PRUNE_EVERY_MS = 10 * 60_000;
/** Attempts wait this long to be recorded together (or ride along with the next claim). */
const FLUSH_MS = 100;

/** The delay after the n-th failed attempt (n from 1), with ±10% jitter so retries of many rows spread out. */
export function backoff(config: Pick<Config, 'webhookRetryFirstMs' | 'webhookRetryMaxMs'>, n: number): number {
  const base = Math.min(config.webhookRetryFirstMs * 2 ** Math.min(n - 1, 30), config.webhookRetryMaxMs);
  return Math.round(base * (0.9 + Math.random() * 0.2));
}

/** The JSON body of a delivery (integrations.md), built from the row; the same bytes on every attempt. */
export function deliveryBody(row: DeliveryRow, statusName?: string | null): string {
  let data = JSON.parse(row.data) as Record<string, unknown>;
  if (row.type === 'assign.status_changed') {
    // status_name goes right after new_status_id, in the spec's order.
    const { assign_id, customer_id, old_status_id, new_status_id, ...rest } = data;
    data = { assign_id, customer_id, old_status_id, new_status_id, status_name: statusName ?? null, ...rest };
  }
  // sequence: the outbox row id. Rows of one assign (or customer) are written under its row lock, so a
  // later change always has a greater sequence; deliveries may arrive out of order, receivers sort by it.
  return JSON.stringify({ id: row.event_id, type: row.type, at: new Date(row.at).toISOString(), project_id: row.project_id, sequence: row.id, data });
}

export function startSender({ db, config, log, onDelivery }: SenderOptions): Sender {
  interface Job {
    row: DeliveryRow;
    url: string;
    secret: string;
    statusName: string | null;
  }
  interface Result {
    id: number;
    attempt: AttemptResult;
  }
  const concurrency = config.webhookConcurrency;
  // Claimed rows waiting for a free slot: claims take several slots' worth at once, so a backlog costs
  // one claim per CLAIM_FACTOR × concurrency deliveries, not one per delivery.
  const CLAIM_FACTOR = 4;
  const queue: Job[] = [];
  const inflight = new Map<number, AbortController>();
  const settled = new Set<Promise<void>>();
  // Attempts are recorded in batches (one transaction per flush, not per delivery): on SQLite each commit
  // is an fsync shared with the telephony writes of the moment.
  let results: Result[] = [];
  let flushing: Promise<void> | undefined;
  let flushTimer: NodeJS.Timeout | undefined;
  let stopped = false;
  let ticking = false;
  let lastPrune = 0;
  // The claim's lease: longer than the claimed rows can take to be sent (they wait at most
  // CLAIM_FACTOR rounds of the timeout), so a row is never sent twice at the same time; a process killed
  // mid-delivery leaves its rows to be retried when the lease ends.
  const leaseMs = (CLAIM_FACTOR + 1) * config.webhookTimeoutMs + 1000;

  const pace = startPace({ busyRate: config.webhookBusyRate });
  // Starts the busy rate allows within a lease, less a timeout (the last one must end in it), halved
  // (fan-out rows count against the same rate).
  const leaseCap = Math.max(1, Math.floor((config.webhookBusyRate * (leaseMs - config.webhookTimeoutMs)) / 2000));
  let paceTimer: NodeJS.Timeout | undefined;

  /** The pace left no room for a fan-out now: look again in the next window instead of the next poll. */
  let tickTimer: NodeJS.Timeout | undefined;
  function paceTick() {
    tickTimer ??= setTimeout(() => {
      tickTimer = undefined;
      void tick();
    }, pace.untilNextWindow());
  }

  async function tick() {
    if (stopped || ticking) return;
    ticking = true;
    try {
      while (!stopped && queue.length + inflight.size < concurrency) {
        const now = Date.now();
        if (now - lastPrune > PRUNE_EVERY_MS) {
          lastPrune = now;
          await db.write((trx) => pruneDelivered(trx, now - KEEP_DELIVERED_MS));
        }
        if (!(await anyDue(db.read, now))) break;
        // Never more than the pace lets this sender start within the lease, even at the busy rate (or
        // a claimed row would wait past its lease and could be claimed and sent a second time).
        const want = Math.min(CLAIM_FACTOR * concurrency - queue.length - inflight.size, leaseCap);
        const done = results;
        results = [];
        const { rows, events } = await db.write(async (trx) => {
          // The fan-out first: it locks outbox rows, which an erasure locks before the deliveries it
          // scrubs (erase-traces.ts); taking them before any delivery row keeps the same order (no deadlock).
          // Its deliveries are inserted already claimed (no second write per row), at most half of the
          // claim, so retries and older due rows get the other half while new events keep coming.
          // The fan-out is paced with the deliveries: on a saturated loop it waits too.
          const eventsAllowed = Math.min(pace.allowance(), want);
          if (eventsAllowed === 0) paceTick();
          const fresh = eventsAllowed > 0 ? await fanOutEvents(trx, now, now + leaseMs, Math.ceil(want / 2), eventsAllowed) : { rows: 0, events: 0, deliveries: [] };
          pace.charge(fresh.events);
          // The claims and attempt records may be lost in a database crash (they are sent again: at least
          // once), but not a fan-out: its event ids are made here, and a lost one would send the same
          // event again under another id, which receivers could not de-duplicate.
          if (fresh.rows === 0) await relaxCommit(trx);
          const more = await claimDue(trx, now, want - fresh.deliveries.length, now + leaseMs);
          // The attempts recorded so far ride along in this transaction: one commit for both.
          for (const r of done) await recordAttempt(trx, r.id, r.attempt);
          return { rows: [...fresh.deliveries, ...more], events: fresh.rows };
        });
        if (rows.length === 0 && events === 0) break;
        const hooks = new Map(
          (await db.read.selectFrom('webhooks').select(['id', 'url', 'secret']).where('id', 'in', [...new Set(rows.map((r) => r.webhook_id))]).execute()).map((h) => [h.id, h]),
        );
        const newStatus = (r: DeliveryRow) => (r.type === 'assign.status_changed' ? (JSON.parse(r.data) as { new_status_id: number | null }).new_status_id : null);
        const names = await statusNames(db.read, rows.map(newStatus).filter((x): x is number => x !== null));
        for (const row of rows) {
          const hook = hooks.get(row.webhook_id);
          if (!hook) continue; // deleted meanwhile: its rows went with it
          const sid = newStatus(row);
          queue.push({ row, url: hook.url, secret: hook.secret, statusName: sid === null ? null : (names.get(sid) ?? null) });
        }
        pump();
        if (rows.length < want && events === 0) break;
      }
    } catch (err) {
      log.error({ err }, 'webhook sender: claiming deliveries failed');
    } finally {
      ticking = false;
    }
  }

  /** Starts queued jobs while slots are free and the pace allows. */
  function pump() {
    while (!stopped && inflight.size < concurrency && queue.length > 0) {
      if (!pace.take()) {
        paceTimer ??= setTimeout(() => {
          paceTimer = undefined;
          if (!stopped) pump();
        }, pace.untilNextWindow());
        return;
      }
      const job = queue.shift()!;
      const p = attempt(job).catch((err: unknown) => {
        log.error({ err }, 'webhook sender: a delivery failed unexpectedly');
      });
      settled.add(p);
      void p.finally(() => {
        settled.delete(p);
        pump();
        // Slots free and nothing queued: look for more at once rather than at the next poll.
        if (!stopped && queue.length + inflight.size < concurrency) void tick();
      });
    }
  }

  async function attempt({ row, url, secret, statusName }: Job): Promise<void> {
    const ac = new AbortController();
    inflight.set(row.id, ac);
    if (stopped) ac.abort();
    const started = performance.now();
    const req = signedRequest(secret, row.type, row.id, deliveryBody(row, statusName));
    const res = await post(url, req, { timeoutMs: config.webhookTimeoutMs, denyPrivate: config.webhookDenyPrivate, signal: ac.signal });
    inflight.delete(row.id);
    const at = Date.now();
    const ok = res.status !== null && res.status >= 200 && res.status < 300;
    let next: number | null = null;
    if (!ok) {
      // Stopping: due again at once, for this process after a restart or another one now.
      if (ac.signal.aborted) next = at;
      else if (at - row.pending_since < config.webhookGiveUpMs) next = at + backoff(config, row.attempts + 1);
    }
    const outcome: DeliveryOutcome = ok ? 'delivered' : next === null ? 'failed' : 'retry';
    onDelivery?.(outcome, (performance.now() - started) / 1000);
    if (!ok && !ac.signal.aborted) log.warn({ webhook_id: row.webhook_id, delivery_id: row.id, status: res.status, error: res.error, outcome }, 'webhook delivery failed');
    results.push({ id: row.id, attempt: { ok, status: res.status, error: ok ? null : (res.error ?? `HTTP ${res.status}`), at, next } });
    flushTimer ??= setTimeout(() => void flush(), FLUSH_MS);
  }

  /** Records the buffered attempts in one transaction. A failure leaves them to the lease: at least once. */
  async function flush(): Promise<void> {
    flushTimer = undefined;
    while (flushing) await flushing;
    if (results.length === 0) return;
    const batch = results;
    results = [];
    flushing = db
      .write(async (trx) => {
        await relaxCommit(trx);
        for (const r of batch) await recordAttempt(trx, r.id, r.attempt);
      })
      .catch((err: unknown) => log.error({ err }, 'webhook sender: recording attempts failed'))
      .finally(() => (flushing = undefined));
    await flushing;
  }

  const timer = setInterval(() => void tick(), config.webhookPollMs);
  timer.unref();
  void tick();

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      pace.stop();
      // Claimed but not started: due again at once (for the next process).
      const requeue = () => {
        const now = Date.now();
        for (const job of queue.splice(0)) results.push({ id: job.row.id, attempt: { ok: false, status: null, error: 'sender stopped before sending', at: now, next: now } });
      };
      requeue();
      for (const ac of inflight.values()) ac.abort();
      while (ticking) await new Promise((r) => setTimeout(r, 5));
      // A tick that was running may have claimed more meanwhile, or armed a pace timer.
      requeue();
      clearTimeout(paceTimer);
      clearTimeout(tickTimer);
      await Promise.all([...settled]);
      clearTimeout(flushTimer);
      await flush();
    },
  };
}
