// Request limits and bad input: every refusal is a clear 4xx, in the legacy envelope on /api paths and in
// the admin error shape on the admin API, and never a 500.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { dialects, setup, seedProject, tel, adminHeaders, KEYS, type Harness } from './helpers.ts';
import { MAX_NAME_LENGTH, MAX_PARAMS, MAX_VALUE_BYTES } from '../src/telephony/limits.ts';
import { MAX_OUT_FIELDS } from '../src/telephony/out.ts';

const BODY_LIMIT = 200_000;

function multipart(fields: [string, string][], boundary = 'XyZ'): string {
  return fields.map(([n, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${n}"\r\n\r\n${v}\r\n`).join('') + `--${boundary}--\r\n`;
}

function envelopeOf(res: { headers: Record<string, unknown>; body: string }) {
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const body = JSON.parse(res.body);
  assert.equal(typeof body.code, 'number');
  assert.equal(body.status, body.code === 0 ? 'success' : 'fail');
  return body as { code: number; status: string; message: any; errors?: Record<string, string> };
}

/** Writes raw bytes to the listening server and returns the raw answer. */
function rawRequest(port: number, data: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1', () => socket.end(data));
    socket.on('data', (c) => chunks.push(c));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString()));
    socket.on('error', (err) => (chunks.length > 0 ? resolve(Buffer.concat(chunks).toString()) : reject(err)));
  });
}

