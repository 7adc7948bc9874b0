// @ts-check
/**
 * Builder controls shared by the views: a labelled field, measure rows (function + column),
 * group-by chips, and segmented buttons.
 */
import { h, select } from '../dom.js';

/** @typedef {{ name: string, type: string }} Column */

let fieldSeq = 0;

/**
 * A labelled block in the builder panel. A lone select or input is named by the visible label
 * (aria-labelledby), so a screen reader or voice control says "Completed within", not "window".
 * @param {string} label
 * @param {...(Node | null)} children
 */
export function field(label, ...children) {
  const id = `field-${++fieldSeq}`;
  for (const c of children) {
    if (c instanceof HTMLSelectElement || c instanceof HTMLInputElement) c.setAttribute('aria-labelledby', id);
  }
  return h('div', { class: 'field' }, h('div', { class: 'field-label', id }, label), ...children);
}

/** Aggregate measure functions: [value, label, needs a column ('number' | 'any' | null)]. */
const AGG_FNS = /** @type {[string, string, string | null][]} */ ([
  ['count', 'Count of events', null],
  ['uniq($actor)', 'Unique users', null],
  ['uniq', 'Unique values of', 'any'],
  ['sum', 'Sum of', 'number'],
  ['avg', 'Average of', 'number'],
  ['min', 'Min of', 'number'],
  ['max', 'Max of', 'number'],
  ['median', 'Median of', 'number'],
  ['p90', 'p90 of', 'number'],
  ['p95', 'p95 of', 'number'],
  ['p99', 'p99 of', 'number'],
  ['p99.9', 'p99.9 of', 'number'],
]);

/** Session measure functions over the session fields `duration` (ms) and `events`. */
const SESSION_FNS = /** @type {[string, string, string | null][]} */ ([
  ['count', 'Number of sessions', null],
  ['uniq($actor)', 'Unique users', null],
  ['avg', 'Average', 'session'],
  ['median', 'Median', 'session'],
  ['p90', 'p90', 'session'],
  ['p99', 'p99', 'session'],
  ['max', 'Max', 'session'],
  ['sum', 'Sum of', 'session'],
]);

/**
 * Splits a measure string into function and column: "p99(latency_ms)" → ["p99", "latency_ms"].
 * @param {string} m
 * @returns {[string, string]}
 */
export function parseMeasure(m) {
  if (m === 'count' || m === 'uniq($actor)') return [m, ''];
  const match = /^([a-z]\w*(?:\.\d+)?)\((.*)\)$/.exec(m);
  return match ? [match[1], match[2]] : [m, ''];
}

/**
 * Measure rows: pick a function, then its column when it takes one.
 * @param {{ measures: string[], columns: Column[], onChange: (next: string[]) => void, sessions?: boolean }} opts
 */
export function measureEditor(opts) {
  const fns = opts.sessions ? SESSION_FNS : AGG_FNS;
  const numeric = opts.columns.filter((c) => c.type === 'number').map((c) => c.name);
  const any = opts.columns.map((c) => c.name);
  /** @param {string | null} kind */
  const colsFor = (kind) => (kind === 'number' ? numeric : kind === 'session' ? ['duration', 'events'] : any);
  const wrap = h('div', { class: 'measures', 'data-testid': 'measures' });
  /** @param {number} i @param {string | null} next */
  const replace = (i, next) => {
    const copy = opts.measures.slice();
    if (next === null) copy.splice(i, 1);
    else copy[i] = next;
    opts.onChange(copy);
  };
  /** @param {string} fn @param {string} col */
  const build = (fn, col) => {
    const spec = fns.find((f) => f[0] === fn);
    if (!spec || spec[2] === null) return fn;
    const cols = colsFor(spec[2]);
    return `${fn}(${cols.includes(col) ? col : cols[0] ?? ''})`;
  };
  opts.measures.forEach((m, i) => {
    const [fn, col] = parseMeasure(m);
    const spec = fns.find((f) => f[0] === fn);
    const row = h(
      'div',
      { class: 'measure-row' },
      select(fns.map(([v, label]) => [v, label]), fn, (next) => replace(i, build(next, col)), { class: 'm-fn', 'aria-label': 'measure' }),
    );
    if (spec && spec[2] !== null) {
      row.append(select(colsFor(spec[2]), col, (next) => replace(i, build(fn, next)), { class: 'm-col', 'aria-label': 'measure column' }));
    }
    if (opts.measures.length > 1) {
      row.append(h('button', { class: 'icon-btn', type: 'button', title: 'Remove this measure', 'aria-label': 'remove measure', onclick: () => replace(i, null) }, '×'));
    }
    wrap.append(row);
  });
  wrap.append(h('button', { class: 'link-btn', type: 'button', onclick: () => opts.onChange([...opts.measures, 'count']) }, '+ Measure'));
  return wrap;
}

/**
 * Group-by columns as removable chips, plus a picker to add one.
 * @param {{ groupBy: string[], columns: Column[], onChange: (next: string[]) => void, max?: number, testId?: string }} opts
 */
export function groupByEditor(opts) {
  const wrap = h('div', { class: 'chips', 'data-testid': opts.testId ?? 'group-by' });
  opts.groupBy.forEach((g, i) => {
    wrap.append(
      h('span', { class: 'chip' }, g, h('button', {
        class: 'chip-x', type: 'button', title: `Stop grouping by ${g}`, 'aria-label': `remove ${g}`,
        onclick: () => opts.onChange(opts.groupBy.filter((_, j) => j !== i)),
      }, '×')),
    );
  });
  if (opts.groupBy.length < (opts.max ?? 3)) {
    const free = opts.columns.filter((c) => !opts.groupBy.includes(c.name)).map((c) => c.name);
    wrap.append(select([['', opts.groupBy.length === 0 ? 'Group by…' : '+ then by…'], ...free.map((n) => /** @type {[string, string]} */ ([n, n]))], '', (v) => {
      if (v) opts.onChange([...opts.groupBy, v]);
    }, { class: 'add-group', 'aria-label': 'add group by' }));
  }
  return wrap;
}

/**
 * Buttons of which one is pressed (aria-pressed), e.g. the range presets.
 * @param {[string, string][]} options  [value, label]
 * @param {string} value
 * @param {(value: string) => void} onChange
 * @param {string} testId
 * @param {Record<string, string>} [titles]  a tooltip (and accessible name) per value
 */
export function segmented(options, value, onChange, testId, titles = {}) {
  return h('div', { class: 'segmented', role: 'group', 'data-testid': testId }, options.map(([v, label]) =>
    h('button', { type: 'button', 'aria-pressed': String(v === value), 'data-value': v, title: titles[v], onclick: () => onChange(v) }, label)));
}
