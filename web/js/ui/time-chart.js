// @ts-check
/**
 * Time-series line charts (uPlot, served by the server at /vendor/uplot/): x is time in the
 * chosen zone, y is in the measure's unit (counts, ms, %), one line per series, with uPlot's
 * legend under the chart (click a label to hide that line; hover to read values: the values and
 * the time only show while hovering). Buckets the range covers only in part (the first, when the
 * range starts inside it; the last, when it has not ended yet) are reached by dashed segments, so
 * a low last point does not read as a drop.
 */
import uPlot from '/vendor/uplot/uPlot.esm.js';
import { formatCompact, formatDuration, formatValue } from '../format.js';
import { h } from '../dom.js';
import { partialBuckets } from '../series.js';

/**
 * Distinct, colour-blind-friendlier palette (Tableau 10, then ten darker ones from ColorBrewer
 * Dark2 and others, so top-20 series and path flows do not repeat colours); "Other" is grey.
 */
export const PALETTE = [
  '#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#2f4b7c',
  '#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#a6761d', '#17becf', '#8c564b', '#bcbd22', '#5e3c99',
];
export const OTHER_COLOR = '#9aa0a6';

/** Tick steps for durations, so ticks land on round times (30 s, 1 min, 1.5 min), not 1.67 min. */
const DURATION_INCRS_MS = [
  1, 2, 5, 10, 20, 50, 100, 200, 250, 500,
  1e3, 2e3, 5e3, 10e3, 15e3, 30e3,
  60e3, 120e3, 300e3, 600e3, 900e3, 1800e3,
  3600e3, 7200e3, 10800e3, 21600e3, 43200e3,
  86400e3, 172800e3, 604800e3,
];

const SEC = 1e3;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** uPlot's own time-axis steps (ms); a chart keeps those no finer than its buckets (see timeChart). */
const TIME_INCRS_MS = [
  1, 2, 5, 10, 20, 50, 100, 200, 500,
  SEC, 5 * SEC, 10 * SEC, 15 * SEC, 30 * SEC,
  MIN, 5 * MIN, 10 * MIN, 15 * MIN, 30 * MIN,
  HOUR, 2 * HOUR, 3 * HOUR, 4 * HOUR, 6 * HOUR, 8 * HOUR, 12 * HOUR,
  DAY, 2 * DAY, 3 * DAY, 4 * DAY, 5 * DAY, 6 * DAY, 7 * DAY, 8 * DAY, 9 * DAY, 10 * DAY, 15 * DAY,
  30 * DAY, 60 * DAY, 90 * DAY, 120 * DAY, 180 * DAY,
  365 * DAY, 730 * DAY, 1825 * DAY, 3650 * DAY,
];

/** Tick steps for counts: whole numbers only (no "2.5 events"). */
const COUNT_INCRS = Array.from({ length: 13 }, (_, e) => [1, 2, 5].map((m) => m * 10 ** e)).flat();

/** @param {number} i @param {boolean} [isOther] */
export function seriesColor(i, isOther = false) {
  return isOther ? OTHER_COLOR : PALETTE[i % PALETTE.length];
}

/**
 * @param {number[]} ticks
 * @param {import('../format.js').Unit} unit
 */
function tickLabels(ticks, unit) {
  if (unit === 'ms') return ticks.map((t) => (t === 0 ? '0' : formatDuration(t)));
  if (unit === 'fraction') return ticks.map((t) => `${Math.round(t * 1000) / 10}%`);
  return ticks.map((t) => formatCompact(t));
}

/**
 * Makes the legend's series toggles (uPlot hides a line when its name is clicked) reachable and
 * usable from the keyboard: each is a focusable toggle button, Enter or Space flips it.
 * @param {uPlot} plot
 */
export function legendKeys(plot) {
  for (const row of [...plot.root.querySelectorAll('.u-legend .u-series')].slice(1)) {
    const label = row.querySelector('.u-label')?.textContent ?? '';
    Object.assign(row, { tabIndex: 0 });
    row.setAttribute('role', 'button');
    row.setAttribute('aria-label', `Show ${label}`);
    const sync = () => row.setAttribute('aria-pressed', String(!row.classList.contains('u-off')));
    sync();
    // In step with uPlot's own class change (a microtask after it, before anything reads the row).
    new MutationObserver(sync).observe(row, { attributes: true, attributeFilter: ['class'] });
    row.addEventListener('keydown', (e) => {
      const key = /** @type {KeyboardEvent} */ (e).key;
      if (key !== 'Enter' && key !== ' ') return;
      e.preventDefault();
      // uPlot listens on the name's cell.
      (row.querySelector('th') ?? row).dispatchEvent(new MouseEvent('click', { bubbles: true }));
    });
  }
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
 *   range?: { fromMs: number | null, toMs: number | null },
 *   incompleteFromMs?: number,
 *   incompleteNote?: string,
 * }} opts  range: the query's bounds, to mark partial buckets; incompleteFromMs: points from this
 *   time on are not final yet for another reason (incompleteNote says which), drawn dashed too
 * @returns {HTMLElement}
 */
