// @ts-check
/**
 * The retention view: a cohort-defining event, a return event, period and number of periods; a
 * cohort grid (one row per cohort, one shaded cell per period with the share retained) and the
 * average retention curve; with a breakdown, one row per value (its cohorts combined).
 */
import { curveOf, parseRetention, retentionAverage } from '../behavioral.js';
import { h, select } from '../dom.js';
import { formatBucket, formatNumber, formatPercent } from '../format.js';
import { retentionRequests } from '../query-build.js';
import { periodStartMs } from '../time-range.js';
import { groupValueLabel } from '../series.js';
import { field } from '../ui/controls.js';
import { curveChart } from '../ui/curve-chart.js';
import { filterEditor } from '../ui/filter-editor.js';
import { emptyBox } from '../ui/status.js';

/** Breakdown groups drawn as curves (the grid lists them all). */
const MAX_CURVES = 6;
const PERIOD_WORDS = /** @type {Record<string, string>} */ ({ '1d': 'Day', '1w': 'Week', '1mo': 'Month' });

/** @type {import('./view-types.js').View} */
export const retentionView = {
  id: 'retention',
  title: 'Retention',
  builder(ctx) {
    const s = ctx.state.retention;
    const set = ctx.update;
    return h('div', { class: 'builder' },
      field('Cohort: first time in the range a user did', filterEditor({ conditions: s.start, columns: ctx.columns, suggest: ctx.suggest, testId: 'retention-start', addLabel: s.start.length === 0 ? '+ Any event (add a condition)' : '+ and…', onChange: (c) => set((d) => { d.start = c; }) })),
      field('Came back and did', filterEditor({ conditions: s.return, columns: ctx.columns, suggest: ctx.suggest, testId: 'retention-return', addLabel: s.return.length === 0 ? '+ Any event (add a condition)' : '+ and…', onChange: (c) => set((d) => { d.return = c; }) })),
      field('Period', select([['1d', 'Daily'], ['1w', 'Weekly (from Monday)'], ['1mo', 'Monthly']], s.period, (v) => set((d) => { d.period = v; }), { 'aria-label': 'period' })),
      field('Periods shown', select(['4', '7', '8', '12', '14', '30'], String(s.periods), (v) => set((d) => { d.periods = Number(v); }), { 'aria-label': 'periods' })),
      field('Break down by (cohort event’s value)', select([['', 'Nothing: one row per cohort'], ...ctx.columns.map((c) => /** @type {[string, string]} */ ([c.name, c.name]))], s.groupBy ?? '', (v) => set((d) => { d.groupBy = v; }), { 'aria-label': 'retention breakdown' })),
      field('Only events where', filterEditor({ conditions: s.where, columns: ctx.columns, suggest: ctx.suggest, testId: 'where', onChange: (w) => set((d) => { d.where = w; }) })),
    );
  },
  requests(ctx) {
    return retentionRequests(ctx.state, ctx.range);
  },
  results(ctx, _requests, results) {
    const s = ctx.state.retention;
    const grid = parseRetention(results[0]);
    const rows = grid.rows.filter((r) => r.size > 0);
    if (rows.length === 0) return emptyBox('No cohorts in this range', `No ${ctx.actorWord} did the cohort event in ${ctx.rangeText}. Pick another event or a longer range.`);
    const word = PERIOD_WORDS[s.period] ?? 'Period';
    const lastMs = ctx.table?.maxTimeMs ?? Date.now();
    // Calendar periods in the zone, as the API counts them (months are not all 30.4 days).
    const startOf = (/** @type {number} */ cohortMs, /** @type {number} */ n) => periodStartMs(cohortMs, s.period, n, ctx.state.tz);
    const average = retentionAverage(rows, startOf, lastMs);
    const head = h('tr', {}, h('th', {}, grid.groupColumns.length > 0 ? grid.groupColumns.join(', ') : 'Cohort'), h('th', { class: 'num' }, capital(ctx.actorWord)),
      Array.from({ length: grid.periods }, (_, n) => h('th', { class: 'num' }, `${word} ${n}`)));
    const avg = h('tr', { class: 'avg-row' }, h('td', {}, grid.groupColumns.length > 0 ? 'These groups' : 'All cohorts'), h('td', { class: 'num' }, formatNumber(rows.reduce((a, r) => a + r.size, 0))),
      average.map(averageCell));
    const body = grid.groupColumns.length > 0 ? groupRows(rows, startOf, lastMs) : rows.map((r) => h('tr', {},
      h('td', {}, formatBucket(r.cohortMs, ctx.state.tz, s.period === '1mo' ? '1mo' : '1d')),
      h('td', { class: 'num' }, formatNumber(r.size)),
      r.counts.map((c, n) => (startOf(r.cohortMs, n) > lastMs ? h('td', { class: 'cell-future', title: 'This period has not happened yet' }, '')
        : inProgress(shaded(r.size > 0 ? c / r.size : null, c), startOf(r.cohortMs, n + 1) > lastMs)))));
    const grouped = grid.groupColumns.length > 0;
    const lines = grouped
      ? groupCurves(rows, startOf, lastMs).slice(0, MAX_CURVES)
      : [{ label: 'All cohorts', ...curveOf(average) }];
    return h('div', { class: 'results-body' },
      h('div', { class: 'chart-title' }, `Retention curve: share of ${ctx.actorWord} active ${word.toLowerCase()} N after their first event${grouped ? `, top ${lines.length} by ${grid.groupColumns.join(', ')}` : ''}`),
      curveChart({ periods: grid.periods, word, series: lines, yLabel: `Retained ${ctx.actorWord} (%)`, testId: 'retention-curve' }),
      h('div', { class: 'chart-title table-title' }, grid.groupColumns.length > 0
        ? `Share of ${ctx.actorWord} who came back, by ${grid.groupColumns.join(', ')} and ${word.toLowerCase()} since their first event (${ctx.state.tz}; cohorts combined)`
        : `Share of each cohort that came back, by ${word.toLowerCase()} since their first event (${ctx.state.tz})`),
      h('div', { class: 'table-wrap' }, h('table', { class: 'results retention', 'data-testid': 'retention-grid' }, h('thead', {}, head), h('tbody', {}, avg, body))),
      h('div', { class: 'muted small grid-note' }, `${word} 0 is the cohort's own ${word.toLowerCase()}. ${capital(ctx.actorWord)} join the cohort of their first such event in the range, so ${ctx.actorWord} active before the range fall in its first cohorts. Blank cells have not happened yet; cells marked * are still in progress. ${grouped ? 'Each row' : 'The average'} counts only the cohorts that have finished a ${word.toLowerCase()} (marked * where none has yet; dashed on the chart). Hover a cell for the number of ${ctx.actorWord}.`));
  },
};

