// Legacy realities (telephony-api.md) and hardening round 2 (issue 10) on the telephony surface, through
// the server's listener (both carriers): HEAD never writes, every method refused with the envelope,
// transport refusals, U+0000, Hebrew in legacy charsets, bodies PHP ignores, several prefixes, form
// fields named like our extensions, and secrets in any spelling kept out of the logs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { ADMIN_TOKEN, KEYS, adminHeaders, dialects, seedProject, setup, tel, type Harness } from './helpers.ts';
import { createClientWarnings } from '../src/http/client-warnings.ts';

const qs = (p: Record<string, string | number>) => new URLSearchParams(Object.entries(p).map(([k, v]) => [k, String(v)])).toString();
/** windows-1255 bytes of Hebrew text, percent-encoded (as a PHP client's urlencode() sends them). */
const CP1255: Record<string, number> = { 'ש': 0xf9, 'ל': 0xec, 'ו': 0xe5, 'ם': 0xed, 'ח': 0xe7, 'י': 0xe9, 'פ': 0xf4, 'ה': 0xe4 };
const cp1255 = (s: string) => Buffer.from([...s].map((c) => CP1255[c] ?? c.charCodeAt(0)));
const pct = (b: Buffer) => [...b].map((x) => `%${x.toString(16).toUpperCase().padStart(2, '0')}`).join('');

/** Writes raw bytes to the listening server and returns the raw answer. */
function rawRequest(port: number, data: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1', () => socket.end(data));
    socket.on('data', (c) => chunks.push(c));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString()));
    socket.on('error', (err) => (chunks.length > 0 ? resolve(Buffer.concat(chunks).toString()) : reject(err)));
  });
}

