// @ts-check
/**
 * The funnel view: steps (each a set of conditions; add, remove, reorder), window, mode,
 * exclusions (events that must not happen between two steps) and a breakdown; a bar chart of actors per step with conversion and median time to convert, a table
 * per breakdown group, and conversion over time.
 */
import { parseFunnel, stepName } from '../behavioral.js';
import { h, select } from '../dom.js';
import { bucketWords, formatDuration, formatNumber, formatPercent } from '../format.js';
import { funnelRequests, toFilter } from '../query-build.js';
import { groupValueLabel, OTHER } from '../series.js';
import { BUCKETS } from '../time-range.js';
import { legend } from '../ui/bars.js';
import { field } from '../ui/controls.js';
import { filterEditor } from '../ui/filter-editor.js';
import { resultsTable } from '../ui/results-table.js';
import { emptyBox } from '../ui/status.js';
import { seriesColor, timeChart } from '../ui/time-chart.js';

const MAX_STEPS = 20;
/** The engine's limit on exclusions per funnel. */
const MAX_EXCLUSIONS = 4;
/** The table's sum row when the funnel is broken down. */
const TOTAL_LABEL = 'All groups';
const MAX_GROUP_BARS = 6;
const WINDOWS = ['5m', '30m', '1h', '6h', '1d', '3d', '7d', '14d', '30d'];
const MODES = /** @type {[string, string][]} */ ([
  ['ordered', 'In order, others may happen between'],
  ['strict', 'In order, nothing between'],
  ['any', 'In any order'],
]);

