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
  // Only complete conditions name a step (a value is still being typed: "Step 2", not "event is").
  const done = conditions.filter((c) => c[0] && c[1] && (c[1] === 'exists' || c[1] === '!exists' || (c[2] !== '' && c[2] !== undefined && c[2] !== null && !(Array.isArray(c[2]) && c[2].length === 0))));
  if (done.length === 0) return `Step ${index + 1}`;
  if (done.length === 1 && done[0][1] === '=' && done[0][2] !== '' && done[0][2] !== undefined) return String(done[0][2]);
  return done.map(([c, op, v]) => `${c} ${OP_WORDS[op] ?? op}${op === 'exists' || op === '!exists' ? '' : ` ${Array.isArray(v) ? v.join(', ') : v ?? ''}`}`).join(' and ');
}

/**
 * Retention rows: cohort start, group values, size, and per period the retained actors.
 * @param {Result} result  columns: $cohort, [group columns], cohort_size, period0 … periodN
 * @returns {{ periods: number, groupColumns: string[], rows: { group: any[], cohortMs: number, size: number, counts: number[] }[] }}
 */
export function parseRetention(result) {
  const names = result.columns.map((c) => c.name);
  const cohortIdx = names.indexOf('$cohort');
  const sizeIdx = names.indexOf('cohort_size');
  /** @type {number[]} */
  const periodIdx = [];
  for (let k = 0; names.includes(`period${k}`); k++) periodIdx.push(names.indexOf(`period${k}`));
  /** @type {number[]} */
  const groupIdx = [];
  for (let i = cohortIdx + 1; i < sizeIdx; i++) groupIdx.push(i);
  return {
    periods: periodIdx.length,
    groupColumns: groupIdx.map((i) => names[i]),
    rows: result.rows.map((r) => ({
      group: groupIdx.map((i) => r[i]),
      cohortMs: r[cohortIdx],
      size: r[sizeIdx] ?? 0,
      counts: periodIdx.map((i) => r[i] ?? 0),
    })),
  };
}

/**
 * The average retention of several cohorts per period, as PostHog and Amplitude average it: only
 * the cohorts whose period n has ended by `lastMs` count, since a period still in progress has
 * not had all its returns yet and would drag the average down. Where no cohort has finished the
 * period, the cohorts in it are averaged and the point is marked partial; null before any cohort
 * has begun it. Partial points only ever form a tail (a cohort that finished period n finished
 * every earlier one).
 * @param {{ cohortMs: number, size: number, counts: number[] }[]} rows
 * @param {(cohortMs: number, n: number) => number} periodStartMs
 * @param {number} lastMs  the newest event time
 * @returns {({ kept: number, base: number, partial: boolean } | null)[]}
 */
export function retentionAverage(rows, periodStartMs, lastMs) {
  const periods = rows[0]?.counts.length ?? 0;
  return Array.from({ length: periods }, (_, n) => {
    const sum = (/** @type {typeof rows} */ list) => ({ kept: list.reduce((a, r) => a + r.counts[n], 0), base: list.reduce((a, r) => a + r.size, 0) });
    const done = sum(rows.filter((r) => periodStartMs(r.cohortMs, n + 1) <= lastMs));
    if (done.base > 0) return { ...done, partial: false };
    const begun = sum(rows.filter((r) => periodStartMs(r.cohortMs, n) <= lastMs));
    return begun.base > 0 ? { ...begun, partial: true } : null;
  });
}

/**
 * The average retention curve (retentionAverage as fractions) and the index of its first partial
 * point (its length when none is).
 * @param {{ cohortMs: number, size: number, counts: number[] }[]} rows
 * @param {(cohortMs: number, n: number) => number} periodStartMs
 * @param {number} lastMs  the newest event time
 * @returns {{ values: (number | null)[], partialFrom: number }}
 */
export function retentionCurve(rows, periodStartMs, lastMs) {
  return curveOf(retentionAverage(rows, periodStartMs, lastMs));
}

/**
 * @param {({ kept: number, base: number, partial: boolean } | null)[]} points
 * @returns {{ values: (number | null)[], partialFrom: number }}
 */
export function curveOf(points) {
  const first = points.findIndex((p) => p?.partial);
  return { values: points.map((p) => (p ? p.kept / p.base : null)), partialFrom: first < 0 ? points.length : first };
}

/**
 * Paths result: the top paths (node values in order, without the nulls of a session that ended
 * early) and the edges.
 * @param {Result} result  columns node0 … node{depth}, sessions; `edges`: [depth, from, to, sessions][]
 * @returns {{ paths: { nodes: any[], sessions: number }[], edges: { depth: number, from: any, to: any, sessions: number }[] }}
 */
export function parsePaths(result) {
  const names = result.columns.map((c) => c.name);
  const sessionsIdx = names.indexOf('sessions');
  const nodeIdx = names.map((n, i) => (/^node\d+$/.test(n) ? i : -1)).filter((i) => i >= 0);
  const paths = result.rows.map((r) => {
    const nodes = nodeIdx.map((i) => r[i]);
    while (nodes.length > 1 && nodes[nodes.length - 1] === null) nodes.pop();
    return { nodes, sessions: r[sessionsIdx] ?? 0 };
  });
  const rawEdges = Array.isArray(result.edges) ? result.edges : [];
  const edges = rawEdges.map((/** @type {any[]} */ e) => ({ depth: e[0], from: e[1], to: e[2], sessions: e[3] }));
  return { paths, edges };
}

/**
 * Sessions per start value, from a one-step paths result (node0, node1, sessions): each row is a
 * (start, next or end) pair, so a start's pairs add up to all its sessions. `complete` is false
 * when the pairs filled the request's limit (the smallest may be missing: totals are lower bounds).
 * @param {Result} result
 * @param {number} limit  the request's limit
 * @returns {{ sessions: Map<string, number>, complete: boolean }}  keyed by JSON of the value
 */
export function pathStarts(result, limit) {
  const names = result.columns.map((c) => c.name);
  const node0 = names.indexOf('node0');
  const sessionsIdx = names.indexOf('sessions');
  /** @type {Map<string, number>} */
  const sessions = new Map();
  for (const r of result.rows) {
    const k = JSON.stringify(r[node0] ?? null);
    sessions.set(k, (sessions.get(k) ?? 0) + (r[sessionsIdx] ?? 0));
  }
  return { sessions, complete: result.rows.length < limit };
}
