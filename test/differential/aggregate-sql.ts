/**
 * Translates an aggregate query (the JSON of PRODUCT.md) into one DuckDB statement over table
 * `events` (dataset.ts), spelling out the semantics engine/query documents:
 *
 * - `[from, to)` is half-open on the BIGINT epoch-ms column "time".
 * - Filters use SQL's three-valued logic as they are: a null makes a comparison unknown, NOT
 *   keeps unknown, only true passes; `exists`/`!exists` are IS [NOT] NULL. A column the table
 *   has never seen is null in every row. `in []` is false (unknown on null), `!in []` the reverse.
 * - Measures: count(col) and uniq count non-null values; sum/avg/percentiles of booleans take
 *   them as 0/1; percentiles are DuckDB's `quantile_disc` (nearest rank: the ⌈q·n⌉-th value).
 * - Buckets (see BUCKET_MACROS): in UTC `time_bucket`; in another zone the bucket of the local
 *   wall-clock time (`timezone(tz, …)` then `time_bucket`), mapped back to the instant where that
 *   wall time starts. Calendar units (1d, 1w from Monday, 1mo) start at local midnight, which is
 *   never ambiguous in the zones tested. Sub-day units take the instant with the same offset as
 *   the row when that is consistent, so in a repeated fall-back hour a row falls in the bucket of
 *   its own pass (timezone() alone would always pick the first pass).
 * - The bucket list covers [from, to), or the table's time range where they are absent: the
 *   distinct buckets of `lo` and of a grid of instants (step = the unit, or 1 h for longer units:
 *   every boundary in these whole-hour zones lies on the UTC hour grid).
 * - Ranking: groups (or, with a bucket, series, by their totals over the range) by `orderBy`
 *   without `$bucket` plus the first measure descending when no measure is named, nulls last,
 *   ties by group values ascending; `limit` of them kept; `other` folds the rest; filled empty
 *   buckets have count/uniq 0 and null elsewhere; rows ordered by `orderBy`, `$other` after kept
 *   rows except on `$bucket`, then by rank and bucket.
 *
 * Output columns: [__bucket]?, __g0…, __m0…, __other, __rn.
 */
import { COLUMNS, type ColumnKind } from './dataset.js';
import { UNIT_MS } from './aggregate-queries.js';

type Q = Record<string, any>;

/** Macros the bucket expressions use; run once per connection. */
export const BUCKET_MACROS = [
  `CREATE OR REPLACE MACRO ts_of(t) AS make_timestamp(t * 1000)`,
  `CREATE OR REPLACE MACRO wall_ms(t, z) AS epoch_ms(timezone(z, ts_of(t)::TIMESTAMPTZ))`,
  `CREATE OR REPLACE MACRO local_start(w, z) AS epoch_ms(timezone(z, ts_of(w)))`,
  `CREATE OR REPLACE MACRO wall_bucket(t, z, iv) AS epoch_ms(time_bucket(iv, ts_of(wall_ms(t, z))))`,
  `CREATE OR REPLACE MACRO sub_pick(t, z, wb, a) AS CASE WHEN wall_ms(a, z) - a = wall_ms(t, z) - t THEN a ELSE local_start(wb, z) END`,
  `CREATE OR REPLACE MACRO sub_bucket(t, z, iv) AS sub_pick(t, z, wall_bucket(t, z, iv), t - (wall_ms(t, z) - wall_bucket(t, z, iv)))`,
  `CREATE OR REPLACE MACRO cal_bucket(t, z, iv) AS local_start(wall_bucket(t, z, iv), z)`,
];

const INTERVAL: Record<string, string> = {
  '1m': '1 minute', '5m': '5 minutes', '15m': '15 minutes', '30m': '30 minutes', '1h': '1 hour', '3h': '3 hours',
  '6h': '6 hours', '12h': '12 hours', '1d': '1 day', '1w': '1 week', '1mo': '1 month',
};

export function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

function isActor(name: string): boolean {
  return name === '$actor' || name === 'user_id';
}
function isTime(name: string): boolean {
  return name === '$time' || name === 'time';
}

/** The SQL column of a query column name, or null when the table has never seen it. */
export function columnSql(name: string, columns: Record<string, ColumnKind> = COLUMNS): string | null {
  if (isActor(name)) return ident('user_id');
  if (isTime(name)) return ident('time');
  return name in columns ? ident(name) : null;
}

export function timeMs(v: unknown): number {
  return typeof v === 'number' ? v : Date.parse(v as string);
}

function literal(name: string, v: unknown): string {
  if (isTime(name)) return String(timeMs(v));
  if (typeof v === 'string') return sqlString(v);
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  return `CAST('${String(v)}' AS DOUBLE)`;
}

