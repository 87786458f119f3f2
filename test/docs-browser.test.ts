// {BASE}/docs in headless Chromium, on a real listener with the demo loaded: a deep link opens the
// get_data operation; Swagger UI renders from this server alone (every request stays on it, no CSP
// violation), telephony first with no 405 operations; "Try it out" on get_data answers the demo's data;
// axe-core finds no serious or critical violation. One page load for all of it (rendering the whole API
// is the slow part). SQLite only: the page is the subject here, and openapi.test.ts covers the document
// on both databases. Under a base path, so the page's links to its files are tested too.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { setup, type Harness } from './helpers.ts';
import { browserSkipReason, launchBrowser } from './browser.ts';
import { loadDemo } from '../src/crm/demo.ts';
import { TELEPHONY_EXAMPLES } from '../src/docs/telephony-examples.ts';

const BASE = '/dev-6';
const WAIT = { timeout: 45_000 };

describe('/docs in Chromium', { skip: browserSkipReason() }, () => {
  let h: Harness;
  let browser: Browser;
  let origin: string;
  let page: Page;
  const requests: string[] = [];
  const problems: string[] = [];

  before(async () => {
    h = await setup('sqlite', { CRM_BASE_PATH: BASE });
    await loadDemo(h.db, h.config.defaultCountry);
    origin = await h.app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchBrowser();
    // A page that records every request it makes, every CSP violation and every script error.
    page = await browser.newPage();
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
    });
    await page.goto(`${origin}${BASE}/docs#/Telephony/get_data`);
    await page.locator('#operations-Telephony-get_data').waitFor(WAIT);
  });
  after(async () => {
    await browser?.close();
    await h?.close();
  });

  test('a deep link opens the get_data operation, and only it', async () => {
    const op = page.locator('#operations-Telephony-get_data.is-open');
    await op.locator('tr[data-param-name="out"]').waitFor(WAIT);
    assert.match(await op.locator('.opblock-summary-path').innerText(), /\/dev-6\/api\/get_data\.php/);
    assert.equal(await page.locator('.opblock.is-open').count(), 1);
  });

  test('the page loads only from this server, without CSP violations or script errors, telephony first, no 405 operations', async () => {
    const tags = await page.locator('.opblock-tag').evaluateAll((els) => els.map((e) => e.getAttribute('data-tag')));
    assert.equal(tags[0], 'Telephony');
    assert.ok(tags.includes('Customers'));
    const telephony = await page.locator('#operations-tag-Telephony').locator('xpath=..').locator('.opblock').evaluateAll((els) => els.map((e) => e.id));
    assert.deepEqual(telephony, ['get_data', 'get_data_post', 'set_data', 'set_data_post', 'set_status', 'set_status_post'].map((id) => `operations-Telephony-${id}`));
    assert.equal(await page.getByText('Method not allowed', { exact: true }).count(), 0);
    assert.ok(requests.some((u) => u.endsWith(`${BASE}/docs/static/swagger-ui-bundle.js`)));
    assert.deepEqual(requests.filter((u) => !u.startsWith(`${origin}/`)), [], 'no request leaves the server');
    assert.deepEqual(problems, []);
  });

  test('"Try it out" on get_data is filled with the demo values and Execute answers the demo data', async () => {
    const [example] = TELEPHONY_EXAMPLES.get_data;
    const op = page.locator('#operations-Telephony-get_data');
    const out = op.locator('tr[data-param-name="out"] input');
    await out.waitFor(WAIT);
    assert.equal(await out.inputValue(), example!.params.out);
    assert.equal(await op.locator('tr[data-param-name="phone"] input').inputValue(), example!.params.phone);
    await op.locator('button.execute').click();
    const body = op.locator('.live-responses-table .response-col_description .highlight-code pre');
    await body.waitFor(WAIT);
    assert.deepEqual(JSON.parse(await body.innerText()), example!.answer);
    assert.match(await op.locator('.request-url pre').innerText(), new RegExp(`^${origin}${BASE}/api/get_data\\.php\\?authkey=Mindc_2023_get_data&`));
    assert.deepEqual(requests.filter((u) => !u.startsWith(`${origin}/`)), []);
    assert.deepEqual(problems, []);
  });

  test('"Try it out" on set_data\'s POST sends the vendor\'s form example, nothing more, and answers as documented', async () => {
    const example = TELEPHONY_EXAMPLES.set_data.find((e) => e.tryIt && e.method === 'POST')!;
    const op = page.locator('#operations-Telephony-set_data_post');
    await op.locator('.opblock-summary-control').click();
    const sent = page.waitForRequest((r) => r.method() === 'POST' && r.url() === `${origin}${BASE}/api/set_data.php`, WAIT);
    await op.locator('button.execute').click();
    assert.deepEqual(Object.fromEntries(new URLSearchParams((await sent).postData() ?? '')), example.params);
    const body = op.locator('.live-responses-table .response-col_description .highlight-code pre');
    await body.waitFor(WAIT);
    assert.deepEqual(JSON.parse(await body.innerText()), example.answer);
    assert.deepEqual(problems, []);
  });

  test('axe-core finds no serious or critical violation (with an operation open and its answer shown)', async () => {
    await page.evaluate(readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8'));
    const violations = await page.evaluate(async () => {
      const result = await (window as unknown as { axe: { run(): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe.run();
      return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
    });
    const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.deepEqual(serious, [], JSON.stringify(serious, null, 1));
  });
});
