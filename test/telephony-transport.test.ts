// Transport of the legacy endpoints: methods, body encodings, the PHP-like parameter merge, keys per
// endpoint, the envelope on every answer (refusals included), base path (telephony-api.md, Transport).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { setup, seedProject, adminHeaders, dialects, KEYS, type Harness } from './helpers.ts';

type Endpoint = 'get_data' | 'set_data' | 'set_status';
const ENDPOINTS: Endpoint[] = ['get_data', 'set_data', 'set_status'];
const JSON_UTF8 = 'application/json; charset=utf-8';

/** A valid request of each endpoint, minus the key. */
const VALID: Record<Endpoint, Record<string, string>> = {
  get_data: { did: '07333333333', phone: '0500000000', project_id: '10', out: 'first_name' },
  set_data: { repository_assign_id: '555', city: 'Haifa' },
  set_status: { repository_assign_id: '555', status_id: '10' },
};

const qs = (params: Record<string, string>) => new URLSearchParams(params).toString();

async function multipart(params: Record<string, string>): Promise<{ body: Buffer; contentType: string }> {
  const fd = new FormData();
  for (const [k, v] of Object.entries(params)) fd.append(k, v);
  const r = new Response(fd);
  return { body: Buffer.from(await r.arrayBuffer()), contentType: r.headers.get('content-type')! };
}

/** Every answer of an /api path: the content type, a JSON envelope, no stack trace or source path. */
function envelopeOf(res: LightMyRequestResponse) {
  assert.equal(res.headers['content-type'], JSON_UTF8, `content type of HTTP ${res.statusCode} ${res.body}`);
  assert.doesNotMatch(res.body, /\n\s+at |stack|\.ts\b|node_modules/, 'no stack trace or source path');
  const body = res.json() as { code: number; status: string; message: unknown };
  assert.equal(typeof body.code, 'number');
  assert.ok(body.status === 'success' || body.status === 'fail');
  assert.ok('message' in body);
  if (body.code !== 0) {
    assert.equal(body.status, 'fail');
    assert.equal(typeof body.message, 'string');
  }
  return body;
}

