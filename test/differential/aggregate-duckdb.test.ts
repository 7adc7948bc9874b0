/**
 * Differential test of aggregate queries: Shoal (a real table: segments from several flushes and
 * an in-memory tail) against DuckDB on the same 200k generated events, for 220
 * random queries (aggregate-queries.ts) translated to SQL (aggregate-sql.ts), and as many more
 * as it takes for every operator, measure, bucket and zone to be in one. Counts, integer
 * and quarter sums, min, max and uniq must be equal; averages and sums of decimal floats within
 * 1e-9 relative (the order of addition differs); percentiles within 1% of DuckDB's quantile_disc.
 *
 * A failure prints the run's seed and each failing query with its SQL; replay with
 * DIFF_SEED=<seed> (and DIFF_QUERY=<index> for one query).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runQuery } from '../../engine/query/index.js';
import type { TableSnapshot } from '../../engine/query/index.js';
import type { Value } from '../../engine/types.js';
import { profile, randomAggregateQuery, type GeneratedQuery } from './aggregate-queries.js';
import { aggregateSql, BUCKET_MACROS, parseMeasure, WALL_SETUP } from './aggregate-sql.js';
import { diffRows, queryRng, runSeed, sortRows, type Tolerance } from './compare.js';
import { COLUMNS, DEFAULT_DATASET, generateDataset, loadIntoDuckDb, loadIntoShoal, sqlRows, type DuckDb, type FlatEvent, type ShoalTable } from './dataset.js';

const QUERIES = 220;

let events: FlatEvent[];
let shoal: ShoalTable;
let duck: DuckDb;
let snapshot: TableSnapshot;

beforeAll(async () => {
  events = generateDataset(DEFAULT_DATASET);
  shoal = await loadIntoShoal(events);
  duck = await loadIntoDuckDb(events);
  for (const sql of [...BUCKET_MACROS, ...WALL_SETUP]) await duck.connection.run(sql);
  snapshot = shoal.table.snapshot();
});

afterAll(async () => {
  snapshot?.release();
  await shoal?.cleanup();
  duck?.close();
});

/** The column types PRODUCT.md's result carries for this query. */
function expectedColumns(q: Record<string, any>): { name: string; type: string }[] {
  const groupType = (g: string): string => (g === '$actor' || g === 'user_id' ? 'string' : COLUMNS[g]);
  const measureType = (name: string): string => {
    const m = parseMeasure(name);
    if ((m.fn !== 'min' && m.fn !== 'max') || m.column === null) return 'number';
    if (m.column === '$time' || m.column === 'time') return 'time';
    return COLUMNS[m.column];
  };
  return [
    ...(q.bucket ? [{ name: '$bucket', type: 'time' }] : []),
    ...((q.groupBy ?? []) as string[]).map((g) => ({ name: g, type: groupType(g) })),
    ...(q.measures as string[]).map((m) => ({ name: m, type: measureType(m) })),
  ];
}

/** Peer rows in the engine's shape: `$other` for folded groups, bookkeeping columns dropped. */
function peerRows(rows: Value[][], hasBucket: boolean, groups: number): Value[][] {
  return rows.map((r) => {
    const other = r[r.length - 2] === true;
    const out = r.slice(0, r.length - 2);
    if (other) for (let j = 0; j < groups; j++) out[(hasBucket ? 1 : 0) + j] = '$other';
    return out;
  });
}

async function check(g: GeneratedQuery, dataRange: { minMs: number; maxMs: number }): Promise<string | null> {
  const q = g.query;
  const groups = ((q.groupBy ?? []) as string[]).length;
  const keyCols = (q.bucket ? 1 : 0) + groups;
  const sql = aggregateSql(q, dataRange);
  let engine;
  try {
    engine = await runQuery(snapshot, q);
  } catch (err) {
    return `engine threw ${(err as Error).message}`;
  }
  const cols = JSON.stringify(engine.columns);
  if (cols !== JSON.stringify(expectedColumns(q))) return `columns ${cols}, expected ${JSON.stringify(expectedColumns(q))}`;
  const expected = peerRows(await sqlRows(duck, sql), Boolean(q.bucket), groups);
  const tolerances: Tolerance[] = [...Array<Tolerance>(keyCols).fill('exact'), ...g.exactness];
  const diff = g.ordered
    ? diffRows(engine.rows, expected, tolerances)
    : diffRows(sortRows(engine.rows, keyCols), sortRows(expected, keyCols), tolerances);
  return diff === null ? null : `${diff}\n  sql: ${sql.replace(/\n/g, ' ')}`;
}

