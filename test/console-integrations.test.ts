// The webhooks and integrations screens in headless Chromium (Debian's package, test/browser.ts), on each
// database: a webhook created through the form shows its secret once (not after a reload); a set_status
// made while its receiver is down is listed as a failed delivery with the error, and Retry delivers it
// once the receiver is up; a VICIdial status map saved in the form is the admin API's (a bad code is
// refused with the API's message and changes nothing); the Dispo Call URL shown, filled as VICIdial
// would, records the call; the 3CX roles are saved and the template downloads as XML pointing at this
// server's lookup. axe-core checks both pages in both languages. CONSOLE_SCREENSHOTS=1 also writes
// docs/console/{en,he}-{webhooks,integrations}.png.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { buildConsole } from '../scripts/build-console.mjs';
import { browserSkipReason, checkA11y, launchBrowser } from './browser.ts';
import { admin, adminHeaders, dialects, KEYS, seedProject, setup, tel, type Harness } from './helpers.ts';
import { Receiver } from './receiver.ts';

const PASSWORD = 'correct horse battery';
const SHOTS = process.env.CONSOLE_SCREENSHOTS === '1' ? fileURLToPath(new URL('../docs/console/', import.meta.url)) : undefined;
// Retries every 50-200 ms and a give-up after 1.5 s: a delivery to a dead receiver is `failed` within seconds.
const FAST = { CRM_WEBHOOK_POLL_MS: '20', CRM_WEBHOOK_RETRY_FIRST_MS: '50', CRM_WEBHOOK_RETRY_MAX_MS: '200', CRM_WEBHOOK_TIMEOUT_MS: '1000', CRM_WEBHOOK_GIVE_UP_MS: '1500' };

const skip = browserSkipReason();
if (skip) console.log(`# console-integrations: ${skip}`);

