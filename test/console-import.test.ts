// The import wizard in headless Chromium (console.md "Import wizard"), in English and in Hebrew: an admin
// uploads a windows-1255 Hebrew CSV whose "עיר מגורים" column matches no field, sees the detected
// encoding and delimiter, remaps the column to city, sees a cell's date error in the preview, runs the
// import (the same route as the API), sees the summary with its reject and the rejects link, and undoes
// it. Every outcome is checked through the admin API; axe-core checks the preview and the summary.
// SQLite only: the route's choices and dry run are tested on both databases in import-preview.test.ts.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { buildConsole } from '../scripts/build-console.mjs';
import { browserSkipReason, checkA11y, launchBrowser, shot } from './browser.ts';
import { cp1255 } from './cp1255.ts';
import { admin, setup, type Harness } from './helpers.ts';

const PASSWORD = 'correct horse battery';
const P = 50;
const REPO = 51;

const skip = browserSkipReason();
if (skip) console.log(`# console-import: ${skip}`);

const WORDS = {
  en: { run: 'Import', undo: 'Undo this import', detected: 'Detected: windows-1255', semicolon: 'Detected: Semicolon', undone: /Undone: 1 customers removed/ },
  he: { run: 'ייבוא', undo: 'ביטול הייבוא', detected: 'זוהה: windows-1255', semicolon: 'זוהה: נקודה-פסיק', undone: /בוטל: 1 לקוחות הוסרו/ },
};

describe('import wizard in Chromium (sqlite)', { skip }, () => {
  let h: Harness;
  let browser: Browser;
  let origin: string;
  let dir: string;

  before(async () => {
    await buildConsole();
    h = await setup('sqlite');
    await admin(h.app, 'POST', '/projects', { id: P, name: 'Wizard' });
    await admin(h.app, 'POST', `/projects/${P}/fields`, { display_name: 'first_name', label: 'שם פרטי' });
    await admin(h.app, 'POST', `/projects/${P}/fields`, { display_name: 'mobile', label: 'טלפון נייד', type: 'phone' });
    await admin(h.app, 'POST', `/projects/${P}/fields`, { display_name: 'birthday', label: 'תאריך לידה', type: 'date' });
    await admin(h.app, 'POST', `/projects/${P}/fields`, { display_name: 'city', label: 'City' });
    await admin(h.app, 'POST', `/projects/${P}/repositories`, { id: REPO, name: 'Leads' });
    await admin(h.app, 'POST', '/users', { username: 'root', password: PASSWORD, role: 'admin', display_name: 'Root' });
    origin = await h.app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchBrowser();
    dir = mkdtempSync(join(tmpdir(), 'callcrm-wizard-'));
  });
  after(async () => {
    await browser?.close();
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const lang of ['en', 'he'] as const) {
    test(`${lang}: a Hebrew windows-1255 CSV is previewed, remapped, imported with a reject, and undone`, async () => {
      const w = WORDS[lang];
      const phone = lang === 'en' ? '0501234567' : '0501234568';
      const path = join(dir, `leads-${lang}.csv`);
      writeFileSync(path, cp1255(['שם פרטי;טלפון נייד;תאריך לידה;עיר מגורים', `דנה;${phone};15/03/1985;חיפה`, 'יוסי;0521234567;31/02/1990;תל אביב', ''].join('\r\n')));

      const ctx = await browser.newContext({ locale: lang === 'he' ? 'he-IL' : 'en-US', bypassCSP: true, viewport: { width: 1280, height: 1000 } });
      ctx.setDefaultTimeout(8000);
      const page = await ctx.newPage();
      await page.goto(`${origin}/app/import`);
      await page.waitForURL(/\/app\/login/);
      await page.locator('input[name="username"]').fill('root');
      await page.locator('input[name="password"]').fill(PASSWORD);
      await page.locator('button[type="submit"]').click();
      await page.waitForURL(/\/app\/import/);

      await page.locator('input[type="file"]').setInputFiles(path);
      const preview = page.getByTestId('import-preview');
      await preview.locator('td', { hasText: 'חיפה' }).waitFor();
      // What was detected is shown, and can be changed.
      assert.equal(await page.locator('select[name="encoding"] option[value=""]').textContent(), w.detected);
      assert.equal(await page.locator('select[name="delimiter"] option[value=""]').textContent(), w.semicolon);
      // The unmatched column is left out until it is mapped.
      const cityColumn = preview.locator('select[aria-label*="עיר מגורים"]');
      assert.equal(await cityColumn.inputValue(), '');
      assert.equal(await preview.locator('select[aria-label*="שם פרטי"]').inputValue(), 'first_name');
      await cityColumn.selectOption('city');
      // The impossible date is marked on its cell.
      const bad = preview.locator('td.cell-error');
      await bad.waitFor();
      assert.match((await bad.textContent()) ?? '', /31\/02\/1990.*not a real date/);
      assert.equal(await bad.count(), 1);
      await checkA11y(page, `${lang} import preview`);
      await shot(page, `${lang}-import-preview`);

      // The run shows its upload progress in a <progress> element (watched: a small file is sent at once).
      await page.evaluate(() => {
        const seen = globalThis as unknown as { sawProgress?: boolean };
        new MutationObserver(() => (seen.sawProgress ||= document.querySelector('progress') !== null)).observe(document.body, { childList: true, subtree: true });
      });
      await page.getByRole('button', { name: w.run, exact: true }).click();
      const summary = page.getByTestId('import-summary');
      await summary.waitFor();
      assert.match((await summary.getByTestId('import-created').textContent()) ?? '', /1$/);
      assert.match((await summary.getByTestId('import-error_count').textContent()) ?? '', /1$/);
      assert.equal(await page.evaluate(() => (globalThis as unknown as { sawProgress?: boolean }).sawProgress), true, 'a progress element was shown');
      const href = (await page.getByTestId('rejects-link').getAttribute('href')) ?? '';
      assert.match(href, /\/admin\/v1\/imports\/\d+\/rejects$/);
      // The rejects download is the route's CSV, with the rejected row as it was.
      const rejects = await page.request.get(origin + href);
      assert.equal(rejects.status(), 200);
      assert.match(await rejects.text(), /יוסי.*31\/02\/1990/);
      await checkA11y(page, `${lang} import summary`);
      await shot(page, `${lang}-import-summary`);

      const found = await admin(h.app, 'GET', `/projects/${P}/customers?phone=${phone}`);
      assert.deepEqual(found.items.map((c: { fields: Record<string, string> }) => c.fields), [{ first_name: 'דנה', mobile: phone, birthday: '1985-03-15', city: 'חיפה' }]);

      // Undo, after the confirmation.
      page.once('dialog', (d) => void d.accept());
      await page.getByRole('button', { name: w.undo }).click();
      await summary.getByText(w.undone).waitFor();
      assert.deepEqual((await admin(h.app, 'GET', `/projects/${P}/customers?phone=${phone}`)).items, []);
      await ctx.close();
    });
  }
});
