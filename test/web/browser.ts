/**
 * Real headless Chromium for the UI tests: Debian's `chromium` (installed by .ci/run) driven by
 * playwright-core, with a fresh profile per launch. Without the binary the tests fail with a
 * message that says how to get it; they are never skipped.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.SHOAL_CHROMIUM ?? '/usr/bin/chromium';
export const VIEWPORT = { width: 1280, height: 800 };
export const SCREENSHOT_DIR = join(import.meta.dirname, 'screenshots');

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Launches Chromium with a fresh profile, or throws with instructions when it is missing. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}. The UI tests need a real browser: install Debian's ` +
        '`chromium` package (apt-get install chromium; .ci/run does this) or set SHOAL_CHROMIUM to a Chromium binary.',
    );
  }
  const profile = mkdtempSync(join(tmpdir(), 'shoal-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    viewport: VIEWPORT,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Waits until the page's results area reports one of the statuses (see web/js/main.js). */
export async function waitForStatus(page: Page, statuses: string[] = ['ready']): Promise<string> {
  const handle = await page.waitForFunction(
    (wanted) => {
      const s = document.querySelector('#results')?.getAttribute('data-status') ?? '';
      return wanted.includes(s) ? s : false;
    },
    statuses,
    { timeout: 30_000 },
  );
  return (await handle.jsonValue()) as string;
}

/** Saves a 1280×800 screenshot of the viewport as test/web/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  // Two animation frames: uPlot resizes to its container on the first.
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`) });
}