/** One filter as a SQL boolean expression (three-valued). */
export function filterSql(f: any): string {
  if (!Array.isArray(f)) {
    if ('not' in f) return `(NOT ${filterSql(f.not)})`;
    const isAnd = 'and' in f;
    const children: unknown[] = isAnd ? f.and : f.or;
    if (children.length === 0) return isAnd ? 'TRUE' : 'FALSE';
    return `(${children.map(filterSql).join(isAnd ? ' AND ' : ' OR ')})`;
  }
  const [name, op, v] = f as [string, string, any];
  const c = columnSql(name);
  if (op === 'exists') return c === null ? 'FALSE' : `(${c} IS NOT NULL)`;
  if (op === '!exists') return c === null ? 'TRUE' : `(${c} IS NULL)`;
  if (c === null) return 'CAST(NULL AS BOOLEAN)';
  switch (op) {
    case '=': return `(${c} = ${literal(name, v)})`;
    case '!=': return `(${c} <> ${literal(name, v)})`;
    case '<': case '<=': case '>': case '>=': return `(${c} ${op} ${literal(name, v)})`;
    case 'in': case '!in': {
      const list = v as unknown[];
      if (list.length === 0) return `(CASE WHEN ${c} IS NULL THEN NULL ELSE ${op === 'in' ? 'FALSE' : 'TRUE'} END)`;
      return `(${c} ${op === 'in' ? 'IN' : 'NOT IN'} (${list.map((x) => literal(name, x)).join(', ')}))`;
    }
    case 'contains': return `contains(${c}, ${sqlString(v)})`;
    case '!contains': return `(NOT contains(${c}, ${sqlString(v)}))`;
    case 'startsWith': return `starts_with(${c}, ${sqlString(v)})`;
  }
  throw new Error(`filterSql: unknown operator ${op}`);
}

/** `where` (one filter or a list that must all match) and the time range, as one predicate. */
export function whereSql(q: Q): string {
  const parts: string[] = [];
  if (q.from !== undefined) parts.push(`"time" >= ${timeMs(q.from)}`);
  if (q.to !== undefined) parts.push(`"time" < ${timeMs(q.to)}`);
  if (q.where !== undefined) {
    const list = Array.isArray(q.where) && (q.where.length === 0 || typeof q.where[0] !== 'string') ? q.where : [q.where];
    parts.push(...list.map(filterSql));
  }
  return parts.length === 0 ? 'TRUE' : parts.join(' AND ');
}

export interface Measure {
  name: string;
  fn: string;
  column: string | null;
  q: number;
}

export function parseMeasure(name: string): Measure {
  if (name === 'count') return { name, fn: 'count', column: null, q: 0 };
  const [, fn, column] = /^([\w.]+)\((.*)\)$/.exec(name)!;
  if (fn === 'median') return { name, fn: 'quantile', column, q: 0.5 };
  if (fn.startsWith('p')) return { name, fn: 'quantile', column, q: Number((Number(fn.slice(1)) / 100).toFixed(10)) };
  return { name, fn, column, q: 0 };
}

/** Whether a filled (empty) bucket shows 0 for this measure rather than null. */
export function isCounting(m: Measure): boolean {
  return m.fn === 'count' || m.fn === 'uniq';
}

export function measureSql(m: Measure, columns: Record<string, ColumnKind> = COLUMNS): string {
  if (m.column === null) return 'count(*)';
  const c = columnSql(m.column, columns)!;
  const num = columns[m.column] === 'boolean' ? `CAST(${c} AS INTEGER)` : c;
  switch (m.fn) {
    case 'count': return `count(${c})`;
    case 'uniq': return `count(DISTINCT ${c})`;
    case 'sum': return `sum(${num})`;
    case 'avg': return `avg(${num})`;
    case 'min': return `min(${c})`;
    case 'max': return `max(${c})`;
    case 'quantile': return `quantile_disc(${num}, ${m.q})`;
  }
  throw new Error(`measureSql: ${m.name}`);
}

/** Zones whose wall-clock time per event is precomputed as column "__wall:<zone>" (see WALL_SETUP). */
export const WALL_ZONES = ['America/New_York', 'Europe/Berlin'];

/** Adds and fills the wall-time columns (one ICU conversion per event and zone, once). */
export const WALL_SETUP = WALL_ZONES.flatMap((z) => [
  `ALTER TABLE events ADD COLUMN ${ident(`__wall:${z}`)} BIGINT`,
  `UPDATE events SET ${ident(`__wall:${z}`)} = wall_ms("time", ${sqlString(z)})`,
]);

