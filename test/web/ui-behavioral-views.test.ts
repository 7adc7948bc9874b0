/**
 * The retention and paths views on small hand-made datasets, in real headless Chromium: the
 * numbers the page derives from the API's answer (averages over cohorts, the flow's columns) are
 * checked against what they claim to be.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type Browser } from './browser.js';
import { act, panelQuery } from './page-helpers.js';
import { demoData, openPage, serve, type Served } from './ui-servers.js';

let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

/** A server over one table `visits` holding `events` (user_id, time, event and any other columns). */
async function serveEvents(events: { user_id: string; time: string; event: string; [column: string]: unknown }[]): Promise<Served> {
  const served = await serve(async () => {});
  const res = await fetch(`${served.base}/v1/tables/visits/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson' },
    body: events.map((e) => JSON.stringify(e)).join('\n'),
  });
  expect(res.status).toBe(200);
  return served;
}

interface GridCell { text: string; partial: boolean; future: boolean }

const gridRows = (page: import('playwright-core').Page): Promise<GridCell[][]> =>
  page.locator('[data-testid="retention-grid"] tbody tr').evaluateAll((trs) =>
    trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => ({
      text: td.textContent ?? '', partial: td.classList.contains('cell-partial'), future: td.classList.contains('cell-future'),
    }))));

describe('retention averages', () => {
  it('leave out the cohorts whose period is still in progress, and mark a period no cohort has finished', async () => {
    // Newest event: Jan 3, 12:00. The Jan 1 cohort (a, b) has finished day 1 (a came back); the
    // Jan 2 cohort (c…f) is half-way through its day 1 (c is back so far), the Jan 3 cohort (g)
    // through its day 0. Day 1's average is a's 1 of 2, not 2 of 6; day 2 is begun only by the
    // Jan 1 cohort (a is back): 1 of 2, in progress.
    const v = (time: string, user: string) => ({ user_id: user, time, event: 'visit', plan: 'pro' });
    const served = await serveEvents([
      v('2026-01-01T10:00:00Z', 'a'), v('2026-01-01T11:00:00Z', 'b'),
      v('2026-01-02T10:00:00Z', 'a'),
      ...['c', 'd', 'e', 'f'].map((u) => v('2026-01-02T15:00:00Z', u)),
      v('2026-01-03T09:00:00Z', 'g'), v('2026-01-03T10:00:00Z', 'a'), v('2026-01-03T12:00:00Z', 'c'),
    ]);
    try {
      for (const groupBy of ['', 'plan']) {
        const q = encodeURIComponent(JSON.stringify({ period: '1d', periods: 4, groupBy }));
        const page = await openPage(browser, `${served.base}/?view=retention&table=visits&range=all&q=${q}`);
        expect((await panelQuery(page, 'retention')).periods).toBe(4);
        const [avg] = await gridRows(page);
        // Label, users, day 0 … day 4.
        expect(avg.slice(2).map((c) => c.text)).toEqual(['100.0%', '50.0%', '50.0%', '', '']);
        expect(avg.slice(2).map((c) => c.partial)).toEqual([false, false, true, false, false]);
        expect(avg.slice(5).every((c) => c.future)).toBe(true);
        const rows = await gridRows(page);
        if (groupBy === '') {
          // The cohort rows themselves still show the running shares, marked.
          expect(rows[2].slice(2, 4)).toMatchObject([{ text: '100.0%', partial: false }, { text: '25.0%', partial: true }]);
        } else {
          // The one group (all users are on "pro") averages its cohorts as the row above does.
          expect(rows[1].slice(2)).toEqual(avg.slice(2));
        }
        // The chart draws the same average, the in-progress day 2 dashed.
        const chart = page.locator('[data-testid="retention-curve"]');
        expect(await chart.getAttribute('data-dashed-points')).toBe('1');
        expect(await chart.textContent()).toContain('still in progress');
        expect(await page.locator('.grid-note').textContent()).toContain('only the cohorts that have finished');
        // A cohort is the first such event in the range, not a user's first ever: the page says so.
        expect(await page.locator('.builder').textContent()).toContain('Cohort: first time in the range a user did');
        expect(await page.locator('.grid-note').textContent()).toContain('users active before the range fall in its first cohorts');
        await page.close();
      }
    } finally {
      await served.close();
    }
  });
});

describe('retention curve', () => {
  it('scales its axis to the shares drawn, so a fall from 5% to 1% is not a flat line at the bottom', async () => {
    // 20 users sign up on Jan 1; one buys on day 0, one on day 2: 5%, 0%, 5%.
    const events = Array.from({ length: 20 }, (_, i) => ({ user_id: `u${i}`, time: '2026-01-01T10:00:00Z', event: 'signup' }));
    events.push({ user_id: 'u0', time: '2026-01-01T11:00:00Z', event: 'purchase' }, { user_id: 'u1', time: '2026-01-03T11:00:00Z', event: 'purchase' });
    events.push({ user_id: 'u2', time: '2026-01-09T11:00:00Z', event: 'visit' });
    const served = await serveEvents(events);
    try {
      const q = encodeURIComponent(JSON.stringify({ start: [['event', '=', 'signup']], return: [['event', '=', 'purchase']], period: '1d', periods: 4 }));
      const page = await openPage(browser, `${served.base}/?view=retention&table=visits&range=all&q=${q}`);
      const [avg] = await gridRows(page);
      expect(avg.slice(2).map((c) => c.text)).toEqual(['5.00%', '0.0%', '5.00%', '0.0%', '0.0%']);
      const ticks = (await page.locator('[data-testid="retention-curve"]').getAttribute('data-y-ticks'))!.split('|');
      expect(ticks[0]).toBe('0%');
      // The top tick is just above the largest share drawn, not 100%.
      expect(ticks.at(-1)).toBe('6%');
      await page.close();
    } finally {
      await served.close();
    }
  });

  it('keeps 0–100% when the curve starts at 100%', async () => {
    const served = await serveEvents([{ user_id: 'u1', time: '2026-01-01T10:00:00Z', event: 'visit' }, { user_id: 'u1', time: '2026-01-03T10:00:00Z', event: 'visit' }]);
    try {
      const page = await openPage(browser, `${served.base}/?view=retention&table=visits&range=all`);
      expect((await page.locator('[data-testid="retention-curve"]').getAttribute('data-y-ticks'))!.split('|')).toEqual(['0%', '25%', '50%', '75%', '100%']);
      await page.close();
    } finally {
      await served.close();
    }
  });
});

describe('paths flow', () => {
  it('counts every session in the Start column, also those that ended at their first step', async () => {
    // Five sessions: page_view alone (u1, u5), page_view → search (u2), login alone (u3),
    // login → page_view (u4). Only two of them have an edge out of the start.
    const e = (user: string, minute: number, event: string) => ({ user_id: user, time: `2026-01-05T10:0${minute}:00Z`, event });
    const served = await serveEvents([
      e('u1', 0, 'page_view'), e('u2', 0, 'page_view'), e('u2', 1, 'search'), e('u3', 0, 'login'),
      e('u4', 0, 'login'), e('u4', 1, 'page_view'), e('u5', 0, 'page_view'),
    ]);
    try {
      for (const direction of ['after', 'before']) {
        // Before: the steps that led to page_view (the start of a session has nothing before it).
        const q = encodeURIComponent(JSON.stringify({ node: 'event', depth: 2, direction, start: direction === 'before' ? [['event', '=', 'page_view']] : [] }));
        const page = await openPage(browser, `${served.base}/?view=paths&table=visits&range=all&q=${q}`);
        const query = await panelQuery(page, 'paths');
        // What the API says starts where: the first node of every path (all paths fit the limit).
        const api = await (await fetch(`${served.base}/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...query, limit: 1000 }) })).json();
        const starts = new Map<string, number>();
        for (const r of api.rows as unknown[][]) starts.set(r[0] as string, (starts.get(r[0] as string) ?? 0) + (r[r.length - 1] as number));
        expect(starts).toEqual(direction === 'after' ? new Map([['page_view', 3], ['login', 2]]) : new Map([['page_view', 4]]));
        // The Start column: the boxes at its x (left when after, right when before).
        const nodes = await page.locator('svg.flow rect.node').evaluateAll((rects) => rects.map((r) => ({ x: Number(r.getAttribute('x')), tip: r.querySelector('title')?.textContent ?? '' })));
        const xs = nodes.map((n) => n.x);
        const startX = direction === 'after' ? Math.min(...xs) : Math.max(...xs);
        const tips = nodes.filter((n) => n.x === startX).map((n) => n.tip);
        const shown = new Map(tips.map((t) => /^(\w+): (\d+) sessions/.exec(t)!).map((m) => [m[1], Number(m[2])]));
        expect(shown).toEqual(starts);
        // Looking back, a path that stops early stops where its session started, not ended.
        expect(tips).toContain(direction === 'after' ? 'page_view: 3 sessions; 2 ended here' : 'page_view: 4 sessions; 3 started here');
        await page.close();
      }
    } finally {
      await served.close();
    }
  });

  it('asks for a starting event before looking back, rather than list sessions by their first event', async () => {
    // With no start, a path starts at the session's first event: nothing lies before it.
    const served = await serveEvents([
      { user_id: 'u1', time: '2026-01-05T10:00:00Z', event: 'login' }, { user_id: 'u1', time: '2026-01-05T10:01:00Z', event: 'page_view' },
    ]);
    try {
      const q = encodeURIComponent(JSON.stringify({ node: 'event', direction: 'before' }));
      const page = await openPage(browser, `${served.base}/?view=paths&table=visits&range=all&q=${q}`, ['ready', 'incomplete']);
      expect(await page.locator('#results').getAttribute('data-status')).toBe('incomplete');
      expect(await page.locator('#results').textContent()).toContain('Pick the event to look back from');
      expect(await page.locator('[data-testid="paths-start"] > button.link-btn').textContent()).toBe('+ The event to look back from');
      // Nothing is sent, and the query panel says so rather than list requests that never ran.
      expect(await page.locator('[data-testid="query-panel"]').textContent()).toContain('nothing is sent');
      await page.close();
    } finally {
      await served.close();
    }
  });
});