describe('aggregate queries: Shoal vs DuckDB', () => {
  it('both hold the same events', async () => {
    const [[n, users, minMs, maxMs]] = await sqlRows(duck, `SELECT count(*), count(DISTINCT user_id), min("time"), max("time") FROM events`);
    expect(n).toBe(events.length);
    const r = await runQuery(snapshot, { table: 'events', measures: ['count', 'uniq($actor)', 'min($time)', 'max($time)'] });
    expect(r.rows).toEqual([[n, users, minMs, maxMs]]);
    // the table really is spread over segments and the tail
    expect(snapshot.shards.every((s) => s.sources.length >= 3)).toBe(true);
  });

  // Two halves, so that neither runs into the per-test timeout on a busy machine.
  const seed = runSeed();
  const seen = new Set<string>();
  for (const [lo, hi] of [[0, QUERIES / 2], [QUERIES / 2, QUERIES]]) {
    it(`answer random queries ${lo}–${hi - 1} the same`, async () => {
      const [[minMs, maxMs]] = await sqlRows(duck, `SELECT min("time"), max("time") FROM events`);
      const dataRange = { minMs: minMs as number, maxMs: maxMs as number };
      const p = profile(events, queryRng(seed, -1));
      const only = process.env.DIFF_QUERY !== undefined ? Number(process.env.DIFF_QUERY) : null;
      const failures: string[] = [];
      for (let i = lo; i < hi; i++) {
        const g = randomAggregateQuery(queryRng(seed, i), p);
        if (only !== null && i !== only) continue;
        noteCoverage(g.query, seen);
        const diff = await check(g, dataRange);
        if (diff !== null) failures.push(`query ${i}: ${JSON.stringify(g.query)}\n  ${diff}`);
      }
      if (failures.length > 0) {
        throw new Error(`seed ${seed}: ${failures.length} of ${hi - lo} queries differ (replay: DIFF_SEED=${seed} DIFF_QUERY=<i>)\n${failures.slice(0, 5).join('\n')}`);
      }
    });
  }

  // A seed's 220 queries may by chance leave a feature out (a bucket unit, say, in about one run of
  // a few hundred): more are drawn, and checked, until each feature is in one.
  it('answer the queries drawn until every operator, measure, bucket and zone is in one the same', async () => {
    if (process.env.DIFF_QUERY !== undefined) return;
    const [[minMs, maxMs]] = await sqlRows(duck, `SELECT min("time"), max("time") FROM events`);
    const p = profile(events, queryRng(seed, -1));
    const failures: string[] = [];
    for (let i = QUERIES; i < QUERIES + 5000 && REQUIRED.some((x) => !seen.has(x)); i++) {
      const g = randomAggregateQuery(queryRng(seed, i), p);
      const adds = new Set<string>();
      noteCoverage(g.query, adds);
      if (![...adds].some((x) => REQUIRED.includes(x) && !seen.has(x))) continue;
      noteCoverage(g.query, seen);
      const diff = await check(g, { minMs: minMs as number, maxMs: maxMs as number });
      if (diff !== null) failures.push(`query ${i}: ${JSON.stringify(g.query)}\n  ${diff}`);
    }
    if (failures.length > 0) throw new Error(`seed ${seed}: ${failures.length} drawn queries differ (replay: DIFF_SEED=${seed} DIFF_QUERY=<i>)\n${failures.slice(0, 5).join('\n')}`);
  });

  it(`the queries cover every operator, measure, bucket and zone`, () => {
    if (process.env.DIFF_QUERY !== undefined) return;
    const missing = REQUIRED.filter((x) => !seen.has(x));
    expect(missing, `seed ${seed}: features never generated`).toEqual([]);
  });
});

const REQUIRED = [
  ...['=', '!=', '<', '<=', '>', '>=', 'in', '!in', 'contains', '!contains', 'startsWith', 'exists', '!exists', 'and', 'or', 'not'].map((o) => `op:${o}`),
  ...['count', 'uniq', 'sum', 'avg', 'min', 'max', 'median', 'p90', 'p99', 'p99.9', 'uniq($actor)'].map((f) => `fn:${f}`),
  ...['1m', '5m', '15m', '30m', '1h', '3h', '6h', '12h', '1d', '1w', '1mo'].map((u) => `bucket:${u}`),
  'tz:America/New_York', 'tz:Europe/Berlin', 'tz:UTC', 'groupBy:0', 'groupBy:1', 'groupBy:2', 'groupBy:3', 'groupBy:$actor', 'other', 'orderBy', 'limit',
];

function noteCoverage(q: Record<string, any>, seen: Set<string>): void {
  const walk = (f: any): void => {
    if (Array.isArray(f)) {
      if (typeof f[0] === 'string') seen.add(`op:${f[1]}`);
      else f.forEach(walk);
      return;
    }
    for (const k of Object.keys(f)) {
      seen.add(`op:${k}`);
      if (k === 'not') walk(f.not);
      else (f[k] as unknown[]).forEach(walk);
    }
  };
  if (q.where !== undefined) walk(q.where);
  for (const m of q.measures as string[]) {
    seen.add(m === 'uniq($actor)' ? 'fn:uniq($actor)' : `fn:${/^([\w.]+)/.exec(m)![1]}`);
  }
  if (q.bucket) {
    seen.add(`bucket:${q.bucket}`);
    seen.add(`tz:${q.tz ?? 'UTC'}`);
  }
  const gb = (q.groupBy ?? []) as string[];
  seen.add(`groupBy:${gb.length}`);
  if (gb.includes('$actor')) seen.add('groupBy:$actor');
  if (q.other) seen.add('other');
  if (q.orderBy) seen.add('orderBy');
  if (q.limit) seen.add('limit');
}
