/**
 * Differential test of sessions, retention and paths: Shoal (a real table: segments from
 * several flushes and the in-memory tail; 3% of an actor's events share a timestamp) against
 * DuckDB SQL written with window functions (behavioral-sql.ts) on the same generated events.
 *
 * - sessions: random gaps, where filters, ranges, groupBy of the session's first event,
 *   buckets by session start in UTC and DST zones; count, uniq($actor), sum/min/max exact,
 *   avg within 1e-9 relative, percentiles within 1% of quantile_disc;
 * - retention: cohorts by the first start event in range, 1d/1w/1mo periods in UTC and DST
 *   zones, return events after `to`, groupBy of the cohort event: every count exact;
 * - paths: after/before a start event (or from the session start), depth 1–6: every edge
 *   [depth, from, to, sessions] and every path's session count exact.
 * A failure prints the seed; replay with DIFF_SEED=<seed> (DIFF_QUERY=<i> for one query).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runQuery } from '../../engine/query/index.js';
import type { PathsResult, TableSnapshot } from '../../engine/query/index.js';
import type { Value } from '../../engine/types.js';
import { profile, randomFilter, type Exactness, type Profile } from './aggregate-queries.js';
import { aggregateSql, BUCKET_MACROS, WALL_SETUP, WALL_ZONES } from './aggregate-sql.js';
import { pathsSql, retentionSql, sessionColumns, sessionsTableSql } from './behavioral-sql.js';
import { diffRows, queryRng, runSeed, sortRows, type Tolerance } from './compare.js';
import { DEFAULT_DATASET, generateDataset, loadIntoDuckDb, loadIntoShoal, sqlRows, type DuckDb, type FlatEvent, type ShoalTable } from './dataset.js';

const SESSIONS = 40;
const RETENTION = 25;
const PATHS = 25;
const DATASET = { ...DEFAULT_DATASET, events: 100_000, users: 1200, seed: 13 };

let events: FlatEvent[];
let shoal: ShoalTable;
let duck: DuckDb;
let snapshot: TableSnapshot;
let dataRange: { minMs: number; maxMs: number };

beforeAll(async () => {
  events = generateDataset(DATASET);
  shoal = await loadIntoShoal(events);
  duck = await loadIntoDuckDb(events);
  for (const sql of [...BUCKET_MACROS, ...WALL_SETUP]) await duck.connection.run(sql);
  snapshot = shoal.table.snapshot();
  const [[minMs, maxMs]] = await sqlRows(duck, `SELECT min("time"), max("time") FROM events`);
  dataRange = { minMs: minMs as number, maxMs: maxMs as number };
});

afterAll(async () => {
  snapshot?.release();
  await shoal?.cleanup();
  duck?.close();
});

type Rand = () => number;
const pick = <T>(rand: Rand, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
const ZONES = ['UTC', 'America/New_York', 'Europe/Berlin'];

function randomRange(rand: Rand, q: Record<string, unknown>, p: Profile): void {
  const from = Math.floor(p.minMs + rand() * (p.maxMs - p.minMs) * 0.8);
  q.from = from;
  q.to = Math.floor(from + (0.05 + 0.95 * rand()) * (p.maxMs - from));
}

/** Runs `n` generated queries, collecting failures (with the seed and the query index). */
async function runAll(name: string, n: number, offset: number, one: (rand: Rand, p: Profile, i: number) => Promise<string | null>): Promise<void> {
  const seed = runSeed();
  const p = profile(events, queryRng(seed, -1));
  const only = process.env.DIFF_QUERY !== undefined ? Number(process.env.DIFF_QUERY) : null;
  const failures: string[] = [];
  for (let i = offset; i < offset + n; i++) {
    if (only !== null && i !== only) continue;
    const diff = await one(queryRng(seed, i), p, i);
    if (diff !== null) failures.push(`query ${i}: ${diff}`);
  }
  if (failures.length > 0) throw new Error(`seed ${seed}: ${failures.length} ${name} queries differ (replay: DIFF_SEED=${seed} DIFF_QUERY=<i>)\n${failures.slice(0, 4).join('\n')}`);
}

const SESSION_MEASURES: [string, Exactness][] = [
  ['count', 'exact'], ['uniq($actor)', 'exact'], ['avg(duration)', 'float'], ['avg(events)', 'float'], ['sum(events)', 'exact'], ['sum(duration)', 'exact'],
  ['min(duration)', 'exact'], ['max(duration)', 'exact'], ['max(events)', 'exact'], ['median(duration)', 'sketch'], ['p90(duration)', 'sketch'], ['p99(events)', 'sketch'],
];

