// Statistics for the supervisor's dashboard (GET /projects/:id/statistics) and the filtered lists of a
// repository's assigns, on a real database: every number is checked against the rows themselves.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { dialects, setup, seedProject, admin, adminHeaders, tel, KEYS, type Harness } from './helpers.ts';
import { localDate, localDayStart } from '../src/crm/local-time.ts';

const DAY = 86_400_000;
const TZ = 'Asia/Jerusalem';

describe('local days in CRM_TIMEZONE', () => {
  test('local midnight in Jerusalem is 21:00 or 22:00 UTC of the day before, DST included', () => {
    // 2026-07-15 10:00 UTC = 13:00 IDT (UTC+3): midnight is 2026-07-14T21:00Z.
    assert.equal(new Date(localDayStart(Date.UTC(2026, 6, 15, 10), TZ)).toISOString(), '2026-07-14T21:00:00.000Z');
    // 2026-01-15 23:30 UTC = 01:30 IST (UTC+2) on the 16th: midnight is 2026-01-15T22:00Z.
    assert.equal(new Date(localDayStart(Date.UTC(2026, 0, 15, 23, 30), TZ)).toISOString(), '2026-01-15T22:00:00.000Z');
    // The day DST ends (2026-10-25, 02:00 IDT → 01:00 IST): it began at 21:00Z on the 24th, in summer time.
    assert.equal(new Date(localDayStart(Date.UTC(2026, 9, 25, 12), TZ)).toISOString(), '2026-10-24T21:00:00.000Z');
    // Seven days back from a winter day crosses the change and lands on a summer midnight.
    assert.equal(new Date(localDayStart(Date.UTC(2026, 9, 27, 12), TZ, 6)).toISOString(), '2026-10-20T21:00:00.000Z');
    assert.equal(localDate(Date.UTC(2026, 6, 14, 21, 30), TZ), '2026-07-15');
  });
});

