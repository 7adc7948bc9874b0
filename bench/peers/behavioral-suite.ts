/**
 * The behavioral suite of issue 4 — funnels, sessions, retention, paths — written for Shoal
 * (PRODUCT.md's JSON kinds), DuckDB (the best SQL found: ASOF joins for funnels, one window pass
 * for sessions) and chDB (`windowFunnel`, `retention`, per-actor arrays split into sessions).
 *
 * Peer SQL may pre-filter to the events a question can use (e.g. only step events for a funnel),
 * as an expert would write it; Shoal gets the query as a user would write it.
 */
import type { Row, SuiteQuery } from './suite.js';
import { keyString, numberOrNull } from './suite.js';

const DAY_MS = 86_400_000;
const GAP_MS = 30 * 60_000;
const FUNNEL_3 = ['page_view', 'search', 'view_item'];
const FUNNEL_5 = ['page_view', 'search', 'view_item', 'add_to_cart', 'checkout'];
const PATH_START = 'search';
const PATH_DEPTH = 4;
const RETENTION_PERIODS = 7;
const inList = (xs: string[]): string => xs.map((x) => `'${x}'`).join(', ');

/** Shoal funnel rows: the group values, then `step{k}` actor counts (conversion and times dropped). */
function funnelRows(keys: number, steps: number) {
  return (answer: { columns: { name: string }[]; rows: unknown[][] }): Row[] => {
    const at = Array.from({ length: steps }, (_, k) => answer.columns.findIndex((c) => c.name === `step${k + 1}`));
    return answer.rows.map((r) => [...r.slice(0, keys).map(keyString), ...at.map((i) => (i < 0 ? null : numberOrNull(r[i])))]);
  };
}

/** DuckDB: per step-1 event, the earliest later event of each next step (ASOF joins), then the deepest level per actor. */
function duckdbFunnel(steps: string[], groupBy: string | null): string {
  const sel = groupBy === null ? '' : `, ${groupBy}`;
  const ctes = steps.map((e, i) => `s${i + 1} AS (SELECT user_id AS u, epoch_ms(time) AS t${sel} FROM events WHERE event = '${e}')`);
  let chain = `c1 AS (SELECT u, t AS t1${sel} FROM s1)`;
  const chains = [chain];
  for (let i = 2; i <= steps.length; i++) {
    chain = `c${i} AS (SELECT c${i - 1}.*, s${i}.t AS t${i} FROM c${i - 1} ASOF LEFT JOIN s${i} ON c${i - 1}.u = s${i}.u AND s${i}.t >= c${i - 1}.t${i - 1})`;
    chains.push(chain);
  }
  const levels = ['CASE', ...steps.slice(1).map((_, j) => steps.length - j).map((k) => `WHEN t${k} - t1 <= ${DAY_MS} THEN ${k}`), 'ELSE 1 END'].join(' ');
  const key = groupBy === null ? '' : `, arg_min(${groupBy}, t1) AS k0`;
  const lv = `lv AS (SELECT u, max(${levels}) AS level${key} FROM c${steps.length} GROUP BY u)`;
  const counts = steps.map((_, i) => `count(*) FILTER (WHERE level >= ${i + 1})::DOUBLE AS v${i}`).join(', ');
  return `WITH ${[...ctes, ...chains, lv].join(', ')} SELECT ${groupBy === null ? '' : 'k0, '}${counts} FROM lv${groupBy === null ? '' : ' GROUP BY k0'}`;
}

/** chDB: `windowFunnel` per actor over the step events only. */
function chdbFunnel(steps: string[], groupBy: string | null): string {
  const conds = steps.map((e) => `event = '${e}'`).join(', ');
  const key = groupBy === null ? '' : `argMinIf(${groupBy}, time, event = '${steps[0]}') AS k0, `;
  const inner = `SELECT ${key}windowFunnel(${DAY_MS})(toUInt64(toUnixTimestamp64Milli(time)), ${conds}) AS level FROM events WHERE event IN (${inList(steps)}) GROUP BY user_id`;
  const counts = steps.map((_, i) => `countIf(level >= ${i + 1}) AS v${i}`).join(', ');
  return `SELECT ${groupBy === null ? '' : 'k0, '}${counts} FROM (${inner})${groupBy === null ? '' : ' WHERE level >= 1 GROUP BY k0'}`;
}

