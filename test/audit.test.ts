// GET /admin/v1/audit: every set_data/set_status request, filtered and paged; the key itself is never stored.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createHash } from 'node:crypto';
import { dialects, setup, seedProject, admin, adminHeaders, tel, KEYS, type Harness } from './helpers.ts';

const keyId = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 8);

interface Row {
  id: number;
  at: string;
  endpoint: string;
  code: number;
  latency_ms: number;
  key_id: string | null;
  client_ip: string | null;
  worker_id: string | null;
  assign_id: number | null;
  project_id: number | null;
}

for (const dialect of dialects()) {
  describe(dialect, () => {
    let h: Harness;
    const started = Date.now();
    before(async () => {
      h = await setup(dialect, { CRM_AUTH_FAIL_LIMIT: '0' });
      await seedProject(h.app);
      // 8 audited requests: keys in the query, a form body, JSON and X-Api-Key; refusals too.
      assert.equal((await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 2190811, status_id: 10, worker_id: 99 })).code, 0);
      assert.equal((await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 555, status_id: 2, worker_id: 'agent-7' })).code, 0);
      assert.equal((await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 999999, status_id: 10 })).code, 3);
      assert.equal((await tel(h.app, 'set_status', { authkey: 'a-wrong-key', repository_assign_id: 2190811, status_id: 10 })).code, 1);
      const form = await h.app.inject({ method: 'POST', url: '/api/set_data.php', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `authkey=${KEYS.set_data}&repository_assign_id=2190811&city=Haifa` });
      assert.equal(form.json().code, 0);
      const json = await h.app.inject({ method: 'POST', url: '/api/set_data.php', payload: { authkey: KEYS.set_data, repository_assign_id: '2190811', age: 'old' } });
      assert.equal(json.json().code, 6);
      const header = await h.app.inject({ method: 'GET', url: '/api/set_data.php?repository_assign_id=555&city=Akko', headers: { 'x-api-key': KEYS.set_data }, remoteAddress: '10.20.30.40' });
      assert.equal(header.json().code, 0);
      assert.equal((await tel(h.app, 'set_data', { authkey: KEYS.set_data })).code, 2);
      // get_data is a read: not audited.
      await tel(h.app, 'get_data', { authkey: KEYS.get_data, repository_assign_id: 2190811, out: 'first_name' });
      // The buffer is written every half second; wait for it through the API.
      for (let i = 0; i < 100 && (await list('')).items.length < 8; i++) await sleep(50);
    });
    after(() => h.close());

    async function list(query: string): Promise<{ items: Row[]; next_cursor: string | null }> {
      return admin(h.app, 'GET', `/audit${query ? `?${query}` : ''}`);
    }

    test('every set_data and set_status request is listed with its outcome, get_data is not', async () => {
      const items = (await list('limit=100')).items;
      assert.equal(items.length, 8);
      // A success's row is written in its own transaction, the others a moment later (crm/audit.ts), so
      // ids need not follow the order of the requests: compare as a multiset, find rows by what they hold.
      const pairs = (rows: Row[]) => rows.map((r) => `${r.endpoint} ${r.code}`).sort();
      assert.deepEqual(pairs(items), pairs([
        ['set_status', 0], ['set_status', 0], ['set_status', 3], ['set_status', 1],
        ['set_data', 0], ['set_data', 6], ['set_data', 0], ['set_data', 2],
      ].map(([endpoint, code]) => ({ endpoint, code }) as Row)));
      const find = (endpoint: string, code: number, assign: number | null) => {
        const hits = items.filter((r) => r.endpoint === endpoint && r.code === code && r.assign_id === assign);
        assert.equal(hits.length, 1, `${endpoint} ${code} ${assign}`);
        return hits[0]!;
      };
      const first = find('set_status', 0, 2190811);
      assert.equal(first.assign_id, 2190811);
      assert.equal(first.project_id, 10);
      assert.equal(first.worker_id, '99');
      assert.equal(first.key_id, keyId(KEYS.set_status));
      assert.equal(first.client_ip, '127.0.0.1');
      assert.ok(first.latency_ms >= 0);
      assert.ok(Date.parse(first.at) >= started - 1000 && Date.parse(first.at) <= Date.now());
      assert.equal(find('set_status', 0, 555).worker_id, 'invalid', 'a worker_id that is not a worker id is marked, never stored as given');
      assert.equal(items.find((r) => r.code === 1)!.key_id, null, 'a refused key has no id');
      const header = find('set_data', 0, 555);
      assert.equal(header.key_id, keyId(KEYS.set_data), 'X-Api-Key is identified like a query key');
      assert.equal(header.client_ip, '10.20.30.40');
    });

    test('no key, valid or wrong, appears in any audit row, in the API or in the table', async () => {
      const api = JSON.stringify(await list('limit=100'));
      const table = JSON.stringify(await h.db.q.selectFrom('audit_log').selectAll().execute());
      for (const text of [api, table]) {
        for (const key of [...Object.values(KEYS), 'a-wrong-key']) assert.ok(!text.includes(key), key);
      }
    });

    test('filters: endpoint, code, assign_id, project_id, worker_id, key_id', async () => {
      const count = async (q: string) => (await list(q)).items.length;
      assert.equal(await count('endpoint=set_data'), 4);
      assert.equal(await count('endpoint=set_status&code=0'), 2);
      assert.equal(await count('code=1'), 1);
      assert.equal(await count('assign_id=555'), 2);
      assert.equal(await count('project_id=10'), 5); // refusals before the assign is known name no project
      assert.equal(await count('worker_id=invalid'), 1);
      assert.equal(await count(`key_id=${keyId(KEYS.set_data)}`), 4);
      assert.equal(await count(`key_id=${keyId(KEYS.set_data)}&code=0&assign_id=555`), 1);
    });

    test('since and until take ISO 8601 times: since is inclusive, until exclusive', async () => {
      const items = (await list('limit=100')).items.sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || a.id - b.id);
      const mid = items[4]!.at;
      const since = (await list(`since=${encodeURIComponent(mid)}&limit=100`)).items;
      const until = (await list(`until=${encodeURIComponent(mid)}&limit=100`)).items;
      assert.ok(since.every((r) => r.at >= mid) && since.some((r) => r.id === items[4]!.id));
      assert.ok(until.every((r) => r.at < mid));
      assert.equal(since.length + until.length, 8);
      assert.equal((await list('since=2999-01-01')).items.length, 0);
      assert.equal((await list('until=2000-01-01T00:00:00%2B02:00')).items.length, 0);
      assert.equal((await list('since=2000-01-01T00:00&limit=100')).items.length, 8);
    });

    test('walking the cursors lists every row exactly once', async () => {
      const seen: number[] = [];
      let cursor: string | null = null;
      do {
        const page: { items: Row[]; next_cursor: string | null } = await list(`limit=3${cursor ? `&cursor=${cursor}` : ''}`);
        seen.push(...page.items.map((r) => r.id));
        cursor = page.next_cursor;
      } while (cursor);
      assert.equal(seen.length, 8);
      assert.equal(new Set(seen).size, 8);
      assert.deepEqual(seen, [...seen].sort((a, b) => a - b));
    });

    test('bad filters are a 400 naming the parameter', async () => {
      for (const [q, name] of [
        ['since=yesterday', 'since'],
        ['until=2026-02-30', 'until'],
        ['since=2026-01-01T25:00Z', 'since'],
        ['endpoint=get_data', 'endpoint'],
        ['code=x', 'code'],
        ['key_id=Mindc_2023_set_data', 'key_id'],
        ['assign_id=-1', 'assign_id'],
        ['limit=1001', 'limit'],
        ['cursor=bm9wZQ', 'cursor'],
        ['projectid=10', 'projectid'],
      ]) {
        const res = await h.app.inject({ method: 'GET', url: `/admin/v1/audit?${q}`, headers: adminHeaders });
        assert.equal(res.statusCode, 400, q);
        assert.ok(name! in res.json().error.details, `${q}: ${res.body}`);
      }
    });

    test('the audit list needs the admin token', async () => {
      assert.equal((await h.app.inject({ method: 'GET', url: '/admin/v1/audit' })).statusCode, 401);
    });
  });

  describe(`${dialect}: flushing`, () => {
    test('closing the app writes the buffered audit rows before the database closes', async () => {
      const h = await setup(dialect, { CRM_AUTH_FAIL_LIMIT: '0' });
      try {
        await seedProject(h.app);
        for (let i = 0; i < 25; i++) await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 2190811, status_id: 10 });
        // No wait: the rows are still in the buffer (it is written every half second).
        await h.app.close();
        const rows = await h.db.q.selectFrom('audit_log').select('code').execute();
        assert.equal(rows.length, 25);
        assert.ok(rows.every((r) => r.code === 0));
      } finally {
        await h.close();
      }
    });
  });
}
