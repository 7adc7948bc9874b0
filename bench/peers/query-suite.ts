/**
 * The aggregate query suite of issue 3, written for Shoal, DuckDB and chDB over the generator's
 * columns (user_id, time, event, path, country, os, device, app_version, status, latency_ms, …).
 *
 * Each peer gets its fastest function with at least Shoal's guarantee: exact counts and distinct
 * counts (`count(DISTINCT)`, `uniqExact`), and for percentiles, where Shoal answers from a sketch
 * with ≤1% relative error, the peers' sketches of similar accuracy: DuckDB's `approx_quantile`
 * (t-digest) and chDB's `quantileDD(0.01, q)` (the same DDSketch as Shoal's). chDB's default
 * `quantile` (a reservoir sample) is faster on some groups but was 10% off at p99 at 10M events.
 */
import type { SuiteQuery } from './suite.js';

const COUNTRIES = ['US', 'GB', 'DE', 'FR', 'JP'];
const SERIES_EVENTS = ['search', 'view_item'];
const inList = (xs: string[]): string => xs.map((x) => `'${x}'`).join(', ');

export const QUERY_SUITE: SuiteQuery[] = [
  {
    id: 'count',
    title: 'count',
    keys: 0,
    values: [{ name: 'count', tol: 'exact' }],
    compare: 'keyed',
    shoal: { measures: ['count'] },
    duckdb: 'SELECT count(*)::DOUBLE AS v0 FROM events',
    chdb: 'SELECT count() AS v0 FROM events',
  },
  {
    id: 'count_where_event',
    title: "count where event = 'search'",
    keys: 0,
    values: [{ name: 'count', tol: 'exact' }],
    compare: 'keyed',
    shoal: { measures: ['count'], where: ['event', '=', 'search'] },
    duckdb: "SELECT count(*)::DOUBLE AS v0 FROM events WHERE event = 'search'",
    chdb: "SELECT count() AS v0 FROM events WHERE event = 'search'",
  },
  {
    id: 'count_by_event',
    title: 'count by event',
    keys: 1,
    values: [{ name: 'count', tol: 'exact' }],
    compare: 'keyed',
    shoal: { measures: ['count'], groupBy: ['event'] },
    duckdb: 'SELECT event AS k0, count(*)::DOUBLE AS v0 FROM events GROUP BY event',
    chdb: 'SELECT event AS k0, count() AS v0 FROM events GROUP BY event',
  },
  {
    id: 'country_in_by_os',
    title: `count where country in (${COUNTRIES.join(',')}) by os`,
    keys: 1,
    values: [{ name: 'count', tol: 'exact' }],
    compare: 'keyed',
    shoal: { measures: ['count'], where: ['country', 'in', COUNTRIES], groupBy: ['os'] },
    duckdb: `SELECT os AS k0, count(*)::DOUBLE AS v0 FROM events WHERE country IN (${inList(COUNTRIES)}) GROUP BY os`,
    chdb: `SELECT os AS k0, count() AS v0 FROM events WHERE country IN (${inList(COUNTRIES)}) GROUP BY os`,
  },
  {
    id: 'latency_by_path',
    title: 'avg and p99 latency_ms by path',
    keys: 1,
    values: [
      { name: 'avg(latency_ms)', tol: 'float' },
      { name: 'p99(latency_ms)', tol: 'quantile' },
    ],
    compare: 'keyed',
    shoal: { measures: ['avg(latency_ms)', 'p99(latency_ms)'], groupBy: ['path'] },
    duckdb: 'SELECT path AS k0, avg(latency_ms) AS v0, approx_quantile(latency_ms, 0.99)::DOUBLE AS v1 FROM events GROUP BY path',
    chdb: 'SELECT path AS k0, avg(latency_ms) AS v0, quantileDD(0.01, 0.99)(latency_ms) AS v1 FROM events GROUP BY path',
  },
  {
    id: 'uniq_actor_by_country',
    title: 'uniq($actor) by country',
    keys: 1,
    values: [{ name: 'uniq($actor)', tol: 'exact' }],
    compare: 'keyed',
    shoal: { measures: ['uniq($actor)'], groupBy: ['country'] },
    duckdb: 'SELECT country AS k0, count(DISTINCT user_id)::DOUBLE AS v0 FROM events GROUP BY country',
    chdb: 'SELECT country AS k0, uniqExact(user_id) AS v0 FROM events GROUP BY country',
  },
  {
    id: 'hourly_series',
    title: `hourly count and p95 latency_ms where event in (${SERIES_EVENTS.join(',')})`,
    keys: 1,
    values: [
      { name: 'count', tol: 'exact' },
      { name: 'p95(latency_ms)', tol: 'quantile' },
    ],
    compare: 'keyed',
    shoal: { measures: ['count', 'p95(latency_ms)'], where: ['event', 'in', SERIES_EVENTS], bucket: '1h' },
    duckdb:
      `SELECT epoch_ms(date_trunc('hour', time))::DOUBLE AS k0, count(*)::DOUBLE AS v0, approx_quantile(latency_ms, 0.95)::DOUBLE AS v1 ` +
      `FROM events WHERE event IN (${inList(SERIES_EVENTS)}) GROUP BY 1`,
    chdb:
      `SELECT toUnixTimestamp(toStartOfHour(time)) * 1000 AS k0, count() AS v0, quantileDD(0.01, 0.95)(latency_ms) AS v1 ` +
      `FROM events WHERE event IN (${inList(SERIES_EVENTS)}) GROUP BY k0`,
  },
  {
    id: 'group_by_actor',
    title: 'count and avg latency_ms by $actor (all actors), top 100 by count',
    keys: 1,
    values: [
      { name: 'count', tol: 'exact' },
      { name: 'avg(latency_ms)', tol: 'float' },
    ],
    compare: 'topValues',
    shoal: { measures: ['count', 'avg(latency_ms)'], groupBy: ['$actor'], orderBy: [['count', 'desc']], limit: 100 },
    duckdb: 'SELECT user_id AS k0, count(*)::DOUBLE AS v0, avg(latency_ms) AS v1 FROM events GROUP BY user_id ORDER BY v0 DESC LIMIT 100',
    chdb: 'SELECT user_id AS k0, count() AS v0, avg(latency_ms) AS v1 FROM events GROUP BY user_id ORDER BY v0 DESC LIMIT 100',
  },
  {
    id: 'top_paths_other',
    title: 'top 10 paths by count, the rest as $other',
    keys: 1,
    values: [{ name: 'count', tol: 'exact' }],
    compare: 'keyed',
    shoal: { measures: ['count'], groupBy: ['path'], limit: 10, other: true },
    duckdb:
      'WITH g AS (SELECT path, count(*) AS c FROM events GROUP BY path), ' +
      'r AS (SELECT path, c, row_number() OVER (ORDER BY c DESC) AS rn FROM g) ' +
      "SELECT CASE WHEN rn <= 10 THEN path ELSE '$other' END AS k0, sum(c)::DOUBLE AS v0 FROM r GROUP BY 1",
    chdb:
      'WITH g AS (SELECT path, count() AS c FROM events GROUP BY path), ' +
      'r AS (SELECT path, c, row_number() OVER (ORDER BY c DESC) AS rn FROM g) ' +
      "SELECT if(rn <= 10, path, '$other') AS k0, sum(c) AS v0 FROM r GROUP BY k0",
  },
];