/** @type {import('./view-types.js').View} */
export const funnelView = {
  id: 'funnel',
  title: 'Funnel',
  builder(ctx) {
    const s = ctx.state.funnel;
    const set = ctx.update;
    const defaultColumn = ctx.columns.find((c) => c.name === 'event')?.name ?? ctx.columns[0]?.name ?? '';
    const steps = s.steps.map((conds, i) => h('div', { class: 'step-card', 'data-testid': `step-${i + 1}` },
      h('div', { class: 'step-head' },
        h('span', { class: 'step-num' }, String(i + 1)),
        h('span', { class: 'step-title' }, stepName(conds, i)),
        h('span', { class: 'step-tools' },
          h('button', { type: 'button', class: 'icon-btn', title: 'Move up', 'aria-label': `move step ${i + 1} up`, disabled: i === 0, onclick: () => set((d) => swapSteps(d, i, i - 1)) }, '↑'),
          h('button', { type: 'button', class: 'icon-btn', title: 'Move down', 'aria-label': `move step ${i + 1} down`, disabled: i === s.steps.length - 1, onclick: () => set((d) => swapSteps(d, i, i + 1)) }, '↓'),
          h('button', { type: 'button', class: 'icon-btn', title: 'Remove step', 'aria-label': `remove step ${i + 1}`, onclick: () => set((d) => removeStep(d, i)) }, '×'))),
      filterEditor({
        conditions: conds,
        columns: ctx.columns,
        suggest: ctx.suggest,
        minRows: 1,
        addLabel: '+ and…',
        onChange: (next) => set((d) => { d.steps[i] = next; }),
      })));
    return h('div', { class: 'builder' },
      field('Steps', h('div', { class: 'steps' }, steps),
        s.steps.length < MAX_STEPS
          ? h('button', { type: 'button', class: 'link-btn', 'data-testid': 'add-step', onclick: () => set((d) => { d.steps.push([[defaultColumn, '=', '']]); }) }, '+ Add step')
          : null),
      field('Completed within', select(WINDOWS, s.window, (v) => set((d) => { d.window = v; }), { 'aria-label': 'window' })),
      field('Steps happen', select(MODES, s.mode, (v) => set((d) => { d.mode = v; }), { 'aria-label': 'mode' })),
      field('Exclude if in between they did', exclusionEditor(ctx, defaultColumn)),
      field('Break down by (first step’s value)', select([['', 'Nothing'], ...ctx.columns.map((c) => /** @type {[string, string]} */ ([c.name, c.name]))], s.groupBy, (v) => set((d) => { d.groupBy = v; }), { 'aria-label': 'breakdown' })),
      field('Only events where', filterEditor({ conditions: s.where, columns: ctx.columns, suggest: ctx.suggest, testId: 'where', onChange: (w) => set((d) => { d.where = w; }) })),
      field('Conversion over time, per', select([['auto', 'Automatic'], ['none', 'Don’t chart'], ...BUCKETS.map(([b]) => /** @type {[string, string]} */ ([b, b]))], s.bucket, (v) => set((d) => { d.bucket = v; }), { 'aria-label': 'conversion bucket' })),
    );
  },
  requests(ctx) {
    return funnelRequests(ctx.state, ctx.range, ctx.table);
  },
  incomplete(ctx) {
    const ready = ctx.state.funnel.steps.filter((c) => toFilter(c) !== null).length;
    return ready < 2 ? 'A funnel needs at least two steps: pick an event (or any filter) for each step on the left.' : '';
  },
  results(ctx, requests, results) {
    const s = ctx.state.funnel;
    const resultOf = (/** @type {string} */ label) => results[requests.findIndex((r) => r.label === label)] ?? null;
    const funnel = parseFunnel(results[0]);
    const names = s.steps.filter((c) => toFilter(c) !== null).map(stepName);
    const total = funnel.rows.reduce((n, r) => n + (r.steps[0]?.actors ?? 0), 0);
    if (total === 0) {
      return emptyBox('Nobody did the first step', `No ${ctx.actorWord} did “${names[0]}” in ${ctx.rangeText}. Pick another first step or a longer time range.`);
    }
    const rows = [...funnel.rows].sort((a, b) => Number(isOther(a.group)) - Number(isOther(b.group)) || (b.steps[0]?.actors ?? 0) - (a.steps[0]?.actors ?? 0));
    const out = h('div', { class: 'results-body' });
    // The results number the steps as sent: say which of the builder's steps were left out.
    const sent = s.steps.map((c, i) => (toFilter(c) !== null ? i + 1 : 0)).filter((n) => n > 0);
    const skipped = s.steps.map((_c, i) => i + 1).filter((n) => !sent.includes(n));
    if (skipped.length > 0) {
      const one = skipped.length === 1;
      out.append(h('div', { class: 'notice skipped-steps', 'data-testid': 'skipped-steps' },
        `${one ? 'Step' : 'Steps'} ${andList(skipped)} ${one ? 'has' : 'have'} no condition yet, so ${one ? 'it is' : 'they are'} left out: the funnel below has ${sent.length} steps (${andList(sent)} on the left).`));
    }
    const excluded = (requests[0].body.exclude ?? []).map((/** @type {any} */ e) => `${filterWords(e.filter)} between steps ${e.after} and ${e.before}`);
    out.append(h('div', { class: 'chart-title' }, `${capital(ctx.actorWord)} reaching each step within ${s.window}${s.groupBy ? `, by ${s.groupBy}` : ''}${excluded.length > 0 ? `; not if ${excluded.join(', or ')}` : ''}`));
    const overallResult = resultOf('overall');
    const overallRow = overallResult ? parseFunnel(overallResult).rows[0] ?? null : null;
    out.append(funnelBars(rows.slice(0, MAX_GROUP_BARS), rows, names, funnel.stepCount, s.groupBy !== '', ctx.actorWord, overallRow));
    out.append(h('div', { class: 'chart-title table-title' }, `${capital(ctx.actorWord)} per step, conversion from step 1, and median time from step 1`), funnelTable(rows, names, funnel, overallRow));
    const overTime = requests.findIndex((r) => r.label === 'over time');
    if (overTime >= 0) out.append(conversionOverTime(results[overTime], requests[overTime].body.bucket, ctx));
    return out;
  },
};

/**
 * Swaps two steps; exclusions keep pointing at the same steps.
 * @param {import('../state.js').FunnelState} d @param {number} i @param {number} j  0-based
 */
function swapSteps(d, i, j) {
  [d.steps[i], d.steps[j]] = [d.steps[j], d.steps[i]];
  const to = (/** @type {number} */ n) => (n === i + 1 ? j + 1 : n === j + 1 ? i + 1 : n);
  d.exclude = (d.exclude ?? []).map((e) => ({ ...e, after: Math.min(to(e.after), to(e.before)), before: Math.max(to(e.after), to(e.before)) }));
}

