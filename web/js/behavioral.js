// @ts-check
/**
 * Reads behavioral results (funnel, retention, paths) into shapes the views draw, and names
 * funnel steps for people. Pure: no DOM.
 */

/** @typedef {{ columns: { name: string, type?: string }[], rows: any[][], [k: string]: any }} Result */
/** @typedef {{ actors: number, conversion: number | null, medianMs: number | null, p90Ms: number | null }} StepCell */
/** @typedef {{ group: any[], bucket: number | null, steps: StepCell[] }} FunnelRow */

/**
 * Funnel rows: group values, then per step the actors, conversion from step 1 and time to convert.
 * @param {Result} result  columns: [$bucket], group columns, step{k}, step{k}_conversion, step{k}_median_ms, …
 * @returns {{ groupColumns: string[], stepCount: number, rows: FunnelRow[] }}
 */
export function parseFunnel(result) {
  const names = result.columns.map((c) => c.name);
  const bucketIdx = names.indexOf('$bucket');
  /** @type {number[]} */
  const stepIdx = [];
  for (let k = 1; names.includes(`step${k}`); k++) stepIdx.push(k);
  const firstStep = names.indexOf('step1');
  /** @type {number[]} */
  const groupIdx = [];
  for (let i = 0; i < (firstStep < 0 ? 0 : firstStep); i++) if (i !== bucketIdx) groupIdx.push(i);
  const col = (/** @type {string} */ n) => names.indexOf(n);
  const rows = result.rows.map((r) => {
    const step1 = /** @type {number} */ (r[col('step1')] ?? 0);
    return {
      group: groupIdx.map((i) => r[i]),
      bucket: bucketIdx < 0 ? null : r[bucketIdx],
      steps: stepIdx.map((k) => {
        const actors = /** @type {number} */ (r[col(`step${k}`)] ?? 0);
        const convIdx = col(`step${k}_conversion`);
        return {
          actors,
          conversion: convIdx >= 0 ? r[convIdx] : step1 > 0 ? actors / step1 : null,
          medianMs: k === 1 ? null : r[col(`step${k}_median_ms`)] ?? null,
          p90Ms: k === 1 ? null : r[col(`step${k}_p90_ms`)] ?? null,
        };
      }),
    };
  });
  return { groupColumns: groupIdx.map((i) => names[i]), stepCount: stepIdx.length, rows };
}

const OP_WORDS = /** @type {Record<string, string>} */ ({
  '=': 'is', '!=': 'is not', in: 'is one of', '!in': 'is none of', contains: 'contains', '!contains': 'does not contain',
  startsWith: 'starts with', exists: 'is set', '!exists': 'is not set', '<': '<', '<=': '≤', '>': '>', '>=': '≥',
});

/**
 * A step's name as people read it: the value alone for a single `column = value` condition
 * ("purchase"), else the conditions in words ("country is US and plan is pro").
 * @param {import('./state.js').Condition[]} conditions
 * @param {number} index  0-based, for an empty step
 */
export function stepName(conditions, index) {
  const done = conditions.filter((c) => c[0] && c[1]);
  if (done.length === 0) return `Step ${index + 1}`;
  if (done.length === 1 && done[0][1] === '=' && done[0][2] !== '' && done[0][2] !== undefined) return String(done[0][2]);
  return done.map(([c, op, v]) => `${c} ${OP_WORDS[op] ?? op}${op === 'exists' || op === '!exists' ? '' : ` ${Array.isArray(v) ? v.join(', ') : v ?? ''}`}`).join(' and ');
}

/**
 * Retention rows: cohort start, size, and per period the retained actors and fraction.
 * @param {Result} result  columns: [group columns], cohort start, cohort size, period0 … periodN
 * @returns {{ periods: number, rows: { group: any[], cohortMs: number, size: number, counts: number[] }[] }}
 */
export function parseRetention(result) {
  const names = result.columns.map((c) => c.name);
  const p0 = names.indexOf('period0');
  /** @type {number[]} */
  const periodIdx = [];
  for (let k = 0; names.includes(`period${k}`); k++) periodIdx.push(names.indexOf(`period${k}`));
  // The two columns before period0 are the cohort start and size; anything earlier is a group.
  const cohortIdx = p0 - 2;
  const sizeIdx = p0 - 1;
  return {
    periods: periodIdx.length,
    rows: result.rows.map((r) => ({
      group: r.slice(0, Math.max(0, cohortIdx)),
      cohortMs: r[cohortIdx],
      size: r[sizeIdx] ?? 0,
      counts: periodIdx.map((i) => r[i] ?? 0),
    })),
  };
}

/**
 * The average retention curve: for each period, retained actors over the sizes of the cohorts
 * that have reached that period (cohorts whose period has not begun by `lastMs` are left out).
 * @param {{ cohortMs: number, size: number, counts: number[] }[]} rows
 * @param {(cohortMs: number, n: number) => number} periodStartMs
 * @param {number} lastMs  the newest event time
 */
export function retentionCurve(rows, periodStartMs, lastMs) {
  const periods = rows[0]?.counts.length ?? 0;
  const curve = [];
  for (let n = 0; n < periods; n++) {
    let retained = 0;
    let size = 0;
    for (const r of rows) {
      if (periodStartMs(r.cohortMs, n) > lastMs) continue;
      retained += r.counts[n];
      size += r.size;
    }
    curve.push(size > 0 ? retained / size : null);
  }
  return curve;
}

/**
 * Paths result: the top paths (node values in order, sessions) and the edges.
 * Accepts the edges as `result.edges` rows `[depth, from, to, sessions]`.
 * @param {Result} result
 * @returns {{ paths: { nodes: any[], sessions: number }[], edges: { depth: number, from: any, to: any, sessions: number }[] }}
 */
export function parsePaths(result) {
  const names = result.columns.map((c) => c.name);
  const sessionsIdx = names.findIndex((n) => n === 'sessions' || n === 'count');
  const pathIdx = names.findIndex((n) => n === 'path');
  const paths = result.rows.map((r) => {
    const nodes = pathIdx >= 0 ? (Array.isArray(r[pathIdx]) ? r[pathIdx] : safeParseArray(r[pathIdx])) : r.filter((_, i) => i !== sessionsIdx);
    return { nodes, sessions: sessionsIdx >= 0 ? r[sessionsIdx] : 0 };
  });
  const rawEdges = Array.isArray(result.edges) ? result.edges : [];
  const edges = rawEdges.map((e) => (Array.isArray(e) ? { depth: e[0], from: e[1], to: e[2], sessions: e[3] } : e));
  return { paths, edges };
}

/** @param {unknown} v */
function safeParseArray(v) {
  if (typeof v !== 'string') return [v];
  try {
    const parsed = JSON.parse(v);
    return Array.isArray(parsed) ? parsed : [v];
  } catch {
    return v.split(' → ');
  }
}
