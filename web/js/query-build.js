// @ts-check
/**
 * Turns the view state into the exact JSON requests the page sends to POST /v1/query (the same
 * JSON the query panel shows and the curl command carries). Pure: no DOM.
 */
import { BUCKETS, resolveBucket } from './time-range.js';

/** @typedef {import('./state.js').Condition} Condition */
/** @typedef {{ fromMs: number | null, toMs: number | null }} Range */
/** @typedef {{ minTimeMs: number | null, maxTimeMs: number | null } | null} TableInfo */
/** @typedef {{ label: string, body: Record<string, any> }} Request */

/**
 * A filter from a list of conditions, ANDed; null when the list is empty.
 * Incomplete conditions (no column, or no value where the operator needs one) are left out.
 * @param {Condition[]} conditions
 * @returns {any}
 */
export function toFilter(conditions) {
  const leaves = conditions.filter(isComplete).map((c) => (c[1] === 'exists' || c[1] === '!exists' ? [c[0], c[1]] : [c[0], c[1], c[2]]));
  if (leaves.length === 0) return null;
  return leaves.length === 1 ? leaves[0] : { and: leaves };
}

/** @param {Condition} c */
export function isComplete(c) {
  if (!c || !c[0] || !c[1]) return false;
  if (c[1] === 'exists' || c[1] === '!exists') return true;
  const v = c[2];
  if (Array.isArray(v)) return v.length > 0;
  return v !== undefined && v !== null && v !== '';
}

/**
 * The common fields: table, range (as ISO-8601), tz, where.
 * @param {string} table
 * @param {Range} range
 * @param {Condition[]} where
 * @param {string} [tz]
 */
function base(table, range, where, tz) {
  /** @type {Record<string, any>} */
  const body = { table };
  if (range.fromMs !== null) body.from = new Date(range.fromMs).toISOString();
  if (range.toMs !== null) body.to = new Date(range.toMs).toISOString();
  if (tz !== undefined && tz !== 'UTC') body.tz = tz;
  const where_ = toFilter(where);
  if (where_ !== null) body.where = where_;
  return body;
}

/**
 * Aggregate view: the chart query (bucketed; top N series plus "other") and the table query (the
 * same over the whole range, one row per group).
 * @param {import('./state.js').ViewState} state
 * @param {Range} range
 * @param {TableInfo} table
 * @returns {Request[]}
 */
export function aggregateRequests(state, range, table) {
  const s = state.aggregate;
  const common = { ...base(state.table, range, s.where, state.tz), measures: s.measures.length > 0 ? s.measures : ['count'] };
  if (s.groupBy.length > 0) Object.assign(common, { groupBy: s.groupBy, limit: s.top, other: true });
  const bucket = resolveBucket(s.bucket, range.fromMs, range.toMs, table);
  /** @type {Request[]} */
  const out = [];
  if (bucket !== null) out.push({ label: 'chart', body: { kind: 'aggregate', ...common, bucket } });
  out.push({ label: 'table', body: { kind: 'aggregate', ...common } });
  return out;
}

/**
 * Sessions view: like aggregate, over sessions.
 * @param {import('./state.js').ViewState} state
 * @param {Range} range
 * @param {TableInfo} table
 * @returns {Request[]}
 */
export function sessionsRequests(state, range, table) {
  const s = state.sessions;
  const common = { ...base(state.table, range, s.where, state.tz), gap: s.gap, ...(s.maxDuration ? { maxDuration: s.maxDuration } : {}), measures: s.measures.length > 0 ? s.measures : ['count'] };
  if (s.groupBy.length > 0) Object.assign(common, { groupBy: s.groupBy, limit: s.top, other: true });
  const bucket = resolveBucket(s.bucket, range.fromMs, range.toMs, table);
  /** @type {Request[]} */
  const out = [];
  if (bucket !== null) out.push({ label: 'chart', body: { kind: 'sessions', ...common, bucket } });
  out.push({ label: 'table', body: { kind: 'sessions', ...common } });
  return out;
}

/**
 * Funnel view: the funnel (with its breakdown, and then also without it) and conversion over
 * time (bucketed).
 * @param {import('./state.js').ViewState} state
 * @param {Range} range
 * @param {TableInfo} table
 * @returns {Request[]}
 */