describe('funnel with a step still being built', () => {
  it('says the step is left out, since the results number the steps as sent', async () => {
    const served = await serveEvents(['a', 'b', 'c'].map((event, i) => ({ user_id: 'u1', time: `2026-01-05T10:0${i}:00Z`, event })));
    try {
      const q = encodeURIComponent(JSON.stringify({ steps: [[['event', '=', 'a']], [['event', '=', '']], [['event', '=', 'c']]] }));
      const page = await openPage(browser, `${served.base}/?view=funnel&table=visits&range=all&q=${q}`);
      expect((await panelQuery(page, 'funnel')).steps).toEqual([['event', '=', 'a'], ['event', '=', 'c']]);
      expect(await page.locator('[data-testid="skipped-steps"]').textContent()).toBe('Step 2 has no condition yet, so it is left out: the funnel below has 2 steps (1 and 3 on the left).');
      await page.close();
    } finally {
      await served.close();
    }
  });
});

describe('funnel table', () => {
  it('keeps the "All groups" row on top and "Other" at the bottom whichever column it is sorted by', async () => {
    const served = await serve(demoData());
    try {
      const q = encodeURIComponent(JSON.stringify({ steps: [[['event', '=', 'search']], [['event', '=', 'view_item']]], groupBy: 'country' }));
      const page = await openPage(browser, `${served.base}/?view=funnel&range=all&q=${q}`);
      const firstCells = () => page.locator('[data-testid="funnel-table"] tbody tr').evaluateAll((trs) => trs.map((tr) => tr.querySelector('td')?.textContent ?? ''));
      const headers = ['country', '1. search', '2. view_item', '2: conv.', '2: median time'];
      for (const header of headers) {
        for (const click of [1, 2]) {
          await page.locator('[data-testid="funnel-table"] th button', { hasText: header }).click();
          const labels = await firstCells();
          expect(labels.length, `${header} (${click})`).toBeGreaterThan(3);
          expect(labels[0], `${header} (${click})`).toBe('All groups');
          expect(labels[labels.length - 1], `${header} (${click})`).toBe('Other');
        }
      }
      await page.close();
    } finally {
      await served.close();
    }
  });
});

