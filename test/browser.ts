// Headless Chromium for browser tests: Debian's `chromium` package driven by playwright-core (never a
// downloaded browser build). .ci/run installs the package; where no browser exists the browser tests
// skip with one line saying so (see browserOrSkip).
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

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
