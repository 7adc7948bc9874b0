// @ts-check
/**
 * Bar charts drawn as HTML (bar widths and heights set through the CSSOM, labels as text), for
 * categorical data where uPlot's time axis does not fit: totals per group, and funnel steps.
 */
import { h } from '../dom.js';
import { formatValue } from '../format.js';
import { seriesColor } from './time-chart.js';

/**
 * Horizontal bars, one per item, scaled to the largest, in one colour ("Other" grey).
 * @param {{ items: { label: string, value: number | null, isOther?: boolean }[], unit: import('../format.js').Unit, title: string, testId?: string }} opts
 */
export function hbars(opts) {
  const max = Math.max(0, ...opts.items.map((i) => i.value ?? 0));
  return h('div', { class: 'hbars', 'data-testid': opts.testId ?? 'hbars' },
    h('div', { class: 'chart-title' }, opts.title),
    opts.items.map((item) => {
      const bar = h('div', { class: 'hbar-fill' });
      bar.style.width = `${max > 0 ? ((item.value ?? 0) / max) * 100 : 0}%`;
      bar.style.background = seriesColor(0, item.isOther);
      return h('div', { class: 'hbar-row' },
        h('div', { class: 'hbar-label', title: item.label }, item.label),
        h('div', { class: 'hbar-track' }, bar),
        h('div', { class: 'hbar-value' }, formatValue(item.value, opts.unit)));
    }));
}

/**
 * A legend of coloured swatches.
 * @param {{ label: string, isOther?: boolean }[]} entries
 */
export function legend(entries) {
  return h('div', { class: 'legend' }, entries.map((e, i) => {
    const sw = h('span', { class: 'swatch' });
    sw.style.background = seriesColor(i, e.isOther);
    return h('span', { class: 'legend-item' }, sw, e.label);
  }));
}
