// Named telephony keys: created through the admin API (secret shown once, stored hashed), working on
// their endpoints beside the CRM_AUTHKEY_* keys, limited to projects (code 1 elsewhere), revoked at
// once, last_used_at, the audit log by name, and `callcrm key add`.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dialects, setup, seedProject, admin, adminHeaders, tel, KEYS, type Harness } from './helpers.ts';

const BIN = fileURLToPath(new URL('../bin/callcrm.js', import.meta.url));

for (const dialect of dialects()) {
  describe(dialect, () => {
    let h: Harness;
    before(async () => {
      h = await setup(dialect, { CRM_AUTH_FAIL_LIMIT: '0' });
      await seedProject(h.app, 10);
      await seedProject(h.app, 20, 1000);
    });
    after(() => h.close());

    test('a key is answered with its secret once; lists never show it; only its hash is stored', async () => {
      const created = await admin(h.app, 'POST', '/keys', { name: 'dialer-a', endpoints: ['set_status', 'get_data'] });
      assert.match(created.secret, /^crmk_[A-Za-z0-9_-]{43}$/);
      assert.deepEqual(created.endpoints, ['get_data', 'set_status']);
      assert.equal(created.project_ids, null);
      assert.equal(created.last_used_at, null);
      const list = await admin(h.app, 'GET', '/keys');
      const listed = list.items.find((k: { id: number }) => k.id === created.id);
      const { secret: _shown, ...withoutSecret } = created;
      assert.deepEqual(listed, withoutSecret);
      assert.ok(!JSON.stringify(list).includes(created.secret));
      const rows = await h.db.q.selectFrom('api_keys').selectAll().execute();
      assert.ok(!JSON.stringify(rows).includes(created.secret));
      assert.equal(rows.find((r) => r.id === created.id)!.secret_hash, createHash('sha256').update(created.secret).digest('hex'));
      const dup = await h.app.inject({ method: 'POST', url: '/admin/v1/keys', headers: adminHeaders, payload: { name: 'dialer-a', endpoints: ['get_data'] } });
      assert.equal(dup.statusCode, 409);
      const bad = await h.app.inject({ method: 'POST', url: '/admin/v1/keys', headers: adminHeaders, payload: { name: 'x', endpoints: ['drop_table'] } });
      assert.equal(bad.statusCode, 400);
      const ghost = await h.app.inject({ method: 'POST', url: '/admin/v1/keys', headers: adminHeaders, payload: { name: 'x', endpoints: ['get_data'], project_ids: [99] } });
      assert.equal(ghost.statusCode, 422);
    });

    test('a named key works on its endpoints (query, X-Api-Key), not on others; the seed keys still work', async () => {
      const { secret } = await admin(h.app, 'POST', '/keys', { name: 'ivr', endpoints: ['get_data'] });
      const got = await tel(h.app, 'get_data', { authkey: secret, repository_assign_id: 2190811, out: 'first_name' });
      assert.equal(got.code, 0);
      assert.equal(got.message[0].first_name, 'John');
      const header = await h.app.inject({ method: 'GET', url: '/api/get_data.php?repository_assign_id=2190811&out=first_name', headers: { 'x-api-key': secret } });
      assert.equal(header.json().code, 0);
      assert.equal((await tel(h.app, 'set_status', { authkey: secret, repository_assign_id: 2190811, status_id: 10 })).code, 1, 'not opened for set_status');
      assert.equal((await tel(h.app, 'get_data', { authkey: 'Mindc_2023_get_data', repository_assign_id: 2190811, out: 'first_name' })).code, 0);
      assert.ok(!h.logs.join('').includes(secret), 'the secret is in no log line');
    });

    test('a key limited to projects answers code 1 for any other project, and works in its own', async () => {
      const { secret } = await admin(h.app, 'POST', '/keys', { name: 'project-10-only', endpoints: ['get_data', 'set_data', 'set_status'], project_ids: [10] });
      // Its own project, every way of naming it.
      assert.equal((await tel(h.app, 'get_data', { authkey: secret, repository_assign_id: 2190811, out: 'first_name' })).code, 0);
      assert.equal((await tel(h.app, 'get_data', { authkey: secret, phone: '0500000000', did: '07333333333', project_id: 10, out: 'first_name' })).code, 0);
      assert.equal((await tel(h.app, 'get_data', { authkey: secret, phone: '0500000000', did: '07333333333', worker_id: 99, out: 'first_name' })).code, 0);
      assert.equal((await tel(h.app, 'set_status', { authkey: secret, repository_assign_id: 2190811, status_id: 2 })).code, 0);
      // Project 20, every way of naming it: code 1, and nothing written.
      const before = await admin(h.app, 'GET', '/assigns/2191811');
      assert.equal((await tel(h.app, 'get_data', { authkey: secret, repository_assign_id: 2191811, out: 'first_name' })).code, 1);
      assert.equal((await tel(h.app, 'get_data', { authkey: secret, repository_assign_id: '2190811,2191811', out: 'first_name' })).code, 1);
      assert.equal((await tel(h.app, 'get_data', { authkey: secret, phone: '0500000000', did: '07333333333', project_id: 20, out: 'first_name' })).code, 1);
      assert.equal((await tel(h.app, 'get_data', { authkey: secret, phone: '0500000000', did: '07333333333', worker_id: 1099, out: 'first_name' })).code, 1);
      assert.equal((await tel(h.app, 'set_status', { authkey: secret, repository_assign_id: 2191811, status_id: 1010 })).code, 1);
      assert.equal((await tel(h.app, 'set_data', { authkey: secret, repository_assign_id: 2191811, city: 'Acre' })).code, 1);
      assert.equal((await tel(h.app, 'set_data', { authkey: secret, phone: '0500000000', did: '07333333333', project_id: 20, city: 'Acre' })).code, 1);
      const afterwards = await admin(h.app, 'GET', '/assigns/2191811');
      assert.deepEqual(afterwards, before, 'nothing changed in the other project');
      // Unknown rows are still the endpoint's own answer.
      assert.equal((await tel(h.app, 'set_status', { authkey: secret, repository_assign_id: 99999999, status_id: 2 })).code, 3);
    });

    test('revoking a key refuses it at once; last_used_at shows its use', async () => {
      const created = await admin(h.app, 'POST', '/keys', { name: 'short-lived', endpoints: ['set_status'] });
      const t0 = Date.now();
      assert.equal((await tel(h.app, 'set_status', { authkey: created.secret, repository_assign_id: 555, status_id: 10 })).code, 0);
      const listed = (await admin(h.app, 'GET', '/keys')).items.find((k: { id: number }) => k.id === created.id);
      assert.ok(listed.last_used_at !== null && Date.parse(listed.last_used_at) >= t0 - 1000, JSON.stringify(listed));
      const del = await h.app.inject({ method: 'DELETE', url: `/admin/v1/keys/${created.id}`, headers: adminHeaders });
      assert.equal(del.statusCode, 204);
      assert.equal((await tel(h.app, 'set_status', { authkey: created.secret, repository_assign_id: 555, status_id: 2 })).code, 1, 'refused right after the DELETE answer');
      assert.ok(!(await admin(h.app, 'GET', '/keys')).items.some((k: { id: number }) => k.id === created.id));
      assert.equal((await h.app.inject({ method: 'DELETE', url: `/admin/v1/keys/${created.id}`, headers: adminHeaders })).statusCode, 404);
      // The name may be given to a new key.
      await admin(h.app, 'POST', '/keys', { name: 'short-lived', endpoints: ['set_status'] });
    });

    test("a key's writes are in the audit log under its name", async () => {
      const { secret } = await admin(h.app, 'POST', '/keys', { name: 'crm-sync', endpoints: ['set_data'] });
      assert.equal((await tel(h.app, 'set_data', { authkey: secret, repository_assign_id: 555, city: 'Jaffa' })).code, 0);
      let rows: { key_name: string | null; key_id: string | null; endpoint: string }[] = [];
      for (let i = 0; i < 100 && rows.length === 0; i++) {
        rows = (await admin(h.app, 'GET', '/audit?key_name=crm-sync')).items;
        if (rows.length === 0) await sleep(50);
      }
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.key_name, 'crm-sync');
      assert.equal(rows[0]!.endpoint, 'set_data');
      assert.equal(rows[0]!.key_id, createHash('sha256').update(secret).digest('hex').slice(0, 8));
      // A write with a CRM_AUTHKEY_* key: its row has no name. Successful writes are audited in their own
      // transaction, others through the buffer (crm/audit.ts), so wait for the buffer's flush.
      assert.equal((await tel(h.app, 'set_data', { authkey: KEYS.set_data, repository_assign_id: 555, city: 'Lod' })).code, 0);
      let all: { items: { key_name?: string; key_id: string | null }[] } = { items: [] };
      const seedKeyId = createHash('sha256').update(KEYS.set_data).digest('hex').slice(0, 8);
      for (let i = 0; i < 100 && !all.items.some((r) => r.key_id === seedKeyId); i++) {
        all = await admin(h.app, 'GET', '/audit?limit=1000');
        if (!all.items.some((r) => r.key_id === seedKeyId)) await sleep(50);
      }
      assert.ok(all.items.some((r) => r.key_id === seedKeyId && r.key_name === undefined), 'seed-key rows have no name');
      assert.ok(!JSON.stringify(all).includes(secret));
    });

    test('a key created or revoked by another process (the CLI) works or stops within about a second', async () => {
      let url = h.databaseUrl;
      if (h.pgSchema) {
        const u = new URL(h.databaseUrl);
        u.searchParams.set('options', `-c search_path=${h.pgSchema}`);
        url = u.toString();
      }
      const run = (args: string[]) =>
        new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
          execFile(process.execPath, [BIN, ...args], { env: { ...process.env, DATABASE_URL: url }, timeout: 60_000 }, (err, stdout, stderr) =>
            resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
          ),
        );
      const add = await run(['key', 'add', '--name', 'from-cli', '--endpoints', 'get_data,set_status', '--projects', '10']);
      assert.equal(add.code, 0, add.stderr);
      const key = JSON.parse(add.stdout);
      assert.deepEqual(key.endpoints, ['get_data', 'set_status']);
      assert.deepEqual(key.project_ids, [10]);
      await sleep(1300);
      assert.equal((await tel(h.app, 'get_data', { authkey: key.secret, repository_assign_id: 2190811, out: 'first_name' })).code, 0);
      const revoke = await run(['key', 'revoke', 'from-cli']);
      assert.equal(revoke.code, 0, revoke.stderr);
      await sleep(1300);
      assert.equal((await tel(h.app, 'get_data', { authkey: key.secret, repository_assign_id: 2190811, out: 'first_name' })).code, 1);
      const bad = await run(['key', 'add', '--name', 'x', '--endpoints', 'get_data,nope']);
      assert.equal(bad.code, 2);
    });
  });
}
