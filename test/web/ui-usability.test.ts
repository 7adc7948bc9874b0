/**
 * The exploration UI beyond the happy path, in real headless Chromium: a server with API keys,
 * hand-edited and stale links, failing or busy servers, calendar edge cases, long funnels, and
 * what the charts and notes claim. Each test starts from what a user would meet and checks what
 * the page does about it (against the API's own answer where there is one).
 */
import { describe, expect, it } from 'vitest';
import { waitForStatus } from './browser.js';
import { act, panelQuery } from './page-helpers.js';
import { demoData, demoSession, serve } from './ui-servers.js';

const ui = demoSession();
const open = ui.open;

describe('exploration UI: keys, links, errors, edge cases', () => {
  it('asks for an API key when the server has keys, then shows the view with it (and remembers it)', async () => {
    const keyed = await serve(demoData(), 'reader-key-1:read');
    try {
      const page = await open(`${keyed.base}/?view=aggregate&range=all`, ['error', 'ready']);
      const form = page.locator('[data-testid="api-key"]');
      expect(await form.textContent()).toContain('needs an API key');
      // A wrong key is refused in words, and the form stays.
      await page.getByLabel('API key').fill('wrong-key');
      await page.getByLabel('API key').press('Enter');
      await page.waitForLoadState('load');
      await waitForStatus(page, ['error']);
      expect(await page.locator('[data-testid="api-key"]').textContent()).toContain('unknown API key');
      await page.getByLabel('API key').fill('reader-key-1');
      await page.getByLabel('API key').press('Enter');
      await page.waitForLoadState('load');
      await waitForStatus(page, ['ready']);
      expect(await page.locator('[data-testid="results-table"] tbody tr').count()).toBeGreaterThan(0);
      expect(page.url()).not.toContain('reader-key-1');
      // The curl the page offers works on this server too, with the key from the environment.
      expect(await page.locator('pre.curl').first().textContent()).toContain('Authorization: Bearer $SHOAL_API_KEY');
      // A new tab on the same link needs no key again.
      const again = await open(page.url());
      expect(await again.locator('[data-testid="results-table"] tbody tr').count()).toBeGreaterThan(0);
      await again.close();
      await page.close();
    } finally {
      await keyed.close();
    }
  });

  it('does not lose a click that comes right after typing a value (the typed value counts too)', async () => {
    const page = await open(`${ui.demo.base}/?view=funnel&range=all`, ['ready', 'incomplete']);
    const steps = await page.locator('.step-card').count();
    await page.locator('[data-testid="step-2"] input.f-val').first().fill('search');
    await act(page, () => page.click('[data-testid="add-step"]'), ['ready', 'incomplete']);
    expect(await page.locator('.step-card').count()).toBe(steps + 1);
    expect((await panelQuery(page, 'funnel')).steps).toContainEqual(['event', '=', 'search']);
    expect(await page.locator('[data-testid="step-2"] .step-title').textContent()).toBe('search');
    await page.locator('[data-testid="step-1"] input.f-val').first().fill('signup');
    await act(page, () => page.click('button[data-view="retention"]'));
    expect(new URL(page.url()).searchParams.get('view')).toBe('retention');
    await act(page, () => page.click('button[data-view="funnel"]'), ['ready', 'incomplete']);
    expect(await page.locator('[data-testid="step-1"] .step-title').textContent()).toBe('signup');
    await page.close();
  });

  it('marks monthly retention cells by calendar months: a month that has begun shows its count', async () => {
    // Newest event on March 2: the February cohort's month 1 (March) has begun, two days in.
    const served = await serve(async () => {});
    try {
      const at = (iso: string, user: string) => ({ user_id: user, time: iso, event: 'visit' });
      const events = [
        at('2026-01-05T10:00:00Z', 'a'), at('2026-02-03T10:00:00Z', 'a'),
        at('2026-02-02T10:00:00Z', 'b'), at('2026-02-10T10:00:00Z', 'c'),
        at('2026-03-01T09:00:00Z', 'b'), at('2026-03-02T12:00:00Z', 'c'),
      ];
      const res = await fetch(`${served.base}/v1/tables/visits/events`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: events.map((e) => JSON.stringify(e)).join('\n') });
      expect(res.status).toBe(200);
      const q = encodeURIComponent(JSON.stringify({ period: '1mo', periods: 4 }));
      const page = await open(`${served.base}/?view=retention&table=visits&range=all&q=${q}`);
      const query = await panelQuery(page, 'retention');
      const api = await (await fetch(`${served.base}/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(query) })).json();
      const names = api.columns.map((c: { name: string }) => c.name);
      const feb = api.rows.find((r: unknown[]) => r[0] === Date.UTC(2026, 1, 1));
      expect(feb[names.indexOf('period1')]).toBe(2);
      const rows = await page.locator('[data-testid="retention-grid"] tbody tr').evaluateAll((trs) =>
        trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => ({ text: td.textContent, count: td.getAttribute('data-count'), future: td.classList.contains('cell-future') }))));
      const febRow = rows.find((r) => r[0].text === 'Feb 2026')!;
      // Cohort, users, month 0, month 1 (in progress: March has begun), month 2 (not yet).
      expect(febRow[3]).toMatchObject({ count: '2', future: false });
      expect(febRow[4].future).toBe(true);
      // January's month 2 is March too: begun, though nobody from January came back in it.
      const janRow = rows.find((r) => r[0].text === 'Jan 2026')!;
      expect(janRow[4]).toMatchObject({ count: '0', future: false });
      expect(janRow[5].future).toBe(true);
      await page.close();
    } finally {
      await served.close();
    }
  });

  it('keeps charting the chosen measure when another measure above it is removed', async () => {
    const q = encodeURIComponent(JSON.stringify({ measures: ['count', 'uniq($actor)', 'p99(latency_ms)'], chart: 1 }));
    const page = await open(`${ui.demo.base}/?view=aggregate&range=all&q=${q}`);
    expect(await page.locator('.chart-title').first().textContent()).toMatch(/^Unique users/);
    await act(page, () => page.locator('[data-testid="measures"] button[aria-label="remove measure"]').first().click());
    expect((await panelQuery(page, 'table')).measures).toEqual(['uniq($actor)', 'p99(latency_ms)']);
    expect(await page.locator('.chart-title').first().textContent()).toMatch(/^Unique users/);
    expect(await page.locator('select[aria-label="chart measure"]').inputValue()).toBe('0');
    await page.close();
  });

  it('shows every step of a long funnel at 1280 px, none hidden past the edge of the chart', async () => {
    const names = ['signup', 'page_view', 'search', 'view_item', 'add_to_cart', 'view_cart', 'checkout', 'apply_coupon', 'purchase', 'share'];
    const q = encodeURIComponent(JSON.stringify({ steps: names.map((v) => [['event', '=', v]]), window: '7d' }));
    const page = await open(`${ui.demo.base}/?view=funnel&range=all&q=${q}`);
    const chart = (await page.locator('[data-testid="funnel-chart"]').boundingBox())!;
    const steps = await page.locator('[data-testid="funnel-chart"] .funnel-step').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().right));
    expect(steps.length).toBe(names.length);
    for (const right of steps) expect(right).toBeLessThanOrEqual(chart.x + chart.width + 0.5);
    await page.close();
  });

  it('says why a custom range is not applied when its end is not after its start', async () => {
    const page = await open(`${ui.demo.base}/?view=aggregate&range=all`);
    await act(page, () => page.click('[data-testid="range-presets"] button[data-value="custom"]'));
    const before = page.url();
    await page.locator('input[aria-label="from"]').fill('2026-03-10T12:00');
    await page.locator('input[aria-label="to"]').fill('2026-03-01T12:00');
    await page.getByRole('button', { name: 'Apply' }).click();
    expect(await page.getByRole('alert').filter({ hasText: 'end must be after the start' }).count()).toBe(1);
    expect(await page.locator('input[aria-label="to"]').getAttribute('aria-invalid')).toBe('true');
    expect(page.url()).toBe(before);
    await page.close();
  });

  it('keeps a custom range when another table is picked', async () => {
    const served = await serve(demoData());
    try {
      const rows = ['a', 'b'].map((u, i) => JSON.stringify({ user_id: u, time: `2026-03-0${i + 2}T10:00:00Z`, event: 'x' })).join('\n');
      expect((await fetch(`${served.base}/v1/tables/other/events`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: rows })).status).toBe(200);
      const from = '2026-03-01T00:00:00.000Z';
      const to = '2026-03-08T00:00:00.000Z';
      const page = await open(`${served.base}/?view=aggregate&table=events&range=custom&from=${from}&to=${to}`, ['ready', 'empty']);
      await act(page, () => page.locator('[data-testid="table-picker"]').selectOption('other'), ['ready', 'empty']);
      const query = await panelQuery(page, 'table');
      expect(query).toMatchObject({ table: 'other', from, to });
      expect(new URL(page.url()).searchParams.get('range')).toBe('custom');
      await page.close();
    } finally {
      await served.close();
    }
  });

  it('tells a user to retry, not to change the query, when the server is busy', async () => {
    const page = await ui.browser.context.newPage();
    await page.route('**/v1/query', (route) => route.fulfill({
      status: 429, contentType: 'application/json', body: JSON.stringify({ error: { code: 'OVERLOADED', message: 'too many queries are waiting; retry later' } }),
    }));
    await page.goto(`${ui.demo.base}/?view=aggregate&range=all`);
    await waitForStatus(page, ['error']);
    const text = await page.locator('[data-testid="error"]').textContent();
    expect(text).toContain('OVERLOADED');
    expect(text).toContain('busy');
    expect(text).not.toContain('Change the part of the query');
    await page.unroute('**/v1/query');
    await act(page, () => page.getByRole('button', { name: 'Try again' }).click());
    expect(await page.locator('[data-testid="results-table"] tbody tr').count()).toBeGreaterThan(0);
    await page.close();
  });

  it('says under each funnel step that its median time is counted from step 1', async () => {
    const q = encodeURIComponent(JSON.stringify({ steps: ['page_view', 'search', 'view_item'].map((v) => [['event', '=', v]]) }));
    const page = await open(`${ui.demo.base}/?view=funnel&range=all&q=${q}`);
    const query = await panelQuery(page, 'funnel');
    const api = await (await fetch(`${ui.demo.base}/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(query) })).json();
    expect(api.rows[0][api.columns.findIndex((c: { name: string }) => c.name === 'step3_median_ms')]).not.toBeNull();
    // Beside "x% of step 2", a bare "median" reads as the time from step 2; the API's is from step 1.
    expect(await page.locator('.funnel-step[data-step="3"] .funnel-meta').textContent()).toMatch(/median [\d.,]+ \S+ from step 1/);
    await page.close();
  });

  it('shows why a table cannot be read (with a retry) instead of loading forever', async () => {
    const page = await ui.browser.context.newPage();
    await page.route('**/v1/tables/events', (route) => route.fulfill({
      status: 503, contentType: 'application/json', body: JSON.stringify({ error: { code: 'TABLE_UNAVAILABLE', message: 'table "events" cannot be opened' } }),
    }));
    await page.goto(`${ui.demo.base}/?view=aggregate&table=events&range=all`);
    await waitForStatus(page, ['error']);
    expect(await page.locator('[data-testid="error"]').textContent()).toContain('TABLE_UNAVAILABLE');
    expect(await page.locator('[data-testid="table-picker"]').isVisible()).toBe(true);
    await page.unroute('**/v1/tables/events');
    await act(page, () => page.getByRole('button', { name: 'Try again' }).click());
    expect(await page.locator('[data-testid="results-table"] tbody tr').count()).toBeGreaterThan(0);
    await page.close();
  });

  it('shows a linked value that is not one of a picker\'s choices, as the query uses it', async () => {
    const funnel = encodeURIComponent(JSON.stringify({ steps: [[['event', '=', 'search']], [['event', '=', 'purchase']]], window: '2d' }));
    const page = await open(`${ui.demo.base}/?view=funnel&range=all&q=${funnel}`);
    expect((await panelQuery(page, 'funnel')).window).toBe('2d');
    expect(await page.locator('select[aria-label="window"]').inputValue()).toBe('2d');
    const paths = encodeURIComponent(JSON.stringify({ node: 'event', depth: 7, gap: '45m' }));
    await page.goto(`${ui.demo.base}/?view=paths&range=all&q=${paths}`);
    await waitForStatus(page);
    expect(await page.locator('select[aria-label="depth"]').inputValue()).toBe('7');
    expect(await page.locator('select[aria-label="session gap"]').inputValue()).toBe('45m');
    await page.close();
  });

  it('names the step and condition at fault when the API rejects a funnel step, counting as the page does', async () => {
    const q = encodeURIComponent(JSON.stringify({ steps: [[['event', '=', 'search']], [['status', '=', 'abc']]] }));
    const page = await open(`${ui.demo.base}/?view=funnel&range=all&q=${q}`, ['error']);
    const text = await page.locator('[data-testid="error"]').textContent();
    expect(text).toContain('TYPE_MISMATCH');
    // The API's path is steps[1][2] (0-based JSON); the page calls that step 2.
    expect(await page.locator('[data-testid="error-place"]').textContent()).toContain('step 2, condition 1 (its value)');
    await page.close();
  });

  it('does not count the events twice when a view sends two queries over the same range', async () => {
    const page = await open(`${ui.demo.base}/?view=aggregate&range=all`);
    const query = await panelQuery(page, 'table');
    const api = await (await fetch(`${ui.demo.base}/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(query) })).json();
    const stats = (await page.locator('[data-testid="stats"]').textContent()) ?? '';
    expect(stats).toContain(`${api.stats.rowsScanned.toLocaleString('en-US')} events scanned`);
    expect(stats).not.toContain((api.stats.rowsScanned * 2).toLocaleString('en-US'));
    await page.close();
  });

  it('says so when a link names a table that does not exist, instead of silently showing another', async () => {
    const page = await open(`${ui.demo.base}/?view=aggregate&table=signups_old&range=all`);
    expect(await page.locator('[data-testid="table-notice"]').textContent()).toContain('signups_old');
    expect(await page.locator('[data-testid="table-picker"]').inputValue()).toBe('events');
    await page.close();
  });

  it('lists the path steps the flow leaves out, with their sessions, rather than pointing at a table that may not have them', async () => {
    const q = encodeURIComponent(JSON.stringify({ node: 'event', depth: 3, limit: 10 }));
    const page = await open(`${ui.demo.base}/?view=paths&range=all&q=${q}`);
    const query = await panelQuery(page, 'paths');
    const api = await (await fetch(`${ui.demo.base}/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(query) })).json();
    // Step +1's values by sessions, as the flow counts them (the edges into that column).
    const col1 = new Map<string, number>();
    for (const [depth, , to, n] of api.edges as [number, string, string, number][]) if (depth === 1) col1.set(to, (col1.get(to) ?? 0) + n);
    const sorted = [...col1].sort((a, b) => b[1] - a[1]);
    expect(sorted.length).toBeGreaterThan(7);
    const [value, sessions] = sorted[7];
    const note = (await page.locator('[data-testid="flow-hidden"]').textContent()) ?? '';
    expect(note).not.toContain('in the table below');
    expect(note).toContain(`${value} (${sessions.toLocaleString('en-US')})`);
    await page.close();
  });

  it('draws funnel conversion dashed where users have not had the whole window to convert yet', async () => {
    const q = encodeURIComponent(JSON.stringify({ steps: [[['event', '=', 'view_item']], [['event', '=', 'purchase']]], window: '7d', bucket: '1d' }));
    const page = await open(`${ui.demo.base}/?view=funnel&range=30d&q=${q}`);
    const chart = page.locator('[data-testid="conversion-chart"]');
    const over = await panelQuery(page, 'over-time');
    const api = await (await fetch(`${ui.demo.base}/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(over) })).json();
    const { tables } = await (await fetch(`${ui.demo.base}/v1/tables`)).json();
    const newest = tables.find((t: { name: string }) => t.name === 'events').maxTimeMs;
    // A bucket is final once its last entrant's 7 days have passed by the newest event.
    const unfinished = api.rows.filter((r: number[]) => r[0] + 86_400_000 + 7 * 86_400_000 > newest).length;
    expect(unfinished).toBeGreaterThanOrEqual(7);
    expect(Number(await chart.getAttribute('data-dashed-points'))).toBeGreaterThanOrEqual(unfinished);
    expect(await chart.locator('.chart-note').textContent()).toContain('7d to convert');
    await page.close();
  });

  it('does not draw a one-point "time series" when the range falls in a single bucket', async () => {
    const { tables } = await (await fetch(`${ui.demo.base}/v1/tables`)).json();
    const newest = tables[0].maxTimeMs as number;
    // Up to the newest event from at most an hour before it, within its UTC day: one 1d bucket.
    const from = new Date(Math.max(newest - 3_600_000, Math.floor(newest / 86_400_000) * 86_400_000)).toISOString();
    const to = new Date(newest + 1).toISOString();
    const q = encodeURIComponent(JSON.stringify({ bucket: '1d', groupBy: ['event'] }));
    const page = await open(`${ui.demo.base}/?view=aggregate&range=custom&from=${from}&to=${to}&q=${q}`);
    expect(await page.locator('.chart canvas').count()).toBe(0);
    expect(await page.locator('[data-testid="one-bucket"]').textContent()).toContain('smaller time bucket');
    // The groups still get their bars.
    expect(await page.locator('[data-testid="hbars"] .hbar-row').count()).toBeGreaterThan(0);
    const funnel = encodeURIComponent(JSON.stringify({ steps: [[['event', '=', 'page_view']], [['event', '=', 'search']]], bucket: '1d' }));
    await page.goto(`${ui.demo.base}/?view=funnel&range=custom&from=${from}&to=${to}&q=${funnel}`);
    await waitForStatus(page);
    expect(await page.locator('[data-testid="conversion-chart"]').count()).toBe(0);
    expect(await page.locator('[data-testid="one-bucket"]').textContent()).toContain('smaller bucket');
    await page.close();
  });

  it('puts time ticks no finer than the buckets: a daily chart has no 12 pm ticks between its days', async () => {
    const q = encodeURIComponent(JSON.stringify({ bucket: '1d', groupBy: [] }));
    const page = await open(`${ui.demo.base}/?view=aggregate&range=7d&tz=America%2FNew_York&q=${q}`);
    await page.waitForFunction(() => document.querySelector('.chart')?.getAttribute('data-x-ticks'));
    const ticks = (await page.locator('.chart').first().getAttribute('data-x-ticks'))!.split('|');
    expect(ticks.length).toBeGreaterThanOrEqual(5);
    for (const t of ticks) expect(t).not.toMatch(/am|pm/);
    await page.close();
  });

  it('keeps a custom bound exact when Apply is pressed with its box unchanged (the boxes show minutes)', async () => {
    const from = '2026-03-01T10:00:42.500Z';
    const page = await open(`${ui.demo.base}/?view=aggregate&range=custom&from=${from}&to=2026-03-08T00:00:00.000Z`, ['ready', 'empty']);
    await page.locator('input[aria-label="to"]').fill('2026-03-09T00:00');
    await act(page, () => page.getByRole('button', { name: 'Apply' }).click(), ['ready', 'empty']);
    expect(await panelQuery(page, 'table')).toMatchObject({ from, to: '2026-03-09T00:00:00.000Z' });
    await page.close();
  });

  it('suggests filter values from the range shown, also after the range changes', async () => {
    const served = await serve(async () => {});
    try {
      const rows = [['u1', '2026-01-10T10:00:00Z', 'january_only'], ['u2', '2026-03-10T10:00:00Z', 'march_only']]
        .map(([user_id, time, event]) => JSON.stringify({ user_id, time, event })).join('\n');
      expect((await fetch(`${served.base}/v1/tables/seasons/events`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: rows })).status).toBe(200);
      const q = encodeURIComponent(JSON.stringify({ where: [['event', '=', '']], groupBy: [] }));
      const page = await open(`${served.base}/?view=aggregate&table=seasons&range=custom&from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z&q=${q}`);
      const suggested = async () => {
        await page.locator('input.f-val').focus();
        await page.waitForFunction(() => document.querySelectorAll('.filter-row datalist option').length > 0);
        const values = await page.locator('.filter-row datalist option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
        await page.locator('select[aria-label="bucket"]').focus();
        return values;
      };
      expect(await suggested()).toEqual(['january_only']);
      await page.locator('input[aria-label="from"]').fill('2026-03-01T00:00');
      await page.locator('input[aria-label="to"]').fill('2026-04-01T00:00');
      await act(page, () => page.getByRole('button', { name: 'Apply' }).click());
      expect(await suggested()).toEqual(['march_only']);
      await page.close();
    } finally {
      await served.close();
    }
  });

  it('gives each step value in the paths flow its own colour, also past ten values', async () => {
    const q = encodeURIComponent(JSON.stringify({ node: 'event', depth: 6 }));
    const page = await open(`${ui.demo.base}/?view=paths&range=all&q=${q}`);
    const nodes = await page.locator('svg.flow rect.node').evaluateAll((rects) => rects.map((r) => ({
      value: (r.querySelector('title')?.textContent ?? '').split(':')[0], fill: r.getAttribute('fill'),
    })));
    const fillOf = new Map(nodes.map((n) => [n.value, n.fill]));
    expect(fillOf.size).toBeGreaterThan(10);
    expect(new Set(fillOf.values()).size).toBe(fillOf.size);
    await page.close();
  });

  it('keeps path flow labels clear of the next column, on a wide deep flow and in a narrow window', async () => {
    const overlaps = (page: import('playwright-core').Page) => page.evaluate(() => {
      const xs = [...new Set([...document.querySelectorAll('svg.flow rect.node')].map((r) => Number(r.getAttribute('x'))))].sort((a, b) => a - b);
      return [...document.querySelectorAll<SVGTextElement>('svg.flow text.node-label')].flatMap((t) => {
        const x = Number(t.getAttribute('x'));
        const next = xs.find((c) => c > x);
        return next !== undefined && x + t.getComputedTextLength() > next ? [t.textContent] : [];
      });
    });
    const q = encodeURIComponent(JSON.stringify({ node: 'event', depth: 6 }));
    const page = await open(`${ui.demo.base}/?view=paths&range=all&q=${q}`);
    expect(await page.locator('svg.flow text.node-label').count()).toBeGreaterThan(20);
    expect(await overlaps(page)).toEqual([]);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await waitForStatus(page);
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    expect(await overlaps(page)).toEqual([]);
    await page.close();
  });
});