for (const dialect of dialects()) {
  describe(dialect, () => {
    let h: Harness;
    let port: number;
    before(async () => {
      h = await setup(dialect, { CRM_BODY_LIMIT: String(BODY_LIMIT), CRM_AUTH_FAIL_LIMIT: '0' });
      await seedProject(h.app);
      await h.app.listen({ port: 0, host: '127.0.0.1' });
      port = (h.app.server.address() as { port: number }).port;
    });
    after(() => h.close());

    const customer = async () => (await h.db.q.selectFrom('customers').select(['id', 'data', 'updated_at']).where('id', '=', 123).executeTakeFirstOrThrow());

    test('a body over CRM_BODY_LIMIT answers 413 with the envelope (form, JSON and multipart alike)', async () => {
      const big = 'a'.repeat(BODY_LIMIT);
      const bodies: [string, string][] = [
        ['application/x-www-form-urlencoded', `authkey=${KEYS.set_data}&repository_assign_id=2190811&city=${big}`],
        ['application/json', JSON.stringify({ authkey: KEYS.set_data, repository_assign_id: 2190811, city: big })],
        ['multipart/form-data; boundary=XyZ', multipart([['authkey', KEYS.set_data], ['repository_assign_id', '2190811'], ...Array.from({ length: 4 }, (_, i): [string, string] => [`f${i}`, 'a'.repeat(60_000)])])],
      ];
      const before = await customer();
      for (const [type, payload] of bodies) {
        const res = await h.app.inject({ method: 'POST', url: '/api/set_data.php', headers: { 'content-type': type }, payload });
        assert.equal(res.statusCode, 413, type);
        const env = envelopeOf(res);
        assert.equal(env.code, 7);
        assert.match(env.message, /too large/i);
      }
      assert.deepEqual(await customer(), before);
    });

    test('an admin body over the limit answers 413 in the admin error shape', async () => {
      const res = await h.app.inject({ method: 'POST', url: '/admin/v1/projects', headers: adminHeaders, payload: { name: 'x'.repeat(BODY_LIMIT) } });
      assert.equal(res.statusCode, 413);
      assert.equal(res.json().error.code, 'body_too_large');
    });

    test(`more than ${MAX_PARAMS} parameters is refused with code 7 and HTTP 400, in the query, a form, JSON or multipart`, async () => {
      const many = Array.from({ length: MAX_PARAMS + 1 }, (_, i): [string, string] => [`p${i}`, '1']);
      const qs = new URLSearchParams(many).toString();
      const attempts = [
        { method: 'GET' as const, url: `/api/get_data.php?${qs}` },
        { method: 'POST' as const, url: '/api/set_status.php', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: qs },
        { method: 'POST' as const, url: '/api/set_data.php', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(Object.fromEntries(many)) },
        { method: 'POST' as const, url: '/api/set_data.php', headers: { 'content-type': 'multipart/form-data; boundary=XyZ' }, payload: multipart(many) },
      ];
      for (const a of attempts) {
        const res = await h.app.inject(a);
        assert.equal(res.statusCode, 400, a.url);
        const env = envelopeOf(res);
        assert.equal(env.code, 7);
        assert.match(env.message, new RegExp(`More than ${MAX_PARAMS} parameters`));
      }
    });

    test('repeated names count once, the last value winning as in PHP', async () => {
      const qs = `authkey=${KEYS.set_status}&repository_assign_id=2190811` + '&status_id=1'.repeat(MAX_PARAMS * 2) + '&status_id=10';
      const res = await h.app.inject({ method: 'GET', url: `/api/set_status.php?${qs}` });
      assert.equal(res.statusCode, 200);
      assert.equal(envelopeOf(res).code, 0);
    });

    test(`a value over ${MAX_VALUE_BYTES} bytes is refused with code 7 and HTTP 400 naming it, and changes nothing`, async () => {
      const before = await customer();
      const long = 'ש'.repeat(MAX_VALUE_BYTES / 2 + 1); // two UTF-8 bytes each
      const attempts = [
        { headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ authkey: KEYS.set_data, repository_assign_id: '2190811', city: long }).toString() },
        { headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ authkey: KEYS.set_data, repository_assign_id: '2190811', city: long }) },
        { headers: { 'content-type': 'multipart/form-data; boundary=XyZ' }, payload: multipart([['authkey', KEYS.set_data], ['repository_assign_id', '2190811'], ['city', long]]) },
      ];
      for (const a of attempts) {
        const res = await h.app.inject({ method: 'POST', url: '/api/set_data.php', ...a });
        assert.equal(res.statusCode, 400, a.headers['content-type']);
        const env = envelopeOf(res);
        assert.equal(env.code, 7);
        assert.match(env.message, /"city" is longer than 65536 bytes/);
      }
      assert.deepEqual(await customer(), before);
    });

    test('a value of exactly the limit passes the transport and reaches the endpoint', async () => {
      const notes = 'n'.repeat(MAX_VALUE_BYTES);
      const res = await h.app.inject({
        method: 'POST',
        url: '/api/set_status.php',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ authkey: KEYS.set_status, repository_assign_id: '2190811', status_id: '10', notes }).toString(),
      });
      assert.equal(envelopeOf(res).code, 0);
      const assign = await h.db.q.selectFrom('assigns').select('last_notes').where('id', '=', 2190811).executeTakeFirstOrThrow();
      assert.equal(assign.last_notes, notes);
    });

    test(`a parameter name over ${MAX_NAME_LENGTH} characters is refused with code 7`, async () => {
      const env = await h.app.inject({ method: 'GET', url: `/api/set_data.php?authkey=${KEYS.set_data}&repository_assign_id=2190811&${'n'.repeat(MAX_NAME_LENGTH + 1)}=1` });
      assert.equal(env.statusCode, 400);
      assert.equal(envelopeOf(env).code, 7);
    });

    test(`get_data with more than ${MAX_OUT_FIELDS} out names is refused with code 7; ${MAX_OUT_FIELDS} are answered`, async () => {
      const names = (n: number) => Array.from({ length: n }, (_, i) => `f${i}`).join(',');
      const over = await h.app.inject({ method: 'GET', url: `/api/get_data.php?authkey=${KEYS.get_data}&repository_assign_id=2190811&out=${names(MAX_OUT_FIELDS + 1)}` });
      assert.equal(over.statusCode, 400);
      const env = envelopeOf(over);
      assert.equal(env.code, 7);
      assert.match(env.message, /out/);
      // Repeats and uid do not count: they are answered once anyway.
      const ok = await tel(h.app, 'get_data', { authkey: KEYS.get_data, repository_assign_id: 2190811, out: `uid,${names(MAX_OUT_FIELDS)},f0,f1` });
      assert.equal(ok.code, 0);
      assert.equal(Object.keys(ok.message[0]).length, MAX_OUT_FIELDS + 1);
    });

    const oddIds = ['abc', '-1', '0', '1e3', '0x10', '1.5', '2190811abc', '99999999999999999999', '２１９０８１１', '2190811;', "2190811' OR '1'='1"];

    test('set_status and set_data answer code 3 for every malformed repository_assign_id', async () => {
      const before = await customer();
      for (const id of oddIds) {
        const s = await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: id, status_id: 10 });
        assert.equal(s.code, 3, `set_status ${id}`);
        const d = await tel(h.app, 'set_data', { authkey: KEYS.set_data, repository_assign_id: id, city: 'Haifa' });
        assert.equal(d.code, 3, `set_data ${id}`);
      }
      assert.deepEqual(await customer(), before);
    });

    test('get_data by assign answers code 6 for a malformed id, and code 5 naming a malformed project_id', async () => {
      for (const id of oddIds) {
        const r = await tel(h.app, 'get_data', { authkey: KEYS.get_data, repository_assign_id: id, out: 'first_name' });
        assert.equal(r.code, 6, id);
        const p = await tel(h.app, 'get_data', { authkey: KEYS.get_data, did: '07333333333', phone: '0500000000', out: 'first_name', project_id: id });
        assert.equal(p.code, 5, id);
        assert.match(p.message, /project_id/);
      }
    });

    test('a malformed status_id fails the status (code 5) without touching the assign', async () => {
      const before = await h.db.q.selectFrom('assigns').selectAll().where('id', '=', 2190811).executeTakeFirstOrThrow();
      // (0 is not odd here: it clears the status.)
      for (const id of oddIds.filter((i) => i !== '0')) {
        const r = await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 2190811, status_id: id });
        assert.equal(r.code, 5, id);
      }
      assert.deepEqual(await h.db.q.selectFrom('assigns').selectAll().where('id', '=', 2190811).executeTakeFirstOrThrow(), before);
    });

    test('admin paths refuse every id that is not a plain decimal number with 400, never another row or a 500', async () => {
      for (const id of ['abc', '-1', '0', '1e1', '0xa', '10.0', '%2010', '99999999999999999999', '10abc']) {
        const res = await h.app.inject({ method: 'GET', url: `/admin/v1/projects/${id}`, headers: adminHeaders });
        assert.equal(res.statusCode, 400, id);
        assert.equal(res.json().error.code, 'invalid_input', id);
      }
      const tooLong = await h.app.inject({ method: 'GET', url: `/admin/v1/projects/${'1'.repeat(300)}`, headers: adminHeaders });
      assert.ok(tooLong.statusCode >= 400 && tooLong.statusCode < 500);
      const ok = await h.app.inject({ method: 'GET', url: '/admin/v1/projects/10', headers: adminHeaders });
      assert.equal(ok.statusCode, 200);
    });

    test('malformed bodies of a parsed type and compressed bodies keep the envelope with code 7', async () => {
      const cases: { type: string; payload: string; status: number }[] = [
        { type: 'application/json', payload: '{"authkey": ', status: 400 },
        { type: 'application/json', payload: '[1,2]', status: 400 },
        { type: 'multipart/form-data', payload: 'no boundary', status: 400 },
        { type: 'multipart/form-data; boundary=XyZ', payload: '--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\ntruncated', status: 400 },
        { type: 'multipart/form-data; boundary=XyZ', payload: '--XyZ\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n\r\nhi\r\n--XyZ--\r\n', status: 400 },
        { type: 'multipart/form-data; boundary=XyZ', payload: multipart([['__proto__', 'x']]), status: 400 },
      ];
      for (const c of cases) {
        for (const endpoint of ['get_data', 'set_data', 'set_status']) {
          const res = await h.app.inject({ method: 'POST', url: `/api/${endpoint}.php?authkey=${KEYS.set_data}`, headers: { 'content-type': c.type }, payload: c.payload });
          assert.equal(res.statusCode, c.status, `${endpoint} ${c.type} ${c.payload.slice(0, 20)}`);
          assert.equal(envelopeOf(res).code, 7);
        }
      }
    });

    test('a URL over the 16 KiB header limit answers 431 with the envelope (and the admin error shape)', async () => {
      const url = `/api/set_data.php?authkey=${KEYS.set_data}&repository_assign_id=2190811&notes=${'a'.repeat(20_000)}`;
      const res = await fetch(`http://127.0.0.1:${port}${url}`);
      assert.equal(res.status, 431);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      const body = await res.json();
      assert.equal(body.code, 7);
      assert.equal(body.status, 'fail');
      assert.match(body.message, /too large/);
      assert.equal(body.error.code, 'header_too_large');
      const admin = await fetch(`http://127.0.0.1:${port}/admin/v1/projects?x=${'a'.repeat(20_000)}`, { headers: adminHeaders });
      assert.equal(admin.status, 431);
      assert.equal((await admin.json()).error.code, 'header_too_large');
    });

    test('a request Node cannot parse answers 400 with the envelope, not a bare socket close', async () => {
      for (const raw of ['GARBAGE\r\n\r\n', `GET /api/get_data.php?authkey=${KEYS.get_data} HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n`]) {
        const answer = await rawRequest(port, raw);
        assert.match(answer, /^HTTP\/1\.1 400 /);
        const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));
        assert.equal(body.code, 7);
        assert.equal(body.status, 'fail');
      }
    });

    test('a URL just under the limit is still served', async () => {
      const res = await fetch(`http://127.0.0.1:${port}/api/set_status.php?authkey=${KEYS.set_status}&repository_assign_id=2190811&status_id=10&notes=${'b'.repeat(15_000)}`);
      assert.equal(res.status, 200);
      assert.equal((await res.json()).code, 0);
    });
  });
}
