/**
 * Servers and pages for the UI tests that need their own data: a server on a free port over a
 * fresh store (optionally with API keys), the demo events, and opening a page that has settled.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { Store } from '../../engine/index.js';
import { buildApp, type ShoalApp } from '../../server/app.js';
import { parseApiKeys } from '../../server/auth.js';
import { loadDemo } from '../../server/cli/demo-command.js';
import { tempDir } from '../storage/helpers.js';
import { launchChromium, waitForStatus, type Browser } from './browser.js';

export interface Served {
  base: string;
  close(): Promise<void>;
}

/** A server on a free port over a fresh store that `fill` loads. */
export async function serve(fill: (store: Store, dir: string) => Promise<void>, apiKeys = ''): Promise<Served> {
  const dir = tempDir('shoal-ui-use-');
  const store = await Store.open(dir.dir, { log: () => {} });
  await fill(store, dir.dir);
  const shoal: ShoalApp = await buildApp({ store, apiKeys: apiKeys ? parseApiKeys(apiKeys) : [] });
  await shoal.app.listen({ port: 0, host: '127.0.0.1' });
  const addr = shoal.app.server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return {
    base: `http://127.0.0.1:${addr.port}`,
    async close() {
      await shoal.shutdown();
      await store.close(false);
      dir.cleanup();
    },
  };
}

/** Loads `events` demo events (default 3,000: every view has data, and it loads in a second). */
export const demoData = (events = 3_000) => async (store: Store, dir: string): Promise<void> => {
  await loadDemo({ dataDir: dir, store, events, out: { write: () => true } as unknown as NodeJS.WritableStream });
};

/** Opens a page and waits until its results report one of the statuses. */
export async function openPage(browser: Browser, url: string, statuses = ['ready']): Promise<Page> {
  const page = await browser.context.newPage();
  await page.goto(url);
  await waitForStatus(page, statuses);
  return page;
}

/** A test file's Chromium and demo-data server (started before its tests, closed after them), and opening pages on it. */
export interface DemoSession {
  readonly browser: Browser;
  readonly demo: Served;
  open(url: string, statuses?: string[]): Promise<Page>;
}

/** Registers the hooks that start and close a DemoSession; call at a test file's top level. */
export function demoSession(): DemoSession {
  let browser: Browser | undefined;
  let demo: Served | undefined;
  beforeAll(async () => {
    const launching = launchChromium().then((b) => { browser = b; });
    await Promise.all([launching, serve(demoData()).then((s) => { demo = s; })]);
  });
  afterAll(async () => {
    await browser?.close();
    await demo?.close();
  });
  return {
    get browser() { return browser!; },
    get demo() { return demo!; },
    open: (url, statuses = ['ready']) => openPage(browser!, url, statuses),
  };
}