/** SQL of the bucket start (epoch ms) of the BIGINT expression `t`, row by row (macros). */
export function bucketSql(unit: string, tz: string, t: string): string {
  const iv = `INTERVAL '${INTERVAL[unit]}'`;
  if (tz === 'UTC') return `epoch_ms(time_bucket(${iv}, ts_of(${t})))`;
  const calendar = unit === '1d' || unit === '1w' || unit === '1mo';
  return `${calendar ? 'cal_bucket' : 'sub_bucket'}(${t}, ${sqlString(tz)}, ${iv})`;
}

/**
 * CTEs ending in `base`: the rows passing `where`, with their bucket start `__b`. In a zone,
 * the bucket start depends only on the row's wall-clock bucket and UTC offset, so it is
 * computed once per distinct pair (the same formula as sub_bucket / cal_bucket).
 */
function bucketedBase(unit: string, tz: string, where: string, table: string): string[] {
  const iv = `INTERVAL '${INTERVAL[unit]}'`;
  if (tz === 'UTC') return [`base AS (SELECT *, ${bucketSql(unit, tz, '"time"')} AS __b FROM ${table} WHERE ${where})`];
  if (!WALL_ZONES.includes(tz)) throw new Error(`aggregateSql: no wall-time column for ${tz}`);
  const wall = ident(`__wall:${tz}`);
  const z = sqlString(tz);
  const calendar = unit === '1d' || unit === '1w' || unit === '1mo';
  const instant = calendar
    ? `local_start(__wb, ${z})`
    : `CASE WHEN wall_ms(__wb - __off, ${z}) - (__wb - __off) = __off THEN __wb - __off ELSE local_start(__wb, ${z}) END`;
  return [
    `base0 AS (SELECT *, epoch_ms(time_bucket(${iv}, ts_of(${wall}))) AS __wb, ${wall} - "time" AS __off FROM ${table} WHERE ${where})`,
    `bmap AS (SELECT __wb, __off, ${instant} AS __b FROM (SELECT DISTINCT __wb, __off FROM base0))`,
    `base AS (SELECT base0.*, bmap.__b FROM base0 JOIN bmap ON base0.__wb = bmap.__wb AND base0.__off = bmap.__off)`,
  ];
}

/** The buckets covering [lo, hi) as a SELECT of one column `__b`. */
export function bucketListSql(unit: string, tz: string, lo: number, hi: number): string {
  if (!(hi > lo)) return 'SELECT NULL::BIGINT AS __b WHERE FALSE';
  const step = Math.min(UNIT_MS[unit], 3_600_000);
  const first = Math.ceil((lo + 1) / step) * step;
  return `SELECT DISTINCT ${bucketSql(unit, tz, 'x')} AS __b FROM (SELECT ${lo}::BIGINT AS x UNION ALL SELECT unnest(range(${first}::BIGINT, ${hi}::BIGINT, ${step}::BIGINT)))`;
}

const orderDir = (dir: string): string => `${dir === 'desc' ? 'DESC' : 'ASC'} NULLS LAST`;

export interface SqlSource {
  /** The table or view read (default `events`). */
  table: string;
  /** Its columns besides user_id and "time" (and "__wall:<zone>" for buckets in a zone). */
  columns: Record<string, ColumnKind>;
  /** Rows are already filtered: `where`, `from` and `to` only size the buckets. */
  prefiltered: boolean;
}

const EVENTS: SqlSource = { table: 'events', columns: COLUMNS, prefiltered: false };

/**
 * The statement for query `q`. `dataRange` is the table's [min, max] time (buckets cover it when
 * `from`/`to` are absent).
 */