export function funnelRequests(state, range, table) {
  const s = state.funnel;
  const steps = s.steps.map(toFilter).filter((f) => f !== null);
  if (steps.length < 2) return [];
  /** @type {Record<string, any>} */
  const body = { kind: 'funnel', ...base(state.table, range, s.where), steps, window: s.window, mode: s.mode };
  const exclude = funnelExclusions(s);
  if (exclude.length > 0) body.exclude = exclude;
  const overall = { ...body };
  if (s.groupBy) Object.assign(body, { groupBy: [s.groupBy], limit: FUNNEL_TOP_GROUPS, other: true });
  const out = [{ label: 'funnel', body }];
  // With a breakdown, the funnel over everyone too: times to convert do not add up across groups.
  if (s.groupBy) out.push({ label: 'overall', body: overall });
  const bucket = funnelBucket(s.bucket, range, table);
  if (bucket !== null) out.push({ label: 'over time', body: { ...body, bucket, ...(state.tz !== 'UTC' ? { tz: state.tz } : {}) } });
  return out;
}

/**
 * The funnel's complete exclusions, with step numbers counted over the steps actually sent (an
 * incomplete step is left out of the request, so later numbers shift); none in mode "any", which
 * has no order to exclude between.
 * @param {import('./state.js').FunnelState} s
 * @returns {{ filter: any, after: number, before: number }[]}
 */
export function funnelExclusions(s) {
  if (s.mode === 'any') return [];
  /** @type {(number | null)[]} UI step index → 1-based step number in the request */
  const sent = [];
  let n = 0;
  for (const conds of s.steps) sent.push(toFilter(conds) === null ? null : ++n);
  const out = [];
  for (const e of s.exclude ?? []) {
    const filter = toFilter(e.filter);
    const after = sent[e.after - 1] ?? null;
    const before = sent[e.before - 1] ?? null;
    if (filter !== null && after !== null && before !== null && after < before) out.push({ filter, after, before });
  }
  return out;
}

/** Conversion needs enough actors per point: "auto" gives funnels at most this many buckets. */
export const FUNNEL_AUTO_BUCKETS = 31;

/**
 * The conversion-over-time bucket: as resolveBucket, but with at most FUNNEL_AUTO_BUCKETS points
 * and, over ranges of 3 days or more, days at least (hourly conversion of a week is mostly noise).
 * @param {string} choice
 * @param {Range} range
 * @param {TableInfo} table
 * @returns {string | null}
 */
export function funnelBucket(choice, range, table) {
  const bucket = resolveBucket(choice, range.fromMs, range.toMs, table, FUNNEL_AUTO_BUCKETS);
  if (choice !== 'auto' || bucket === null) return bucket;
  const lo = range.fromMs ?? table?.minTimeMs ?? null;
  const hi = range.toMs ?? table?.maxTimeMs ?? null;
  const spanMs = lo === null || hi === null ? Infinity : hi - lo;
  const widthMs = BUCKETS.find(([b]) => b === bucket)?.[1] ?? 0;
  return spanMs >= 3 * 86_400_000 && widthMs < 86_400_000 ? '1d' : bucket;
}

/** Breakdown groups a funnel shows; the rest fold into one "Other" group. */
export const FUNNEL_TOP_GROUPS = 5;

/**
 * Retention view: one cohort grid.
 * @param {import('./state.js').ViewState} state
 * @param {Range} range
 * @returns {Request[]}
 */
export function retentionRequests(state, range) {
  const s = state.retention;
  const body = { kind: 'retention', ...base(state.table, range, s.where, state.tz), period: s.period, periods: s.periods };
  const start = toFilter(s.start);
  const ret = toFilter(s.return);
  Object.assign(body, { start: start ?? ALL_EVENTS });
  if (ret !== null) Object.assign(body, { return: ret });
  if (s.groupBy) Object.assign(body, { groupBy: [s.groupBy], limit: RETENTION_TOP_GROUPS });
  return [{ label: 'retention', body }];
}

/** Breakdown groups a retention grid shows (the largest by cohort size). */
export const RETENTION_TOP_GROUPS = 10;

/** A filter every event matches (the cohort-defining event when none is chosen). */
export const ALL_EVENTS = { and: [] };