for (const dialect of dialects()) {
  describe(`legacy realities (${dialect})`, () => {
    let h: Harness;
    let port: number;
    before(async () => {
      h = await setup(dialect, { CRM_AUTH_FAIL_LIMIT: '3', CRM_BASE_PATH: ',/dev-6', CRM_THROTTLE_EXEMPT: '10.50.0.0/16' });
      await seedProject(h.app);
      await h.app.listen({ port: 0, host: '127.0.0.1' });
      port = (h.app.server.address() as AddressInfo).port;
    });
    after(() => h.close());

    const city = async () => JSON.parse((await h.db.q.selectFrom('customers').select('data').where('id', '=', 123).executeTakeFirstOrThrow()).data).city as string | undefined;
    const calls = async () => Number((await h.db.q.selectFrom('call_events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    let ip = 0;
    /** A fresh client address per test, so the throttle of one test never answers another. */
    const addr = () => `10.60.0.${++ip}`;

    test('HEAD on set_data and set_status answers 405 with the envelope and writes nothing', async () => {
      const before = [await city(), await calls()];
      for (const [ep, params] of [
        ['set_data', { authkey: KEYS.set_data, repository_assign_id: 555, city: 'Eilat' }],
        ['set_status', { authkey: KEYS.set_status, repository_assign_id: 555, status_id: 10 }],
      ] as const) {
        const res = await h.app.inject({ method: 'HEAD', url: `/api/${ep}.php?${qs(params)}`, remoteAddress: addr() });
        assert.equal(res.statusCode, 405, ep);
        assert.equal(res.headers.allow, 'GET, POST');
        // A HEAD answer has no body; the same refusal by another method shows the envelope.
        const options = await h.app.inject({ method: 'OPTIONS', url: `/api/${ep}.php?${qs(params)}` });
        assert.deepEqual(options.json(), { code: 7, status: 'fail', message: 'Method not allowed' });
      }
      assert.deepEqual([await city(), await calls()], before);
    });

    test('HEAD on get_data answers as GET without the body', async () => {
      const url = `/api/get_data.php?${qs({ authkey: KEYS.get_data, repository_assign_id: 555, out: 'first_name' })}`;
      const get = await h.app.inject({ method: 'GET', url });
      const head = await h.app.inject({ method: 'HEAD', url });
      assert.equal(head.statusCode, 200);
      assert.equal(head.body, '');
      assert.equal(head.headers['content-length'], String(Buffer.byteLength(get.body)));
      assert.equal(head.headers['content-type'], 'application/json; charset=utf-8');
    });

    test('TRACE, PROPFIND and QUERY on an endpoint answer 405 with the envelope', async () => {
      for (const method of ['TRACE', 'PROPFIND', 'QUERY'] as const) {
        const res = await h.app.inject({ method: method as 'GET', url: `/api/set_status.php?${qs({ authkey: KEYS.set_status, repository_assign_id: 555, status_id: 10 })}` });
        assert.equal(res.statusCode, 405, method);
        assert.deepEqual(res.json(), { code: 7, status: 'fail', message: 'Method not allowed' });
      }
    });

    test('an HTTP/1.1 request without Host answers 400 with the envelope and the JSON error, not a bare 400', async () => {
      const raw = await rawRequest(port, `GET /api/get_data.php?authkey=${KEYS.get_data} HTTP/1.1\r\nConnection: close\r\n\r\n`);
      assert.match(raw, /^HTTP\/1.1 400/);
      const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));
      assert.equal(body.code, 7);
      assert.equal(body.error.code, 'invalid_input');
    });

    test('a compressed body is refused with 415 and the envelope, and is not a failed key', async () => {
      const ip = addr();
      for (let i = 0; i < 5; i++) {
        const res = await h.app.inject({
          method: 'POST',
          url: '/api/set_data.php',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'gzip' },
          payload: gzipSync(qs({ authkey: KEYS.set_data, repository_assign_id: 555, city: 'Gz' })),
          remoteAddress: ip,
        });
        assert.equal(res.statusCode, 415);
        assert.equal(res.json().code, 7);
      }
      const ok = await h.app.inject({ method: 'GET', url: `/api/set_data.php?${qs({ authkey: KEYS.set_data, repository_assign_id: 555, city: 'Haifa' })}`, remoteAddress: ip });
      assert.equal(ok.json().code, 0, 'five refused bodies did not throttle the address');
    });

    test('ids are plain integers: repository_assign_id=1e3 or 0x22B is not an id', async () => {
      for (const id of ['1e3', '0x22B', '555.0', '+555']) {
        assert.equal((await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: id, status_id: 10 })).code, 3, id);
      }
    });

    test('U+0000 in a field value is a field error; in notes and call_id it is dropped; nothing fails on either database', async () => {
      const r = await h.app.inject({ method: 'GET', url: `/api/set_data.php?authkey=${KEYS.set_data}&repository_assign_id=555&city=A%00B&last_name=Ok&notes=n%00ote&call_id=c%001&status_id=10` });
      const env = r.json();
      assert.equal(env.code, 0, r.body);
      assert.match(env.errors.city, /NUL/);
      const note = await h.db.q.selectFrom('call_events').select(['notes']).orderBy('id', 'desc').executeTakeFirstOrThrow();
      assert.equal(note.notes, 'note');
      const nulName = await h.app.inject({ method: 'GET', url: `/api/set_data.php?authkey=${KEYS.set_data}&repository_assign_id=555&ci%00ty=x` });
      assert.equal(nulName.json().code, 6);
      assert.equal(nulName.json().errors['ci\u0000ty'], 'Unknown field');
    });

    test('worker_id in the audit log: an agent number as given, a pasted key marked invalid, U+0000 dropped; no batch is lost', async () => {
      await h.app.inject({ method: 'GET', url: `/api/set_status.php?authkey=wrong&repository_assign_id=555&status_id=10&worker_id=%00`, remoteAddress: addr() });
      await h.app.inject({ method: 'GET', url: `/api/set_status.php?${qs({ authkey: KEYS.set_status, repository_assign_id: 555, status_id: 10, worker_id: KEYS.set_status })}` });
      await h.app.inject({ method: 'GET', url: `/api/set_status.php?${qs({ authkey: KEYS.set_status, repository_assign_id: 555, status_id: 10, worker_id: '4242' })}` });
      await new Promise((r) => setTimeout(r, 700));
      const rows = (await h.app.inject({ method: 'GET', url: '/admin/v1/audit?limit=1000', headers: adminHeaders })).json().items as { worker_id: string | null }[];
      const workers = rows.map((r) => r.worker_id);
      assert.ok(workers.includes('4242'), JSON.stringify(workers));
      assert.ok(!workers.some((w) => w !== null && (w.includes('\u0000') || w.includes(KEYS.set_status))), JSON.stringify(workers));
      assert.ok(workers.includes('invalid'), JSON.stringify(workers));
    });

    test('Hebrew in windows-1255: a percent-encoded query, a raw form body and a multipart part, undeclared, are read as windows-1255', async () => {
      const q = await h.app.inject({ method: 'GET', url: `/api/set_data.php?authkey=${KEYS.set_data}&repository_assign_id=555&city=${pct(cp1255('חיפה'))}` });
      assert.equal(q.json().message, "city was updated to 'חיפה'");
      const form = await h.app.inject({
        method: 'POST',
        url: '/api/set_data.php',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: Buffer.concat([Buffer.from(`authkey=${KEYS.set_data}&repository_assign_id=555&city=`), cp1255('שלום')]),
      });
      assert.equal(form.json().message, "city was updated to 'שלום'");
      assert.equal(await city(), 'שלום');
      const b = 'XyZ';
      const multi = await h.app.inject({
        method: 'POST',
        url: '/api/set_data.php',
        headers: { 'content-type': `multipart/form-data; boundary=${b}` },
        payload: Buffer.concat([
          Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="authkey"\r\n\r\n${KEYS.set_data}\r\n--${b}\r\nContent-Disposition: form-data; name="repository_assign_id"\r\n\r\n555\r\n--${b}\r\nContent-Disposition: form-data; name="city"\r\n\r\n`),
          cp1255('חיפה'),
          Buffer.from(`\r\n--${b}--\r\n`),
        ]),
      });
      assert.equal(multi.json().message, "city was updated to 'חיפה'");
      const utf8 = await h.app.inject({ method: 'GET', url: `/api/set_data.php?authkey=${KEYS.set_data}&repository_assign_id=555&city=${encodeURIComponent('תל אביב')}` });
      assert.equal(utf8.json().message, "city was updated to 'תל אביב'");
    });

    test('a declared charset is honoured: windows-1255, iso-8859-8 and utf-8', async () => {
      for (const charset of ['windows-1255', 'iso-8859-8']) {
        const res = await h.app.inject({
          method: 'POST',
          url: '/api/set_data.php',
          headers: { 'content-type': `application/x-www-form-urlencoded; charset=${charset}` },
          payload: Buffer.concat([Buffer.from(`authkey=${KEYS.set_data}&repository_assign_id=555&city=`), cp1255('שלום')]),
        });
        assert.equal(res.json().message, "city was updated to 'שלום'", charset);
      }
      const utf8 = await h.app.inject({
        method: 'POST',
        url: '/api/set_data.php',
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' },
        payload: `authkey=${KEYS.set_data}&repository_assign_id=555&city=${encodeURIComponent('חיפה')}`,
      });
      assert.equal(utf8.json().message, "city was updated to 'חיפה'");
    });

    test('bytes that are text in no accepted charset are a field error, never a stored U+FFFD', async () => {
      const before = await city();
      // 0xFF is undefined in windows-1255 and not UTF-8.
      const res = await h.app.inject({ method: 'GET', url: `/api/set_data.php?authkey=${KEYS.set_data}&repository_assign_id=555&city=%FF%FF` });
      assert.equal(res.json().code, 6);
      assert.match(res.json().errors.city, /not valid text/);
      assert.equal(await city(), before);
    });

    test('a POST with no content type, text/plain or another type is answered from the query; a malformed parsed body is still a 400', async () => {
      const url = `/api/set_status.php?${qs({ authkey: KEYS.set_status, repository_assign_id: 555, status_id: 10 })}`;
      for (const type of [undefined, 'text/plain', 'application/xml', 'application/octet-stream']) {
        const res = await h.app.inject({ method: 'POST', url, headers: type ? { 'content-type': type } : {}, payload: 'status_id=2&junk' });
        assert.equal(res.statusCode, 200, String(type));
        assert.deepEqual(res.json(), { code: 0, status: 'success', message: 'Status set successfully' }, String(type));
      }
      const bad = await h.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: '{"status_id":' });
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json().code, 7);
    });

    test('CRM_BASE_PATH lists prefixes: both are served, another prefix answers 404 with the envelope naming them', async () => {
      for (const prefix of ['', '/dev-6']) {
        assert.equal((await tel(h.app, 'get_data', { authkey: KEYS.get_data, repository_assign_id: 555, out: 'uid' }, prefix)).code, 0, prefix);
      }
      for (const url of ['/dev-7/api/set_data.php?a=1', '/x/y/api/get_data.php', '/dev-7/api/set_status.php/']) {
        for (const method of ['GET', 'POST'] as const) {
          const res = await h.app.inject({ method, url });
          assert.equal(res.statusCode, 404, url);
          assert.deepEqual(res.json(), { code: 7, status: 'fail', message: 'Not found: the telephony API is served under /api/, /dev-6/api/' });
        }
      }
    });

    test('a form field named notes or call_id wins over our extension parameter in set_data', async () => {
      for (const [i, name] of ['notes', 'call_id'].entries()) {
        await h.db.q.insertInto('fields').values({ project_id: 10, display_name: name, label: name, type: 'text', is_unique: 0, is_required: 0, options: null, position: 100 + i, created_at: Date.now() }).execute();
      }
      const calls0 = await calls();
      const res = await tel(h.app, 'set_data', { authkey: KEYS.set_data, repository_assign_id: 555, notes: 'from the form', call_id: 'also a field' });
      assert.equal(res.code, 0, JSON.stringify(res));
      assert.equal(res.message, "notes was updated to 'from the form', call_id was updated to 'also a field'");
      const data = JSON.parse((await h.db.q.selectFrom('customers').select('data').where('id', '=', 123).executeTakeFirstOrThrow()).data);
      assert.equal(data.notes, 'from the form');
      assert.equal(data.call_id, 'also a field');
      assert.equal(await calls(), calls0, 'no call event: notes was a field update');
      await h.db.q.deleteFrom('fields').where('project_id', '=', 10).where('display_name', 'in', ['notes', 'call_id']).execute();
    });

    test('telephony and admin failures are counted apart: a wrong key does not lock the admin API out, nor the reverse', async () => {
      const ip = addr();
      for (let i = 0; i < 3; i++) await h.app.inject({ method: 'GET', url: '/api/get_data.php?authkey=wrong', remoteAddress: ip });
      assert.equal((await h.app.inject({ method: 'GET', url: `/api/get_data.php?${qs({ authkey: KEYS.get_data, repository_assign_id: 555, out: 'uid' })}`, remoteAddress: ip })).json().code, 1);
      assert.equal((await h.app.inject({ method: 'GET', url: '/admin/v1/projects', headers: adminHeaders, remoteAddress: ip })).statusCode, 200);
      const other = addr();
      for (let i = 0; i < 3; i++) await h.app.inject({ method: 'GET', url: '/admin/v1/projects', headers: { authorization: 'Bearer wrong' }, remoteAddress: other });
      assert.equal((await h.app.inject({ method: 'GET', url: '/admin/v1/projects', headers: adminHeaders, remoteAddress: other })).statusCode, 429);
      assert.equal((await h.app.inject({ method: 'GET', url: `/api/get_data.php?${qs({ authkey: KEYS.get_data, repository_assign_id: 555, out: 'uid' })}`, remoteAddress: other })).json().code, 0);
    });

    test('CRM_THROTTLE_EXEMPT addresses are never throttled, and their failures are still audited', async () => {
      for (let i = 0; i < 6; i++) await h.app.inject({ method: 'GET', url: '/api/set_status.php?authkey=wrong&repository_assign_id=555&status_id=10', remoteAddress: '10.50.1.1' });
      const ok = await h.app.inject({ method: 'GET', url: `/api/set_status.php?${qs({ authkey: KEYS.set_status, repository_assign_id: 555, status_id: 10 })}`, remoteAddress: '10.50.1.1' });
      assert.equal(ok.json().code, 0);
      for (let i = 0; i < 4; i++) await h.app.inject({ method: 'GET', url: '/admin/v1/projects', headers: { authorization: 'Bearer wrong' }, remoteAddress: '10.50.1.2' });
      assert.equal((await h.app.inject({ method: 'GET', url: '/admin/v1/projects', headers: adminHeaders, remoteAddress: '10.50.1.2' })).statusCode, 200);
      await new Promise((r) => setTimeout(r, 700));
      const audit = (await h.app.inject({ method: 'GET', url: '/admin/v1/audit?code=1&limit=1000', headers: adminHeaders })).json().items as { client_ip: string }[];
      assert.ok(audit.filter((a) => a.client_ip === '10.50.1.1').length >= 6);
    });

    test('keys never reach the log in any spelling, under any name or in the path, on both carriers', async () => {
      const key = KEYS.set_data;
      const lower = key.replace(/_/g, '%5f');
      const every = [...Buffer.from(key)].map((b) => `%${b.toString(16)}`).join('');
      h.logs.length = 0;
      const urls = [
        `/api/set_data.php?foo=${lower}&repository_assign_id=555&city=K1`,
        `/api/set_data.php?x=${every}&repository_assign_id=555`,
        `/api/set_data.php?au%74hkey=${every}&repository_assign_id=555`,
        `/api/${lower}/set_data.php?repository_assign_id=555`,
        `/api/set_data.php?token=${ADMIN_TOKEN}`,
      ];
      for (const url of urls) {
        await h.app.inject({ method: 'GET', url });
        await h.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `authkey=${lower}` });
      }
      const log = h.logs.join('');
      assert.ok(log.includes('set_data.php'), 'the requests were logged');
      for (const form of [key, lower, every, every.toUpperCase(), key.replace(/_/g, '%5F'), ADMIN_TOKEN]) assert.ok(!log.includes(form), `${form} in the log`);
    });
  });
}

describe('client-triggered warnings', () => {
  test('are limited per name and overall, and the suppressed count is logged once the window ends', () => {
    let t = 0;
    const lines: { fields: Record<string, unknown>; msg: string }[] = [];
    const log = { warn: (fields: Record<string, unknown>, msg: string) => lines.push({ fields, msg }) } as never;
    const w = createClientWarnings(log, { windowMs: 60_000, overall: 5, now: () => t });
    for (let i = 0; i < 3; i++) w.warn('same', {}, 'x');
    assert.equal(lines.length, 1);
    for (let i = 0; i < 200; i++) w.warn(`name${i}`, {}, 'x');
    assert.equal(lines.length, 5);
    t = 61_000;
    w.warn('later', {}, 'x');
    assert.equal(lines.length, 7);
    assert.equal(lines[5]!.fields.suppressed, 198);
    assert.match(lines[5]!.msg, /198 more client-triggered warnings suppressed/);
  });

  test('400 requests with 199 unknown out names each write a bounded number of lines', async () => {
    const h = await setup('sqlite', { CRM_AUTH_FAIL_LIMIT: '0' });
    try {
      await seedProject(h.app);
      h.logs.length = 0;
      for (let r = 0; r < 400; r++) {
        const out = Array.from({ length: 199 }, (_, i) => `nope_${r}_${i}`).join(',');
        await h.app.inject({ method: 'GET', url: `/api/get_data.php?${qs({ authkey: KEYS.get_data, repository_assign_id: 555, out })}` });
      }
      await new Promise((r) => setTimeout(r, 50));
      const warnings = h.logs.filter((l) => l.includes('unknown field'));
      assert.ok(warnings.length <= 20, `${warnings.length} warning lines`);
    } finally {
      await h.close();
    }
  });
});
