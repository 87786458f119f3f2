// GET /metrics: off without CRM_METRICS_TOKEN, behind its bearer token, counters that move with traffic,
// and no label holding an id or a phone number.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KEYS, admin, dialects, seedProject, setup, tel, type Harness } from './helpers.ts';

const TOKEN = 'metrics-token-123';

/** Prometheus text → samples {name, labels, value}. */
function samples(text: string) {
  const out: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

for (const dialect of dialects()) {
  describe(`metrics (${dialect})`, () => {
    let h: Harness;
    before(async () => {
      h = await setup(dialect, { CRM_METRICS_TOKEN: TOKEN });
      await seedProject(h.app);
    });
    after(async () => h.close());

    const scrape = async () => {
      const res = await h.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(res.statusCode, 200);
      assert.match(res.headers['content-type'] as string, /^text\/plain/);
      return samples(res.body);
    };
    const sum = (s: ReturnType<typeof samples>, name: string, labels: Record<string, string>) =>
      s.filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v)).reduce((a, x) => a + x.value, 0);

    it('needs the bearer token', async () => {
      assert.equal((await h.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 401);
      assert.equal((await h.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer wrong-token-000' } })).statusCode, 401);
    });

    it('counts requests, lookups, writes and webhook state after traffic; no label holds an id or a phone', async () => {
      const before = await scrape();
      await tel(h.app, 'get_data', { authkey: KEYS.get_data, did: '07333333333', phone: '0500000000', project_id: 10, out: 'first_name' });
      await tel(h.app, 'get_data', { authkey: KEYS.get_data, did: '07333333333', phone: '0599999999', project_id: 10, out: 'first_name' });
      await tel(h.app, 'get_data', { authkey: KEYS.get_data, repository_assign_id: 2190811, out: 'first_name' });
      await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 555, status_id: 10 });
      await tel(h.app, 'set_status', { authkey: 'bad', repository_assign_id: 555, status_id: 10 });
      await admin(h.app, 'GET', '/assigns/2190811/history');
      await admin(h.app, 'GET', '/customers/123');
      await h.app.inject({ method: 'GET', url: `/integrations/3cx/lookup?project_id=10&number=0500000000&authkey=${KEYS.get_data}` });
      await h.app.inject({ method: 'GET', url: '/no/such/path/12345' });
      const s = await scrape();
      const moved = (name: string, labels: Record<string, string>) => sum(s, name, labels) - sum(before, name, labels);
      assert.equal(moved('callcrm_requests_total', { surface: 'telephony', endpoint: 'get_data' }), 3);
      assert.equal(moved('callcrm_requests_total', { surface: 'telephony', endpoint: 'set_status', code: '0' }), 1);
      assert.equal(moved('callcrm_requests_total', { surface: 'telephony', endpoint: 'set_status', code: '1' }), 1);
      assert.equal(moved('callcrm_request_duration_seconds_count', { surface: 'telephony', endpoint: 'get_data' }), 3);
      // John's number is on two assigns: several; by assign id: a hit; an unknown number: a miss
      assert.equal(moved('callcrm_lookups_total', { surface: 'telephony', result: 'several' }), 1);
      assert.equal(moved('callcrm_lookups_total', { surface: 'telephony', result: 'hit' }), 1);
      assert.equal(moved('callcrm_lookups_total', { surface: 'telephony', result: 'miss' }), 1);
      assert.equal(moved('callcrm_lookups_total', { surface: '3cx', result: 'hit' }), 1);
      assert.equal(moved('callcrm_writes_total', { surface: 'telephony', endpoint: 'set_status', result: 'ok' }), 1);
      assert.equal(moved('callcrm_requests_total', { surface: 'admin', endpoint: '/admin/v1/assigns/:assign_id/history', code: '200' }), 1);
      assert.equal(moved('callcrm_requests_total', { surface: 'admin', endpoint: '/admin/v1/customers/:customer_id', code: '200' }), 1);
      assert.equal(moved('callcrm_requests_total', { surface: 'other', endpoint: 'unmatched', code: '404' }), 1);
      assert.ok(s.some((x) => x.name === 'callcrm_webhook_outbox_pending'));
      assert.ok(s.some((x) => x.name === 'callcrm_process_resident_memory_bytes' || x.name === 'callcrm_nodejs_heap_size_used_bytes'));

      for (const x of s) {
        for (const [k, v] of Object.entries(x.labels)) {
          if (k === 'code' || k === 'le' || k === 'quantile') continue;
          assert.ok(!/\d{3,}/.test(v), `label ${k}="${v}" of ${x.name} holds a number`);
        }
      }
      const text = (await h.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })).body;
      // Names, labels and help texts, without the sample values: a value may hold any digits (a duration
      // sum of 0.05000000000000001 s "contains" 0500000000), and only where a label or name could carry
      // an id, a phone or a key matters.
      const described = text
        .split('\n')
        .map((line) => (line.startsWith('#') ? line : line.replace(/\s+\S+$/, '')))
        .join('\n');
      assert.ok(described.includes('callcrm_requests_total{'), 'the sample lines are there, without their values');
      for (const secret of ['2190811', '0500000000', '972500000000', KEYS.get_data]) assert.ok(!described.includes(secret), secret);
    });
  });
}

describe('metrics off', () => {
  it('GET /metrics is not a route without CRM_METRICS_TOKEN', async () => {
    const h = await setup('sqlite');
    try {
      assert.equal((await h.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 404);
    } finally {
      await h.close();
    }
  });
});
