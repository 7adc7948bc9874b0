// @ts-check
/**
 * A line chart over periods rather than time (uPlot, x = period number 0 … N): the retention
 * curve, one line per breakdown group, y as a percentage. Same look and legend behaviour as the
 * time charts (time-chart.js): values show in the legend while hovering. A series' points from
 * `partialFrom` on are not final yet (periods still in progress) and are reached by a dashed line.
 */
import uPlot from '/vendor/uplot/uPlot.esm.js';
import { h } from '../dom.js';
import { formatPercent } from '../format.js';
import { legendKeys, seriesColor } from './time-chart.js';

/**
 * @param {{
 *   periods: number,
 *   word: string,
 *   series: { label: string, values: (number | null)[], partialFrom?: number }[],
 *   yLabel: string,
 *   height?: number,
 *   testId?: string,
 * }} opts  word: what a period is called ("Day"); values are fractions (0 … 1) per period
 * @returns {HTMLElement}
 */
export function curveChart(opts) {
  const el = h('div', { class: 'chart', 'data-testid': opts.testId ?? 'curve-chart' });
  const height = opts.height ?? 220;
  const xs = Array.from({ length: opts.periods }, (_, n) => n);
  const step = Math.max(1, Math.ceil(opts.periods / 16));
  const count = opts.series.length;
  const tailFrom = opts.series.map((s) => Math.min(s.partialFrom ?? s.values.length, s.values.length));
  const withTails = tailFrom.some((t, i) => t < opts.series[i].values.length);
  const y = yAxis(Math.max(0, ...opts.series.flatMap((s) => s.values.filter((v) => v !== null))));
  /** @type {uPlot.Options} */
  const options = {
    width: 800,
    height,
    cursor: { points: { size: 6 } },
    legend: { live: true },
    hooks: {
      setLegend: [(u) => { el.classList.toggle('hovering', u.cursor.idx != null); }],
      // A line hidden from the legend hides its dashed tail too.
      setSeries: [(u, i, s) => { if (withTails && i !== null && i >= 1 && i <= count && s.show !== undefined) u.setSeries(i + count, { show: s.show }, false); }],
      // The y tick labels as drawn, for people's tools and tests.
      draw: [(u) => { el.dataset.yTicks = (/** @type {any} */ (u.axes[1])._values ?? []).join('|'); }],
    },
    scales: { x: { time: false, range: [-0.2, Math.max(1, opts.periods - 1) + 0.2] }, y: { range: [0, y.max] } },
    axes: [
      {
        stroke: '#555', font: '12px system-ui, sans-serif', grid: { stroke: '#eee' }, ticks: { stroke: '#ddd' },
        splits: () => xs.filter((n) => n % step === 0),
        values: (_u, ticks) => ticks.map((t) => `${opts.word} ${t}`),
      },
      {
        label: opts.yLabel, labelSize: 22, labelFont: '600 12px system-ui, sans-serif', font: '12px system-ui, sans-serif',
        stroke: '#555', size: 72, grid: { stroke: '#eee' }, ticks: { stroke: '#ddd' },
        splits: () => y.ticks,
        values: (_u, ticks) => ticks.map((t) => `${Number((t * 100).toFixed(1))}%`),
      },
    ],
    series: [
      { label: opts.word, value: (_u, v) => (v == null ? '—' : `${opts.word} ${v}`) },
      ...opts.series.map((s, i) => ({
        label: s.label,
        stroke: seriesColor(i),
        width: 2,
        points: { show: true, size: 5 },
        // The full value, also for a point this series leaves to its dashed tail.
        value: (/** @type {uPlot} */ _u, /** @type {number | null} */ _v, /** @type {number} */ _si, /** @type {number | null} */ idx) => formatPercent(idx == null ? null : s.values[idx] ?? null),
      })),
      ...(withTails ? opts.series.map((s, i) => ({ label: `${s.label} (in progress)`, stroke: seriesColor(i), width: 2, dash: [5, 4], points: { show: true, size: 5 } })) : []),
    ],
  };
  // Solid lines stop before the points still in progress; dashed tails draw the segments to them.
  const solid = opts.series.map((s, i) => s.values.map((v, n) => (n < tailFrom[i] ? v : null)));
  const dashed = withTails ? opts.series.map((s, i) => s.values.map((v, n) => (n >= tailFrom[i] - 1 ? v : null))) : [];
  const data = /** @type {uPlot.AlignedData} */ ([xs, ...solid, ...dashed]);
  const plot = new uPlot(options, data, el);
  // The tails are drawing aids, not series of their own: out of the legend.
  if (withTails) for (const row of [...plot.root.querySelectorAll('.u-legend .u-series')].slice(1 + count)) row.remove();
  legendKeys(plot);
  el.dataset.dashedPoints = String(tailFrom.reduce((a, t, i) => a + opts.series[i].values.slice(t).filter((v) => v !== null).length, 0));
  if (withTails) el.append(h('div', { class: 'muted small chart-note' }, 'Dashed: periods no cohort has finished yet (still in progress).'));
  const fit = () => {
    const width = Math.max(320, Math.floor(el.clientWidth));
    if (width !== plot.width) plot.setSize({ width, height });
  };
  new ResizeObserver(fit).observe(el);
  requestAnimationFrame(fit);
  return el;
}

/** Tick steps for a curve that stays low, as fractions (0.5% … 25%). */
const LOW_STEPS = [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.25];

/**
 * The y axis: 0–100% for a curve that reaches high (as one from a 100% period 0 does), else up
 * to a round step above its top, so a fall from 5% to 1% shows as a fall and not as a flat line
 * along the bottom.
 * @param {number} top  the largest share drawn
 * @returns {{ max: number, ticks: number[] }}
 */
function yAxis(top) {
  if (top === 0 || top > 0.7) return { max: 1.05, ticks: [0, 0.25, 0.5, 0.75, 1] };
  const want = top * 1.1;
  const step = LOW_STEPS.find((s) => s * 5 >= want) ?? 0.25;
  const n = Math.max(1, Math.ceil(want / step - 1e-9));
  return { max: n * step, ticks: Array.from({ length: n + 1 }, (_, i) => i * step) };
}