export function timeChart(opts) {
  const el = h('div', { class: 'chart', 'data-testid': opts.testId ?? 'time-chart' });
  const height = opts.height ?? 280;
  const dense = opts.xs.length > 40;
  const partial = partialBuckets(opts.xs, opts.range);
  const n = opts.xs.length;
  const count = opts.series.length;
  const stepMs = Math.min(...opts.xs.slice(1).map((x, i) => x - opts.xs[i]));
  // The dashed tail starts at the last bucket when the range ends inside it, or earlier when
  // later points are not final yet (incompleteFromMs).
  const lateIdx = opts.incompleteFromMs === undefined ? -1 : opts.xs.findIndex((x) => x >= /** @type {number} */ (opts.incompleteFromMs));
  const tailStart = Math.min(partial.last ? n - 1 : n, lateIdx < 0 ? n : lateIdx);
  /** @param {number} i */
  const isPartial = (i) => (partial.first && i === 0) || i >= tailStart;
  /** @param {number} i */
  const inTail = (i) => (partial.first && i <= 1) || i >= tailStart - 1;
  const fmtTime = new Intl.DateTimeFormat('en-US', { timeZone: opts.tz, month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  /** @type {uPlot.Series[]} */
  const mains = opts.series.map((s, i) => ({
    label: s.label,
    stroke: seriesColor(i, s.isOther),
    width: 2,
    spanGaps: false,
    points: { show: !dense, size: 5 },
    // The full value, also for a partial bucket, which this series leaves to its dashed tail.
    value: (/** @type {uPlot} */ _u, /** @type {number | null} */ _v, /** @type {number} */ _si, /** @type {number | null} */ idx) => formatValue(idx == null ? null : s.values[idx], opts.unit),
  }));
  /** @type {uPlot.Series[]} */
  const tails = opts.series.map((s, i) => ({ label: `${s.label} (partial)`, stroke: seriesColor(i, s.isOther), width: 2, dash: [5, 4], spanGaps: false, points: { show: !dense, size: 5 } }));
  const withTails = partial.first || tailStart < n;
  /** @type {uPlot.Options} */
  const options = {
    width: 800,
    height,
    ms: 1,
    tzDate: (ts) => uPlot.tzDate(new Date(ts), opts.tz),
    cursor: { points: { size: 6 } },
    legend: { live: true },
    hooks: {
      setLegend: [(u) => { el.classList.toggle('hovering', u.cursor.idx != null); }],
      // The x tick labels as drawn (uPlot keeps them on the axis), for people's tools and tests.
      draw: [(u) => { el.dataset.xTicks = (/** @type {any} */ (u.axes[0])._values ?? []).join('|'); }],
      // A line hidden from the legend hides its dashed tail too.
      setSeries: [(u, i, s) => { if (withTails && i !== null && i >= 1 && i <= count && s.show !== undefined) u.setSeries(i + count, { show: s.show }, false); }],
    },
    scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.08 : 1] } },
    axes: [
      // Ticks no finer than the buckets: a daily series gets no "12pm" ticks between its days,
      // a per-minute one no ":30" (a month is 28 to 31 days, hence the 0.9).
      { stroke: '#555', font: '12px system-ui, sans-serif', grid: { stroke: '#eee' }, ticks: { stroke: '#ddd' }, incrs: Number.isFinite(stepMs) ? TIME_INCRS_MS.filter((v) => v >= stepMs * 0.9) : TIME_INCRS_MS },
      {
        label: opts.yLabel,
        labelSize: 22,
        labelFont: '600 12px system-ui, sans-serif',
        font: '12px system-ui, sans-serif',
        stroke: '#555',
        size: 72,
        grid: { stroke: '#eee' },
        ticks: { stroke: '#ddd' },
        values: (_u, ticks) => tickLabels(ticks, opts.unit),
        ...(opts.unit === 'ms' ? { incrs: DURATION_INCRS_MS } : opts.unit === 'count' ? { incrs: COUNT_INCRS } : {}),
      },
    ],
    series: [
      { label: 'Time', value: (_u, v) => (v == null ? '—' : fmtTime.format(new Date(v))) },
      ...mains,
      ...(withTails ? tails : []),
    ],
  };
  // Solid lines stop short of partial buckets; dashed tails draw the segments into them.
  const solid = opts.series.map((s) => s.values.map((v, i) => (withTails && isPartial(i) ? null : v)));
  const dashed = withTails ? opts.series.map((s) => s.values.map((v, i) => (inTail(i) ? v : null))) : [];
  const data = /** @type {uPlot.AlignedData} */ ([opts.xs, ...solid, ...dashed]);
  const plot = new uPlot(options, data, el);
  // The tails are drawing aids, not series of their own: out of the legend.
  if (withTails) for (const row of [...plot.root.querySelectorAll('.u-legend .u-series')].slice(1 + count)) row.remove();
  legendKeys(plot);
  if (withTails) {
    el.dataset.dashedPoints = String(opts.xs.filter((_x, i) => isPartial(i)).length);
    const late = tailStart < n && (lateIdx >= 0 && lateIdx < n - (partial.last ? 1 : 0)) ? opts.incompleteNote ?? '' : '';
    el.append(h('div', { class: 'muted small chart-note' }, `Dashed: a bucket the time range covers only in part${late ? `, or ${late}` : ''}.`));
  }
  const fit = () => {
    const width = Math.max(320, Math.floor(el.clientWidth));
    if (width !== plot.width) plot.setSize({ width, height });
  };
  new ResizeObserver(fit).observe(el);
  requestAnimationFrame(fit);
  return el;
}
