// The console in headless Chromium (Debian's package, test/browser.ts), in English and in Hebrew: an
// agent signs in through a screen pop, finds the caller by a number spelled three ways, edits a field
// (refused, then accepted), changes the status, records a call, sees all three in the history, and the
// IVR's get_data sees the change. An agent of another project gets 403 and sees nothing; signing out
// ends the session. axe-core checks every screen. SQLite only: this tests the UI; the API runs on both
// databases in its own tests. CONSOLE_SCREENSHOTS=1 also writes docs/console/*.png.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildConsole } from '../scripts/build-console.mjs';
import { browserSkipReason, checkA11y, launchBrowser, shot } from './browser.ts';
import { admin, KEYS, seedProject, setup, tel, type Harness } from './helpers.ts';

const PASSWORD = 'correct horse battery';


const skip = browserSkipReason();
if (skip) console.log(`# console-ui: ${skip}`);

describe('console in Chromium (sqlite)', { skip }, () => {
  let h: Harness;
  let browser: Browser;
  let origin: string;

  before(async () => {
    await buildConsole();
    h = await setup('sqlite', { CRM_TIMEZONE: 'Asia/Jerusalem' });
    await seedProject(h.app, 10);
    await seedProject(h.app, 20, 1000);
    // Project 20's customer has the same number as project 10's John Doe, and another name.
    await admin(h.app, 'PATCH', '/customers/1123', { fields: { first_name: 'Ruth', last_name: 'Cohen', email: 'ruth@mail.com' } });
    // Two customers sharing a number: the pop's chooser.
    for (const [id, first] of [[501, 'Avi'], [502, 'Batya']] as const) {
      await admin(h.app, 'POST', '/projects/10/customers', { id, fields: { first_name: first, last_name: 'Levi', mobile: '052-111-2222', city: 'Haifa' } });
      await admin(h.app, 'POST', '/repositories/7/assigns', { customer_id: id });
    }
    await admin(h.app, 'POST', '/users', { username: 'dana', password: PASSWORD, role: 'agent', worker_id: 99, project_ids: [10], display_name: 'Dana' });
    await admin(h.app, 'POST', '/users', { username: 'other', password: PASSWORD, role: 'agent', worker_id: 1099, project_ids: [20] });
    origin = await h.app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await h?.close();
  });

  async function newContext(lang: 'en' | 'he', bypassCSP = true): Promise<BrowserContext> {
    // bypassCSP lets axe-core be injected; the last test runs under the console's CSP.
    const ctx = await browser.newContext({ locale: lang === 'he' ? 'he-IL' : 'en-US', bypassCSP, timezoneId: 'UTC', viewport: { width: 1200, height: 900 } });
    ctx.setDefaultTimeout(20_000);
    return ctx;
  }

  async function signIn(page: Page, username: string) {
    await page.locator('input[name="username"]').fill(username);
    await page.locator('input[name="password"]').fill(PASSWORD);
    await page.locator('button[type="submit"]').click();
  }

  for (const lang of ['en', 'he'] as const) {
    const he = lang === 'he';
    const age = he ? '42' : '41';
    const notes = he ? 'חזרה ללקוח מחר' : 'Call back tomorrow';
    const status = he ? 'Call back' : 'Interested';

    test(`${lang}: an agent's call, from screen pop to history, seen by get_data`, async () => {
      const ctx = await newContext(lang);
      const page = await ctx.newPage();

      // Not signed in: the pop sends to sign-in, then back to the pop, which lands on the card.
      await page.goto(`${origin}/app/pop?phone=${encodeURIComponent('+972 50-000-0000')}&did=07333333333&agent=99`);
      await page.waitForURL(/\/app\/login\?next=/);
      assert.equal(await page.getAttribute('html', 'lang'), lang);
      assert.equal(await page.getAttribute('html', 'dir'), he ? 'rtl' : 'ltr');
      assert.equal(await page.getAttribute('input[name="username"]', 'autocomplete'), 'username');
      assert.equal(await page.getAttribute('input[name="password"]', 'autocomplete'), 'current-password');
      await checkA11y(page, 'sign-in');
      await shot(page, `${lang}-sign-in`);
      await signIn(page, 'dana');
      await page.waitForURL(/\/app\/customers\/123$/);
      await page.getByRole('heading', { level: 1, name: /John Doe/ }).waitFor();

      // The same number in two more spellings lands on the same card.
      for (const spelling of ['0500000000', '972-50-000-0000']) {
        await page.goto(`${origin}/app/pop?phone=${encodeURIComponent(spelling)}&project_id=10`);
        await page.waitForURL(/\/app\/customers\/123$/);
      }
      await page.getByRole('heading', { level: 1, name: /John Doe/ }).waitFor();
      assert.equal(await page.locator('a[href^="tel:"]').first().getAttribute('href'), 'tel:050-000-0000'.replace(/-/g, ''));

      // A field: an invalid value shows the API's message, a valid one is saved.
      const ageInput = page.locator('#f-age');
      await ageInput.fill('forty');
      await page.locator('form[aria-labelledby="details-title"] button[type="submit"]').click();
      await page.locator('#f-age-error').getByText('not a number').waitFor();
      assert.equal(await ageInput.getAttribute('aria-invalid'), 'true');
      await checkA11y(page, 'card with an error');
      await ageInput.fill(age);
      await page.locator('form[aria-labelledby="details-title"] button[type="submit"]').click();
      await page.locator('#f-age-error').waitFor({ state: 'detached' });
      await page.getByText(he ? 'נשמר.' : 'Saved.').waitFor();

      // The status of the assign in "Leads", then a call with notes.
      const statusPicker = page.getByRole('combobox', { name: /Leads/ });
      await statusPicker.selectOption({ label: status });
      await page.getByText(he ? 'הסטטוס עודכן.' : 'Status changed.').waitFor();
      await page.locator('select#call-assign').selectOption({ label: 'Leads' });
      await page.locator('#call-notes').fill(notes);
      await page.locator('form[aria-labelledby="call-title"] button[type="submit"]').click();
      await page.getByText(he ? 'השיחה תועדה.' : 'Call recorded.').waitFor();

      // All three in the history of the "Leads" assign.
      const timeline = page.locator('ol.timeline');
      await timeline.locator('li.kind-call', { hasText: notes }).waitFor();
      await timeline.locator('li.kind-status', { hasText: status }).first().waitFor();
      await timeline.locator('li.kind-field', { hasText: age }).first().waitFor();
      await checkA11y(page, 'card after changes');
      await shot(page, `${lang}-card`);

      // The IVR sees it.
      const answer = await tel(h.app, 'get_data', { authkey: KEYS.get_data, phone: '050-000-0000', project_id: 10, did: '07333333333', repository_id: 7, out: 'age,last_status,last_notes' });
      assert.equal(answer.code, 0, JSON.stringify(answer));
      assert.deepEqual(answer.message[0], { uid: '123', age, last_status: status, last_notes: notes });

      // Search: an agent looks up by number (a name search is a supervisor's), and the pop's chooser.
      await page.goto(`${origin}/app/search?q=levi`);
      await page.getByRole('alert').getByText(he ? 'נציגים מאתרים' : 'Agents find customers').waitFor();
      await page.goto(`${origin}/app/search?q=${encodeURIComponent('052 111 2222')}`);
      await page.locator('table.list tbody tr').nth(1).waitFor();
      // Phones in national format (console.md), not the index's E.164 (+972521112222).
      const shown = await page.locator('table.list tbody tr').first().locator('.phone').allInnerTexts();
      assert.ok(shown.includes('052-111-2222'), JSON.stringify(shown));
      assert.ok(!shown.some((p) => p.startsWith('+972')), JSON.stringify(shown));
      await checkA11y(page, 'search');
      await shot(page, `${lang}-search`);
      await page.goto(`${origin}/app/pop?phone=0521112222&project_id=10`);
      await page.getByRole('link', { name: 'Batya Levi' }).waitFor();
      assert.ok((await page.locator('#pop-title').innerText()).includes('052-111-2222'));
      await checkA11y(page, 'pop chooser');
      await shot(page, `${lang}-pop-chooser`);
      await page.getByRole('link', { name: 'Batya Levi' }).click();
      await page.waitForURL(/\/app\/customers\/502$/);

      // A number no one has: search with the number and a new-customer form holding it.
      await page.goto(`${origin}/app/pop?phone=${encodeURIComponent('054-999-8888')}&project_id=10`);
      await page.waitForURL(/\/app\/search\?q=054-999-8888/);
      assert.equal(await page.locator('#q').inputValue(), '054-999-8888');
      assert.equal(await page.locator('#new-mobile').inputValue(), '054-999-8888');
      await checkA11y(page, 'search with new customer');

      // Sign out ends the session: the old cookie is refused.
      const cookie = (await ctx.cookies()).find((c) => c.name === 'callcrm_session')!;
      assert.ok(cookie, 'session cookie');
      await page.getByRole('button', { name: he ? 'יציאה' : 'Sign out' }).click();
      await page.waitForURL(/\/app\/login/);
      const me = await fetch(`${origin}/auth/me`, { headers: { cookie: `${cookie.name}=${cookie.value}` } });
      assert.equal(me.status, 401);
      const api = await fetch(`${origin}/admin/v1/customers/123`, { headers: { cookie: `${cookie.name}=${cookie.value}` } });
      assert.equal(api.status, 401);
      await ctx.close();
    });

    test(`${lang}: an agent of another project gets 403 from the API and no data in the UI`, async () => {
      const ctx = await newContext(lang);
      const page = await ctx.newPage();
      await page.goto(`${origin}/app/customers/123`);
      await page.waitForURL(/\/app\/login/);
      await signIn(page, 'other');
      await page.waitForURL(/\/app\/customers\/123$/);
      await page.getByRole('alert').waitFor();
      assert.equal(await page.getByRole('alert').textContent(), he ? 'לקוח זה אינו בפרויקטים שלך.' : 'This customer is not in your projects.');
      const body = await page.locator('body').textContent();
      assert.ok(!/John|Doe|john@mail\.com/.test(body ?? ''), body ?? '');
      const status = await page.evaluate(async () => (await fetch('/admin/v1/customers/123')).status);
      assert.equal(status, 403);
      const history = await page.evaluate(async () => (await fetch('/admin/v1/assigns/2190811/history')).status);
      assert.equal(history, 403);
      // The pop finds only their own project's customer with that number.
      await page.goto(`${origin}/app/pop?phone=0500000000`);
      await page.waitForURL(/\/app\/customers\/1123$/);
      await page.getByRole('heading', { level: 1, name: /Ruth Cohen/ }).waitFor();
      assert.ok(!(await page.locator('body').textContent())!.includes('Project 10'));
      await checkA11y(page, 'forbidden');
      await ctx.close();
    });
  }

  test('under its CSP the console runs with no violation; sign-in follows only a same-site next', async () => {
    const ctx = await newContext('en', false);
    const page = await ctx.newPage();
    const violations: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    await page.goto(`${origin}/app/login?next=${encodeURIComponent('//evil.example/app/x')}`);
    await signIn(page, 'dana');
    await page.waitForURL(`${origin}/app/`);
    await page.goto(`${origin}/app/login?next=${encodeURIComponent('https://evil.example/app/')}`);
    await page.waitForURL(`${origin}/app/`);
    await page.goto(`${origin}/app/login?next=${encodeURIComponent('/\\evil.example/')}`);
    await page.waitForURL(`${origin}/app/`);
    // A same-site path outside the console is followed too.
    await page.goto(`${origin}/app/login?next=${encodeURIComponent('/healthz')}`);
    await page.waitForURL(`${origin}/healthz`);
    await page.goto(`${origin}/app/customers/123`);
    await page.getByRole('heading', { level: 1, name: /John Doe/ }).waitFor();
    assert.deepEqual(violations, []);
    await ctx.close();
  });
});
