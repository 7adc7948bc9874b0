/**
 * The retention and paths views on small hand-made datasets, in real headless Chromium: the
 * numbers the page derives from the API's answer (averages over cohorts, the flow's columns) are
 * checked against what they claim to be.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type Browser } from './browser.js';
import { panelQuery } from './page-helpers.js';
import { openPage, serve, type Served } from './ui-servers.js';

let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

/** A server over one table `visits` holding `events` (user_id, time, event, plan). */
async function serveEvents(events: { user_id: string; time: string; event: string; plan?: string }[]): Promise<Served> {
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
        await page.close();
      }
    } finally {
      await served.close();
    }
  });
});
