/**
 * DuckDB SQL references for the behavioral kinds, written with window functions over the
 * events ordered per actor by ("time", seq) — Shoal's (time, arrival) order:
 *
 * - sessions: a row starts a session when the time since the actor's previous event (passing
 *   `where`, inside [from, to)) exceeds `gap`; a running sum of those starts numbers sessions.
 *   One row per session (start time, duration = last − first, events, the first event's
 *   groupBy values) goes into a temp table that aggregate-sql.ts then aggregates like events.
 *   (`maxDuration` needs a recursive split and is left to the reference tests.)
 * - retention: the cohort event is the actor's first `start` event inside [from, to) (in
 *   (time, seq) order); periods are local calendar periods (time_bucket on the wall-clock time
 *   in `tz`); an actor is retained in period n when a `return` event (any time, passing
 *   `where`) lies n periods after the cohort's; every cohort period of the range gets a row per
 *   kept group, groups ranked by total cohort size, ties by values.
 * - paths: sessions as above; per session the first row matching `start` (or the first row);
 *   LEAD/LAG over the session give the next/previous `depth` node values; an edge of depth k
 *   exists where the k-th event exists (a null node value is a value; the end of the session
 *   is not an edge).
 */
import { bucketListSql, filterSql, sqlString, timeMs, whereSql } from './aggregate-sql.js';
import { COLUMNS, type ColumnKind } from './dataset.js';

type Q = Record<string, any>;

const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "30m" → 1800000. */
export function durationMs(v: string | number): number {
  if (typeof v === 'number') return v;
  const [, n, unit] = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(v)!;
  return Number(n) * DURATION_MS[unit];
}

/** Session starts and numbers over the events passing `where` in [from, to): CTE `s`. */
function sessionRows(q: Q, gapMs: number, extra: string[]): string {
  return [
    `ev AS (SELECT user_id, "time", seq${extra.map((c) => `, ${c}`).join('')} FROM events WHERE ${whereSql(q)})`,
    `m AS (SELECT *, row_number() OVER w AS __i, CASE WHEN "time" - lag("time") OVER w > ${gapMs} THEN 1 ELSE 0 END AS __new ` +
      `FROM ev WINDOW w AS (PARTITION BY user_id ORDER BY "time", seq))`,
    `s AS (SELECT *, sum(__new) OVER (PARTITION BY user_id ORDER BY __i ROWS UNBOUNDED PRECEDING) AS __sid FROM m)`,
  ].join(',\n');
}

/**
 * Creates temp table `sess` (one row per session: user_id, "time" = start, duration, events,
 * the groupBy columns of the session's first event, and "__wall:<zone>" of the start for
 * `zones`) for a sessions query.
 */
export function sessionsTableSql(q: Q, zones: string[]): string {
  const groupBy: string[] = q.groupBy ?? [];
  const cols = groupBy.map(ident);
  const first = cols.map((c) => `first_value(${c}) OVER (PARTITION BY user_id, __sid ORDER BY __i) AS ${c}`);
  return (
    `CREATE OR REPLACE TEMP TABLE sess AS WITH ${sessionRows(q, durationMs(q.gap ?? '30m'), cols)},\n` +
    `f AS (SELECT user_id, "time", __sid${first.map((c) => `, ${c}`).join('')} FROM s)\n` +
    `SELECT user_id, min("time") AS "time", max("time") - min("time") AS duration, count(*) AS events` +
    `${cols.map((c) => `, min(${c}) AS ${c}`).join('')}${zones.map((z) => `, wall_ms(min("time"), ${sqlString(z)}) AS ${ident(`__wall:${z}`)}`).join('')} ` +
    `FROM f GROUP BY user_id, __sid`
  );
}

/** The columns of `sess` for aggregate-sql.ts. */
export function sessionColumns(q: Q): Record<string, ColumnKind> {
  const out: Record<string, ColumnKind> = { duration: 'number', events: 'number' };
  for (const g of (q.groupBy ?? []) as string[]) out[g] = COLUMNS[g];
  return out;
}

const PERIOD_SQL: Record<string, { iv: string; diff: string }> = {
  '1d': { iv: `INTERVAL '1 day'`, diff: `date_diff('day', c.__p, r.__p)` },
  '1w': { iv: `INTERVAL '1 week'`, diff: `date_diff('day', c.__p, r.__p) // 7` },
  '1mo': { iv: `INTERVAL '1 month'`, diff: `date_diff('month', c.__p, r.__p)` },
};

/**
 * Retention rows in the engine's shape and order: [$cohort, groupBy…, cohort_size, period0…].
 * `dataRange` sizes the cohorts when `from`/`to` are absent.
 */
