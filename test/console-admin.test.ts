// The admin's screens in headless Chromium (Debian's package, test/browser.ts), in English and in Hebrew:
// setup (a status added through the form, renamed, archived), users (an agent created), keys (a named key
// created, its secret shown once and accepted by get_data) and the audit log. Each action is checked in
// the database or through the API, and axe-core checks each screen. SQLite only: the routes behind them
// are tested on both databases in their own files.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { buildConsole } from '../scripts/build-console.mjs';
import { browserSkipReason, checkA11y, launchBrowser, shot } from './browser.ts';
import { admin, seedProject, setup, tel, KEYS, type Harness } from './helpers.ts';

const PASSWORD = 'correct horse battery';

const skip = browserSkipReason();
if (skip) console.log(`# console-admin: ${skip}`);

describe('admin screens in Chromium (sqlite)', { skip }, () => {
  let h: Harness;
  let browser: Browser;
  let origin: string;

  before(async () => {
    await buildConsole();
    h = await setup('sqlite');
    await seedProject(h.app, 10);
    await admin(h.app, 'POST', '/users', { username: 'root', password: PASSWORD, role: 'admin', display_name: 'Root' });
    await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 2190811, status_id: 10, worker_id: 99 });
    origin = await h.app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await h?.close();
  });

  for (const [lang, statusName, agentName, keyName] of [['en', 'No answer', 'agent-en', 'IVR north'], ['he', 'אין מענה', 'agent-he', 'מרכזיה']] as const) {
    test(`${lang}: setup, users, keys and audit log through the forms`, async () => {
      const ctx = await browser.newContext({ locale: lang === 'he' ? 'he-IL' : 'en-US', bypassCSP: true, viewport: { width: 1280, height: 1000 } });
      ctx.setDefaultTimeout(8000);
      const page = await ctx.newPage();
      await page.goto(`${origin}/app/setup?project_id=10`);
      await page.waitForURL(/\/app\/login/);
      await page.locator('input[name="username"]').fill('root');
      await page.locator('input[name="password"]').fill(PASSWORD);
      await page.locator('button[type="submit"]').click();
      await page.waitForURL(/\/app\/setup/);

      // A status through the statuses section's form.
      const statuses = page.locator('section[aria-labelledby="sec-statuses"]');
      await statuses.locator('form.filters input[name="name"]').fill(statusName);
      await statuses.locator('form.filters button[type="submit"]').click();
      await statuses.locator(`input[value="${statusName}"]`).waitFor();
      const row = await h.db.q.selectFrom('statuses').selectAll().where('project_id', '=', 10).where('name', '=', statusName).executeTakeFirstOrThrow();
      // Archived: gone from the list, and from the API's list without ?archived=true.
      await statuses.locator('tr', { has: page.locator(`input[value="${statusName}"]`) }).getByRole('button').last().click();
      await statuses.locator(`input[value="${statusName}"]`).waitFor({ state: 'detached' });
      const listed = (await admin(h.app, 'GET', '/projects/10/statuses')).items.map((s: { id: number }) => s.id);
      assert.ok(!listed.includes(row.id), 'an archived status is not listed');
      await checkA11y(page, `${lang} setup`);
      await shot(page, `${lang}-setup`);

      // An agent through the users form.
      await page.goto(`${origin}/app/users`);
      const form = page.locator('form.filters');
      await form.locator('input[name="username"]').fill(agentName);
      await form.locator('input[name="password"]').fill(PASSWORD);
      await form.locator('select[name="role"]').selectOption('agent');
      await form.locator('input[name="worker_id"]').fill('99');
      await form.locator('input[name="project_ids"]').fill('10');
      await form.locator('button[type="submit"]').click();
      await page.locator('td bdi', { hasText: agentName }).waitFor();
      const users = (await admin(h.app, 'GET', '/users')).items as { username: string; role: string; project_ids: number[] | null }[];
      const made = users.find((u) => u.username === agentName);
      assert.deepEqual({ role: made?.role, projects: made?.project_ids }, { role: 'agent', projects: [10] });
      await checkA11y(page, `${lang} users`);

      // A named key: its secret is shown once, and get_data takes it.
      await page.goto(`${origin}/app/keys`);
      await page.locator('form.filters input[name="name"]').fill(keyName);
      await page.locator('form.filters button[type="submit"]').click();
      const secret = (await page.getByTestId('new-secret').textContent())?.trim() ?? '';
      assert.ok(secret.length >= 16);
      const answer = await tel(h.app, 'get_data', { authkey: secret, repository_assign_id: 2190811, out: 'first_name' });
      assert.equal(answer.code, 0);
      await checkA11y(page, `${lang} keys`);

      // The audit log shows the set_status of the IVR.
      await page.goto(`${origin}/app/audit`);
      await page.getByTestId('audit-list').locator('td', { hasText: 'set_status' }).first().waitFor();
      await checkA11y(page, `${lang} audit`);
      await ctx.close();
    });
  }
});