async function checkSessions(rand: Rand, p: Profile): Promise<string | null> {
  const chosen: [string, Exactness][] = rand() < 0.6 ? [SESSION_MEASURES[0]] : [];
  for (let k = 1 + Math.floor(rand() * 3); k > 0; k--) {
    const m = pick(rand, SESSION_MEASURES);
    if (!chosen.some(([x]) => x === m[0])) chosen.push(m);
  }
  const q: Record<string, any> = { table: 'events', kind: 'sessions', gap: pick(rand, ['5m', '30m', '2h']), measures: chosen.map(([m]) => m) };
  if (rand() < 0.5) q.groupBy = [pick(rand, ['country', 'device', 'os', 'event', 'tag', 'flag'])];
  if (rand() < 0.35) {
    q.bucket = pick(rand, ['1h', '1d', '1w']);
    q.tz = pick(rand, ZONES);
  }
  if (rand() < 0.5 || q.bucket === '1h') randomRange(rand, q, p);
  if (rand() < 0.4) q.where = randomFilter(rand, p);
  const ordered = chosen[0][1] === 'exact';
  if (!ordered) q.limit = 100_000;
  const engine = await runQuery(snapshot, q);
  await duck.connection.run(sessionsTableSql(q, WALL_ZONES));
  const sql = aggregateSql(q, dataRange, { table: 'sess', columns: sessionColumns(q), prefiltered: true });
  const expected = (await sqlRows(duck, sql)).map((r) => r.slice(0, r.length - 2));
  const names = [...(q.bucket ? ['$bucket'] : []), ...(q.groupBy ?? []), ...q.measures];
  if (JSON.stringify(engine.columns.map((c) => c.name)) !== JSON.stringify(names)) return `${JSON.stringify(q)}\n  columns ${JSON.stringify(engine.columns)}`;
  const keyCols = names.length - chosen.length;
  const tolerances: Tolerance[] = [...Array<Tolerance>(keyCols).fill('exact'), ...chosen.map(([, e]) => e)];
  const diff = ordered ? diffRows(engine.rows, expected, tolerances) : diffRows(sortRows(engine.rows, keyCols), sortRows(expected, keyCols), tolerances);
  return diff === null ? null : `${JSON.stringify(q)}\n  ${diff}`;
}

async function checkRetention(rand: Rand, p: Profile): Promise<string | null> {
  const period = pick(rand, ['1d', '1d', '1w', '1mo']);
  const q: Record<string, any> = {
    table: 'events', kind: 'retention', period, tz: pick(rand, ZONES),
    periods: period === '1d' ? 1 + Math.floor(rand() * 10) : period === '1w' ? 1 + Math.floor(rand() * 2) : 1,
    start: rand() < 0.8 ? ['event', '=', pick(rand, ['signup', 'page_view', 'search', 'purchase', 'login'])] : randomFilter(rand, p),
  };
  if (rand() < 0.6) q.return = rand() < 0.7 ? ['event', 'in', [pick(rand, ['page_view', 'search', 'purchase']), 'login']] : randomFilter(rand, p);
  if (rand() < 0.6) randomRange(rand, q, p);
  if (rand() < 0.3) q.where = randomFilter(rand, p);
  if (rand() < 0.4) q.groupBy = [pick(rand, ['country', 'device', 'os', 'tag', 'flag'])];
  const engine = await runQuery(snapshot, q);
  const expected = await sqlRows(duck, retentionSql(q, dataRange));
  const diff = diffRows(engine.rows, expected, Array<Tolerance>(expected[0]?.length ?? 0).fill('exact'));
  return diff === null ? null : `${JSON.stringify(q)}\n  ${diff}`;
}

async function checkPaths(rand: Rand, p: Profile): Promise<string | null> {
  const q: Record<string, any> = {
    table: 'events', kind: 'paths', node: pick(rand, ['event', 'event', 'path', 'tag', 'status']), direction: pick(rand, ['after', 'before']),
    depth: 1 + Math.floor(rand() * 6), gap: pick(rand, ['5m', '30m', '2h']), limit: 100_000,
  };
  if (rand() < 0.6) q.start = rand() < 0.8 ? ['event', '=', pick(rand, ['search', 'view_item', 'add_to_cart', 'page_view'])] : randomFilter(rand, p);
  if (rand() < 0.4) randomRange(rand, q, p);
  if (rand() < 0.3) q.where = randomFilter(rand, p);
  const engine = (await runQuery(snapshot, q)) as PathsResult;
  const expectedEdges = await sqlRows(duck, pathsSql(q, true));
  const exact = Array<Tolerance>(q.depth + 2).fill('exact');
  const edgeDiff = diffRows(sortRows(engine.edges as Value[][], 3), sortRows(expectedEdges, 3), exact.slice(0, 4));
  if (edgeDiff !== null) return `${JSON.stringify(q)}\n  edges: ${edgeDiff}`;
  const expectedPaths = await sqlRows(duck, pathsSql(q, false));
  const pathDiff = diffRows(sortRows(engine.rows, q.depth + 1), sortRows(expectedPaths, q.depth + 1), exact);
  if (pathDiff !== null) return `${JSON.stringify(q)}\n  paths: ${pathDiff}`;
  const ranked = engine.rows.every((r, k) => k === 0 || (engine.rows[k - 1][q.depth + 1] as number) >= (r[q.depth + 1] as number));
  return ranked ? null : `${JSON.stringify(q)}\n  paths not ordered by sessions`;
}

describe('behavioral queries: Shoal vs DuckDB window-function SQL', () => {
  it('both hold the same events', async () => {
    const r = await runQuery(snapshot, { table: 'events', measures: ['count', 'uniq($actor)'] });
    expect(r.rows).toEqual(await sqlRows(duck, `SELECT count(*), count(DISTINCT user_id) FROM events`));
  });

  it(`sessions agree on ${SESSIONS} random queries`, async () => {
    await runAll('sessions', SESSIONS, 0, (rand, p) => checkSessions(rand, p));
  });

  it(`retention agrees on ${RETENTION} random queries`, async () => {
    await runAll('retention', RETENTION, 1000, (rand, p) => checkRetention(rand, p));
  });

  it(`paths agree on ${PATHS} random queries`, async () => {
    await runAll('paths', PATHS, 2000, (rand, p) => checkPaths(rand, p));
  });
});