function funnel(id: string, title: string, steps: string[], groupBy: string | null): SuiteQuery {
  const keys = groupBy === null ? 0 : 1;
  return {
    id,
    title,
    keys,
    values: steps.map((_, i) => ({ name: `step${i + 1}`, tol: 'exact' as const })),
    compare: 'keyed',
    shoal: { kind: 'funnel', steps: steps.map((e) => ['event', '=', e]), window: '1d', ...(groupBy === null ? {} : { groupBy: [groupBy] }) },
    shoalRows: funnelRows(keys, steps.length),
    duckdb: duckdbFunnel(steps, groupBy),
    chdb: chdbFunnel(steps, groupBy),
  };
}

const sessions: SuiteQuery = {
  id: 'sessions_by_country',
  title: 'sessions (gap 30m): count and p90 duration by country',
  keys: 1,
  values: [
    { name: 'count', tol: 'exact' },
    { name: 'p90(duration)', tol: 'quantile' },
  ],
  compare: 'keyed',
  shoal: { kind: 'sessions', gap: '30m', groupBy: ['country'], measures: ['count', 'p90(duration)'] },
  // one sort: session starts are rows more than a gap after the previous one; a session ends
  // just before the next start (or at the actor's last event)
  duckdb:
    `WITH f AS (SELECT user_id, epoch_ms(time) AS ts, country, lag(epoch_ms(time)) OVER w AS prev, max(epoch_ms(time)) OVER (PARTITION BY user_id) AS last ` +
    `FROM events WINDOW w AS (PARTITION BY user_id ORDER BY time)), ` +
    `st AS (SELECT * FROM f WHERE prev IS NULL OR ts - prev > ${GAP_MS}), ` +
    `ss AS (SELECT country, coalesce(lead(prev) OVER (PARTITION BY user_id ORDER BY ts), last) - ts AS d FROM st) ` +
    `SELECT country AS k0, count(*)::DOUBLE AS v0, approx_quantile(d, 0.9)::DOUBLE AS v1 FROM ss GROUP BY 1`,
  chdb:
    `SELECT sess[1].2 AS k0, count() AS v0, quantileDD(0.01, 0.9)(sess[-1].1 - sess[1].1) AS v1 FROM (` +
    `SELECT arrayJoin(arraySplit((e, d) -> d > ${GAP_MS}, evs, arrayDifference(arrayMap(x -> x.1, evs)))) AS sess ` +
    `FROM (SELECT arraySort(x -> x.1, groupArray((toUnixTimestamp64Milli(time), country))) AS evs FROM events GROUP BY user_id)) GROUP BY k0`,
};

const periods = Array.from({ length: RETENTION_PERIODS + 1 }, (_, n) => n);
const retention: SuiteQuery = {
  id: 'retention_7d',
  title: `retention: cohort by first signup day, any event, ${RETENTION_PERIODS} daily periods`,
  keys: 1,
  values: [{ name: 'cohort size', tol: 'exact' }, ...periods.map((n) => ({ name: `period${n}`, tol: 'exact' as const }))],
  compare: 'keyed',
  shoal: { kind: 'retention', start: ['event', '=', 'signup'], period: '1d', periods: RETENTION_PERIODS },
  duckdb:
    `WITH c AS (SELECT user_id, date_trunc('day', min(time)) AS cohort FROM events WHERE event = 'signup' GROUP BY user_id), ` +
    `u AS (SELECT c.user_id, c.cohort, ${periods.map((n) => `bool_or(e.time >= c.cohort + INTERVAL ${n} DAY AND e.time < c.cohort + INTERVAL ${n + 1} DAY) AS p${n}`).join(', ')} ` +
    `FROM c JOIN events e ON e.user_id = c.user_id AND e.time >= c.cohort AND e.time < c.cohort + INTERVAL ${RETENTION_PERIODS + 1} DAY GROUP BY c.user_id, c.cohort) ` +
    `SELECT epoch_ms(cohort)::DOUBLE AS k0, count(*)::DOUBLE AS v0, ${periods.map((n) => `count_if(p${n})::DOUBLE AS v${n + 1}`).join(', ')} FROM u GROUP BY cohort`,
  chdb:
    `SELECT toUnixTimestamp(toDateTime(cohort, 'UTC')) * 1000 AS k0, count() AS v0, ${periods.map((n) => `sum(r[${n + 1}]) AS v${n + 1}`).join(', ')} FROM (` +
    `SELECT c.cohort AS cohort, retention(${periods.map((n) => `toDate(e.time) = c.cohort + ${n}`).join(', ')}) AS r ` +
    `FROM events AS e INNER JOIN (SELECT user_id, toDate(min(time)) AS cohort FROM events WHERE event = 'signup' GROUP BY user_id) AS c ON e.user_id = c.user_id ` +
    `WHERE toDate(e.time) >= c.cohort AND toDate(e.time) <= c.cohort + ${RETENTION_PERIODS} GROUP BY e.user_id, c.cohort) GROUP BY cohort`,
};