/**
 * Paths view: top paths and their edges, and the sessions per start value for the flow's Start
 * column. The edges cannot give those: a session that ended at its first step has no edge (the
 * engine's edges join two events), so the second request goes one step deep and lists every
 * (start, next or end) pair.
 * @param {import('./state.js').ViewState} state
 * @param {Range} range
 * @returns {Request[]}
 */
export function pathsRequests(state, range) {
  const s = state.paths;
  // Looking back needs a start: a session's first event has nothing before it (paths-view.js).
  if (!s.node || (s.direction === 'before' && toFilter(s.start) === null)) return [];
  const body = { kind: 'paths', ...base(state.table, range, s.where), node: s.node, direction: s.direction, depth: s.depth, gap: s.gap, limit: s.limit };
  const start = toFilter(s.start);
  if (start !== null) Object.assign(body, { start });
  return [{ label: 'paths', body }, { label: 'path-starts', body: { ...body, depth: 1, limit: PATH_START_PAIRS } }];
}

/** (start, next) pairs the Start column's request asks for: every pair of a few hundred values. */
export const PATH_START_PAIRS = 10_000;

/**
 * The requests of the state's current view.
 * @param {import('./state.js').ViewState} state
 * @param {Range} range
 * @param {TableInfo} table
 */
export function requestsFor(state, range, table) {
  switch (state.view) {
    case 'funnel': return funnelRequests(state, range, table);
    case 'sessions': return sessionsRequests(state, range, table);
    case 'retention': return retentionRequests(state, range);
    case 'paths': return pathsRequests(state, range);
    default: return aggregateRequests(state, range, table);
  }
}

/**
 * JSON for people: indented, but arrays and objects that fit in `width` characters stay on one
 * line (a filter reads ["event", "=", "search"], not five lines). Parses back to the same value.
 * @param {unknown} value
 * @param {number} [width]
 * @param {string} [indent]
 * @returns {string}
 */
export function prettyJson(value, width = 72, indent = '') {
  const flat = oneLineJson(value);
  if (value === null || typeof value !== 'object' || flat.length + indent.length <= width) return flat;
  const inner = `${indent}  `;
  if (Array.isArray(value)) return `[\n${value.map((v) => inner + prettyJson(v, width, inner)).join(',\n')}\n${indent}]`;
  const entries = Object.entries(value).map(([k, v]) => `${inner}${JSON.stringify(k)}: ${prettyJson(v, width, inner)}`);
  return `{\n${entries.join(',\n')}\n${indent}}`;
}

/** JSON on one line with a space after each comma and colon (strings as JSON.stringify writes them). @param {unknown} value @returns {string} */
function oneLineJson(value) {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(oneLineJson).join(', ')}]`;
  return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${oneLineJson(v)}`).join(', ')}}`;
}

/**
 * A curl command that sends a request from a shell (single quotes escaped for POSIX shells).
 * @param {string} origin  e.g. "http://127.0.0.1:8080"
 * @param {object} body
 * @param {boolean} [withKey]  send the key in $SHOAL_API_KEY (the page's own key stays out of copied text)
 */
export function curlCommand(origin, body, withKey = false) {
  const json = JSON.stringify(body).replace(/'/g, "'\\''");
  const auth = withKey ? ` -H "Authorization: Bearer $SHOAL_API_KEY"` : '';
  return `curl -s -X POST '${origin}/v1/query' -H 'Content-Type: application/json'${auth} -d '${json}'`;
}

/**
 * Parses the text typed into a filter's value box for a column type: numbers for number columns,
 * true/false for booleans, comma-separated lists for `in`/`!in`.
 * @param {string} text
 * @param {string} op
 * @param {string | undefined} type  "string" | "number" | "boolean" | "time"
 */
export function parseFilterValue(text, op, type) {
  if (op === 'in' || op === '!in') {
    return text.split(',').map((t) => t.trim()).filter((t) => t !== '').map((t) => parseScalar(t, type));
  }
  return parseScalar(text.trim(), type);
}

/** @param {string} text @param {string | undefined} type */
function parseScalar(text, type) {
  if ((type === 'number' || type === 'time') && text !== '' && Number.isFinite(Number(text))) return Number(text);
  if (type === 'boolean' && (text === 'true' || text === 'false')) return text === 'true';
  return text;
}

/** A filter value as the text box shows it. @param {unknown} v */
export function filterValueText(v) {
  if (Array.isArray(v)) return v.map(String).join(', ');
  return v === undefined || v === null ? '' : String(v);
}