describe('events chart legend', () => {
  it('lists the groups in the order of the totals table under it, also for a percentile', async () => {
    // Group a: one slow request on Jan 1, then 200 fast ones a day; group b: steady at 100 ms.
    // Over the range b's p99 is higher, but a's daily p99s add up to more (10,000 on Jan 1).
    const at = (day: number, os: string, latency: number, i: number) => ({ user_id: `${os}${i}`, time: `2026-01-0${day}T${String(10 + (i % 10)).padStart(2, '0')}:00:00Z`, event: 'request', os, latency_ms: latency });
    const events = [at(1, 'a', 10_000, 0)];
    for (const day of [2, 3]) for (let i = 0; i < 200; i++) events.push(at(day, 'a', 1, i));
    for (const day of [1, 2, 3]) for (let i = 0; i < 20; i++) events.push(at(day, 'b', 100, i));
    const served = await serveEvents(events);
    try {
      const q = encodeURIComponent(JSON.stringify({ measures: ['p99(latency_ms)'], groupBy: ['os'], bucket: '1d' }));
      const page = await openPage(browser, `${served.base}/?view=aggregate&table=visits&range=all&q=${q}`);
      const tableOrder = await page.locator('[data-testid="results-table"] tbody tr').evaluateAll((trs) => trs.map((tr) => tr.querySelector('td')?.textContent ?? ''));
      expect(tableOrder).toEqual(['b', 'a']);
      const legend = await page.locator('.chart .u-legend .u-series .u-label').allTextContents();
      expect(legend.slice(1)).toEqual(tableOrder);
      await page.close();
    } finally {
      await served.close();
    }
  });
});

