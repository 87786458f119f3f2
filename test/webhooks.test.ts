// Webhooks: subscriptions through the admin API, events written with the change, signed deliveries to a
// real local receiver, retries, timeouts, give-up and manual retry.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_TOKEN, KEYS, admin, adminHeaders, importBody, dialects, seedProject, setup, tel, type Harness } from './helpers.ts';
import { Receiver, verify } from './receiver.ts';

const FAST = {
  CRM_WEBHOOK_POLL_MS: '20',
  CRM_WEBHOOK_RETRY_FIRST_MS: '50',
  CRM_WEBHOOK_RETRY_MAX_MS: '200',
  CRM_WEBHOOK_TIMEOUT_MS: '1000',
  CRM_WEBHOOK_GIVE_UP_MS: '4000',
};

for (const dialect of dialects()) {
  describe(`webhooks (${dialect})`, () => {
    let h: Harness;
    const rx = new Receiver();
    before(async () => {
      h = await setup(dialect, FAST);
      await seedProject(h.app);
      await rx.start();
    });
    after(async () => {
      await h.close();
      await rx.stop();
    });

    const deliveries = (id: number, q = '') => admin(h.app, 'GET', `/webhooks/${id}/deliveries${q}`);

    it('creating a webhook answers its secret once; lists and GET never show it', async () => {
      const created = await admin(h.app, 'POST', '/webhooks', { url: rx.url, events: ['call.recorded'] });
      assert.match(created.secret, /^whsec_[0-9a-f]{48}$/);
      assert.equal(created.disabled, false);
      assert.deepEqual(created.project_ids, null);
      const list = await admin(h.app, 'GET', '/webhooks');
      assert.ok(list.items.every((w: any) => !('secret' in w)));
      const bad = await h.app.inject({ method: 'POST', url: '/admin/v1/webhooks', headers: adminHeaders, payload: { url: 'ftp://x', events: ['call.recorded'] } });
      assert.equal(bad.statusCode, 400);
      const badEvent = await h.app.inject({ method: 'POST', url: '/admin/v1/webhooks', headers: adminHeaders, payload: { url: rx.url, events: ['nope'] } });
      assert.equal(badEvent.statusCode, 400);
      const del = await h.app.inject({ method: 'DELETE', url: `/admin/v1/webhooks/${created.id}`, headers: adminHeaders });
      assert.equal(del.statusCode, 204);
      assert.equal((await h.app.inject({ method: 'GET', url: `/admin/v1/webhooks/${created.id}`, headers: adminHeaders })).statusCode, 404);
    });

    it('set_status sends a signed assign.status_changed and call.recorded with the spec body and headers', async () => {
      const secret = 'a-receiver-secret-0123456789';
      const hook = await admin(h.app, 'POST', '/webhooks', { url: rx.url, events: ['assign.status_changed', 'call.recorded'], project_ids: [10], secret });
      rx.received = [];
      const r = await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 555, status_id: 10, worker_id: 99, call_id: 'c-1', notes: 'hi' });
      assert.equal(r.code, 0);
      await rx.waitFor((x) => x.received.length >= 2);
      for (const got of rx.received) {
        assert.ok(verify(secret, got), 'signature verifies');
        assert.ok(!verify('another-secret-000000', got));
        assert.equal(got.headers['content-type'], 'application/json');
        assert.match(String(got.headers['x-callcrm-timestamp']), /^\d{10}$/);
        assert.ok(Math.abs(Number(got.headers['x-callcrm-timestamp']) - Date.now() / 1000) < 30);
        assert.match(String(got.headers['x-callcrm-delivery']), /^\d+$/);
        const body = JSON.parse(got.body);
        assert.equal(got.headers['x-callcrm-event'], body.type);
        assert.equal(body.project_id, 10);
        assert.match(body.id, /^[0-9a-f-]{36}$/);
        assert.ok(!Number.isNaN(Date.parse(body.at)));
      }
      const [status] = rx.events('assign.status_changed');
      assert.deepEqual(Object.keys(status.data), ['assign_id', 'customer_id', 'old_status_id', 'new_status_id', 'status_name', 'worker_id', 'source', 'call_id', 'notes']);
      assert.deepEqual(status.data, { assign_id: 555, customer_id: 123, old_status_id: null, new_status_id: 10, status_name: 'Interested', worker_id: 99, source: 'set_status', call_id: 'c-1', notes: 'hi' });
      const [call] = rx.events('call.recorded');
      assert.equal(call.data.assign_id, 555);
      assert.equal(call.data.status_id, 10);
      // the status change was written before the call: its sequence is lower
      assert.ok(status.sequence < call.sequence);
      let log: any;
      for (let i = 0; i < 30 && log?.items.length !== 2; i++) {
        await new Promise((r) => setTimeout(r, 100)); // the attempt is recorded after the receiver answered
        log = await deliveries(hook.id, '?status=delivered');
      }
      assert.equal(log.items.length, 2);
      assert.equal(log.items[0].status, 'delivered');
      assert.equal(log.items[0].attempts, 1);
      assert.equal(log.items[0].last_status, 204);
      await admin(h.app, 'PATCH', `/webhooks/${hook.id}`, { disabled: true });
    });

    it('an erasure sends customer.erased with ids only, in the erasure\'s transaction', async () => {
      const hook = await admin(h.app, 'POST', '/webhooks', { url: rx.url, events: ['customer.erased'], project_ids: [10] });
      const c = await admin(h.app, 'POST', '/projects/10/customers', { id: 777, fields: { first_name: 'Forget-Me-Webhook' } });
      const a = await admin(h.app, 'POST', '/repositories/7/assigns', { customer_id: c.id });
      rx.received = [];
      const del = await h.app.inject({ method: 'DELETE', url: `/admin/v1/customers/${c.id}`, headers: adminHeaders });
      assert.equal(del.statusCode, 204);
      await rx.waitFor((x) => x.events('customer.erased').length === 1);
      const [erased] = rx.events('customer.erased');
      assert.deepEqual(erased.data, { customer_id: 777, assign_ids: [a.id] });
      assert.ok(!rx.received.some((r) => r.body.includes('Forget-Me-Webhook')));
      await admin(h.app, 'PATCH', `/webhooks/${hook.id}`, { disabled: true });
    });

    it('events of a project not subscribed, of a type not subscribed, or of a rolled-back change are not sent', async () => {
      const hook = await admin(h.app, 'POST', '/webhooks', { url: rx.url, events: ['customer.fields_changed'], project_ids: [11] });
      await tel(h.app, 'set_data', { authkey: KEYS.set_data, repository_assign_id: 555, city: 'Haifa' });
      assert.equal((await deliveries(hook.id)).items.length, 0);
      await admin(h.app, 'PATCH', `/webhooks/${hook.id}`, { project_ids: null });
      // another customer holds this email: set_data changes nothing (code 4), so no event either
      await admin(h.app, 'POST', '/projects/10/customers', { id: 124, fields: { first_name: 'Eve', email: 'eve@mail.com' } });
      const dup = await tel(h.app, 'set_data', { authkey: KEYS.set_data, repository_assign_id: 555, city: 'Eilat', email: 'eve@mail.com' });
      assert.equal(dup.code, 4);
      assert.equal((await deliveries(hook.id)).items.length, 0);
      rx.received = [];
      await tel(h.app, 'set_data', { authkey: KEYS.set_data, repository_assign_id: 555, city: 'Acre', worker_id: 99 });
      await rx.waitFor((x) => x.events('customer.fields_changed').length === 1);
      const [e] = rx.events('customer.fields_changed');
      assert.deepEqual(e.data, { customer_id: 123, assign_id: 555, changes: [{ field: 'city', old_value: 'Haifa', new_value: 'Acre' }], source: 'set_data', worker_id: 99 });
      await h.app.inject({ method: 'DELETE', url: `/admin/v1/webhooks/${hook.id}`, headers: adminHeaders });
    });

    it('admin writes and imports produce customer.created and import.finished', async () => {
      const hook = await admin(h.app, 'POST', '/webhooks', { url: rx.url, events: ['customer.created', 'import.finished'] });
      rx.received = [];
      await admin(h.app, 'POST', '/projects/10/customers', { id: 130, fields: { first_name: 'Ann', mobile: '052-111-2222' } });
      const csv = 'first_name,mobile\nBob,052-333-4444\nCid,052-555-6666\n';
      const imp = await importBody(h.app, csv, { repository: 7 });
      assert.ok(imp.statusCode < 300, imp.body);
      await rx.waitFor((x) => x.events('customer.created').length === 3 && x.events('import.finished').length === 1);
      const fin = rx.events('import.finished')[0];
      assert.equal(fin.data.created, 2);
      assert.equal(fin.data.repository_id, 7);
      assert.deepEqual(rx.events('customer.created').map((e) => e.data.source).sort(), ['admin', 'import', 'import']);
      await h.app.inject({ method: 'DELETE', url: `/admin/v1/webhooks/${hook.id}`, headers: adminHeaders });
    });

    it('a receiver that is down gets the event once it is up again; sequences of one assign only grow', async () => {
      const hook = await admin(h.app, 'POST', '/webhooks', { url: rx.url, events: ['assign.status_changed'] });
      const port = rx.port;
      await rx.stop();
      rx.received = [];
      for (const s of [2, 10, 2]) assert.equal((await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 2190811, status_id: s })).code, 0);
      await new Promise((r) => setTimeout(r, 250));
      const pending = await deliveries(hook.id, '?status=pending');
      assert.equal(pending.items.length, 3);
      assert.ok(pending.items.some((d: any) => d.attempts >= 1 && /ECONNREFUSED/.test(d.last_error)), JSON.stringify(pending.items[0]));
      await rx.start(port);
      await rx.waitFor((x) => x.events('assign.status_changed').length === 3);
      const seqs = rx.events('assign.status_changed').sort((a, b) => a.sequence - b.sequence);
      assert.deepEqual(seqs.map((e) => e.data.new_status_id), [2, 10, 2]);
      assert.deepEqual(seqs.map((e) => e.data.old_status_id), [null, 2, 10]);
      await h.app.inject({ method: 'DELETE', url: `/admin/v1/webhooks/${hook.id}`, headers: adminHeaders });
    });

    it('a receiver that hangs times out and is retried; telephony answers do not wait for it', async () => {
      const hook = await admin(h.app, 'POST', '/webhooks', { url: rx.url, events: ['call.recorded'] });
      rx.mode = 'hang';
      rx.received = [];
      const times: number[] = [];
      for (let i = 0; i < 20; i++) {
        const t = performance.now();
        assert.equal((await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 555, status_id: 2 })).code, 0);
        times.push(performance.now() - t);
      }
      await rx.waitFor((x) => x.received.length >= 2, 3000);
      // the 1 s delivery timeout never shows in a telephony answer
      assert.ok(Math.max(...times) < 500, `slowest set_status ${Math.max(...times).toFixed(1)} ms`);
      await new Promise((r) => setTimeout(r, 1300));
      const log = await deliveries(hook.id, '?limit=100');
      assert.ok(log.items.some((d: any) => d.attempts >= 1 && /no answer within 1000 ms/.test(d.last_error)), JSON.stringify(log.items[0]));
      rx.mode = 'ok';
      const end = Date.now() + 8000;
      let delivered = 0;
      while (Date.now() < end && delivered < 20) {
        delivered = (await deliveries(hook.id, '?status=delivered&limit=100')).items.length;
        if (delivered < 20) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(delivered, 20);
      // every event reached the receiver, some of them more than once (at least once)
      assert.equal(new Set(rx.events('call.recorded').map((e) => e.id)).size, 20);
      await h.app.inject({ method: 'DELETE', url: `/admin/v1/webhooks/${hook.id}`, headers: adminHeaders });
    });

    it('a delivery that keeps failing is marked failed after the give-up time and can be retried by hand (202)', async () => {
      const hook = await admin(h.app, 'POST', '/webhooks', { url: rx.url, events: ['call.recorded'] });
      rx.mode = 'fail';
      rx.received = [];
      await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 555, status_id: 10 });
      const end = Date.now() + 8000;
      let failed: any;
      while (Date.now() < end && !failed) {
        failed = (await deliveries(hook.id, '?status=failed')).items[0];
        if (!failed) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(failed, 'marked failed');
      assert.ok(failed.attempts >= 3, `attempts ${failed.attempts}`);
      assert.equal(failed.last_status, 500);
      assert.equal(failed.next_attempt_at, null);
      // exponential: attempts were spaced further apart each time
      const gaps = rx.received.slice(1).map((r, i) => r.at - rx.received[i]!.at);
      assert.ok(gaps[gaps.length - 1]! >= gaps[0]!, `gaps ${gaps}`);
      rx.mode = 'ok';
      const count = rx.received.length;
      const res = await h.app.inject({ method: 'POST', url: `/admin/v1/webhooks/${hook.id}/deliveries/${failed.id}/retry`, headers: adminHeaders });
      assert.equal(res.statusCode, 202);
      assert.equal(res.json().status, 'pending');
      await rx.waitFor((x) => x.received.length > count);
      let after: any;
      for (let i = 0; i < 30 && after?.status !== 'delivered'; i++) {
        await new Promise((r) => setTimeout(r, 100)); // the attempt is recorded shortly after the answer
        after = (await deliveries(hook.id)).items.find((d: any) => d.id === failed.id);
      }
      assert.equal(after.status, 'delivered');
      const wrong = await h.app.inject({ method: 'POST', url: `/admin/v1/webhooks/${hook.id}/deliveries/999999/retry`, headers: adminHeaders });
      assert.equal(wrong.statusCode, 404);
      // paging through the log: newest first, a cursor to the next page
      await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 555, status_id: 2 });
      const p1 = await deliveries(hook.id, '?limit=1');
      assert.equal(p1.items.length, 1);
      assert.ok(p1.next_cursor);
      const p2 = await deliveries(hook.id, `?limit=1&cursor=${p1.next_cursor}`);
      assert.ok(p2.items[0].id < p1.items[0].id);
      await h.app.inject({ method: 'DELETE', url: `/admin/v1/webhooks/${hook.id}`, headers: adminHeaders });
    });

    it('the admin API needs its token for webhooks', async () => {
      const res = await h.app.inject({ method: 'GET', url: '/admin/v1/webhooks', headers: { authorization: `Bearer ${ADMIN_TOKEN}x` } });
      assert.equal(res.statusCode, 401);
    });
  });

  describe(`webhooks with CRM_WEBHOOK_DENY_PRIVATE (${dialect})`, () => {
    it('refuses a loopback target at delivery time and records why', async () => {
      const h = await setup(dialect, { ...FAST, CRM_WEBHOOK_DENY_PRIVATE: 'true' });
      const rx = await new Receiver().start();
      try {
        await seedProject(h.app);
        const hook = await admin(h.app, 'POST', '/webhooks', { url: `http://localhost:${rx.port}/hook`, events: ['call.recorded'] });
        await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 555, status_id: 10 });
        let log: any;
        for (let i = 0; i < 50 && !log?.items[0]?.last_error; i++) {
          await new Promise((r) => setTimeout(r, 100));
          log = await admin(h.app, 'GET', `/webhooks/${hook.id}/deliveries`);
        }
        assert.match(log.items[0].last_error, /private address/);
        assert.equal(rx.received.length, 0);
      } finally {
        await h.close();
        await rx.stop();
      }
    });
  });
}