/**
 * Removes a step; exclusions bounded by it go, later step numbers shift down.
 * @param {import('../state.js').FunnelState} d @param {number} i  0-based
 */
function removeStep(d, i) {
  d.steps.splice(i, 1);
  const gone = i + 1;
  d.exclude = (d.exclude ?? []).filter((e) => e.after !== gone && e.before !== gone)
    .map((e) => ({ ...e, after: e.after > gone ? e.after - 1 : e.after, before: e.before > gone ? e.before - 1 : e.before }));
}

/**
 * Exclusions: an event filter and the two steps it must not fall between (ordered modes only).
 * @param {import('./view-types.js').ViewContext} ctx
 * @param {string} defaultColumn
 */
function exclusionEditor(ctx, defaultColumn) {
  const s = ctx.state.funnel;
  const set = ctx.update;
  const list = s.exclude ?? [];
  const wrap = h('div', { class: 'exclusions', 'data-testid': 'exclusions' });
  if (s.mode === 'any') {
    wrap.append(h('div', { class: 'muted small' }, 'Steps in any order have no “between”: pick an ordered mode to exclude events.'));
    return wrap;
  }
  const stepOptions = s.steps.map((_c, i) => /** @type {[string, string]} */ ([String(i + 1), String(i + 1)]));
  list.forEach((e, x) => {
    wrap.append(h('div', { class: 'step-card exclusion', 'data-testid': `exclusion-${x + 1}` },
      filterEditor({
        conditions: e.filter, columns: ctx.columns, suggest: ctx.suggest, minRows: 1, addLabel: '+ and…',
        onChange: (next) => set((d) => { d.exclude[x].filter = next; }),
      }),
      h('div', { class: 'between' },
        h('span', { class: 'muted' }, 'between step'),
        select(stepOptions.slice(0, -1), String(e.after), (v) => set((d) => { d.exclude[x].after = Number(v); d.exclude[x].before = Math.max(d.exclude[x].before, Number(v) + 1); }), { 'aria-label': `exclusion ${x + 1} after step` }),
        h('span', { class: 'muted' }, 'and step'),
        select(stepOptions.slice(e.after), String(e.before), (v) => set((d) => { d.exclude[x].before = Number(v); }), { 'aria-label': `exclusion ${x + 1} before step` }),
        h('button', { type: 'button', class: 'icon-btn', title: 'Remove this exclusion', 'aria-label': `remove exclusion ${x + 1}`, onclick: () => set((d) => { d.exclude.splice(x, 1); }) }, '×'))));
  });
  if (list.length < MAX_EXCLUSIONS && s.steps.length >= 2) {
    wrap.append(h('button', {
      type: 'button', class: 'link-btn', 'data-testid': 'add-exclusion',
      onclick: () => set((d) => { d.exclude = [...(d.exclude ?? []), { filter: [[defaultColumn, '=', '']], after: 1, before: d.steps.length }]; }),
    }, '+ Exclusion'));
  }
  return wrap;
}

/**
 * A request filter in words, as steps are named ("error", "country is US and plan is pro").
 * @param {any} filter  a leaf [column, op, value] or {and: leaves}
 */
function filterWords(filter) {
  const leaves = Array.isArray(filter) ? [filter] : filter?.and ?? [];
  return stepName(leaves, 0);
}

/** A window such as "30m", "1d", "2w" in ms (0 when unreadable). @param {string} text */
function durationMs(text) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(text);
  if (!m) return 0;
  return Number(m[1]) * /** @type {Record<string, number>} */ ({ ms: 1, s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7, w: 6.048e8 })[m[2]];
}

/** "1", "1 and 3", "1, 2 and 4". @param {number[]} ns */
function andList(ns) {
  return ns.length <= 1 ? ns.join('') : `${ns.slice(0, -1).join(', ')} and ${ns[ns.length - 1]}`;
}

/** @param {any[]} group */
function isOther(group) {
  return group.length > 0 && group.every((v) => v === OTHER);
}

/** @param {string} w */
function capital(w) {
  return w.charAt(0).toUpperCase() + w.slice(1);
}

