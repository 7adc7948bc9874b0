/**
 * The exploration UI end to end, in real headless Chromium against a real server (buildApp on
 * port 0 over a temporary store with ~10k demo events): views are built by clicking as a user
 * would, and the numbers on the page are checked against the same queries sent to the API (the
 * query panel's JSON, after checking it says what was clicked). Also: a shared link restores the
 * view, markup in event values is shown as text and runs nothing, errors show their code, and
 * funnel exclusions, session length caps and retention breakdowns are sent and shown as built.
 * Screenshots of each view (1280×800) go to test/web/screenshots/.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../engine/index.js';
import { buildApp, type ShoalApp } from '../../server/app.js';
import { loadDemo } from '../../server/cli/demo-command.js';
import { tempDir } from '../storage/helpers.js';
import { launchChromium, screenshot, waitForStatus, type Browser } from './browser.js';
import { act, addCondition, fixRange, label, num, panelQuery, tableRows } from './page-helpers.js';

const PAYLOAD = `<img src=x onerror="window.__xss=1;alert('xss')">`;
/** Demo events loaded (plus the three markup events): enough for every view, small enough to stay quick. */
const DEMO_EVENTS = 10_000;

let dir: { dir: string; cleanup: () => void };
let store: Store;
let shoal: ShoalApp;
let base = '';
let browser: Browser;

beforeAll(async () => {
  // Chromium starts while the data loads; without it this fails at once, with instructions.
  const launching = launchChromium().then((b) => { browser = b; });
  await Promise.all([launching, serve()]);
});

/**
 * A server over the demo events plus three events whose name and property are markup, and the
 * first events of three new users in one country: the newest events, so whatever the time of
 * day, a retention cohort is in progress (today's) next to that country's finished ones.
 */
async function serve(): Promise<void> {
  dir = tempDir('shoal-ui-');
  store = await Store.open(dir.dir, { log: () => {} });
  await loadDemo({ dataDir: dir.dir, store, events: DEMO_EVENTS, out: { write: () => true } as unknown as NodeJS.WritableStream });
  shoal = await buildApp({ store });
  const now = Date.now();
  const xss = [1, 2, 3].map((i) => JSON.stringify({ user_id: `xss_${i}`, time: new Date(now - i * 60_000).toISOString(), event: PAYLOAD, props: { note: PAYLOAD } }));
  const fresh = [1, 2, 3].map((i) => JSON.stringify({ user_id: `fresh_${i}`, time: new Date(now).toISOString(), event: 'page_view', country: 'US' }));
  const res = await shoal.app.inject({ method: 'POST', url: '/v1/tables/events/events', headers: { 'content-type': 'application/x-ndjson' }, payload: `${[...xss, ...fresh].join('\n')}\n` });
  expect(res.statusCode).toBe(200);
  await shoal.app.listen({ port: 0, host: '127.0.0.1' });
  const addr = shoal.app.server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  base = `http://127.0.0.1:${addr.port}`;
}

afterAll(async () => {
  await browser?.close();
  await shoal?.shutdown();
  await store?.close(false);
  dir?.cleanup();
});

