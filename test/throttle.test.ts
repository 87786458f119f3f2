// Failed-authentication throttling per client address (CRM_AUTH_FAIL_LIMIT failures per minute).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createAuthThrottle, keyOf } from '../src/http/throttle.ts';
import { dialects, setup, seedProject, adminHeaders, KEYS, type Harness } from './helpers.ts';

describe('the sliding window', () => {
  const clock = () => {
    let t = 1_000_000;
    return { now: () => t, advance: (ms: number) => (t += ms) };
  };

  test('an address is throttled once it reaches the limit, and only that address', () => {
    const c = clock();
    const th = createAuthThrottle(3, { now: c.now });
    th.fail('10.0.0.1');
    th.fail('10.0.0.1');
    assert.equal(th.retryAfter('10.0.0.1'), 0);
    th.fail('10.0.0.1');
    assert.ok(th.retryAfter('10.0.0.1') > 0);
    assert.equal(th.retryAfter('10.0.0.2'), 0);
  });

  test('the throttle lifts once the failures slide out of the last minute, and retryAfter says when', () => {
    const c = clock();
    const th = createAuthThrottle(3, { now: c.now });
    for (let i = 0; i < 3; i++) th.fail('10.0.0.1');
    const wait = th.retryAfter('10.0.0.1');
    assert.ok(wait >= 60_000 && wait <= 120_000, `wait ${wait}`);
    c.advance(wait - 1000);
    assert.ok(th.retryAfter('10.0.0.1') > 0);
    c.advance(1001);
    assert.equal(th.retryAfter('10.0.0.1'), 0);
    c.advance(120_000);
    assert.equal(th.retryAfter('10.0.0.1'), 0);
  });

  test('failures spread over windows are weighed by how much of the previous window still overlaps', () => {
    const c = clock();
    const th = createAuthThrottle(4, { now: c.now });
    for (let i = 0; i < 3; i++) th.fail('10.0.0.1');
    c.advance(60_000 + 15_000); // next window, a quarter in: 3 × 0.75 = 2.25 still count
    th.fail('10.0.0.1'); // 3.25
    assert.equal(th.retryAfter('10.0.0.1'), 0);
    th.fail('10.0.0.1'); // 4.25
    const wait = th.retryAfter('10.0.0.1');
    // Under the limit once 3 × overlap + 2 < 4, i.e. overlap < 2/3: 20 s into the window, 5 s from now.
    assert.equal(wait, 5_000);
  });

  test('limit 0 disables throttling', () => {
    const th = createAuthThrottle(0);
    for (let i = 0; i < 1000; i++) th.fail('10.0.0.1');
    assert.equal(th.retryAfter('10.0.0.1'), 0);
  });

  test('IPv6 addresses are counted per /64, IPv4-mapped ones as IPv4', () => {
    assert.equal(keyOf('2001:db8:1:2:aaaa::1'), keyOf('2001:db8:1:2:bbbb:cccc:dddd:eeee'));
    assert.notEqual(keyOf('2001:db8:1:2::1'), keyOf('2001:db8:1:3::1'));
    assert.equal(keyOf('2001:0db8:0001:0002::1'), keyOf('2001:db8:1:2::9'));
    assert.equal(keyOf('::ffff:10.1.2.3'), '10.1.2.3');
    assert.equal(keyOf('10.1.2.3'), '10.1.2.3');
    const th = createAuthThrottle(2);
    th.fail('2001:db8:1:2::1');
    th.fail('2001:db8:1:2::2');
    assert.ok(th.retryAfter('2001:db8:1:2::3') > 0);
    assert.equal(th.retryAfter('2001:db8:1:9::3'), 0);
  });
});