for (const dialect of dialects()) {
  describe(dialect, () => {
    let h: Harness;
    before(async () => {
      h = await setup(dialect, { CRM_TIMEZONE: TZ });
      await seedProject(h.app);
      await seedProject(h.app, 40, 100_000);
      await admin(h.app, 'POST', '/projects/10/workers', { id: 98, name: 'Avi' });
      for (const [id, name] of [[201, 'Ruth'], [202, 'Lea'], [203, 'Miri']] as const) {
        await admin(h.app, 'POST', '/projects/10/customers', { id, fields: { first_name: name } });
        await admin(h.app, 'POST', '/repositories/7/assigns', { id: 7000 + id, customer_id: id });
      }
      // Today, through the telephony API as an IVR would: two dispositions by worker 99, one by 98, and
      // one by an agent number that is no registered worker (set_status records it as given).
      for (const [assign, status, worker] of [[7201, 10, 99], [7202, 2, 99], [2190811, 10, 98], [7203, 10, 4242]] as const) {
        const r = await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: assign, status_id: status, worker_id: worker });
        assert.equal(r.code, 0);
      }
      // Three days ago and forty days ago (outside the 7-day window), through the call API of dialers.
      await admin(h.app, 'POST', '/assigns/555/calls', { worker_id: 99, status_id: 2, at: new Date(Date.now() - 3 * DAY).toISOString() });
      await admin(h.app, 'POST', '/assigns/555/calls', { worker_id: 99, status_id: 10, at: new Date(Date.now() - 40 * DAY).toISOString() });
      // Project 40's activity never shows in project 10's numbers.
      await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 102190811, status_id: 100_010, worker_id: 100_099 });
    });
    after(() => h.close());

    test('totals and per-status, per-agent, per-day and per-hour counts agree with the call events and history', async () => {
      const d = await admin(h.app, 'GET', '/projects/10/statistics?days=7');
      const todayStart = localDayStart(Date.now(), TZ);
      const since = localDayStart(Date.now(), TZ, 6);
      assert.equal(d.time_zone, TZ);
      assert.equal(Date.parse(d.today_start), todayStart);
      assert.equal(Date.parse(d.since), since);

      const events = await h.db.q.selectFrom('call_events').select(['at', 'status_id', 'worker_id']).where('project_id', '=', 10).execute();
      const inWeek = events.filter((e) => Number(e.at) >= since);
      const inToday = events.filter((e) => Number(e.at) >= todayStart);
      assert.equal(d.totals.calls, inWeek.length);
      assert.equal(d.totals.calls_today, inToday.length);
      assert.equal(d.totals.calls, 5, 'four today and one three days ago; the one forty days ago is outside');
      assert.equal(d.totals.calls_today, 4);

      const changes = await h.db.q.selectFrom('history').select('at').where('project_id', '=', 10).where('kind', '=', 'status').execute();
      assert.equal(d.totals.status_changes, changes.filter((c) => Number(c.at) >= since).length);
      assert.equal(d.totals.status_changes_today, changes.filter((c) => Number(c.at) >= todayStart).length);
      assert.ok(d.totals.status_changes_today >= 4);

      const byStatus = Object.fromEntries(d.by_status.map((s: any) => [s.status_id, s]));
      assert.deepEqual(byStatus[10], { status_id: 10, name: 'Interested', calls_today: 3, calls: 3 });
      assert.deepEqual(byStatus[2], { status_id: 2, name: 'Call back', calls_today: 1, calls: 2 });

      const byAgent = Object.fromEntries(d.by_agent.map((a: any) => [a.worker_id, a]));
      assert.deepEqual(byAgent[99], { worker_id: 99, name: 'Dana', calls_today: 2, calls: 3 });
      assert.deepEqual(byAgent[98], { worker_id: 98, name: 'Avi', calls_today: 1, calls: 1 });
      assert.deepEqual(byAgent[4242], { worker_id: 4242, name: null, calls_today: 1, calls: 1 });

      assert.equal(d.by_day.length, 7);
      assert.equal(d.by_day[6].date, localDate(Date.now(), TZ));
      assert.equal(d.by_day.reduce((n: number, x: any) => n + x.calls, 0), 5);
      assert.equal(d.by_day[6].calls, 4);
      assert.equal(d.by_day[3].calls, 1, 'the call three days ago');
      assert.equal(d.by_hour_today.length, 24);
      assert.equal(d.by_hour_today.reduce((n: number, x: any) => n + x.calls, 0), 4);
      const hourNow = Number(new Intl.DateTimeFormat('en-US', { timeZone: TZ, hour: '2-digit', hourCycle: 'h23' }).format(Math.max(...inToday.map((e) => Number(e.at)))));
      assert.ok(d.by_hour_today[hourNow].calls >= 1, 'the latest call counts in its local hour');
    });

    test('an event that lands in an hour already rolled up (a backfilled CDR) is counted on the next load', async () => {
      const before = await admin(h.app, 'GET', '/projects/10/statistics?days=7');
      const rolled = await h.db.q.selectFrom('stats_hourly').select('hour_index').where('project_id', '=', 10).where('worker_id', '=', -1).execute();
      assert.ok(rolled.length >= 6 * 24, 'the closed hours of the window are rolled up');
      await admin(h.app, 'POST', '/assigns/555/calls', { worker_id: 98, status_id: 2, at: new Date(Date.now() - 2 * DAY).toISOString() });
      const after = await admin(h.app, 'GET', '/projects/10/statistics?days=7');
      assert.equal(after.totals.calls, before.totals.calls + 1);
      assert.equal(after.by_day[4].calls, before.by_day[4].calls + 1);
      const avi = (d: any) => d.by_agent.find((a: any) => a.worker_id === 98);
      assert.deepEqual({ calls: avi(after).calls, today: avi(after).calls_today }, { calls: avi(before).calls + 1, today: avi(before).calls_today });
    });

    test('repository progress counts assigns by current status, no status included, for every repository', async () => {
      const d = await admin(h.app, 'GET', '/projects/10/statistics');
      const assigns = await h.db.q.selectFrom('assigns').select(['repository_id', 'status_id']).where('project_id', '=', 10).execute();
      for (const repo of d.repositories) {
        const mine = assigns.filter((a) => a.repository_id === repo.repository_id);
        assert.equal(repo.total, mine.length);
        assert.equal(repo.no_status, mine.filter((a) => a.status_id === null).length);
        for (const s of repo.by_status) assert.equal(s.count, mine.filter((a) => a.status_id === s.status_id).length);
      }
      const leads = d.repositories.find((r: any) => r.repository_id === 7);
      assert.deepEqual({ name: leads.name, total: leads.total, no_status: leads.no_status }, { name: 'Leads', total: 4, no_status: 0 });
      assert.deepEqual(leads.by_status, [{ status_id: 2, name: 'Call back', count: 1 }, { status_id: 10, name: 'Interested', count: 3 }]);
      assert.equal(d.repositories.find((r: any) => r.repository_id === 8).by_status[0].count, 1);
      assert.deepEqual(d.repositories.map((r: any) => r.repository_id), [7, 8]);
    });

    test('recent activity is the newest history of this project only, without field values', async () => {
      const d = await admin(h.app, 'GET', '/projects/10/statistics?recent=3');
      assert.equal(d.recent.length, 3);
      const ids = d.recent.map((r: any) => r.id);
      assert.deepEqual(ids, [...ids].sort((a, b) => b - a));
      assert.ok(d.recent.every((r: any) => r.customer_id < 100_000));
      assert.ok(d.recent.every((r: any) => !('new_value' in r) && !('old_value' in r)));
    });

    test('bad parameters are a 400, an unknown project a 404; an empty project answers zeros', async () => {
      await admin(h.app, 'GET', '/projects/10/statistics?days=0', undefined, 400);
      await admin(h.app, 'GET', '/projects/10/statistics?days=32', undefined, 400);
      await admin(h.app, 'GET', '/projects/10/statistics?foo=1', undefined, 400);
      await admin(h.app, 'GET', '/projects/999/statistics', undefined, 404);
      await admin(h.app, 'POST', '/projects', { id: 77, name: 'Empty' });
      const d = await admin(h.app, 'GET', '/projects/77/statistics?days=1');
      assert.deepEqual(d.totals, { calls_today: 0, calls: 0, status_changes_today: 0, status_changes: 0 });
      assert.deepEqual(d.by_day.map((x: any) => x.calls), [0]);
      assert.deepEqual(d.repositories, []);
    });

    describe("a repository's assigns, filtered", () => {
      const ids = (list: { items: { id: number }[] }) => list.items.map((a) => a.id);
      test('by status (0 = no status yet), by worker and by last call older than N days', async () => {
        await admin(h.app, 'POST', '/projects/10/customers', { id: 204, fields: { first_name: 'Noa' } });
        await admin(h.app, 'POST', '/repositories/7/assigns', { id: 7204, customer_id: 204, worker_id: 98 });
        assert.deepEqual(ids(await admin(h.app, 'GET', '/repositories/7/assigns?status_id=10')), [7201, 7203, 2190811]);
        assert.deepEqual(ids(await admin(h.app, 'GET', '/repositories/7/assigns?status_id=0')), [7204]);
        assert.deepEqual(ids(await admin(h.app, 'GET', '/repositories/7/assigns?worker_id=98')), [7204]);
        // Called today: not "older than 1 day"; never called: included.
        assert.deepEqual(ids(await admin(h.app, 'GET', '/repositories/7/assigns?not_called_days=1')), [7204]);
        // 555 was last called three days ago (the call forty days ago is older and does not move last_call).
        assert.deepEqual(ids(await admin(h.app, 'GET', '/repositories/8/assigns?not_called_days=2')), [555]);
        assert.deepEqual(ids(await admin(h.app, 'GET', '/repositories/8/assigns?not_called_days=4')), []);
        assert.deepEqual(ids(await admin(h.app, 'GET', '/repositories/7/assigns?status_id=10&not_called_days=0')), [7201, 7203, 2190811]);
      });
      test('filters page like the plain list, and a bad filter is a 400', async () => {
        const first = await admin(h.app, 'GET', '/repositories/7/assigns?status_id=10&limit=2');
        assert.deepEqual(ids(first), [7201, 7203]);
        const next = await admin(h.app, 'GET', `/repositories/7/assigns?status_id=10&limit=2&cursor=${first.next_cursor}`);
        assert.deepEqual(ids(next), [2190811]);
        await admin(h.app, 'GET', '/repositories/7/assigns?status_id=-1', undefined, 400);
        await admin(h.app, 'GET', '/repositories/7/assigns?not_called_days=x', undefined, 400);
        await admin(h.app, 'GET', '/repositories/7/assigns?worker=98', undefined, 400);
      });
      test('the export of a filtered list has exactly the listed rows, in every format; a bad filter is a 400', async () => {
        const exported = async (query: string) => {
          const res = await h.app.inject({ method: 'GET', url: `/admin/v1/projects/10/export?repository_id=7&${query}`, headers: adminHeaders });
          assert.equal(res.statusCode, 200, res.body);
          return res.body.trim().split('\n').slice(1).map((l) => Number(l.replace(/^\uFEFF/, '').split(',')[1]));
        };
        for (const filter of ['status_id=10', 'status_id=0', 'worker_id=98', 'not_called_days=1', 'status_id=10&not_called_days=0']) {
          const listed = ids(await admin(h.app, 'GET', `/repositories/7/assigns?${filter}&limit=1000`));
          assert.deepEqual(await exported(filter), listed, filter);
          assert.deepEqual(await exported(`${filter}&format=excel`), listed, `${filter} excel`);
        }
        const xlsx = await h.app.inject({ method: 'GET', url: '/admin/v1/projects/10/export?repository_id=7&status_id=0&format=xlsx', headers: adminHeaders });
        assert.equal(xlsx.statusCode, 200);
        const bad = await h.app.inject({ method: 'GET', url: '/admin/v1/projects/10/export?repository_id=7&not_called_days=-1', headers: adminHeaders });
        assert.equal(bad.statusCode, 400);
        assert.match(bad.body, /not_called_days/);
      });
    });
  });
}