/** Sends a query to the API as another service would. */
async function api(body: unknown): Promise<{ columns: { name: string }[]; rows: unknown[][]; edges?: unknown[][] }> {
  const res = await fetch(`${base}/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
  return res.json();
}

async function openFresh(): Promise<Page> {
  const page = await browser.context.newPage();
  await page.goto(base);
  await waitForStatus(page);
  return page;
}

describe('exploration UI in Chromium', () => {
  it('shows a chart with data on first load', async () => {
    const page = await openFresh();
    expect(page.url()).toContain('view=aggregate');
    expect(await page.locator('.chart canvas').count()).toBeGreaterThan(0);
    expect(await page.locator('[data-testid="results-table"] tbody tr').count()).toBeGreaterThan(1);
    expect(await page.locator('[data-testid="freshness"]').textContent()).toContain(`${(DEMO_EVENTS + 6).toLocaleString('en-US')} events`);
    await screenshot(page, 'first-load');
    await page.close();
  });

  it('builds an aggregate with a filter and a group-by whose numbers match the API', async () => {
    const page = await openFresh();
    await fixRange(page);
    await act(page, () => page.click('[data-testid="group-by"] button[aria-label="remove event"]'));
    await act(page, () => page.locator('[data-testid="group-by"] select.add-group').selectOption('os'));
    await addCondition(page, 'where', 'country', 'US');
    await act(page, () => page.click('[data-testid="measures"] > button.link-btn'));
    await act(page, () => page.locator('[data-testid="measures"] .measure-row').nth(1).locator('select.m-fn').selectOption('uniq($actor)'));

    const query = await panelQuery(page, 'table');
    expect(query).toMatchObject({ table: 'events', where: ['country', '=', 'US'], groupBy: ['os'], measures: ['count', 'uniq($actor)'] });
    const expected = await api(query);
    expect(expected.rows.length).toBeGreaterThan(1);
    const shown = await tableRows(page, '[data-testid="results-table"]');
    const byLabel = new Map(shown.map((r) => [r[0].text, [Number(r[1].title), Number(r[2].title)]]));
    expect(byLabel.size).toBe(expected.rows.length);
    for (const [os, count, uniq] of expected.rows) expect(byLabel.get(label(os))).toEqual([count, uniq]);

    const chart = await api(await panelQuery(page, 'chart'));
    const seriesLabels = [...new Set(chart.rows.map((r) => label(r[1])))].sort();
    const legend = await page.locator('.chart .u-legend .u-series .u-label').allTextContents();
    expect(legend.slice(1).sort()).toEqual(seriesLabels);

    // Charting the other measure changes no query: the page redraws from the answers it has.
    const sent: string[] = [];
    page.on('request', (r) => { if (r.url().includes('/v1/query')) sent.push(r.url()); });
    await act(page, () => page.locator('select[aria-label="chart measure"]').selectOption('1'));
    expect(await page.locator('.chart-title').first().textContent()).toContain('Unique users by os');
    expect(sent).toEqual([]);
    expect(await tableRows(page, '[data-testid="results-table"]')).toEqual(shown);
    await screenshot(page, 'aggregate');

    // The same link in another tab shows the same view.
    const again = await browser.context.newPage();
    await again.goto(page.url());
    await waitForStatus(again);
    expect(await panelQuery(again, 'table')).toEqual(query);
    expect(await tableRows(again, '[data-testid="results-table"]')).toEqual(shown);
    await again.close();
    await page.close();
  });

  it('builds a 3-step funnel with a breakdown that matches the API, and a shared link restores it', async () => {
    const page = await openFresh();
    await fixRange(page);
    await act(page, () => page.click('button[data-view="funnel"]'), ['ready', 'incomplete']);
    // Whatever the suggested steps were, make it: search → view_item → add_to_cart.
    while ((await page.locator('.step-card').count()) > 2) await act(page, () => page.click('button[aria-label="remove step 3"]'), ['ready', 'incomplete']);
    while ((await page.locator('.step-card').count()) < 2) await act(page, () => page.click('[data-testid="add-step"]'), ['ready', 'incomplete']);
    for (const [step, value] of [[1, 'search'], [2, 'add_to_cart']] as const) {
      await act(page, async () => {
        await page.locator(`[data-testid="step-${step}"] input.f-val`).first().fill(value);
        await page.locator(`[data-testid="step-${step}"] input.f-val`).first().press('Enter');
      }, ['ready', 'incomplete']);
    }
    await act(page, () => page.click('[data-testid="add-step"]'));
    await act(page, async () => {
      await page.locator('[data-testid="step-3"] input.f-val').fill('view_item');
      await page.locator('[data-testid="step-3"] input.f-val').press('Enter');
    });
    await act(page, () => page.click('button[aria-label="move step 3 up"]'));

    const plain = await panelQuery(page, 'funnel');
    expect(plain.steps).toEqual([['event', '=', 'search'], ['event', '=', 'view_item'], ['event', '=', 'add_to_cart']]);
    const overall = await api(plain);
    const cols = overall.columns.map((c) => c.name);
    const conv3 = overall.rows[0][cols.indexOf('step3_conversion')] as number;
    expect(await page.locator('[data-testid="conversion-3"]').textContent()).toContain(`${(conv3 * 100).toFixed(conv3 >= 0.1 ? 1 : 2)}%`);

    await act(page, () => page.locator('select[aria-label="breakdown"]').selectOption('device'));
    const query = await panelQuery(page, 'funnel');
    expect(query).toMatchObject({ steps: plain.steps, groupBy: ['device'], mode: 'ordered', window: '1d' });
    const expected = await api(query);
    const ec = expected.columns.map((c) => c.name);
    const shown = await tableRows(page, '[data-testid="funnel-table"]');
    const byLabel = new Map(shown.map((r) => [r[0].text, r]));
    for (const row of expected.rows) {
      const cells = byLabel.get(label(row[0]));
      expect(cells, `row for ${label(row[0])}`).toBeDefined();
      // Cells: group, step1, step2, step2 conversion, step2 median, step3, step3 conversion, step3 median.
      expect(num(cells![1])).toBe(row[ec.indexOf('step1')]);
      expect(num(cells![2])).toBe(row[ec.indexOf('step2')]);
      expect(num(cells![3])).toBe(row[ec.indexOf('step2_conversion')]);
      expect(num(cells![4])).toBe(row[ec.indexOf('step2_median_ms')]);
      expect(num(cells![5])).toBe(row[ec.indexOf('step3')]);
    }
    const total = byLabel.get('All groups');
    expect(Number(total![1].title)).toBe(expected.rows.reduce((n, r) => n + (r[ec.indexOf('step1')] as number), 0));
    expect(Number(total![1].title)).toBe(overall.rows[0][cols.indexOf('step1')]);
    // Times to convert do not add up over groups: the total row has those of the funnel over everyone.
    expect(await panelQuery(page, 'overall')).toEqual(plain);
    expect(num(total![4])).toBe(overall.rows[0][cols.indexOf('step2_median_ms')]);
    expect(num(total![7])).toBe(overall.rows[0][cols.indexOf('step3_median_ms')]);
    expect(await page.locator('[data-testid="funnel-chart"] .funnel-step').count()).toBe(3);
    expect(await page.locator('[data-testid="conversion-chart"] canvas').count()).toBeGreaterThan(0);
    await screenshot(page, 'funnel');

    const shared = page.url();
    const again = await browser.context.newPage();
    await again.goto(shared);
    await waitForStatus(again);
    expect(await panelQuery(again, 'funnel')).toEqual(query);
    expect(await tableRows(again, '[data-testid="funnel-table"]')).toEqual(shown);
    expect(await again.locator('select[aria-label="breakdown"]').inputValue()).toBe('device');
    expect(await again.locator('[data-testid="step-2"] .step-title').textContent()).toBe('view_item');
    await screenshot(again, 'funnel-shared-link');
    await again.close();
    await page.close();
  });

  it('builds a retention grid whose cells match the API', async () => {
    const page = await openFresh();
    await fixRange(page);
    await act(page, () => page.click('button[data-view="retention"]'));
    await addCondition(page, 'retention-start', 'event', 'search');
    const query = await panelQuery(page, 'retention');
    expect(query).toMatchObject({ kind: 'retention', start: ['event', '=', 'search'], period: '1d', periods: 7 });
    const expected = await api(query);
    const ec = expected.columns.map((c) => c.name);
    const cohorts = expected.rows.filter((r) => (r[ec.indexOf('cohort_size')] as number) > 0);
    const shown = (await tableRows(page, '[data-testid="retention-grid"]')).slice(1); // after the "All cohorts" row
    expect(shown.length).toBe(cohorts.length);
    cohorts.forEach((row, i) => {
      expect(shown[i][1].text).toBe((row[ec.indexOf('cohort_size')] as number).toLocaleString('en-US'));
      for (let n = 0; n <= 7; n++) {
        const cell = shown[i][2 + n];
        if (cell.count !== null) expect(Number(cell.count)).toBe(row[ec.indexOf(`period${n}`)]);
      }
    });
    expect(shown.flat().filter((c) => c.count !== null).length).toBeGreaterThan(cohorts.length);
    await screenshot(page, 'retention');
    await page.close();
  });

  it('shows paths from an event as a flow and a table that match the API', async () => {
    const page = await openFresh();
    await fixRange(page);
    await act(page, () => page.click('button[data-view="paths"]'));
    await addCondition(page, 'paths-start', 'event', 'search');
    await act(page, () => page.locator('select[aria-label="depth"]').selectOption('4'));
    const query = await panelQuery(page, 'paths');
    expect(query).toMatchObject({ kind: 'paths', node: 'event', start: ['event', '=', 'search'], depth: 4, direction: 'after' });
    const expected = await api(query);
    const shown = await tableRows(page, '[data-testid="paths-table"]');
    expect(shown.length).toBe(expected.rows.length);
    expected.rows.forEach((row, i) => {
      const nodes = row.slice(0, 5);
      while (nodes.length > 1 && nodes[nodes.length - 1] === null) nodes.pop();
      expect(shown[i][0].text).toBe(nodes.map(label).join(' → '));
      expect(Number(shown[i][2].title)).toBe(row[5]);
    });
    expect(await page.locator('svg.flow rect.node').count()).toBeGreaterThan(3);
    expect(await page.locator('svg.flow text.node-label').first().textContent()).toContain('search');
    await screenshot(page, 'paths');
    await page.close();
  });

  it('shows sessions over time with totals matching the API', async () => {
    const page = await openFresh();
    await act(page, () => page.click('button[data-view="sessions"]'));
    const query = await panelQuery(page, 'table');
    expect(query.kind).toBe('sessions');
    const expected = await api(query);
    const shown = await tableRows(page, '[data-testid="results-table"]');
    expect(shown[0].slice(0, expected.rows[0].length).map((c) => Number(c.title))).toEqual(expected.rows[0]);
    expect(await page.locator('.chart canvas').count()).toBeGreaterThan(0);
    await screenshot(page, 'sessions');
    await page.close();
  });

  it('sends funnel exclusions, a session length cap and a retention breakdown as built, and shows what the API answers', async () => {
    const page = await openFresh();
    await fixRange(page);
    await act(page, () => page.click('button[data-view="funnel"]'), ['ready', 'incomplete']);
    await act(page, () => page.click('[data-testid="add-exclusion"]'), ['ready', 'incomplete']);
    await act(page, async () => {
      await page.locator('[data-testid="exclusion-1"] input.f-val').fill('error');
      await page.locator('[data-testid="exclusion-1"] input.f-val').press('Enter');
    });
    const funnel = await panelQuery(page, 'funnel');
    const steps = (funnel.steps as unknown[]).length;
    expect(funnel.exclude).toEqual([{ filter: ['event', '=', 'error'], after: 1, before: steps }]);
    const fx = await api(funnel);
    const fc = fx.columns.map((c) => c.name);
    const [row] = await tableRows(page, '[data-testid="funnel-table"]');
    expect(num(row[0])).toBe(fx.rows[0][fc.indexOf('step1')]);
    expect(num(row[1])).toBe(fx.rows[0][fc.indexOf('step2')]);
    expect(num(row[2])).toBe(fx.rows[0][fc.indexOf('step2_conversion')]);
    expect(await page.locator('.chart-title').first().textContent()).toContain(`not if error between steps 1 and ${steps}`);
    await screenshot(page, 'funnel-exclusion');

    await act(page, () => page.click('button[data-view="sessions"]'));
    await act(page, () => page.locator('select[aria-label="session max duration"]').selectOption('1h'));
    const sessions = await panelQuery(page, 'table');
    expect(sessions).toMatchObject({ kind: 'sessions', gap: '30m', maxDuration: '1h' });
    const sx = await api(sessions);
    const shownSessions = await tableRows(page, '[data-testid="results-table"]');
    expect(shownSessions[0].map((c) => Number(c.title))).toEqual(sx.rows[0]);

    await act(page, () => page.click('button[data-view="retention"]'));
    await act(page, () => page.locator('select[aria-label="retention breakdown"]').selectOption('country'));
    const retention = await panelQuery(page, 'retention');
    expect(retention).toMatchObject({ kind: 'retention', groupBy: ['country'] });
    const rx = await api(retention);
    const rc = rx.columns.map((c) => c.name);
    // Each country's row combines its cohorts: sizes add up, and so do the period-0 counts of the
    // cohorts whose day 0 has ended by the newest event (the average leaves out a day in progress
    // unless no cohort has finished it).
    const tables = (await (await fetch(`${base}/v1/tables`)).json()) as { tables: { name: string; maxTimeMs: number }[] };
    const newest = tables.tables.find((t) => t.name === 'events')!.maxTimeMs;
    const DAY_MS = 86_400_000;
    const sums = new Map<string, { size: number; p0: number; doneSize: number; doneP0: number }>();
    for (const r of rx.rows) {
      const k = label(r[rc.indexOf('country')]);
      const g = sums.get(k) ?? { size: 0, p0: 0, doneSize: 0, doneP0: 0 };
      const [size, p0] = [r[rc.indexOf('cohort_size')] as number, r[rc.indexOf('period0')] as number];
      const done = (r[rc.indexOf('$cohort')] as number) + DAY_MS <= newest;
      sums.set(k, { size: g.size + size, p0: g.p0 + p0, doneSize: g.doneSize + (done ? size : 0), doneP0: g.doneP0 + (done ? p0 : 0) });
    }
    expect([...sums.values()].some((g) => g.doneSize > 0 && g.doneSize < g.size)).toBe(true);
    const groups = (await tableRows(page, '[data-testid="retention-grid"]')).slice(1);
    expect(new Set(groups.map((g) => g[0].text))).toEqual(new Set([...sums].filter(([, { size }]) => size > 0).map(([k]) => k)));
    for (const g of groups) {
      const sum = sums.get(g[0].text)!;
      expect(g[1].text).toBe(sum.size.toLocaleString('en-US'));
      expect(Number(g[2].count)).toBe(sum.doneSize > 0 ? sum.doneP0 : sum.p0);
    }
    await screenshot(page, 'retention-breakdown');
    await page.close();
  });

  it('shows markup in event values as text and runs none of it', async () => {
    const page = await browser.context.newPage();
    const dialogs: string[] = [];
    const strayRequests: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/x') strayRequests.push(r.url());
    });
    await page.goto(base);
    await waitForStatus(page);
    await addCondition(page, 'where', 'event', PAYLOAD);
    expect((await panelQuery(page, 'table')).where).toEqual(['event', '=', PAYLOAD]);
    const rows = await tableRows(page, '[data-testid="results-table"]');
    expect(rows.map((r) => r[0].text)).toEqual([PAYLOAD]);
    expect(rows[0][1].title).toBe('3');
    expect(await page.locator('.u-legend .u-label', { hasText: 'onerror' }).first().textContent()).toBe(PAYLOAD);
    expect(await page.locator('td', { hasText: 'onerror' }).first().isVisible()).toBe(true);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(dialogs).toEqual([]);
    expect(strayRequests).toEqual([]);
    await screenshot(page, 'markup-as-text');
    await page.close();
  });

  it('tells a new user how to send events when the server has none', async () => {
    const emptyDir = tempDir('shoal-ui-empty-');
    const emptyStore = await Store.open(emptyDir.dir, { log: () => {} });
    const empty = await buildApp({ store: emptyStore });
    try {
      await empty.app.listen({ port: 0, host: '127.0.0.1' });
      const addr = empty.app.server.address();
      if (addr === null || typeof addr === 'string') throw new Error('no port');
      const page = await browser.context.newPage();
      await page.goto(`http://127.0.0.1:${addr.port}/`);
      expect(await waitForStatus(page, ['empty'])).toBe('empty');
      const text = await page.locator('[data-testid="empty"]').textContent();
      expect(text).toContain('No events yet');
      expect(text).toContain(`--url http://127.0.0.1:${addr.port}`);
      expect(await page.locator('#builder').isVisible()).toBe(false);
      await screenshot(page, 'no-tables');
      await page.close();
    } finally {
      await empty.shutdown();
      await emptyStore.close(false);
      emptyDir.cleanup();
    }
  });

  it('explains a failed query with the server error code', async () => {
    const page = await openFresh();
    await addCondition(page, 'where', 'status', 'not-a-number');
    expect(await waitForStatus(page, ['error'])).toBe('error');
    const text = await page.locator('[data-testid="error"]').textContent();
    expect(text).toContain('TYPE_MISMATCH');
    expect(text).toContain('status');
    await screenshot(page, 'error');
    await page.close();
  });
});
