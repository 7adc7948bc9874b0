// @ts-check
/**
 * The aggregate ("Events") and sessions views: measures, filters, group-by, top N and bucket;
 * a time-series chart (one line per group, top N + Other) over a sortable totals table.
 * Both views send the same request shapes (query-build.js) and read the same result layout.
 */
import { h, select } from '../dom.js';
import { axisLabel, bucketWords, formatValue, measureLabel, unitOf } from '../format.js';
import { aggregateRequests, sessionsRequests } from '../query-build.js';
import { groupValueLabel, isEmptyResult, orderLikeRows, OTHER, sortRows, toTimeSeries } from '../series.js';
import { BUCKETS } from '../time-range.js';
import { field, groupByEditor, measureEditor } from '../ui/controls.js';
import { filterEditor } from '../ui/filter-editor.js';
import { hbars } from '../ui/bars.js';
import { resultsTable } from '../ui/results-table.js';
import { emptyBox } from '../ui/status.js';
import { timeChart } from '../ui/time-chart.js';

/** @typedef {import('./view-types.js').ViewContext} ViewContext */

const TOP_CHOICES = [3, 5, 10, 20];
/** A session's longest span before a new one starts (PRODUCT.md "maxDuration"); "" for none. */
const MAX_DURATIONS = /** @type {[string, string][]} */ ([['', 'No limit'], ['30m', '30 minutes'], ['1h', '1 hour'], ['2h', '2 hours'], ['4h', '4 hours'], ['12h', '12 hours'], ['24h', '24 hours']]);

/**
 * @param {'aggregate' | 'sessions'} kind
 * @returns {import('./view-types.js').View}
 */