for (const dialect of dialects()) {
  describe(`webhooks and integrations screens in Chromium (${dialect})`, { skip }, () => {
    let h: Harness;
    let browser: Browser;
    let origin: string;
    const rx = new Receiver();

    before(async () => {
      await buildConsole();
      h = await setup(dialect, FAST);
      await seedProject(h.app, 10);
      await admin(h.app, 'POST', '/users', { username: 'root', password: PASSWORD, role: 'admin' });
      // A port nobody listens on (yet): the receiver is down until the test starts it there.
      await rx.start();
      await rx.stop();
      origin = await h.app.listen({ port: 0, host: '127.0.0.1' });
      browser = await launchBrowser();
    });
    after(async () => {
      await browser?.close();
      await h?.close();
      await rx.stop();
    });

    async function signedIn(lang: 'en' | 'he', path: string): Promise<Page> {
      const ctx = await browser.newContext({ locale: lang === 'he' ? 'he-IL' : 'en-US', bypassCSP: true, viewport: { width: 1280, height: 1000 } });
      ctx.setDefaultTimeout(10_000);
      const page = await ctx.newPage();
      await page.goto(`${origin}/app${path}`);
      await page.waitForURL(/\/app\/login/);
      await page.locator('input[name="username"]').fill('root');
      await page.locator('input[name="password"]').fill(PASSWORD);
      await page.locator('button[type="submit"]').click();
      await page.waitForURL((u) => u.pathname === `/app${path.split('?')[0]}`);
      return page;
    }

    /** Clicks Refresh until a delivery row of the status is listed. */
    async function deliveryRow(page: Page, status: string) {
      const row = page.getByTestId('delivery-list').locator(`tr[data-status="${status}"]`);
      const end = Date.now() + 10_000;
      while ((await row.count()) === 0) {
        assert.ok(Date.now() < end, `a ${status} delivery is listed`);
        await page.getByRole('button', { name: 'Refresh' }).click();
        await page.waitForTimeout(200);
      }
      return row.first();
    }

    test('a webhook made in the form: bad URL refused, secret shown once, failed delivery retried, disabled, deleted', async () => {
      const page = await signedIn('en', '/webhooks');
      const form = page.getByRole('form', { name: 'Add webhook' });

      // The API's message for a URL that is not http(s); nothing is created.
      await form.locator('input[name="url"]').fill('ftp://files.example.com/in');
      await form.getByRole('button', { name: 'Add webhook' }).click();
      await page.getByRole('alert').filter({ hasText: 'http or https' }).waitFor();
      assert.deepEqual((await admin(h.app, 'GET', '/webhooks')).items, []);

      await form.locator('input[name="url"]').fill(rx.url);
      await form.getByLabel('call.recorded').check();
      await form.locator('input[name="project_ids"]').fill('10');
      await form.getByRole('button', { name: 'Add webhook' }).click();
      const secret = await page.getByTestId('webhook-secret').inputValue();
      assert.match(secret, /^whsec_[0-9a-f]{48}$/);
      const [hook] = (await admin(h.app, 'GET', '/webhooks')).items;
      assert.deepEqual({ url: hook.url, events: hook.events, projects: hook.project_ids, disabled: hook.disabled }, {
        url: rx.url,
        events: ['assign.status_changed', 'call.recorded'],
        projects: [10],
        disabled: false,
      });
      await page.getByTestId('webhook-list').getByRole('cell', { name: rx.url, exact: true }).waitFor();

      // Once: a reload shows the list without the secret.
      await page.reload();
      await page.getByTestId('webhook-list').getByRole('cell', { name: rx.url, exact: true }).waitFor();
      assert.equal(await page.getByTestId('webhook-secret').count(), 0);
      assert.ok(!(await page.content()).includes(secret), 'the secret is nowhere in the page');

      // An event while the receiver is down: failed after the give-up time, with the connection error.
      assert.equal((await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 2190811, status_id: 2, worker_id: 99, call_id: 'ui-1' })).code, 0);
      await page.getByRole('link', { name: `Show deliveries ${rx.url}` }).click();
      await page.waitForURL(/\/app\/webhooks\?id=\d+/);
      const failed = await deliveryRow(page, 'failed');
      const failedText = await failed.innerText();
      assert.match(failedText, /assign\.status_changed|call\.recorded/);
      assert.match(failedText, /ECONNREFUSED|connect|refused|fetch failed/i, failedText);
      await checkA11y(page, `${dialect} en webhooks with deliveries`);

      // Up again: Retry sends it now and it is listed as delivered.
      await rx.start(rx.port);
      await failed.getByRole('button', { name: /Retry/ }).click();
      await page.getByRole('status').filter({ hasText: 'Sent again.' }).waitFor();
      await rx.waitFor((r) => r.received.length >= 1);
      await deliveryRow(page, 'delivered');

      // Disable, then delete behind a confirmation.
      await page.getByRole('button', { name: `Disable ${rx.url}` }).click();
      await page.getByRole('button', { name: `Enable ${rx.url}` }).waitFor();
      assert.equal((await admin(h.app, 'GET', `/webhooks/${hook.id}`)).disabled, true);
      await page.getByRole('button', { name: `Delete ${rx.url}` }).click();
      await page.getByRole('button', { name: 'Cancel' }).click();
      assert.equal((await admin(h.app, 'GET', '/webhooks')).items.length, 1, 'cancel keeps it');
      await page.getByRole('button', { name: `Delete ${rx.url}` }).click();
      await page.getByRole('button', { name: 'Yes, delete' }).click();
      await page.getByText('No webhook yet.').waitFor();
      assert.deepEqual((await admin(h.app, 'GET', '/webhooks')).items, []);
      await page.context().close();
    });

    test('integrations: VICIdial map and Dispo Call URL, 3CX roles and template, Asterisk dialplan', async () => {
      const page = await signedIn('en', '/integrations?project_id=10');
      const vici = page.locator('section[aria-labelledby="sec-vicidial"]');

      // The status map through the form: one code, then a bad code refused with the API's message.
      await vici.getByRole('button', { name: 'Add a code' }).click();
      await vici.getByLabel('VICIdial code 1').fill('SALE');
      await vici.getByLabel('callcrm status 1').selectOption('10');
      await vici.getByRole('button', { name: 'Save' }).click();
      await vici.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
      assert.deepEqual(await admin(h.app, 'GET', '/projects/10/integrations/vicidial'), { status_map: { SALE: 10 } });
      await vici.getByRole('button', { name: 'Add a code' }).click();
      await vici.getByLabel('VICIdial code 2').fill('CALL BACK');
      await vici.getByLabel('callcrm status 2').selectOption('2');
      await vici.getByRole('button', { name: 'Save' }).click();
      await vici.getByRole('alert').filter({ hasText: /status_map/ }).waitFor();
      assert.deepEqual(await admin(h.app, 'GET', '/projects/10/integrations/vicidial'), { status_map: { SALE: 10 } }, 'a refused map changes nothing');
      await vici.getByLabel('VICIdial code 2').fill('CALLBK');
      await vici.getByRole('button', { name: 'Save' }).click();
      await vici.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
      assert.deepEqual(await admin(h.app, 'GET', '/projects/10/integrations/vicidial'), { status_map: { SALE: 10, CALLBK: 2 } });

      // The Dispo Call URL, with the key typed in, filled as VICIdial fills it, records the call and status.
      await vici.getByLabel(/^set_status key/).fill(KEYS.set_status);
      const dispo = await vici.getByTestId('dispo-url').inputValue();
      assert.ok(dispo.startsWith(`VAR${origin}/integrations/vicidial/dispo?authkey=${KEYS.set_status}&project_id=10&phone_number=--A--phone_number--B--`), dispo);
      const values: Record<string, string> = { phone_number: '0500000000', vendor_lead_code: '2190811', dispo: 'SALE', user: '99', uniqueid: '1764770000.1' };
      const filled = dispo.slice(3).replace(/--A--(\w+)--B--/g, (_, name: string) => encodeURIComponent(values[name] ?? ''));
      const answer = await h.app.inject({ method: 'GET', url: filled.slice(origin.length) });
      assert.match(answer.body, /^OK/, answer.body);
      assert.equal((await admin(h.app, 'GET', '/assigns/2190811')).status_id, 10);

      // 3CX: roles saved through the form; the template downloads and parses, pointing at this server.
      const cx = page.locator('section[aria-labelledby="sec-3cx"]');
      await cx.locator('select[name="email_field"]').selectOption('email');
      await cx.locator('input[name="phone:mobile"]').check();
      await cx.getByRole('button', { name: 'Save' }).click();
      await cx.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
      assert.deepEqual(await admin(h.app, 'GET', '/projects/10/integrations/3cx'), { email_field: 'email', phone_fields: ['mobile'] });
      const [download] = await Promise.all([page.waitForEvent('download'), cx.getByTestId('template-link').click()]);
      const xml = readFileSync((await download.path())!, 'utf8');
      const parsed = await page.evaluate((text) => {
        const doc = new DOMParser().parseFromString(text, 'application/xml');
        return { error: doc.querySelector('parsererror')?.textContent ?? null, root: doc.documentElement.nodeName, lookup: doc.querySelector('Scenario[Id=""] Request')?.getAttribute('Url') ?? null };
      }, xml);
      assert.deepEqual(parsed, { error: null, root: 'Crm', lookup: `${origin}/integrations/3cx/lookup?project_id=10&number=[Number]` });

      // Asterisk: the name fields saved, the dialplan with this server's address.
      const ast = page.locator('section[aria-labelledby="sec-asterisk"]');
      await ast.getByLabel(/^Caller-name fields/).fill('first_name last_name');
      await ast.getByRole('button', { name: 'Save' }).click();
      await ast.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
      assert.deepEqual(await admin(h.app, 'GET', '/projects/10/integrations/asterisk'), { name_fields: ['first_name', 'last_name'] });
      const plan = await ast.getByTestId('dialplan').inputValue();
      assert.ok(plan.includes(`\${CURL(${origin}/integrations/asterisk/caller-name?authkey=GET_DATA_KEY&project_id=10&number=\${URIENCODE(\${CALLERID(num)})}&did=\${EXTEN})}`), plan);
      await checkA11y(page, `${dialect} en integrations`);
      await page.context().close();
    });

    test('both pages in Hebrew and English pass axe (and are photographed for the docs)', async () => {
      const res = await h.app.inject({ method: 'POST', url: '/admin/v1/webhooks', headers: adminHeaders, payload: { url: 'https://billing.example.com/callcrm', events: ['assign.status_changed', 'call.recorded'], project_ids: [10] } });
      assert.equal(res.statusCode, 201);
      // One event for it, so its delivery log has a row to show.
      assert.equal((await tel(h.app, 'set_status', { authkey: KEYS.set_status, repository_assign_id: 555, status_id: 10, worker_id: 99, call_id: 'ui-2' })).code, 0);
      for (const lang of ['en', 'he'] as const) {
        const page = await signedIn(lang, `/webhooks?id=${res.json().id}`);
        await page.getByTestId('webhook-list').waitFor();
        await page.getByTestId('delivery-list').waitFor();
        assert.equal(await page.evaluate(() => document.documentElement.dir), lang === 'he' ? 'rtl' : 'ltr');
        await checkA11y(page, `${dialect} ${lang} webhooks`);
        if (SHOTS && dialect === 'sqlite') {
          mkdirSync(SHOTS, { recursive: true });
          await page.screenshot({ path: `${SHOTS}${lang}-webhooks.png`, fullPage: true });
        }
        await page.goto(`${origin}/app/integrations?project_id=10`);
        await page.getByTestId('status-map').waitFor();
        await page.getByTestId('dialplan').waitFor();
        await checkA11y(page, `${dialect} ${lang} integrations`);
        if (SHOTS && dialect === 'sqlite') await page.screenshot({ path: `${SHOTS}${lang}-integrations.png`, fullPage: true });
        await page.context().close();
      }
    });
  });
}