for (const dialect of dialects()) {
  describe(dialect, () => {
    let h: Harness;
    before(async () => {
      h = await setup(dialect, { CRM_AUTH_FAIL_LIMIT: '3' });
      await seedProject(h.app);
    });
    after(() => h.close());

    const setStatus = (ip: string, authkey: string, url = '/api/set_status.php') =>
      h.app.inject({ method: 'GET', url: `${url}?authkey=${authkey}&repository_assign_id=2190811&status_id=10`, remoteAddress: ip });
    const adminGet = (ip: string, token: string) =>
      h.app.inject({ method: 'GET', url: '/admin/v1/projects', headers: { authorization: `Bearer ${token}` }, remoteAddress: ip });
    const events = async () => Number((await h.db.q.selectFrom('call_events').select((e) => e.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

    test('after the limit of wrong keys, an address gets code 1 even with a valid key; other addresses are served', async () => {
      for (const endpoint of ['get_data', 'set_data', 'set_status']) {
        const res = await h.app.inject({ method: 'GET', url: `/api/${endpoint}.php?authkey=wrong`, remoteAddress: '10.1.0.1' });
        assert.equal(res.json().code, 1);
      }
      const before = await events();
      const throttled = await setStatus('10.1.0.1', KEYS.set_status);
      assert.equal(throttled.statusCode, 200);
      assert.deepEqual(throttled.json(), { code: 1, status: 'fail', message: 'Missing or invalid authkey' });
      assert.ok(Number(throttled.headers['retry-after']) >= 1);
      // Nothing was written for the throttled request.
      assert.equal(await events(), before);

      const other = await setStatus('10.1.0.2', KEYS.set_status);
      assert.equal(other.json().code, 0);
      assert.equal(await events(), before + 1);
    });

    test('a percent-encoded path does not slip past the throttle', async () => {
      for (let i = 0; i < 3; i++) await setStatus('10.1.0.3', 'wrong');
      for (const url of ['/api/set_status.php', '/%61pi/set_status.php', '/api/set%5Fstatus.php', '/api/set_status.php/']) {
        const res = await setStatus('10.1.0.3', KEYS.set_status, url);
        assert.ok(res.statusCode < 500, url);
        if (res.statusCode === 200) assert.equal(res.json().code, 1, url);
      }
    });

    test('valid requests never count: a busy address with a good key is not throttled', async () => {
      for (let i = 0; i < 20; i++) assert.equal((await setStatus('10.1.0.4', KEYS.set_status)).json().code, 0);
      await setStatus('10.1.0.4', 'wrong');
      await setStatus('10.1.0.4', 'wrong');
      assert.equal((await setStatus('10.1.0.4', KEYS.set_status)).json().code, 0);
    });

    test('wrong admin tokens throttle the admin API with 429; the valid token from another address still works', async () => {
      for (let i = 0; i < 3; i++) assert.equal((await adminGet('10.2.0.1', 'wrong-token')).statusCode, 401);
      const throttled = await adminGet('10.2.0.1', adminHeaders.authorization.slice(7));
      assert.equal(throttled.statusCode, 429);
      assert.equal(throttled.json().error.code, 'too_many_requests');
      assert.ok(Number(throttled.headers['retry-after']) >= 1);
      assert.equal((await adminGet('10.2.0.2', adminHeaders.authorization.slice(7))).statusCode, 200);
    });

    test('failures of one API do not throttle the other: telephony keys and admin tokens are counted apart', async () => {
      for (let i = 0; i < 3; i++) await setStatus('10.3.0.1', 'wrong');
      assert.equal((await adminGet('10.3.0.1', adminHeaders.authorization.slice(7))).statusCode, 200);
    });

    test('health and docs paths are never throttled', async () => {
      for (let i = 0; i < 3; i++) await setStatus('10.4.0.1', 'wrong');
      const res = await h.app.inject({ method: 'GET', url: '/healthz', remoteAddress: '10.4.0.1' });
      assert.equal(res.statusCode, 200);
    });
  });

  describe(`${dialect}, CRM_AUTH_FAIL_LIMIT=0`, () => {
    let h: Harness;
    before(async () => {
      h = await setup(dialect, { CRM_AUTH_FAIL_LIMIT: '0' });
      await seedProject(h.app);
    });
    after(() => h.close());

    test('no number of failures throttles an address', async () => {
      for (let i = 0; i < 100; i++) {
        await h.app.inject({ method: 'GET', url: '/api/set_status.php?authkey=wrong', remoteAddress: '10.9.0.1' });
      }
      const res = await h.app.inject({ method: 'GET', url: `/api/set_status.php?authkey=${KEYS.set_status}&repository_assign_id=2190811&status_id=10`, remoteAddress: '10.9.0.1' });
      assert.equal(res.json().code, 0);
    });
  });
}
