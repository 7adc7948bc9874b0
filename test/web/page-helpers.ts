/**
 * What the UI end-to-end tests do on a page as a user would (act, then wait for the results),
 * and how they read it back: the query panel's JSON and table cells with their exact values.
 */
import type { Page } from 'playwright-core';
import { waitForStatus } from './browser.js';

/** The JSON of one request in the page's query panel. */
export async function panelQuery(page: Page, label: string): Promise<Record<string, unknown>> {
  return JSON.parse((await page.locator(`[data-testid="query-json-${label}"]`).textContent()) ?? 'null');
}

export interface Cell {
  text: string;
  title: string | null;
  count: string | null;
}

/** The body rows of a table on the page: each cell's text, title (exact number) and data-count. */
export async function tableRows(page: Page, selector: string): Promise<Cell[][]> {
  return page.locator(`${selector} tbody tr`).evaluateAll((trs) =>
    trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => ({ text: td.textContent ?? '', title: td.getAttribute('title'), count: td.getAttribute('data-count') }))),
  );
}

/** A numeric cell's exact value (its title), or null for an empty one. */
export const num = (cell: Cell): number | null => (cell.title === null ? null : Number(cell.title));

/** How the page labels a group value. */
export const label = (v: unknown): string => (v === null ? '(none)' : v === '$other' ? 'Other' : String(v));

/** Runs an action that changes the view and waits for the new results. */
export async function act(page: Page, action: () => Promise<unknown>, statuses = ['ready']): Promise<void> {
  await action();
  await waitForStatus(page, statuses);
}

/** Switches the range to "custom" (fixed bounds), so a shared link means the same rows later. */
export async function fixRange(page: Page): Promise<void> {
  await act(page, () => page.click('[data-testid="range-presets"] button[data-value="custom"]'));
}

/** Adds a `column = value` condition in a filter editor. */
export async function addCondition(page: Page, editor: string, column: string, value: string): Promise<void> {
  const scope = `[data-testid="${editor}"]`;
  const before = await page.locator(`${scope} .filter-row`).count();
  await act(page, () => page.click(`${scope} > button.link-btn`), ['ready', 'incomplete', 'empty']);
  const row = page.locator(`${scope} .filter-row`).nth(before);
  await act(page, () => row.locator('select.f-col').selectOption(column), ['ready', 'incomplete', 'empty']);
  await act(page, async () => {
    await row.locator('input.f-val').fill(value);
    await row.locator('input.f-val').press('Enter');
  }, ['ready', 'empty', 'error']);
}