/**
 * Marks a cell whose period has begun but not ended by the newest event: its share may still grow.
 * @param {HTMLElement} td
 * @param {boolean} partial
 */
function inProgress(td, partial) {
  if (partial) {
    td.classList.add('cell-partial');
    td.title = `${td.title}; this period is still in progress`;
  }
  return td;
}

/**
 * A cell shaded by the share retained (darker is more), with the count in its title.
 * @param {number | null} fraction
 * @param {number | null} count
 */
function shaded(fraction, count) {
  const td = h('td', { class: 'num cell-shaded', title: count === null ? undefined : `${formatNumber(count)} retained`, 'data-count': count === null ? undefined : String(count) }, formatPercent(fraction));
  if (fraction !== null) {
    // At most 0.8 of the shade, so the dark text keeps a 4.5:1 contrast on every cell (white
    // text on mid shades fell to 2:1).
    const alpha = 0.06 + 0.74 * Math.min(1, Math.max(0, fraction));
    td.style.background = `rgba(78, 121, 167, ${alpha.toFixed(3)})`;
  }
  return td;
}

/**
 * Per breakdown value, largest first: its cohorts combined, per period averaged as the "All
 * cohorts" row is (retentionAverage: finished cohorts only, else partial; null before any began).
 * @param {{ group: any[], cohortMs: number, size: number, counts: number[] }[]} rows
 * @param {(cohortMs: number, n: number) => number} startOf
 * @param {number} lastMs
 */
function combineGroups(rows, startOf, lastMs) {
  /** @type {Map<string, typeof rows>} */
  const byGroup = new Map();
  for (const r of rows) {
    const k = JSON.stringify(r.group);
    byGroup.set(k, [...(byGroup.get(k) ?? []), r]);
  }
  return [...byGroup.values()].map((list) => ({
    label: list[0].group.map(groupValueLabel).join(' · '),
    size: list.reduce((n, r) => n + r.size, 0),
    periods: retentionAverage(list, startOf, lastMs),
  })).sort((a, b) => b.size - a.size);
}

/**
 * An average's cell: blank before any cohort began the period, marked in progress when no cohort
 * has finished it.
 * @param {{ kept: number, base: number, partial: boolean } | null} p
 */
function averageCell(p) {
  if (p === null) return h('td', { class: 'cell-future', title: 'This period has not happened yet' }, '');
  const td = shaded(p.kept / p.base, p.kept);
  td.title = `${td.title} of ${formatNumber(p.base)}${p.partial ? '' : ' (cohorts that have finished this period)'}`;
  return inProgress(td, p.partial);
}

/**
 * One grid row per breakdown value.
 * @param {{ group: any[], cohortMs: number, size: number, counts: number[] }[]} rows
 * @param {(cohortMs: number, n: number) => number} startOf
 * @param {number} lastMs
 */
function groupRows(rows, startOf, lastMs) {
  return combineGroups(rows, startOf, lastMs).map((g) => h('tr', {}, h('td', {}, g.label), h('td', { class: 'num' }, formatNumber(g.size)),
    g.periods.map(averageCell)));
}

/**
 * One retention curve per breakdown value.
 * @param {{ group: any[], cohortMs: number, size: number, counts: number[] }[]} rows
 * @param {(cohortMs: number, n: number) => number} startOf
 * @param {number} lastMs
 */
function groupCurves(rows, startOf, lastMs) {
  return combineGroups(rows, startOf, lastMs).map((g) => ({ label: g.label, ...curveOf(g.periods) }));
}

/** @param {string} w */
function capital(w) {
  return w.charAt(0).toUpperCase() + w.slice(1);
}
