// Headless Chromium for browser tests: Debian's `chromium` package driven by playwright-core (never a
// downloaded browser build). .ci/run installs the package; where no browser exists the browser tests
// skip with one line saying so (see browserOrSkip).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean) as string[];

/** The Chromium executable, or undefined when this machine has none. */
export function chromiumPath(): string | undefined {
  return CANDIDATES.find((p) => existsSync(p));
}

/** Why browser tests cannot run here, or undefined when they can (pass to `describe(..., { skip })`). */
export function browserSkipReason(): string | undefined {
  return chromiumPath() ? undefined : 'no Chromium found (apt-get install -y chromium, or set CHROMIUM_PATH): browser tests skipped';
}

/** Launch headless Chromium with the flags this closed network needs (no background connections). */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error(browserSkipReason());
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

const AXE = fileURLToPath(new URL('../node_modules/axe-core/axe.min.js', import.meta.url));

/** axe-core on the page as it is: no serious or critical violation (the console's accessibility bar). */
export async function checkA11y(page: Page, screen: string) {
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const r = await axe.run();
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
  assert.deepEqual(violations, [], `axe on ${screen}`);
}

const SHOTS = process.env.CONSOLE_SCREENSHOTS === '1' ? fileURLToPath(new URL('../docs/console/', import.meta.url)) : undefined;

/** CONSOLE_SCREENSHOTS=1: writes docs/console/NAME.png (the screenshots the docs link); else nothing. */
export async function shot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });
}
