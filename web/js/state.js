// @ts-check
/**
 * The view state: everything that defines what the page shows, as plain JSON, and its round trip
 * through the URL (`?view=…&table=…&range=…&tz=…&q=<JSON of the current view's builder>`), so a
 * reloaded or shared link restores the same view. Pure: no DOM, importable from Node tests.
 */

/** @typedef {[string, string, any?]} Condition  a filter leaf as the API takes it: [column, op, value] */
/** @typedef {{ measures: string[], where: Condition[], groupBy: string[], bucket: string, top: number, chart: number }} AggregateState */
/** @typedef {{ filter: Condition[], after: number, before: number }} Exclusion  no event matching `filter` between steps `after` and `before` (1-based) */
/** @typedef {{ steps: Condition[][], window: string, mode: string, groupBy: string, bucket: string, where: Condition[], exclude: Exclusion[] }} FunnelState */
/** @typedef {{ measures: string[], gap: string, maxDuration: string, groupBy: string[], bucket: string, top: number, chart: number, where: Condition[] }} SessionsState  maxDuration "" for none */
/** @typedef {{ start: Condition[], return: Condition[], period: string, periods: number, where: Condition[], groupBy: string }} RetentionState  groupBy "" for none */
/** @typedef {{ node: string, start: Condition[], direction: string, depth: number, gap: string, limit: number, where: Condition[] }} PathsState */
/**
 * @typedef {{
 *   view: string, table: string, range: string, from: number | null, to: number | null, tz: string,
 *   aggregate: AggregateState, funnel: FunnelState, sessions: SessionsState,
 *   retention: RetentionState, paths: PathsState
 * }} ViewState
 */

export const VIEWS = /** @type {const} */ (['aggregate', 'funnel', 'sessions', 'retention', 'paths']);
export const RANGE_PRESETS = /** @type {const} */ (['1h', '24h', '7d', '30d', 'all', 'custom']);

/** @returns {AggregateState} */
export function defaultAggregate() {
  return { measures: ['count'], where: [], groupBy: [], bucket: 'auto', top: 5, chart: 0 };
}
/** @returns {FunnelState} */
export function defaultFunnel() {
  return { steps: [], window: '1d', mode: 'ordered', groupBy: '', bucket: 'auto', where: [], exclude: [] };
}
/** @returns {SessionsState} */
export function defaultSessions() {
  return { measures: ['count', 'median(duration)', 'avg(events)'], gap: '30m', maxDuration: '', groupBy: [], bucket: 'auto', top: 5, chart: 0, where: [] };
}
/** @returns {RetentionState} */
export function defaultRetention() {
  return { start: [], return: [], period: '1d', periods: 7, where: [], groupBy: '' };
}
/** @returns {PathsState} */
export function defaultPaths() {
  return { node: '', start: [], direction: 'after', depth: 3, gap: '30m', limit: 20, where: [] };
}

/** @returns {ViewState} */
export function defaultState() {
  return {
    view: 'aggregate',
    table: '',
    range: '7d',
    from: null,
    to: null,
    tz: 'UTC',
    aggregate: defaultAggregate(),
    funnel: defaultFunnel(),
    sessions: defaultSessions(),
    retention: defaultRetention(),
    paths: defaultPaths(),
  };
}

/**
 * The URL query string for a state: top-level fields as parameters and the current view's
 * builder as JSON in `q` (the other views' builders are not part of a shared view).
 * @param {ViewState} state
 * @returns {string}
 */
export function stateToSearch(state) {
  const p = new URLSearchParams();
  p.set('view', state.view);
  if (state.table) p.set('table', state.table);
  p.set('range', state.range);
  if (state.range === 'custom') {
    if (state.from !== null) p.set('from', new Date(state.from).toISOString());
    if (state.to !== null) p.set('to', new Date(state.to).toISOString());
  }
  p.set('tz', state.tz);
  p.set('q', JSON.stringify(/** @type {any} */ (state)[state.view]));
  return `?${p.toString()}`;
}

/**
 * Parses a URL query string back into a state; anything missing or malformed falls back to the
 * defaults (a hand-edited link never breaks the page).
 * @param {string} search
 * @returns {ViewState}
 */
export function searchToState(search) {
  const p = new URLSearchParams(search);
  const state = defaultState();
  const view = p.get('view');
  if (view && /** @type {readonly string[]} */ (VIEWS).includes(view)) state.view = view;
  state.table = p.get('table') ?? '';
  const range = p.get('range');
  if (range && /** @type {readonly string[]} */ (RANGE_PRESETS).includes(range)) state.range = range;
  state.from = parseTime(p.get('from'));
  state.to = parseTime(p.get('to'));
  if (state.range === 'custom' && (state.from === null || state.to === null)) state.range = '7d';
  const tz = p.get('tz');
  if (tz && isTimeZone(tz)) state.tz = tz;
  const q = p.get('q');
  if (q) {
    try {
      const parsed = JSON.parse(q);
      const base = /** @type {any} */ (state)[state.view];
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        for (const key of Object.keys(base)) {
          if (key in parsed && sameShape(base[key], parsed[key]) && (FIELD_CHECKS[key]?.(parsed[key]) ?? true)) base[key] = parsed[key];
        }
      }
    } catch {
      // A broken q leaves the view's defaults.
    }
  }
  return state;
}

/** Whether the browser knows a zone (an unknown one makes every date format throw). @param {string} tz */
function isTimeZone(tz) {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** @param {string | null} text @returns {number | null} */
function parseTime(text) {
  if (!text) return null;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : null;
}

/** A filter leaf as the builders hold it: [column, op] or [column, op, value]. @param {unknown} c */
const isCondition = (c) => Array.isArray(c) && c.length >= 2 && c.length <= 3 && typeof c[0] === 'string' && typeof c[1] === 'string';
/** @param {unknown} v */
const isConditions = (v) => Array.isArray(v) && v.every(isCondition);
/** @param {unknown} v */
const isStrings = (v) => Array.isArray(v) && v.every((x) => typeof x === 'string');
/** @param {number} min @returns {(v: unknown) => boolean} */
const intFrom = (min) => (v) => Number.isInteger(v) && /** @type {number} */ (v) >= min;

/**
 * What a builder field's items must be, beyond sameShape's kind: the views read them without
 * checks, so a hand-edited or cut link with a number among the steps would throw while drawing
 * and leave the page loading forever. A field that fails keeps its default.
 * @type {Record<string, (v: unknown) => boolean>}
 */
const FIELD_CHECKS = {
  where: isConditions,
  start: isConditions,
  return: isConditions,
  steps: (v) => Array.isArray(v) && v.every(isConditions),
  exclude: (v) => Array.isArray(v) && v.every((e) => e !== null && typeof e === 'object' && isConditions(e.filter) && intFrom(1)(e.after) && intFrom(1)(e.before)),
  measures: isStrings,
  groupBy: (v) => typeof v === 'string' || isStrings(v),
  chart: intFrom(0),
  top: intFrom(1),
  periods: intFrom(1),
  depth: intFrom(1),
  limit: intFrom(1),
};

/** Whether a decoded value may replace a default: same JSON kind (array, number, string, …). @param {unknown} a @param {unknown} b */
function sameShape(a, b) {
  if (Array.isArray(a)) return Array.isArray(b);
  return typeof a === typeof b && b !== null;
}