export function retentionSql(q: Q, dataRange: { minMs: number; maxMs: number }): string {
  const tz: string = q.tz ?? 'UTC';
  const periods: number = q.periods;
  const { iv, diff } = PERIOD_SQL[q.period];
  const groupBy: string[] = q.groupBy ?? [];
  const g = groupBy.map((c, j) => `${ident(c)} AS __g${j}`);
  const gs = groupBy.map((_, j) => `__g${j}`);
  const wall = tz === 'UTC' ? '"time"' : ident(`__wall:${tz}`);
  const cohortInstant = tz === 'UTC' ? 'epoch_ms(__p)' : `local_start(epoch_ms(__p), ${sqlString(tz)})`;
  const lo = q.from !== undefined ? timeMs(q.from) : dataRange.minMs;
  const hi = q.to !== undefined ? timeMs(q.to) : dataRange.maxMs + 1;
  const range = [q.from !== undefined ? `"time" >= ${lo}` : 'TRUE', q.to !== undefined ? `"time" < ${hi}` : 'TRUE'].join(' AND ');
  const where = q.where === undefined ? 'TRUE' : whereSql({ where: q.where });
  const ret = q.return === undefined ? 'TRUE' : filterSql(q.return);
  const matchG = gs.map((x) => `k.${x} IS NOT DISTINCT FROM s.${x}`);
  const ctes = [
    `ev AS (SELECT *, time_bucket(${iv}, ts_of(${wall})) AS __p FROM events WHERE ${where})`,
    `st AS (SELECT *, row_number() OVER (PARTITION BY user_id ORDER BY "time", seq) AS __r FROM ev WHERE (${filterSql(q.start)}) AND ${range})`,
    `c AS (SELECT user_id, __p, ${cohortInstant} AS __c${g.map((x) => `, ${x}`).join('')} FROM st WHERE __r = 1)`,
    `r AS (SELECT DISTINCT user_id, __p FROM ev WHERE ${ret})`,
    `sizes AS (SELECT __c${gs.map((x) => `, ${x}`).join('')}, count(*) AS __size FROM c GROUP BY ALL)`,
    `kept AS (SELECT c.__c${gs.map((x) => `, c.${x}`).join('')}, ${diff} AS __n, count(DISTINCT c.user_id) AS __k ` +
      `FROM c JOIN r ON c.user_id = r.user_id WHERE ${diff} BETWEEN 0 AND ${periods} GROUP BY ALL)`,
    `cohorts AS (${bucketListSql(q.period, tz, lo, hi)})`,
    groupBy.length === 0
      ? `series AS (SELECT 1 AS __rn)`
      : `series AS (SELECT ${gs.join(', ')}, row_number() OVER (ORDER BY sum(__size) DESC, ${gs.map((x) => `${x} ASC NULLS LAST`).join(', ')}) AS __rn FROM sizes GROUP BY ${gs.join(', ')})`,
  ];
  const limit: number = q.limit ?? 1000;
  const periodCols = Array.from({ length: periods + 1 }, (_, n) => `COALESCE((SELECT __k FROM kept k WHERE k.__c = b.__b AND k.__n = ${n}${matchG.map((m) => ` AND ${m}`).join('')}), 0)`);
  const size = `COALESCE((SELECT __size FROM sizes k WHERE k.__c = b.__b${matchG.map((m) => ` AND ${m}`).join('')}), 0)`;
  return (
    `WITH ${ctes.join(',\n')}\n` +
    `SELECT b.__b${gs.map((x) => `, s.${x}`).join('')}, ${size}, ${periodCols.join(', ')} ` +
    `FROM cohorts b CROSS JOIN series s WHERE s.__rn <= ${limit} ORDER BY b.__b, s.__rn`
  );
}

/**
 * Paths of a paths query: rows [node0 … node{depth}, sessions] for every path (unordered), and
 * with `edges` rows [depth, from, to, sessions].
 */
export function pathsSql(q: Q, edges: boolean): string {
  const depth: number = q.depth;
  const node = ident(q.node);
  const fn = (q.direction ?? 'after') === 'after' ? 'lead' : 'lag';
  const start = q.start === undefined ? 'TRUE' : `COALESCE(${filterSql(q.start)}, FALSE)`;
  const win = 'OVER (PARTITION BY user_id, __sid ORDER BY __i)';
  const nodes = Array.from({ length: depth + 1 }, (_, k) => (k === 0 ? `${node} AS __n0` : `${fn}(${node}, ${k}) ${win} AS __n${k}`));
  const exists = Array.from({ length: depth }, (_, k) => `${fn}(__i, ${k + 1}) ${win} IS NOT NULL AS __e${k + 1}`);
  const ctes = [
    sessionRows(q, durationMs(q.gap ?? '30m'), [node, `${start} AS __start`]),
    `p AS (SELECT *, ${[...nodes, ...exists].join(', ')} FROM s)`,
    `firsts AS (SELECT *, row_number() OVER (PARTITION BY user_id, __sid ORDER BY __i) AS __r FROM p WHERE __start)`,
    `starts AS (SELECT * FROM firsts WHERE __r = 1)`,
  ];
  if (!edges) {
    const cols = Array.from({ length: depth + 1 }, (_, k) => `__n${k}`);
    return `WITH ${ctes.join(',\n')}\nSELECT ${cols.join(', ')}, count(*) FROM starts GROUP BY ALL`;
  }
  const parts = Array.from({ length: depth }, (_, i) => {
    const k = i + 1;
    return `SELECT ${k} AS d, __n${k - 1} AS a, __n${k} AS b, count(*) AS n FROM starts WHERE __e${k} GROUP BY ALL`;
  });
  return `WITH ${ctes.join(',\n')}\n${parts.join('\nUNION ALL ')}`;
}