const leads = Array.from({ length: PATH_DEPTH }, (_, i) => i + 1);
const paths: SuiteQuery = {
  id: 'paths_after_search',
  title: `paths: the first '${PATH_START}' of each session (gap 30m) and the ${PATH_DEPTH} events after it, sessions per path`,
  keys: 1,
  values: [{ name: 'sessions', tol: 'exact' }],
  compare: 'keyed',
  shoal: { kind: 'paths', node: 'event', start: ['event', '=', PATH_START], direction: 'after', depth: PATH_DEPTH, gap: '30m', limit: 100_000 },
  shoalRows: shoalPathRows,
  // sessions by a running sum of session starts; then, at each session's first start event, that
  // event and the next ones while they stay in the session
  duckdb:
    `WITH f AS (SELECT user_id, epoch_ms(time) AS ts, event, CASE WHEN lag(epoch_ms(time)) OVER w IS NULL OR epoch_ms(time) - lag(epoch_ms(time)) OVER w > ${GAP_MS} THEN 1 ELSE 0 END AS st ` +
    `FROM events WINDOW w AS (PARTITION BY user_id ORDER BY time)), ` +
    `g AS (SELECT user_id, ts, event, sum(st) OVER w AS sid, ${leads.map((i) => `lead(event, ${i}) OVER w AS n${i}, lead(st, ${i}) OVER w AS b${i}`).join(', ')} ` +
    `FROM f WINDOW w AS (PARTITION BY user_id ORDER BY ts ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)), ` +
    `h AS (SELECT min_by(concat_ws(' > ', event, ${leads.map((i) => `CASE WHEN ${leads.slice(0, i).map((j) => `coalesce(b${j}, 1) = 0`).join(' AND ')} THEN n${i} END`).join(', ')}), ts) AS p ` +
    `FROM g WHERE event = '${PATH_START}' GROUP BY user_id, sid) ` +
    `SELECT p AS k0, count(*)::DOUBLE AS v0 FROM h GROUP BY 1`,
  chdb:
    `SELECT arrayStringConcat(arraySlice(arrayMap(x -> x.2, sess), s, ${PATH_DEPTH + 1}), ' > ') AS k0, count() AS v0 FROM (` +
    `SELECT sess, indexOf(arrayMap(x -> x.2, sess), '${PATH_START}') AS s FROM (` +
    `SELECT arrayJoin(arraySplit((e, d) -> d > ${GAP_MS}, evs, arrayDifference(arrayMap(x -> x.1, evs)))) AS sess ` +
    `FROM (SELECT arraySort(x -> x.1, groupArray((toUnixTimestamp64Milli(time), toString(event)))) AS evs FROM events GROUP BY user_id))) WHERE s > 0 GROUP BY k0`,
};

/** Shoal paths rows: the path's node values (node0 = the start event; null past a session's end) joined with " > ", then sessions. */
function shoalPathRows(answer: { columns: { name: string }[]; rows: unknown[][] }): Row[] {
  const nodes = answer.columns.map((c, i) => (/^node\d+$/.test(c.name) ? i : -1)).filter((i) => i >= 0);
  const countAt = answer.columns.findIndex((c) => c.name === 'sessions');
  return answer.rows.map((r) => [
    nodes.map((i) => r[i]).filter((v) => v !== null && v !== undefined).map(String).join(' > '),
    numberOrNull(r[countAt]),
  ]);
}

export const BEHAVIORAL_SUITE: SuiteQuery[] = [
  funnel('funnel_3', `funnel ${FUNNEL_3.join(' → ')}, window 1d`, FUNNEL_3, null),
  funnel('funnel_5', `funnel ${FUNNEL_5.join(' → ')}, window 1d`, FUNNEL_5, null),
  funnel('funnel_3_by_country', `funnel ${FUNNEL_3.join(' → ')}, window 1d, by country`, FUNNEL_3, 'country'),
  sessions,
  retention,
  paths,
];
