// @ts-check
/**
 * Time-series line charts (uPlot, served by the server at /vendor/uplot/): x is time in the
 * chosen zone, y is in the measure's unit (counts, ms, %), one line per series, with uPlot's
 * legend under the chart (click a label to hide that line; hover to read values).
 */
import uPlot from '/vendor/uplot/uPlot.esm.js';
import { formatCompact, formatDuration, formatValue } from '../format.js';
import { h } from '../dom.js';

/** Distinct, colour-blind-friendlier palette (Tableau 10); "Other" is grey. */
export const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#2f4b7c'];
export const OTHER_COLOR = '#9aa0a6';

/** @param {number} i @param {boolean} [isOther] */
export function seriesColor(i, isOther = false) {
  return isOther ? OTHER_COLOR : PALETTE[i % PALETTE.length];
}

/**
 * @param {number[]} ticks
 * @param {import('../format.js').Unit} unit
 */
function tickLabels(ticks, unit) {
  if (unit === 'ms') return ticks.map((t) => formatDuration(t));
  if (unit === 'fraction') return ticks.map((t) => `${Math.round(t * 1000) / 10}%`);
  return ticks.map((t) => formatCompact(t));
}

/**
 * Draws a time-series chart into a new element and keeps it sized to its container.
 * @param {{
 *   xs: number[],
 *   series: { label: string, values: (number | null)[], isOther?: boolean }[],
 *   unit: import('../format.js').Unit,
 *   yLabel: string,
 *   tz: string,
 *   height?: number,
 *   testId?: string,
 * }} opts
 * @returns {HTMLElement}
 */
export function timeChart(opts) {
  const el = h('div', { class: 'chart', 'data-testid': opts.testId ?? 'time-chart' });
  const height = opts.height ?? 280;
  const dense = opts.xs.length > 60;
  /** @type {uPlot.Options} */
  const options = {
    width: 800,
    height,
    ms: 1,
    tzDate: (ts) => uPlot.tzDate(new Date(ts), opts.tz),
    cursor: { points: { size: 6 } },
    legend: { live: true },
    scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.08 : 1] } },
    axes: [
      { stroke: '#555', grid: { stroke: '#eee' }, ticks: { stroke: '#ddd' } },
      {
        label: opts.yLabel,
        labelSize: 20,
        stroke: '#555',
        size: 72,
        grid: { stroke: '#eee' },
        ticks: { stroke: '#ddd' },
        values: (_u, ticks) => tickLabels(ticks, opts.unit),
      },
    ],
    series: [
      { label: 'Time', value: (_u, v) => (v == null ? '—' : new Intl.DateTimeFormat('en-US', { timeZone: opts.tz, month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(v))) },
      ...opts.series.map((s, i) => ({
        label: s.label,
        stroke: seriesColor(i, s.isOther),
        width: 2,
        spanGaps: false,
        points: { show: !dense, size: 5 },
        value: (/** @type {uPlot} */ _u, /** @type {number | null} */ v) => formatValue(v, opts.unit),
      })),
    ],
  };
  const data = /** @type {uPlot.AlignedData} */ ([opts.xs, ...opts.series.map((s) => s.values)]);
  const plot = new uPlot(options, data, el);
  const fit = () => {
    const width = Math.max(320, Math.floor(el.clientWidth));
    if (width !== plot.width) plot.setSize({ width, height });
  };
  new ResizeObserver(fit).observe(el);
  requestAnimationFrame(fit);
  return el;
}
