// The webhook outbox after migration 009: writes append their events to webhook_events and the sender
// fans them out (crm/webhooks.ts fanOutEvents). Two senders on one database deliver every event once and
// in each assign's order; a sender on a saturated event loop yields to it (webhooks/pace.ts, telephony
// first), never stops, and sends what waited once the loop is free.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/connect.ts';
import { emitEvents, storedType, type DomainEvent, type StoredEvent } from '../src/crm/events.ts';
import { scrubDeliveries } from '../src/crm/erase-traces.ts';
import { cutToMark, markAtBatchEnd } from '../src/db/batch-tail.ts';
import { startPace, HIGH, LOW } from '../src/webhooks/pace.ts';
import { startSender, type Sender } from '../src/webhooks/sender.ts';
import { KEYS, admin, dialects, seedProject, setup, tel, type Harness } from './helpers.ts';
import { Receiver } from './receiver.ts';

const FAST = { CRM_WEBHOOK_POLL_MS: '20', CRM_WEBHOOK_RETRY_FIRST_MS: '50', CRM_WEBHOOK_TIMEOUT_MS: '2000' };

describe('the sender\'s pace', () => {
  it('halves its start rate down to the busy rate while the loop is saturated, and lifts the limit when it is free', async () => {
    let u = 1;
    const pace = startPace({ busyRate: 50, windowMs: 20, utilization: () => u });
    // Windows are timers: under load they fire late, so wait for the state rather than a fixed time.
    const until = async (what: string, ok: () => boolean) => {
      const end = Date.now() + 5000;
      while (!ok()) {
        assert.ok(Date.now() < end, what);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    try {
      // Unlimited at first: many starts in one window.
      for (let i = 0; i < 100; i++) assert.equal(pace.take(), true);
      await until('saturated: down to the busy rate', () => pace.rate() === 50);
      await new Promise((r) => setTimeout(r, 30)); // a fresh window
      // 50 a second over a 20 ms window: one start, then wait for the next window.
      if (!pace.take()) await new Promise((r) => setTimeout(r, pace.untilNextWindow() + 1));
      assert.equal(pace.take(), false, 'one start a window at 50 a second');
      assert.ok(pace.untilNextWindow() > 0 && pace.untilNextWindow() <= 20);
      u = (HIGH + LOW) / 2; // between the marks: the rate climbs by a quarter a window
      await until('between the marks: rising', () => pace.rate() > 50);
      assert.ok(pace.rate() < 200, `slowly: ${pace.rate()}`);
      u = 0.1;
      await until('a free loop: no limit', () => pace.rate() === Infinity);
    } finally {
      pace.stop();
    }
  });
});

for (const dialect of dialects()) {
  describe(`the webhook outbox and its senders (${dialect})`, () => {
    let h: Harness;
    const rx = new Receiver();
    const senders: Sender[] = [];
    before(async () => {
      // No sender in the app: each test starts its own.
      h = await setup(dialect, { ...FAST, CRM_WEBHOOK_SENDER: 'false' });
      await seedProject(h.app);
      await rx.start();
    });
    after(async () => {
      for (const s of senders.splice(0)) await s.stop();
      await h.close();
      await rx.stop();
    });

    it('a write appends an outbox row of its events, with the subscribed webhooks; nothing without a subscriber', async () => {
      const none = await h.db.q.selectFrom('webhook_events').select('id').execute();
      await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 555, status_id: 2 });
      assert.equal((await h.db.q.selectFrom('webhook_events').select('id').execute()).length, none.length, 'no webhook: no outbox row');
      const hook = await admin(h.app, 'POST', '/webhooks', { url: rx.url, events: ['assign.status_changed', 'call.recorded'] });
      const other = await admin(h.app, 'POST', '/webhooks', { url: rx.url, events: ['call.recorded'], project_ids: [11] });
      await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 555, status_id: 10 });
      const rows = await h.db.q.selectFrom('webhook_events').select('events').execute();
      assert.equal(rows.length, 1, 'one row for the write');
      const events = JSON.parse(rows[0]!.events) as StoredEvent[];
      assert.deepEqual(events.map((e) => [storedType(e), e[1], e[3]]), [['assign.status_changed', 10, [hook.id]], ['call.recorded', 10, [hook.id]]]);
      // Listing the log fans the waiting events out: the log shows every committed change.
      const log = await admin(h.app, 'GET', `/webhooks/${hook.id}/deliveries`);
      assert.deepEqual(log.items.map((d: { event: string }) => d.event).sort(), ['assign.status_changed', 'call.recorded']);
      assert.equal((await h.db.q.selectFrom('webhook_events').select('id').execute()).length, 0);
      for (const id of [hook.id, other.id]) await h.app.inject({ method: 'DELETE', url: `/admin/v1/webhooks/${id}`, headers: { authorization: `Bearer ${h.config.adminToken}` } });
    });

    if (dialect === 'sqlite') {
      it('a group-commit batch writes one outbox row for its writes; a write rolled back leaves none; an erasure in the batch redacts the earlier writes\' events', async () => {
        const hook = await admin(h.app, 'POST', '/webhooks', { url: rx.url, events: ['customer.fields_changed'] });
        await h.db.q.deleteFrom('webhook_events').execute();
        const ev = (customer: number, city: string): DomainEvent => ({ type: 'customer.fields_changed', project_id: 10, data: { customer_id: customer, changes: [{ field: 'city', old_value: null, new_value: city }] } });
        // Queued in the same tick: one batch (db/writer.ts).
        const writes = [
          h.db.write((trx) => emitEvents(trx, [ev(901, 'Haifa')])),
          h.db.write(async (trx) => {
            await emitEvents(trx, [ev(902, 'Rolled back')]);
            throw new Error('this write fails');
          }),
          h.db.write((trx) => emitEvents(trx, [ev(903, 'Eilat')])),
          h.db.write((trx) => scrubDeliveries(trx, 901)),
        ];
        const settled = await Promise.allSettled(writes);
        assert.deepEqual(settled.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
        const rows = await h.db.q.selectFrom('webhook_events').select('events').execute();
        assert.equal(rows.length, 1, 'one row for the batch');
        const data = (JSON.parse(rows[0]!.events) as StoredEvent[]).map((e) => e[4]);
        assert.deepEqual(data.map((d) => d.customer_id), [901, 903], 'the rolled-back write has no event');
        assert.deepEqual(data[0], { customer_id: 901, erased: true }, 'erased in the same batch: redacted');
        assert.equal((data[1] as { changes: { new_value: string }[] }).changes[0]!.new_value, 'Eilat');
        await h.db.q.deleteFrom('webhook_events').execute();

        // A savepoint inside a write (an import row) that rolls back takes its events with it; an
        // erasure that rolls back leaves the batch's waiting events as they were.
        const inner = [
          h.db.write(async (trx) => {
            await emitEvents(trx, [ev(904, 'Kept')]);
            const mark = markAtBatchEnd(trx);
            await emitEvents(trx, [ev(905, 'Row rolled back')]);
            cutToMark(trx, mark);
          }),
          h.db.write((trx) => emitEvents(trx, [ev(906, 'Acre')])),
          h.db.write(async (trx) => {
            await scrubDeliveries(trx, 906);
            throw new Error('the erasure fails after its scrub');
          }),
        ];
        assert.deepEqual((await Promise.allSettled(inner)).map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected']);
        const after = (await h.db.q.selectFrom('webhook_events').select('events').execute()).flatMap((r) => (JSON.parse(r.events) as StoredEvent[]).map((e) => e[4]));
        assert.deepEqual(after.map((d) => d.customer_id), [904, 906]);
        assert.equal((after[1] as { changes: { new_value: string }[] }).changes[0]!.new_value, 'Acre', 'a rolled-back erasure redacts nothing');
        await h.db.q.deleteFrom('webhook_events').execute();
        await h.app.inject({ method: 'DELETE', url: `/admin/v1/webhooks/${hook.id}`, headers: { authorization: `Bearer ${h.config.adminToken}` } });
      });
    }

    it('two senders on one database deliver each event once, and one assign\'s events in order', async () => {
      const hook = await admin(h.app, 'POST', '/webhooks', { url: rx.url, events: ['assign.status_changed'] });
      rx.received = [];
      const N = 60;
      for (let i = 0; i < N; i++) {
        const r = await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 555, status_id: i % 2 === 0 ? 2 : 10 });
        assert.equal(r.code, 0);
      }
      // A timeout far above a local answer's time: a retry would be a legitimate second copy.
      const config = loadConfig({ DATABASE_URL: h.databaseUrl, ...FAST, CRM_WEBHOOK_TIMEOUT_MS: '30000' });
      const second = openDatabase(h.databaseUrl, { poolSize: 3, schema: h.pgSchema });
      try {
        senders.push(startSender({ db: h.db, config, log: h.app.log }), startSender({ db: second, config, log: h.app.log }));
        await rx.waitFor((x) => x.events('assign.status_changed').length >= N, 15_000);
        await new Promise((r) => setTimeout(r, 300)); // a duplicate would arrive meanwhile
        for (const s of senders.splice(0)) await s.stop();
      } finally {
        await second.close();
      }
      const got = rx.events('assign.status_changed');
      assert.equal(got.length, N, 'each event once');
      assert.equal(new Set(got.map((e) => e.id)).size, N);
      // Ordered by sequence, each change starts from the status the previous one set.
      const bySequence = [...got].sort((a, b) => a.sequence - b.sequence);
      for (let i = 1; i < bySequence.length; i++) assert.equal(bySequence[i].data.old_status_id, bySequence[i - 1].data.new_status_id, `event ${i} out of order`);
      await h.app.inject({ method: 'DELETE', url: `/admin/v1/webhooks/${hook.id}`, headers: { authorization: `Bearer ${h.config.adminToken}` } });
    });

    it('on a saturated event loop the sender keeps the busy rate, and sends the rest when the loop is free', async () => {
      const hook = await admin(h.app, 'POST', '/webhooks', { url: rx.url, events: ['call.recorded'] });
      rx.received = [];
      const BACKLOG = 600;
      const events: DomainEvent[] = Array.from({ length: BACKLOG }, (_, i) => ({ type: 'call.recorded', project_id: 10, data: { call_event_id: i, assign_id: 555, customer_id: 123 } }));
      await h.db.write((trx) => emitEvents(trx, events));
      const config = loadConfig({ DATABASE_URL: h.databaseUrl, ...FAST, CRM_WEBHOOK_BUSY_RATE: '50' });
      const sender = startSender({ db: h.db, config, log: h.app.log });
      senders.push(sender);
      // Two seconds of a loop that is busy 95 % of the time (as under a telephony peak).
      const until = Date.now() + 2000;
      while (Date.now() < until) {
        const spin = Date.now() + 20;
        while (Date.now() < spin);
        await new Promise((r) => setImmediate(r));
      }
      const duringBusy = rx.received.length;
      // 50 a second for two seconds, plus what the first windows let through before the rate came down.
      assert.ok(duringBusy >= 20, `not starved: ${duringBusy} delivered while busy`);
      assert.ok(duringBusy <= 250, `yielded to the loop: ${duringBusy} of ${BACKLOG} delivered while busy`);
      await rx.waitFor((x) => x.received.length >= BACKLOG, 20_000);
      await sender.stop();
      senders.splice(senders.indexOf(sender), 1);
      assert.equal(new Set(rx.events('call.recorded').map((e) => e.id)).size, BACKLOG);
      await h.app.inject({ method: 'DELETE', url: `/admin/v1/webhooks/${hook.id}`, headers: { authorization: `Bearer ${h.config.adminToken}` } });
    });
  });
}