/**
 * Vertical bars per step (one per breakdown group, each over a pale bar of the group's previous
 * step, so the drop-off shows), the count on each bar, and under each step its conversion from
 * step 1 and from the previous step (over all groups) and the median time to convert (over all).
 * @param {import('../behavioral.js').FunnelRow[]} rows  the groups drawn
 * @param {import('../behavioral.js').FunnelRow[]} all  every group, for the totals
 * @param {string[]} names
 * @param {number} stepCount
 * @param {boolean} grouped
 * @param {string} actorWord
 * @param {import('../behavioral.js').FunnelRow | null} overall  without the breakdown, for times to convert
 */
function funnelBars(rows, all, names, stepCount, grouped, actorWord, overall) {
  const max = Math.max(1, ...rows.map((r) => r.steps[0]?.actors ?? 0));
  const totals = Array.from({ length: stepCount }, (_, k) => all.reduce((n, r) => n + (r.steps[k]?.actors ?? 0), 0));
  // Counts on the bars while they are wide enough to hold them.
  // Long funnels get narrower steps (and past 12, rows of them) so none hides past the chart's edge.
  const size = stepCount > 12 ? ' many wrap' : stepCount > 6 ? ' many' : '';
  const chart = h('div', { class: `funnel-chart${size}${rows.length * stepCount > 20 ? ' no-counts' : ''}`, 'data-testid': 'funnel-chart' });
  for (let k = 0; k < stepCount; k++) {
    const bars = h('div', { class: 'funnel-bars' });
    rows.forEach((r, gi) => {
      const cell = r.steps[k];
      const color = seriesColor(gi, isOther(r.group));
      const fill = h('div', { class: 'funnel-fill' });
      fill.style.height = `${(cell.actors / max) * 100}%`;
      fill.style.background = color;
      const bar = h('div', { class: 'funnel-bar', title: `${grouped ? `${r.group.map(groupValueLabel).join(' · ')}: ` : ''}${formatNumber(cell.actors)} ${actorWord}` });
      if (k > 0) {
        const ghost = h('div', { class: 'funnel-ghost' });
        ghost.style.height = `${((r.steps[k - 1]?.actors ?? 0) / max) * 100}%`;
        ghost.style.background = color;
        bar.append(ghost);
      }
      fill.append(h('div', { class: 'funnel-count' }, formatNumber(cell.actors)));
      bar.append(fill);
      bars.append(bar);
    });
    const only = rows.length === 1 && !grouped ? rows[0].steps[k] : null;
    const medianMs = only ? only.medianMs : overall?.steps[k]?.medianMs ?? null;
    const ofFirst = totals[0] > 0 ? totals[k] / totals[0] : null;
    const ofPrev = k > 0 && totals[k - 1] > 0 ? totals[k] / totals[k - 1] : null;
    chart.append(h('div', { class: 'funnel-step', 'data-step': String(k + 1) },
      bars,
      h('div', { class: 'funnel-label', title: names[k] ?? '' }, `${k + 1}. ${names[k] ?? `Step ${k + 1}`}`),
      h('div', { class: 'funnel-meta' },
        h('div', { class: 'funnel-conv', 'data-testid': `conversion-${k + 1}` }, k === 0 ? '100%' : formatPercent(only ? only.conversion : ofFirst),
          h('span', { class: 'funnel-total' }, ` · ${formatNumber(totals[k])} ${actorWord}`)),
        k > 0 ? h('div', { class: 'muted small' }, `${formatPercent(ofPrev)} of step ${k}${medianMs !== null ? ` · median ${formatDuration(medianMs)} from step 1` : ''}`) : h('div', { class: 'muted small' }, grouped ? 'all groups' : 'entered the funnel'))));
  }
  return h('div', {}, chart, grouped ? legend(rows.map((r) => ({ label: r.group.map(groupValueLabel).join(' · '), isOther: isOther(r.group) }))) : null);
}

/**
 * @param {import('../behavioral.js').FunnelRow[]} rows
 * @param {string[]} names
 * @param {{ groupColumns: string[], stepCount: number }} funnel
 * @param {import('../behavioral.js').FunnelRow | null} overall  the funnel without the breakdown
 */