export function metricView(kind) {
  const sessions = kind === 'sessions';
  return {
    id: kind,
    title: sessions ? 'Sessions' : 'Events',
    builder(ctx) {
      const s = /** @type {import('../state.js').AggregateState & { gap?: string, maxDuration?: string }} */ (/** @type {any} */ (ctx.state)[kind]);
      const set = (/** @type {(d: any) => void} */ fn) => ctx.update(fn);
      const bucketOptions = /** @type {[string, string][]} */ ([['auto', 'Automatic'], ['none', 'None (totals only)'], ...BUCKETS.map(([b]) => [b, b])]);
      return h('div', { class: 'builder' },
        sessions ? field('Session ends after a gap of', select(['5m', '10m', '15m', '30m', '1h', '2h'], s.gap ?? '30m', (v) => set((d) => { d.gap = v; }), { 'aria-label': 'session gap' })) : null,
        sessions ? field('…or once it has lasted', select(MAX_DURATIONS, s.maxDuration ?? '', (v) => set((d) => { d.maxDuration = v; }), { 'aria-label': 'session max duration' })) : null,
        field(sessions ? 'Measure sessions by' : 'Measure', measureEditor({ measures: s.measures, columns: ctx.columns, sessions, onChange: (m) => set((d) => { d.chart = chartIndexAfter(d.measures, d.chart, m); d.measures = m; }) })),
        field(sessions ? 'Only events where' : 'Where', filterEditor({ conditions: s.where, columns: ctx.columns, suggest: ctx.suggest, testId: 'where', onChange: (w) => set((d) => { d.where = w; }) })),
        field(sessions ? 'Group sessions by (first event)' : 'Group by', groupByEditor({ groupBy: s.groupBy, columns: ctx.columns, onChange: (g) => set((d) => { d.groupBy = g; }) })),
        s.groupBy.length > 0
          ? field('Show', select(TOP_CHOICES.map((n) => [String(n), `Top ${n} groups + Other`]), String(s.top), (v) => set((d) => { d.top = Number(v); }), { 'aria-label': 'top groups' }))
          : null,
        field('Time buckets', select(bucketOptions, s.bucket, (v) => set((d) => { d.bucket = v; }), { 'aria-label': 'bucket' })),
        s.measures.length > 1
          ? field('Chart', select(s.measures.map((m, i) => [String(i), measureLabel(m, ctx.actorWord, sessions ? 'Sessions' : 'Events')]), String(s.chart), (v) => set((d) => { d.chart = Number(v); }), { 'aria-label': 'chart measure' }))
          : null,
      );
    },
    requests(ctx) {
      return sessions ? sessionsRequests(ctx.state, ctx.range, ctx.table) : aggregateRequests(ctx.state, ctx.range, ctx.table);
    },
    results(ctx, requests, results) {
      const s = /** @type {import('../state.js').AggregateState} */ (/** @type {any} */ (ctx.state)[kind]);
      const tableResult = results[results.length - 1];
      if (isEmptyResult(tableResult)) {
        return emptyBox(sessions ? 'No sessions in this range' : 'No events match',
          `Nothing in ${ctx.rangeText} matches${s.where.length > 0 ? ' the filters' : ''}. Try a longer time range${s.where.length > 0 ? ' or remove a filter' : ''}.`);
      }
      const measures = /** @type {string[]} */ (requests[requests.length - 1].body.measures);
      const chartMeasure = measures[Math.min(s.chart, measures.length - 1)];
      const unit = unitOf(chartMeasure);
      const what = measureLabel(chartMeasure, ctx.actorWord, sessions ? 'Sessions' : 'Events');
      const by = s.groupBy.length > 0 ? ` by ${s.groupBy.join(', ')}` : '';
      const out = h('div', { class: 'results-body' });
      const bucket = requests.length > 1 ? /** @type {string} */ (requests[0].body.bucket) : '';
      const timeSeries = bucket ? toTimeSeries(results[0], chartMeasure, measures[0]) : { xs: [], series: [] };
      const xs = timeSeries.xs;
      // Legend in the totals table's first order (by the first measure over the whole range).
      const series = orderLikeRows(timeSeries.series, sortRows(tableResult.rows, s.groupBy.length, true), s.groupBy.length);
      if (bucket && xs.length < 2) {
        // One point is no trend, and its axis would run in seconds: say what to do instead.
        out.append(h('div', { class: 'muted small', 'data-testid': 'one-bucket' }, `The whole range falls in one ${bucketWords(bucket)}: pick a smaller time bucket to see a trend.`));
      }
      if (xs.length >= 2) {
        if (s.groupBy.length === 0 && series[0]) series[0].label = what;
        out.append(
          h('div', { class: 'chart-title' }, `${what}${by}, per ${bucketWords(bucket)} (${ctx.state.tz})`),
          timeChart({ xs, series, unit, yLabel: axisLabel(what, unit), tz: ctx.state.tz, range: ctx.range }),
        );
      } else if (s.groupBy.length > 0) {
        const idx = tableResult.columns.findIndex((/** @type {any} */ c) => c.name === chartMeasure);
        // Largest first, "Other" last; one colour, since the bars are already labelled.
        const items = tableResult.rows.map((/** @type {any[]} */ r) => ({ label: r.slice(0, s.groupBy.length).map(groupValueLabel).join(' · '), value: r[idx], isOther: r[0] === OTHER }));
        items.sort((/** @type {any} */ a, /** @type {any} */ b) => Number(a.isOther) - Number(b.isOther) || (b.value ?? -Infinity) - (a.value ?? -Infinity));
        out.append(hbars({ title: `${what}${by}`, unit, items }));
      }
      out.append(h('div', { class: 'chart-title table-title' }, `Totals over ${ctx.rangeText}`), totalsTable(tableResult, s.groupBy.length, ctx, sessions ? 'Sessions' : 'Events'));
      return out;
    },
  };
}

/**
 * Which measure to chart after the list changes: the same one when a row above it is removed,
 * else the row in the same place (its function or column changed, or it was removed itself).
 * @param {string[]} before
 * @param {number} chart
 * @param {string[]} after
 */
function chartIndexAfter(before, chart, after) {
  let removed = after.length;
  if (after.length === before.length - 1) removed = after.findIndex((m, i) => m !== before[i]);
  if (removed === -1) removed = after.length;
  // Removing one of two equal rows reads the same either way: keep the measure that was charted.
  const shifted = removed < chart || (removed === chart && after[chart - 1] === before[chart]) ? chart - 1 : chart;
  return Math.max(0, Math.min(shifted, after.length - 1));
}

/**
 * The totals table: group columns as text, measures in their units, sorted by the first measure.
 * @param {{ columns: { name: string }[], rows: any[][] }} result
 * @param {number} groupCount
 * @param {ViewContext} ctx
 * @param {string} countWord
 */
function totalsTable(result, groupCount, ctx, countWord) {
  const columns = result.columns.map((c, i) => {
    if (i < groupCount) return { key: c.name, label: c.name, format: groupValueLabel };
    const unit = unitOf(c.name);
    return { key: c.name, label: measureLabel(c.name, ctx.actorWord, countWord), numeric: true, format: (/** @type {any} */ v) => formatValue(v, unit) };
  });
  return resultsTable({ columns, rows: result.rows, sort: groupCount > 0 ? { col: groupCount, desc: true } : undefined, last: (r) => groupCount > 0 && r[0] === OTHER });
}