export function aggregateSql(q: Q, dataRange: { minMs: number; maxMs: number }, source: SqlSource = EVENTS): string {
  const measures = (q.measures as string[]).map(parseMeasure);
  const groupBy: string[] = q.groupBy ?? [];
  const keys = groupBy.map((g) => columnSql(g, source.columns)!);
  const where = source.prefiltered ? 'TRUE' : whereSql(q);
  const measureOf = (m: Measure): string => measureSql(m, source.columns);
  const limit: number = q.limit ?? 1000;
  const orderBy: [string, string][] = q.orderBy ?? [...(q.bucket ? [['$bucket', 'asc']] : []), [measures[0].name, 'desc']];
  const keyRef = (name: string): string => {
    const j = groupBy.indexOf(name);
    if (j >= 0) return `__g${j}`;
    return `__m${measures.findIndex((m) => m.name === name)}`;
  };
  const gCols = keys.map((k, j) => `${k} AS __g${j}`);
  const mCols = measures.map((m, j) => `${measureOf(m)} AS __m${j}`);
  const ties = groupBy.map((_, j) => `__g${j} ASC NULLS LAST`);
  const matchKeys = (left: string, right: string): string => keys.map((k, j) => `${left}.__g${j} IS NOT DISTINCT FROM ${right}.${k}`).join(' AND ');
  const groupClause = keys.length === 0 ? '' : ` GROUP BY ${keys.join(', ')}`;

  if (!q.bucket) {
    const rankOrder = [...orderBy.map(([n, d]) => `${keyRef(n)} ${orderDir(d)}`), ...ties].join(', ');
    const parts = [
      `WITH base AS (SELECT * FROM ${source.table} WHERE ${where}),`,
      `g AS (SELECT ${[...gCols, ...mCols].join(', ')} FROM base${groupClause}),`,
      `r AS (SELECT *, row_number() OVER (ORDER BY ${rankOrder}) AS __rn FROM g)`,
      `SELECT ${[...keys.map((_, j) => `__g${j}`), ...measures.map((_, j) => `__m${j}`)].join(', ')}, FALSE AS __other, __rn FROM r WHERE __rn <= ${limit}`,
    ];
    if (q.other && keys.length > 0) {
      parts.push(
        `UNION ALL SELECT ${[...keys.map((_, j) => `NULL AS __g${j}`), ...mCols].join(', ')}, TRUE, ${limit + 1}`,
        `FROM base JOIN r ON ${matchKeys('r', 'base')} WHERE r.__rn > ${limit} HAVING count(*) > 0`,
      );
    }
    parts.push('ORDER BY __rn');
    return parts.join('\n');
  }

  const tz: string = q.tz ?? 'UTC';
  const lo = q.from !== undefined ? timeMs(q.from) : dataRange.minMs;
  const hi = q.to !== undefined ? timeMs(q.to) : dataRange.maxMs + 1;
  const rankKeys = orderBy.filter(([n]) => n !== '$bucket');
  if (!rankKeys.some(([n]) => measures.some((m) => m.name === n))) rankKeys.push([measures[0].name, 'desc']);
  const fill = (prefix: string): string[] => measures.map((m, j) => (isCounting(m) ? `COALESCE(${prefix}.__m${j}, 0) AS __m${j}` : `${prefix}.__m${j}`));
  const ctes = [
    ...bucketedBase(q.bucket, tz, where, source.table),
    `buckets AS (${bucketListSql(q.bucket, tz, lo, hi)})`,
    `cells AS (SELECT __b, ${[...gCols, ...mCols].join(', ')} FROM base GROUP BY __b${keys.map((k) => `, ${k}`).join('')})`,
  ];
  if (keys.length === 0) {
    ctes.push(`series AS (SELECT 1 AS __rn)`);
  } else {
    const rankOrder = [...rankKeys.map(([n, d]) => `${keyRef(n)} ${orderDir(d)}`), ...ties].join(', ');
    ctes.push(
      `totals AS (SELECT ${[...gCols, ...mCols].join(', ')} FROM base${groupClause})`,
      `series AS (SELECT *, row_number() OVER (ORDER BY ${rankOrder}) AS __rn FROM totals)`,
    );
  }
  const onCell = ['c.__b = b.__b', ...keys.map((_, j) => `c.__g${j} IS NOT DISTINCT FROM s.__g${j}`)].join(' AND ');
  const selects = [
    `SELECT b.__b AS __bucket, ${[...keys.map((_, j) => `s.__g${j} AS __g${j}`), ...fill('c')].join(', ')}, FALSE AS __other, s.__rn AS __rn ` +
      `FROM series s CROSS JOIN buckets b LEFT JOIN cells c ON ${onCell} WHERE s.__rn <= ${limit}`,
  ];
  if (q.other && keys.length > 0) {
    ctes.push(`oc AS (SELECT base.__b, ${mCols.join(', ')} FROM base JOIN series s ON ${matchKeys('s', 'base')} WHERE s.__rn > ${limit} GROUP BY base.__b)`);
    selects.push(
      `SELECT b.__b, ${[...keys.map((_, j) => `NULL AS __g${j}`), ...fill('c')].join(', ')}, TRUE, ${limit + 1} ` +
        `FROM buckets b LEFT JOIN oc c ON c.__b = b.__b WHERE EXISTS (SELECT 1 FROM series WHERE __rn > ${limit})`,
    );
  }
  // `$other` rows sort after the kept ones from the first key that is not $bucket on.
  const order: string[] = [];
  let otherPlaced = false;
  for (const [n, d] of orderBy) {
    if (n === '$bucket') {
      order.push(`__bucket ${orderDir(d)}`);
      continue;
    }
    if (!otherPlaced) order.push('__other ASC');
    otherPlaced = true;
    order.push(`${keyRef(n)} ${orderDir(d)}`);
  }
  order.push('__rn ASC', '__bucket ASC');
  return `WITH ${ctes.join(',\n')}\n${selects.join('\nUNION ALL ')}\nORDER BY ${order.join(', ')}`;
}