function funnelTable(rows, names, funnel, overall) {
  const g = funnel.groupColumns.length;
  /** @type {import('../ui/results-table.js').TableColumn[]} */
  const columns = funnel.groupColumns.map((c) => ({ key: c, label: c, format: groupValueLabel }));
  for (let k = 0; k < funnel.stepCount; k++) {
    columns.push({ key: `step${k + 1}`, label: `${k + 1}. ${names[k] ?? ''}`, numeric: true, format: formatNumber });
    if (k > 0) {
      columns.push({ key: `step${k + 1}_conversion`, label: `${k + 1}: conv.`, numeric: true, format: formatPercent });
      columns.push({ key: `step${k + 1}_median_ms`, label: `${k + 1}: median time`, numeric: true, format: formatDuration });
    }
  }
  const tableRows = rows.map((r) => [
    ...r.group,
    ...r.steps.flatMap((c, k) => (k === 0 ? [c.actors] : [c.actors, c.conversion, c.medianMs])),
  ]);
  /** @type {any[] | null} */
  let total = null;
  if (g > 0 && rows.length > 1) {
    // Each actor is in exactly one group, so step counts add up; times to convert come from the
    // funnel without the breakdown.
    const sums = Array.from({ length: funnel.stepCount }, (_, k) => rows.reduce((n, r) => n + (r.steps[k]?.actors ?? 0), 0));
    total = [TOTAL_LABEL, ...Array(g - 1).fill(''), ...sums.flatMap((n, k) => (k === 0 ? [n] : [n, sums[0] > 0 ? n / sums[0] : null, overall?.steps[k]?.medianMs ?? null]))];
    tableRows.push(total);
  }
  // The total stays on top and "Other" at the bottom whatever the sort, as in the Events table.
  return resultsTable({ columns, rows: tableRows, sort: g > 0 ? { col: g, desc: true } : undefined, testId: 'funnel-table', first: (r) => r === total, last: (r) => r !== total && g > 0 && isOther(r.slice(0, g)) });
}

/**
 * Overall conversion (first to last step) per bucket of the first step, one line per group.
 * @param {any} result
 * @param {string} bucket
 * @param {import('./view-types.js').ViewContext} ctx
 */
function conversionOverTime(result, bucket, ctx) {
  const funnel = parseFunnel(result);
  const last = funnel.stepCount - 1;
  const xs = [...new Set(funnel.rows.map((r) => Number(r.bucket)))].sort((a, b) => a - b);
  if (xs.length < 2) {
    return h('div', { class: 'muted small table-title', 'data-testid': 'one-bucket' }, `Conversion over time: the whole range falls in one ${bucketWords(bucket)}; pick a smaller bucket to see a trend.`);
  }
  const xi = new Map(xs.map((x, i) => [x, i]));
  /** @type {Map<string, { label: string, isOther: boolean, values: (number | null)[], total: number }>} */
  const byGroup = new Map();
  for (const r of funnel.rows) {
    const key = JSON.stringify(r.group);
    let s = byGroup.get(key);
    if (!s) {
      s = { label: r.group.length === 0 ? 'Conversion' : r.group.map(groupValueLabel).join(' · '), isOther: isOther(r.group), values: xs.map(() => null), total: 0 };
      byGroup.set(key, s);
    }
    const first = r.steps[0]?.actors ?? 0;
    s.values[/** @type {number} */ (xi.get(Number(r.bucket)))] = first > 0 ? (r.steps[last]?.actors ?? 0) / first : null;
    s.total += first;
  }
  const series = [...byGroup.values()].sort((a, b) => Number(a.isOther) - Number(b.isOther) || b.total - a.total).slice(0, MAX_GROUP_BARS);
  return h('div', {},
    h('div', { class: 'chart-title table-title' }, `Conversion from step 1 to step ${last + 1} over time, by ${bucketWords(bucket)} of the first step (${ctx.state.tz})`),
    timeChart({
      xs, series, unit: 'fraction', yLabel: 'Conversion (%)', tz: ctx.state.tz, height: 220, testId: 'conversion-chart', range: ctx.range,
      // Users who entered less than a window before the newest event may still convert: their
      // buckets' conversion is not final, and a fall there is not a real drop.
      incompleteFromMs: (ctx.table?.maxTimeMs ?? Date.now()) - durationMs(ctx.state.funnel.window) - (BUCKETS.find(([b]) => b === bucket)?.[1] ?? 0) + 1,
      incompleteNote: `whose ${ctx.actorWord} have not all had the ${ctx.state.funnel.window} to convert yet`,
    }));
}
