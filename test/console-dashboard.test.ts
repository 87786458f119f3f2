// The supervisor's screens in headless Chromium (Debian's package, test/browser.ts), in English and in
// Hebrew: the dashboard shows the numbers of the database and moves when an IVR's set_status lands; the
// lists page filters a repository's assigns by status and by "not called for N days". axe-core checks
// both screens. SQLite only: the statistics API runs on both databases in test/statistics.test.ts.
// CONSOLE_SCREENSHOTS=1 also writes docs/console/*-dashboard.png and *-lists.png.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { buildConsole } from '../scripts/build-console.mjs';
import { browserSkipReason, checkA11y, launchBrowser, shot } from './browser.ts';
import { admin, importBody, KEYS, seedProject, setup, tel, type Harness } from './helpers.ts';

const PASSWORD = 'correct horse battery';

const skip = browserSkipReason();
if (skip) console.log(`# console-dashboard: ${skip}`);

describe('supervisor screens in Chromium (sqlite)', { skip }, () => {
  let h: Harness;
  let browser: Browser;
  let origin: string;

  before(async () => {
    await buildConsole();
    h = await setup('sqlite', { CRM_TIMEZONE: 'Asia/Jerusalem' });
    await seedProject(h.app, 10);
    for (const [id, first] of [[601, 'Avi'], [602, 'Batya'], [603, 'Gil']] as const) {
      await admin(h.app, 'POST', '/projects/10/customers', { id, fields: { first_name: first } });
      await admin(h.app, 'POST', '/repositories/7/assigns', { id: 6000 + id, customer_id: id });
    }
    await admin(h.app, 'POST', '/users', { username: 'sara', password: PASSWORD, role: 'supervisor', project_ids: [10], display_name: 'Sara' });
    origin = await h.app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await h?.close();
  });

  const callsToday = async () =>
    Number((await h.db.q.selectFrom('call_events').select((eb) => eb.fn.countAll<number>().as('n')).where('project_id', '=', 10).executeTakeFirstOrThrow()).n);

  for (const lang of ['en', 'he'] as const) {
    test(`${lang}: the dashboard shows the database's numbers and follows set_status calls`, async () => {
      const ctx = await browser.newContext({ locale: lang === 'he' ? 'he-IL' : 'en-US', bypassCSP: true, viewport: { width: 1280, height: 1000 } });
      ctx.setDefaultTimeout(8000);
      const page = await ctx.newPage();
      await page.goto(`${origin}/app/dashboard?project_id=10`);
      await page.waitForURL(/\/app\/login/);
      await page.locator('input[name="username"]').fill('sara');
      await page.locator('input[name="password"]').fill(PASSWORD);
      await page.locator('button[type="submit"]').click();
      await page.waitForURL(/\/app\/dashboard/);
      const tile = page.getByTestId('calls-today');
      await tile.waitFor();
      assert.equal(Number(await tile.textContent()), await callsToday());

      // Two dispositions through the telephony API, as an IVR sends them.
      const before = await callsToday();
      for (const assign of [6601, 6602]) {
        const r = await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: assign, status_id: 10, worker_id: 99 });
        assert.equal(r.code, 0);
      }
      assert.equal(await callsToday(), before + 2);
      await page.reload();
      await page.getByTestId('calls-today').getByText(String(before + 2), { exact: true }).waitFor();
      const changes = Number((await h.db.q.selectFrom('history').select((eb) => eb.fn.countAll<number>().as('n')).where('kind', '=', 'status').executeTakeFirstOrThrow()).n);
      assert.equal(Number(await page.getByTestId('changes-today').textContent()), changes);
      // Repository "Leads" (7): its assigns and how many have no status yet.
      const leads = page.getByTestId('repositories').locator('tr', { hasText: 'Leads' });
      const noStatus = Number((await h.db.q.selectFrom('assigns').select((eb) => eb.fn.countAll<number>().as('n')).where('repository_id', '=', 7).where('status_id', 'is', null).executeTakeFirstOrThrow()).n);
      assert.match((await leads.textContent()) ?? '', new RegExp(`\\b${noStatus}\\b`));
      await checkA11y(page, `${lang} dashboard`);
      await shot(page, `${lang}-dashboard`);

      // The lists page, from the repository's link: only assigns with no status yet.
      await leads.getByRole('link').click();
      await page.waitForURL(/\/app\/lists\?project_id=10&repository_id=7/);
      await page.locator('select[name="status_id"]').selectOption('0');
      await page.locator('form.filters button[type="submit"]').click();
      await page.waitForURL(/status_id=0/);
      const rows = page.getByTestId('assign-list').locator('tbody tr');
      await rows.first().waitFor();
      const expected = await h.db.q.selectFrom('assigns').select('id').where('repository_id', '=', 7).where('status_id', 'is', null).orderBy('id').execute();
      // The address changes before the filtered rows arrive (the list is fetched after it), so the
      // unfiltered rows may still be on the page: wait for the list to settle, then compare.
      await page
        .waitForFunction(
          (ids) => [...document.querySelectorAll('[data-testid="assign-list"] tbody tr td:first-child')].map((td) => td.textContent).join(',') === ids.join(','),
          expected.map((r) => String(r.id)),
        )
        .catch(() => undefined);
      assert.deepEqual(await rows.locator('td:first-child').allTextContents(), expected.map((r) => String(r.id)));
      await checkA11y(page, `${lang} lists`);
      await shot(page, `${lang}-lists`);

      // "Export this list" downloads exactly the listed rows (with the session), and the file imports
      // back unchanged: an update import of it changes nothing.
      const link = page.locator('a.export-link', { hasText: 'CSV' });
      assert.match((await link.getAttribute('href')) ?? '', /status_id=0/);
      const download = await page.request.get(new URL((await link.getAttribute('href'))!, page.url()).href);
      assert.equal(download.status(), 200);
      const csv = await download.text();
      const lines = csv.trim().split('\n');
      assert.equal(lines.length, expected.length + 1, csv);
      assert.deepEqual(lines.slice(1).map((l) => l.split(',')[1]), expected.map((r) => String(r.id)));
      const historyBefore = await h.db.q.selectFrom('history').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const again = await importBody(h.app, csv, { repository: 7, onDuplicate: 'update' });
      assert.equal(again.statusCode, 200, again.body);
      assert.deepEqual([again.json().created, again.json().error_count], [0, 0]);
      const historyAfter = await h.db.q.selectFrom('history').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      assert.equal(Number(historyAfter.n), Number(historyBefore.n), 'the re-import changed nothing');
      await ctx.close();
    });
  }
});
