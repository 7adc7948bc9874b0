/**
 * The exploration UI for keyboard, screen-reader and small-screen users, in real headless
 * Chromium: focus stays where the user is, tabs and pickers answer to their keys and visible
 * names, focus and text are visible (contrast), landmarks and a heading, one column when narrow.
 */
import { describe, expect, it } from 'vitest';
import { waitForStatus } from './browser.js';
import { act } from './page-helpers.js';
import { demoSession } from './ui-servers.js';

const ui = demoSession();
const open = ui.open;

describe('exploration UI: keyboard, screen readers, narrow windows', () => {
  it('keeps keyboard focus on the control just used, and Tab out of a value box goes on to the next control', async () => {
    const q = encodeURIComponent(JSON.stringify({ where: [['event', '=', '']], groupBy: ['os'] }));
    const page = await open(`${ui.demo.base}/?view=aggregate&range=all&q=${q}`, ['ready']);
    const focused = () => page.evaluate(() => {
      const a = document.activeElement;
      return `${a?.tagName} ${a?.getAttribute('aria-label') ?? a?.textContent}`;
    });
    await page.locator('select[aria-label="bucket"]').focus();
    await act(page, () => page.keyboard.press('ArrowDown'));
    expect(await focused()).toBe('SELECT bucket');
    await page.locator('[data-testid="range-presets"] button[data-value="30d"]').focus();
    await act(page, () => page.keyboard.press('Enter'));
    expect(await focused()).toBe('BUTTON 30d');
    await page.locator('input.f-val').focus();
    await page.keyboard.type('search');
    await page.keyboard.press('Tab');
    await page.waitForFunction(() => document.querySelector('[data-testid="query-json-table"]')?.textContent?.includes('search'));
    await waitForStatus(page);
    expect(await focused()).toBe('BUTTON remove condition');
    // Removing the row moves focus to what took its place, not to the top of the page.
    await act(page, () => page.keyboard.press('Enter'));
    expect(await page.locator('.filter-row').count()).toBe(0);
    expect(await focused()).toBe('BUTTON + Filter');
    await page.close();
  });

  it('fits a narrow window: every view in one column, nothing off to the side', async () => {
    const page = await ui.browser.context.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${ui.demo.base}/?range=all`);
    await waitForStatus(page);
    for (const view of ['aggregate', 'funnel', 'sessions', 'retention', 'paths']) {
      await act(page, () => page.click(`button[data-view="${view}"]`));
      const widths = await page.evaluate(() => ({ page: document.documentElement.scrollWidth, window: window.innerWidth }));
      expect(widths.page, view).toBeLessThanOrEqual(widths.window);
      for (const part of ['#builder', '#results', '[role="tablist"]', '[data-testid="range-presets"]']) {
        const box = await page.locator(part).boundingBox();
        expect(box!.x, `${view} ${part}`).toBeGreaterThanOrEqual(0);
        expect(box!.x + box!.width, `${view} ${part}`).toBeLessThanOrEqual(390);
      }
    }
    await page.close();
  });

  it('shows keyboard focus on the dark top bar in a light colour', async () => {
    const page = await open(`${ui.demo.base}/?view=aggregate&range=7d`);
    const ring = () => page.evaluate(() => {
      const c = getComputedStyle(document.activeElement!);
      const [r, g, b] = (c.outlineColor.match(/\d+/g) ?? ['0', '0', '0']).map(Number);
      return { style: c.outlineStyle, width: parseFloat(c.outlineWidth), light: (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255 > 0.6 };
    });
    await page.locator('[data-testid="range-presets"] button[data-value="24h"]').focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Shift+Tab');
    expect(await ring()).toEqual({ style: 'solid', width: 2, light: true });
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Shift+Tab');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('table-picker');
    expect(await ring()).toEqual({ style: 'solid', width: 2, light: true });
    await page.close();
  });

  it('keeps text readable (WCAG AA contrast) on shaded retention cells and links in step cards', async () => {
    const page = await open(`${ui.demo.base}/?view=retention&range=all`);
    // Text colour against the background it sits on (translucent shades blended over their parents).
    const worst = (selector: string) => page.locator(selector).evaluateAll((els) => {
      const rgba = (c: string) => (c.match(/[\d.]+/g) ?? []).map(Number);
      const lum = ([r, g, b]: number[]) => [r, g, b].map((v) => { const c = v / 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; })
        .reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0);
      const background = (el: Element | null): number[] => {
        if (!el) return [255, 255, 255];
        const [r, g, b, a = 1] = rgba(getComputedStyle(el).backgroundColor);
        if (a === 0) return background(el.parentElement);
        const under = background(el.parentElement);
        return [r, g, b].map((v, i) => v * a + under[i] * (1 - a));
      };
      return Math.min(...els.map((el) => {
        const [x, y] = [lum(rgba(getComputedStyle(el).color)), lum(background(el))];
        return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
      }));
    });
    expect(await page.locator('[data-testid="retention-grid"] td.cell-shaded').count()).toBeGreaterThan(10);
    expect(await worst('[data-testid="retention-grid"] td.cell-shaded')).toBeGreaterThanOrEqual(4.5);
    await act(page, () => page.click('button[data-view="funnel"]'));
    expect(await worst('.step-card .link-btn')).toBeGreaterThanOrEqual(4.5);
    await page.close();
  });

  it('gives screen readers a page heading and puts every part of the page in a landmark', async () => {
    const page = await open(`${ui.demo.base}/?view=aggregate&range=all`);
    expect(await page.locator('h1').allTextContents()).toEqual(['Shoal']);
    const outside = await page.evaluate(() => {
      const texts = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      const out: string[] = [];
      for (let n = texts.nextNode(); n; n = texts.nextNode()) {
        if (n.textContent?.trim() && !n.parentElement?.closest('header, nav, main, aside, footer, noscript, option')) out.push(n.textContent.trim());
      }
      return out;
    });
    expect(outside).toEqual([]);
    await page.close();
  });

  it('moves between view tabs with the arrow keys, as a tab list does', async () => {
    const page = await open(`${ui.demo.base}/?view=aggregate&range=all`);
    await page.locator('button[data-view="aggregate"]').focus();
    await act(page, () => page.keyboard.press('ArrowRight'), ['ready', 'incomplete']);
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-view'))).toBe('funnel');
    expect(new URL(page.url()).searchParams.get('view')).toBe('funnel');
    await act(page, () => page.keyboard.press('ArrowLeft'));
    await act(page, () => page.keyboard.press('ArrowLeft'));
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-view'))).toBe('paths');
    await page.close();
  });

  it('names each builder picker by its visible label, so voice control and screen readers find it', async () => {
    const page = await open(`${ui.demo.base}/?view=funnel&range=all`);
    for (const name of ['Completed within', 'Steps happen', 'Conversion over time, per']) {
      expect(await page.getByRole('combobox', { name, exact: true }).count(), name).toBe(1);
    }
    await act(page, () => page.click('button[data-view="aggregate"]'));
    expect(await page.getByRole('combobox', { name: 'Time buckets', exact: true }).count()).toBe(1);
    await page.close();
  });

  it('announces a short status when results change, not every cell of the new tables', async () => {
    const page = await open(`${ui.demo.base}/?view=aggregate&range=all`);
    await act(page, () => page.locator('select[aria-label="bucket"]').selectOption('1d'));
    const live = await page.evaluate(() => [...document.querySelectorAll('[aria-live], [role="status"], [role="alert"]')]
      .filter((e) => e.getAttribute('aria-live') !== 'off')
      .map((e) => (e.textContent ?? '').trim().length));
    expect(live.length).toBeGreaterThan(0);
    for (const n of live) expect(n).toBeLessThan(200);
    expect(await page.locator('#announce').textContent()).toContain('Events updated');
    await page.close();
  });

  it('lets keyboard users hide and show a chart line from the legend', async () => {
    const page = await open(`${ui.demo.base}/?view=aggregate&range=all`);
    const item = page.locator('.chart .u-legend .u-series').nth(1);
    await item.focus();
    expect(await page.evaluate(() => document.activeElement?.classList.contains('u-series'))).toBe(true);
    expect(await item.getAttribute('aria-pressed')).toBe('true');
    await page.keyboard.press('Enter');
    await expect.poll(() => item.getAttribute('class')).toContain('u-off');
    expect(await item.getAttribute('aria-pressed')).toBe('false');
    await page.keyboard.press(' ');
    await expect.poll(() => item.getAttribute('class')).not.toContain('u-off');
    await page.close();
  });
});