for (const dialect of dialects()) {
  describe(`telephony transport (${dialect})`, () => {
    let h: Harness;
    before(async () => {
      h = await setup(dialect, {
        CRM_BODY_LIMIT: '4096',
        // This suite sends many wrong keys on purpose; failed-key throttling is tested on its own elsewhere.
        CRM_AUTH_FAIL_LIMIT: '0',
      });
      await seedProject(h.app);
    });
    after(() => h.close());

    describe('methods and encodings', () => {
      for (const ep of ENDPOINTS) {
        test(`${ep} answers GET with query parameters`, async () => {
          const res = await h.app.inject({ method: 'GET', url: `/api/${ep}.php?${qs({ authkey: KEYS[ep], ...VALID[ep] })}` });
          assert.equal(res.statusCode, 200);
          assert.equal(envelopeOf(res).code, 0);
        });

        test(`${ep} answers POST with a urlencoded body`, async () => {
          const res = await h.app.inject({
            method: 'POST',
            url: `/api/${ep}.php`,
            headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' },
            payload: qs({ authkey: KEYS[ep], ...VALID[ep] }),
          });
          assert.equal(res.statusCode, 200);
          assert.equal(envelopeOf(res).code, 0);
        });

        test(`${ep} answers POST with a multipart body`, async () => {
          const { body, contentType } = await multipart({ authkey: KEYS[ep], ...VALID[ep] });
          const res = await h.app.inject({ method: 'POST', url: `/api/${ep}.php`, headers: { 'content-type': contentType }, payload: body });
          assert.equal(res.statusCode, 200);
          assert.equal(envelopeOf(res).code, 0);
        });

        test(`${ep} answers POST with a JSON body`, async () => {
          const res = await h.app.inject({ method: 'POST', url: `/api/${ep}.php`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ authkey: KEYS[ep], ...VALID[ep] }) });
          assert.equal(res.statusCode, 200);
          assert.equal(envelopeOf(res).code, 0);
        });

        test(`${ep} answers PUT, DELETE and PATCH with 405, an Allow header and the envelope`, async () => {
          for (const method of ['PUT', 'DELETE', 'PATCH'] as const) {
            const res = await h.app.inject({ method, url: `/api/${ep}.php?${qs({ authkey: KEYS[ep], ...VALID[ep] })}` });
            assert.equal(res.statusCode, 405, method);
            assert.match(String(res.headers.allow), /GET/);
            assert.match(String(res.headers.allow), /POST/);
            assert.equal(envelopeOf(res).status, 'fail');
          }
        });
      }

      test("the seed's form example updates fields (POST set_data urlencoded)", async () => {
        const res = await h.app.inject({
          method: 'POST',
          url: '/api/set_data.php',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: `authkey=${KEYS.set_data}&repository_assign_id=555&first_name=Jane&email=jane@example.com`,
        });
        assert.deepEqual(envelopeOf(res), {
          code: 0, status: 'success', message: "first_name was updated to 'Jane', email was updated to 'jane@example.com'", repository_assign_id: '555',
        });
      });

      test('a multipart body carries Hebrew values as UTF-8', async () => {
        const { body, contentType } = await multipart({ authkey: KEYS.set_data, repository_assign_id: '2190811', city: 'באר שבע' });
        const res = await h.app.inject({ method: 'POST', url: '/api/set_data.php', headers: { 'content-type': contentType }, payload: body });
        assert.equal(envelopeOf(res).message, "city was updated to 'באר שבע'");
      });

      test('JSON numbers and booleans are read as their text, null as empty', async () => {
        const res = await h.app.inject({
          method: 'POST',
          url: '/api/set_data.php',
          headers: { 'content-type': 'application/json' },
          payload: JSON.stringify({ authkey: KEYS.set_data, repository_assign_id: 2190811, age: 41, last_name: null }),
        });
        assert.equal(envelopeOf(res).message, "age was updated to '41', last_name was updated to ''");
      });

      test('a JSON object or array as a value is refused for that field only', async () => {
        const res = await h.app.inject({
          method: 'POST',
          url: '/api/set_data.php',
          headers: { 'content-type': 'application/json' },
          payload: JSON.stringify({ authkey: KEYS.set_data, repository_assign_id: 2190811, city: { x: 1 }, first_name: 'Joe' }),
        });
        const body = envelopeOf(res) as { code: number; errors?: Record<string, string> };
        assert.equal(body.code, 0);
        assert.ok(body.errors?.city);
      });

      test('a POST without a body reads the query string', async () => {
        const res = await h.app.inject({ method: 'POST', url: `/api/set_status.php?${qs({ authkey: KEYS.set_status, ...VALID.set_status })}` });
        assert.equal(envelopeOf(res).code, 0);
      });
    });

    describe('parameters', () => {
      test('a body value wins over a query value of the same name (urlencoded, multipart, JSON)', async () => {
        const query = qs({ authkey: 'wrong', repository_assign_id: '999999', city: 'FromQuery' });
        const bodyParams = { authkey: KEYS.set_data, repository_assign_id: '555', city: 'FromBody' };
        const form = await h.app.inject({ method: 'POST', url: `/api/set_data.php?${query}`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: qs(bodyParams) });
        assert.equal(envelopeOf(form).message, "city was updated to 'FromBody'");
        const mp = await multipart({ ...bodyParams, city: 'FromMultipart' });
        const multi = await h.app.inject({ method: 'POST', url: `/api/set_data.php?${query}`, headers: { 'content-type': mp.contentType }, payload: mp.body });
        assert.equal(envelopeOf(multi).message, "city was updated to 'FromMultipart'");
        const json = await h.app.inject({ method: 'POST', url: `/api/set_data.php?${query}`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ ...bodyParams, city: 'FromJson' }) });
        assert.equal(envelopeOf(json).message, "city was updated to 'FromJson'");
      });

      test('query parameters not in the body still count', async () => {
        const res = await h.app.inject({
          method: 'POST',
          url: `/api/set_status.php?authkey=${KEYS.set_status}&repository_assign_id=555`,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: 'status_id=2',
        });
        assert.equal(envelopeOf(res).code, 0);
      });

      test('the last of repeated names wins, as in PHP', async () => {
        const res = await h.app.inject({ method: 'GET', url: `/api/set_data.php?authkey=${KEYS.set_data}&repository_assign_id=555&city=First&city=Last` });
        assert.equal(envelopeOf(res).message, "city was updated to 'Last'");
      });

      test('reserved parameters are trimmed', async () => {
        const res = await h.app.inject({ method: 'GET', url: `/api/set_status.php?${qs({ authkey: ` ${KEYS.set_status} `, repository_assign_id: ' 555 ', status_id: ' 10 ' })}` });
        assert.equal(envelopeOf(res).code, 0);
      });

      test('a raw + in the query is a space, and the phone still matches', async () => {
        const res = await h.app.inject({ method: 'GET', url: `/api/get_data.php?authkey=${KEYS.get_data}&did=07333333333&phone=+972500000000&project_id=10&out=first_name` });
        assert.equal((envelopeOf(res).message as unknown[]).length, 2);
      });

      test('a parameter named __proto__ is just an unknown field', async () => {
        const res = await h.app.inject({ method: 'GET', url: `/api/set_data.php?authkey=${KEYS.set_data}&repository_assign_id=555&__proto__=x&constructor=y` });
        const body = envelopeOf(res) as { code: number; errors?: Record<string, string> };
        assert.equal(body.code, 6);
        assert.ok(body.errors && Object.hasOwn(body.errors, '__proto__'));
      });
    });

    describe('keys', () => {
      for (const ep of ENDPOINTS) {
        test(`${ep} takes its key in an X-Api-Key header`, async () => {
          const res = await h.app.inject({ method: 'GET', url: `/api/${ep}.php?${qs(VALID[ep])}`, headers: { 'x-api-key': KEYS[ep] } });
          assert.equal(envelopeOf(res).code, 0);
        });

        test(`${ep} refuses a wrong X-Api-Key with 1`, async () => {
          const res = await h.app.inject({ method: 'GET', url: `/api/${ep}.php?${qs(VALID[ep])}`, headers: { 'x-api-key': 'wrong-key' } });
          assert.deepEqual(envelopeOf(res), { code: 1, status: 'fail', message: 'Missing or invalid authkey' });
        });

        for (const other of ENDPOINTS.filter((e) => e !== ep)) {
          test(`${ep} refuses the key of ${other}, as a parameter and as a header`, async () => {
            const param = await h.app.inject({ method: 'GET', url: `/api/${ep}.php?${qs({ authkey: KEYS[other], ...VALID[ep] })}` });
            assert.equal(envelopeOf(param).code, 1);
            const header = await h.app.inject({ method: 'GET', url: `/api/${ep}.php?${qs(VALID[ep])}`, headers: { 'x-api-key': KEYS[other] } });
            assert.equal(envelopeOf(header).code, 1);
          });
        }
      }

      test('the authkey parameter, when given, is the one checked', async () => {
        const res = await h.app.inject({ method: 'GET', url: `/api/set_status.php?${qs({ authkey: 'wrong', ...VALID.set_status })}`, headers: { 'x-api-key': KEYS.set_status } });
        assert.equal(envelopeOf(res).code, 1);
      });

      test('keys are compared exactly (case and prefix matter)', async () => {
        for (const key of [KEYS.get_data.toUpperCase(), KEYS.get_data.slice(0, -1), `${KEYS.get_data}x`]) {
          const res = await h.app.inject({ method: 'GET', url: `/api/get_data.php?${qs({ authkey: key, ...VALID.get_data })}` });
          assert.equal(envelopeOf(res).code, 1, key);
        }
      });
    });

    describe('refusals keep the envelope', () => {
      test('malformed JSON answers 400 with the envelope', async () => {
        for (const payload of ['{"authkey":', '[1,2]', '"text"', 'null']) {
          const res = await h.app.inject({ method: 'POST', url: '/api/set_data.php', headers: { 'content-type': 'application/json' }, payload });
          assert.equal(res.statusCode, 400, payload);
          const body = envelopeOf(res);
          assert.equal(body.code, 7);
          assert.equal(body.status, 'fail');
        }
      });

      test('a malformed multipart body answers 400 with the envelope', async () => {
        const truncated = await h.app.inject({
          method: 'POST',
          url: '/api/set_status.php',
          headers: { 'content-type': 'multipart/form-data; boundary=XYZ' },
          payload: '--XYZ\r\nContent-Disposition: form-data; name="authkey"\r\n\r\nMindc',
        });
        assert.equal(truncated.statusCode, 400);
        assert.equal(envelopeOf(truncated).code, 7);
        const noBoundary = await h.app.inject({ method: 'POST', url: '/api/set_status.php', headers: { 'content-type': 'multipart/form-data' }, payload: 'abc' });
        assert.equal(noBoundary.statusCode, 400);
        assert.equal(envelopeOf(noBoundary).code, 7);
      });

      test('a body over the limit answers 413 with the envelope', async () => {
        const big = 'x'.repeat(8192);
        const form = await h.app.inject({ method: 'POST', url: '/api/set_data.php', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `authkey=${KEYS.set_data}&repository_assign_id=555&city=${big}` });
        assert.equal(form.statusCode, 413);
        assert.deepEqual(envelopeOf(form), { code: 7, status: 'fail', message: 'Request body too large' });
        const json = await h.app.inject({ method: 'POST', url: '/api/get_data.php', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ big }) });
        assert.equal(json.statusCode, 413);
        assert.equal(envelopeOf(json).code, 7);
        assert.equal((await h.db.q.selectFrom('customers').select('data').where('id', '=', 123).executeTakeFirstOrThrow()).data.includes(big), false);
      });

      test('a body of a type PHP does not parse is ignored: the query answers (Legacy realities)', async () => {
        for (const contentType of ['text/plain', 'application/xml', 'application/octet-stream']) {
          const res = await h.app.inject({ method: 'POST', url: `/api/set_status.php?${qs({ authkey: KEYS.set_status, ...VALID.set_status })}`, headers: { 'content-type': contentType }, payload: 'status_id=2' });
          assert.equal(res.statusCode, 200, contentType);
          assert.deepEqual(envelopeOf(res), { code: 0, status: 'success', message: 'Status set successfully' });
        }
      });

      test('an unknown path under /api answers 404 with the envelope', async () => {
        for (const url of ['/api/nothing.php', '/api/get_data', '/api/', `/api/get_datas.php?authkey=${KEYS.get_data}`]) {
          const res = await h.app.inject({ method: 'GET', url });
          assert.equal(res.statusCode, 404, url);
          assert.equal(envelopeOf(res).status, 'fail');
        }
      });

      test('a path with a malformed %-escape answers 400 with the envelope, not echoing the URL', async () => {
        for (const url of ['/api/%E0%A4%A.php', `/api/get_data.php/%zz?authkey=${KEYS.get_data}`]) {
          const res = await h.app.inject({ method: 'GET', url });
          assert.equal(res.statusCode, 400, url);
          assert.equal(envelopeOf(res).code, 7);
          assert.ok(!res.body.includes(KEYS.get_data));
        }
        const adminRes = await h.app.inject({ method: 'GET', url: '/admin/v1/%E0%A4%A', headers: adminHeaders });
        assert.equal(adminRes.statusCode, 400);
        assert.equal(adminRes.json().error.code, 'invalid_input');
      });

      test('an unknown path elsewhere answers 404 with a JSON error', async () => {
        const res = await h.app.inject({ method: 'GET', url: '/get_data.php' });
        assert.equal(res.statusCode, 404);
        assert.match(String(res.headers['content-type']), /^application\/json/);
        assert.doesNotMatch(res.body, /\n\s+at |\.ts\b/);
        assert.equal(typeof res.json().error.message, 'string');
      });

      test('a failure code answers HTTP 200 with the envelope', async () => {
        const res = await h.app.inject({ method: 'GET', url: '/api/set_status.php?authkey=nope' });
        assert.equal(res.statusCode, 200);
        assert.deepEqual(envelopeOf(res), { code: 1, status: 'fail', message: 'Missing or invalid authkey' });
      });
    });
  });

  describe(`telephony transport with configured keys (${dialect})`, () => {
    let h: Harness;
    before(async () => {
      h = await setup(dialect, {
        CRM_AUTHKEY_GET_DATA: 'k1-get,k2-get',
        CRM_AUTHKEY_SET_DATA: 'k1-set',
        CRM_AUTHKEY_SET_STATUS: 'k1-status, k2-status',
      });
      await seedProject(h.app);
    });
    after(() => h.close());

    test('every configured key of an endpoint is accepted', async () => {
      for (const [ep, keys] of [['get_data', ['k1-get', 'k2-get']], ['set_data', ['k1-set']], ['set_status', ['k1-status', 'k2-status']]] as const) {
        for (const key of keys) {
          const res = await h.app.inject({ method: 'GET', url: `/api/${ep}.php?${qs({ authkey: key, ...VALID[ep] })}` });
          assert.equal(envelopeOf(res).code, 0, `${ep} ${key}`);
        }
      }
    });

    test("the seed's default key is refused once keys are configured", async () => {
      for (const ep of ENDPOINTS) {
        const res = await h.app.inject({ method: 'GET', url: `/api/${ep}.php?${qs({ authkey: KEYS[ep], ...VALID[ep] })}` });
        assert.equal(envelopeOf(res).code, 1, ep);
      }
    });

    test("a configured key of another endpoint is refused", async () => {
      const res = await h.app.inject({ method: 'GET', url: `/api/get_data.php?${qs({ authkey: 'k1-set', ...VALID.get_data })}` });
      assert.equal(envelopeOf(res).code, 1);
    });
  });

  describe(`telephony transport under CRM_BASE_PATH=/dev-6 (${dialect})`, () => {
    let h: Harness;
    before(async () => {
      h = await setup(dialect, { CRM_BASE_PATH: '/dev-6' });
      // The admin API moves under the base path too.
      const res = await h.app.inject({ method: 'POST', url: '/dev-6/admin/v1/projects', headers: adminHeaders, payload: { id: 15, name: 'Dev 6' } });
      assert.equal(res.statusCode, 201);
      for (const [path, body] of [
        ['/projects/15/statuses', { id: 10, name: 'Interested' }],
        ['/projects/15/repositories', { id: 7, name: 'Leads' }],
        ['/projects/15/fields', { display_name: 'mobile', type: 'phone' }],
        ['/projects/15/fields', { display_name: 'city' }],
        ['/projects/15/customers', { id: 123, fields: { mobile: '0500000000' } }],
        ['/repositories/7/assigns', { id: 555, customer_id: 123 }],
      ] as const) {
        const r = await h.app.inject({ method: 'POST', url: `/dev-6/admin/v1${path}`, headers: adminHeaders, payload: body });
        assert.equal(r.statusCode, 201, `${path}: ${r.body}`);
      }
    });
    after(() => h.close());

    test("the seed's /dev-6 examples work", async () => {
      const status = await h.app.inject({ method: 'GET', url: `/dev-6/api/set_status.php?authkey=${KEYS.set_status}&repository_assign_id=555&status_id=10` });
      assert.deepEqual(envelopeOf(status), { code: 0, status: 'success', message: 'Status set successfully' });
      const data = await h.app.inject({ method: 'GET', url: `/dev-6/api/set_data.php?authkey=${KEYS.set_data}&did=123456&phone=972500000000&project_id=15&status_id=10` });
      assert.equal(envelopeOf(data).code, 0);
      const form = await h.app.inject({ method: 'POST', url: '/dev-6/api/set_data.php', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `authkey=${KEYS.set_data}&repository_assign_id=555&city=New York&status_id=10&worker_id=99` });
      assert.equal(envelopeOf(form).message, "city was updated to 'New York', Status set successfully");
      const get = await h.app.inject({ method: 'GET', url: `/dev-6/api/get_data.php?authkey=${KEYS.get_data}&did=07333333333&phone=0500000000&project_id=15&out=city,last_status` });
      assert.deepEqual(envelopeOf(get).message, [{ uid: '123', city: 'New York', last_status: 'Interested' }]);
    });

    test('the paths without the base path are unknown', async () => {
      const res = await h.app.inject({ method: 'GET', url: `/api/get_data.php?authkey=${KEYS.get_data}` });
      assert.equal(res.statusCode, 404);
      assert.match(String(res.headers['content-type']), /^application\/json/);
    });

    test('an unknown path under the base path answers 404 with the envelope', async () => {
      const res = await h.app.inject({ method: 'GET', url: '/dev-6/api/other.php' });
      assert.equal(res.statusCode, 404);
      assert.equal(envelopeOf(res).status, 'fail');
    });
  });
}