describe('custom range', () => {
  it('starts from the range shown: "Custom" after "All time" keeps every event, not the last 7 days', async () => {
    const served = await serveEvents(['2026-01-01T10:00:00Z', '2026-01-20T10:00:00Z', '2026-02-10T10:00:00Z'].map((time, i) => ({ user_id: `u${i}`, time, event: 'visit' })));
    try {
      const page = await openPage(browser, `${served.base}/?view=aggregate&table=visits&range=all&q=${encodeURIComponent(JSON.stringify({ bucket: 'none' }))}`);
      const count = async () => Number(await page.locator('[data-testid="results-table"] tbody td').last().getAttribute('title'));
      expect(await count()).toBe(3);
      await act(page, () => page.click('[data-testid="range-presets"] button[data-value="custom"]'));
      const query = await panelQuery(page, 'table');
      expect([query.from, query.to]).toEqual(['2026-01-01T10:00:00.000Z', '2026-02-10T10:00:00.001Z']);
      expect(await count()).toBe(3);
      await page.close();
    } finally {
      await served.close();
    }
  });
});

describe('hand-edited links', () => {
  it('draw the page with the garbled fields at their defaults instead of loading forever', async () => {
    const served = await serveEvents([{ user_id: 'u1', time: '2026-01-05T10:00:00Z', event: 'a' }]);
    try {
      for (const q of [{ steps: ['x', 5] }, { where: [5, 'a', null] }, { steps: [[['event', '=', 'a']], [['event', '=', 'b']]], exclude: [{ after: 'x' }] }]) {
        const page = await browser.context.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        await page.goto(`${served.base}/?view=funnel&table=visits&range=all&q=${encodeURIComponent(JSON.stringify(q))}`);
        await page.waitForFunction(() => ['ready', 'empty', 'incomplete', 'error'].includes(document.querySelector('#results')?.getAttribute('data-status') ?? ''), null, { timeout: 10_000 });
        expect(errors, JSON.stringify(q)).toEqual([]);
        await page.close();
      }
    } finally {
      await served.close();
    }
  });
});

describe('switching views', () => {
  it('keeps a group-by the user removed removed, instead of filling the default in again on return', async () => {
    const served = await serveEvents([{ user_id: 'u1', time: '2026-01-05T10:00:00Z', event: 'a' }, { user_id: 'u2', time: '2026-01-05T11:00:00Z', event: 'b' }]);
    try {
      const page = await openPage(browser, `${served.base}/?view=aggregate&table=visits&range=all`);
      expect((await panelQuery(page, 'table')).groupBy).toEqual(['event']);
      await act(page, () => page.click('[data-testid="group-by"] button[aria-label="remove event"]'));
      expect((await panelQuery(page, 'table')).groupBy).toBeUndefined();
      await act(page, () => page.click('button[data-view="funnel"]'), ['ready', 'incomplete', 'empty']);
      await act(page, () => page.click('button[data-view="aggregate"]'));
      expect((await panelQuery(page, 'table')).groupBy).toBeUndefined();
      expect(await page.locator('[data-testid="group-by"] .chip').count()).toBe(0);
      await page.close();
    } finally {
      await served.close();
    }
  });
});

describe('filter rows', () => {
  it('carry the typed value over when the operator changes between one value and a list', async () => {
    const served = await serveEvents([{ user_id: 'u1', time: '2026-01-05T10:00:00Z', event: 'a', country: 'US' }, { user_id: 'u2', time: '2026-01-05T11:00:00Z', event: 'b', country: 'DE' }]);
    try {
      const q = encodeURIComponent(JSON.stringify({ where: [['country', '=', 'US']], groupBy: [], bucket: 'none' }));
      const page = await openPage(browser, `${served.base}/?view=aggregate&table=visits&range=all&q=${q}`);
      const op = page.locator('[data-testid="where"] select.f-op');
      await act(page, () => op.selectOption('in'));
      expect((await panelQuery(page, 'table')).where).toEqual(['country', 'in', ['US']]);
      expect(await page.locator('[data-testid="where"] input.f-val').inputValue()).toBe('US');
      await act(page, () => op.selectOption('!='));
      expect((await panelQuery(page, 'table')).where).toEqual(['country', '!=', 'US']);
      await page.close();
    } finally {
      await served.close();
    }
  });
});
