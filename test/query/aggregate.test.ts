/** Aggregate queries on tiny literal datasets: each decision of the spec, spelled out. */
import { describe, expect, it } from 'vitest';
import { ShoalError } from '../../engine/errors.js';
import { createPlan, runQuery, runShardPartial, validateQuery, type AggregatePartial } from '../../engine/query/index.js';
import { memorySnapshot, type Event } from '../helpers/memory-snapshot.js';

const H = 3_600_000;
const T0 = Date.parse('2024-05-01T00:00:00Z');

const events: Event[] = [
  { user_id: 'ann', time: T0 + 1 * H, country: 'US', latency: 10, ok: true },
  { user_id: 'ann', time: T0 + 2 * H, country: 'US', latency: 20, ok: false },
  { user_id: 'bob', time: T0 + 3 * H, country: 'FR', latency: 30 },
  { user_id: 'bob', time: T0 + 26 * H, country: 'US', latency: 40, ok: true },
  { user_id: 'cy', time: T0 + 50 * H, latency: 50, ok: true },
  { user_id: 'dee', time: T0 + 51 * H, country: 'DE', ok: false },
  { user_id: 'ed', time: T0 + 52 * H, country: 'DE', latency: -5 },
];

async function run(q: Record<string, unknown>, evs: Event[] = events, seed = 7): Promise<{ columns: { name: string; type: string }[]; rows: unknown[][] }> {
  const r = await runQuery(memorySnapshot(evs, { seed }), { table: 't', ...q });
  return { columns: r.columns, rows: r.rows };
}

/** Snaps column `col` (a percentile) to the nearest "round" value within its 1% error, for literal comparison. */
function withinPercent(rows: unknown[][], col: number): unknown[][] {
  return rows.map((r) => {
    const v = r[col];
    if (typeof v !== 'number') return r;
    const round = Math.round(v);
    expect(Math.abs(v - round)).toBeLessThanOrEqual(0.01 * Math.abs(round));
    return [...r.slice(0, col), round, ...r.slice(col + 1)];
  });
}

async function errorCode(q: Record<string, unknown>, opts: Record<string, number> = {}): Promise<string> {
  try {
    await runQuery(memorySnapshot(events), { table: 't', ...q }, opts);
  } catch (e) {
    return (e as ShoalError).code;
  }
  return 'no error';
}

describe('measures and groups', () => {
  it('counts everything by default', async () => {
    expect(await run({})).toEqual({ columns: [{ name: 'count', type: 'number' }], rows: [[7]] });
  });

  it('returns one row of zeros and nulls when nothing matches', async () => {
    const r = await run({ measures: ['count', 'sum(latency)', 'uniq($actor)', 'p50(latency)'], where: ['country', '=', 'JP'] });
    expect(r.rows).toEqual([[0, null, 0, null]]);
  });

  it('every measure, named as written, grouped by country (nulls form a group)', async () => {
    const r = await run({ groupBy: ['country'], measures: ['count', 'sum(latency)', 'avg(latency)', 'min(latency)', 'max(latency)', 'uniq($actor)', 'median(latency)', 'count(ok)', 'max(ok)'], orderBy: [['country', 'asc']] });
    expect(r.columns.map((c) => `${c.name}:${c.type}`)).toEqual(['country:string', 'count:number', 'sum(latency):number', 'avg(latency):number', 'min(latency):number', 'max(latency):number', 'uniq($actor):number', 'median(latency):number', 'count(ok):number', 'max(ok):boolean']);
    expect(withinPercent(r.rows, 7)).toEqual([
      ['DE', 2, -5, -5, -5, -5, 2, -5, 1, false],
      ['FR', 1, 30, 30, 30, 30, 1, 30, 0, null],
      ['US', 3, 70, 70 / 3, 10, 40, 2, 20, 3, true],
      [null, 1, 50, 50, 50, 50, 1, 50, 1, true],
    ]);
  });

  it('groups by $actor give the original actor values, numbers staying numbers', async () => {
    const numeric = events.map((e, i) => ({ ...e, user_id: 100 + (i % 3) }));
    const r = await run({ groupBy: ['$actor'], orderBy: [['$actor', 'asc']] }, numeric);
    expect(r.columns[0]).toEqual({ name: '$actor', type: 'number' });
    expect(r.rows).toEqual([[100, 3], [101, 2], [102, 2]]);
  });

  it('null semantics: != and !in skip nulls, only !exists matches them, not() keeps unknown unknown', async () => {
    const count = async (where: unknown): Promise<unknown> => (await run({ where })).rows[0][0];
    expect(await count(['country', '!=', 'US'])).toBe(3);
    expect(await count(['country', '!in', ['US']])).toBe(3);
    expect(await count({ not: ['country', '=', 'US'] })).toBe(3);
    expect(await count(['country', '!exists'])).toBe(1);
    expect(await count({ or: [['country', '!=', 'US'], ['country', '!exists']] })).toBe(4);
    expect(await count(['latency', '<', 25])).toBe(3);
    expect(await count(['ok', '=', false])).toBe(2);
  });

  it('a filter on a column the table never had matches nothing; !exists matches everything', async () => {
    expect((await run({ where: ['plan', '=', 'pro'] })).rows).toEqual([[0]]);
    expect((await run({ where: ['plan', '!=', 'pro'] })).rows).toEqual([[0]]);
    expect((await run({ where: ['plan', '!exists'] })).rows).toEqual([[7]]);
  });

  it('string operators and actor filters', async () => {
    const count = async (where: unknown): Promise<unknown> => (await run({ where })).rows[0][0];
    expect(await count(['country', 'startsWith', 'D'])).toBe(2);
    expect(await count(['country', 'contains', 'R'])).toBe(1);
    expect(await count(['country', '!contains', 'R'])).toBe(5);
    expect(await count(['$actor', 'in', ['ann', 'cy']])).toBe(3);
    expect(await count(['user_id', '>=', 'c'])).toBe(3);
  });

  it('time range is half-open [from, to) and accepts ISO-8601', async () => {
    const r = await run({ from: '2024-05-01T02:00:00Z', to: T0 + 50 * H });
    expect(r.rows).toEqual([[3]]);
  });
});

describe('buckets', () => {
  it('fills empty buckets between from and to with 0 counts and null measures', async () => {
    const r = await run({ bucket: '1d', measures: ['count', 'sum(latency)', 'uniq($actor)'], from: '2024-04-30T12:00:00Z', to: '2024-05-05T00:00:00Z' });
    expect(r.columns[0]).toEqual({ name: '$bucket', type: 'time' });
    expect(r.rows).toEqual([
      [Date.parse('2024-04-30T00:00:00Z'), 0, null, 0],
      [T0, 3, 60, 2],
      [T0 + 24 * H, 1, 40, 1],
      [T0 + 48 * H, 3, 45, 3],
      [T0 + 72 * H, 0, null, 0],
    ]);
  });

  it('without from/to, buckets span the table time range, for every kept series', async () => {
    const r = await run({ bucket: '1d', groupBy: ['country'], where: ['country', 'in', ['US', 'FR']], orderBy: [['$bucket', 'asc'], ['country', 'asc']] });
    expect(r.rows).toEqual([
      [T0, 'FR', 1], [T0, 'US', 2],
      [T0 + 24 * H, 'FR', 0], [T0 + 24 * H, 'US', 1],
      [T0 + 48 * H, 'FR', 0], [T0 + 48 * H, 'US', 0],
    ]);
  });

  it('a DST day in New York is one 23 h bucket', async () => {
    const evs = [0, 5, 10, 22.5, 23.5].map((h, i) => ({ user_id: `u${i}`, time: Date.parse('2024-03-10T05:00:00Z') + h * H }));
    const r = await run({ bucket: '1d', tz: 'America/New_York' }, evs);
    expect(r.rows).toEqual([[Date.parse('2024-03-10T05:00:00Z'), 4], [Date.parse('2024-03-11T04:00:00Z'), 1]]);
  });

  it('a fall-back day in London is one 25 h bucket', async () => {
    const day = Date.parse('2024-10-26T23:00:00Z'); // 2024-10-27 00:00 BST
    const evs = [0, 1.5, 24.5].map((h, i) => ({ user_id: `u${i}`, time: day + h * H }));
    const r = await run({ bucket: '1d', tz: 'Europe/London', from: day, to: day + 49 * H }, evs);
    expect(r.rows).toEqual([[day, 3], [day + 25 * H, 0]]);
  });
});

describe('limit and $other', () => {
  it('keeps the top groups and folds the rest into $other, with exact uniq and folded percentiles', async () => {
    const r = await run({ groupBy: ['$actor'], measures: ['count', 'uniq(country)', 'max(latency)', 'p50(latency)'], limit: 2, other: true });
    expect(withinPercent(r.rows, 4)).toEqual([
      ['ann', 2, 1, 20, 10],
      ['bob', 2, 2, 40, 30],
      ['$other', 3, 1, 50, -5],
    ]);
  });

  it('uniq($actor) in $other counts distinct actors across the folded groups', async () => {
    const r = await run({ groupBy: ['country'], measures: ['uniq($actor)', 'count'], limit: 1, other: true, orderBy: [['count', 'desc']] });
    expect(r.rows).toEqual([['US', 2, 3], ['$other', 4, 4]]);
  });

  it('with a bucket, limit counts series; $other is a series of its own', async () => {
    const r = await run({ bucket: '1d', groupBy: ['country'], limit: 1, other: true });
    expect(r.rows).toEqual([
      [T0, 'US', 2], [T0, '$other', 1],
      [T0 + 24 * H, 'US', 1], [T0 + 24 * H, '$other', 0],
      [T0 + 48 * H, 'US', 0], [T0 + 48 * H, '$other', 3],
    ]);
  });
});

describe('limits and cancellation', () => {
  it('too many groups is a clear error', async () => {
    expect(await errorCode({ groupBy: ['$actor'] }, { maxGroups: 3 })).toBe('TOO_MANY_GROUPS');
  });

  it('over the memory budget is a clear error', async () => {
    expect(await errorCode({ groupBy: ['$actor'], measures: ['uniq(latency)'] }, { memoryBudgetBytes: 64 })).toBe('QUERY_MEMORY_EXCEEDED');
  });

  it('the budget holds for the whole query, not just per shard', async () => {
    const many = Array.from({ length: 400 }, (_, i) => ({ user_id: `u${i}`, time: T0 + i, v: i }));
    const snap = memorySnapshot(many);
    const json = { table: 't', groupBy: ['$actor'], measures: ['uniq(v)'] };
    const plan = createPlan(validateQuery(json, snap), snap);
    const perShard = snap.shards.map((s) => (runShardPartial(s, plan) as AggregatePartial).memoryBytes);
    const budget = Math.max(...perShard) + 1;
    await expect(runQuery(snap, json, { memoryBudgetBytes: budget })).rejects.toMatchObject({ code: 'QUERY_MEMORY_EXCEEDED' });
    await expect(runQuery(snap, json, { memoryBudgetBytes: perShard.reduce((a, b) => a + b) })).resolves.toBeTruthy();
  });

  it('an aborted signal stops the query with its reason', async () => {
    const c = new AbortController();
    c.abort(new ShoalError('QUERY_TIMEOUT', [5]));
    await expect(runQuery(memorySnapshot(events), { table: 't' }, { signal: c.signal })).rejects.toMatchObject({ code: 'QUERY_TIMEOUT' });
  });
});

describe('stats', () => {
  it('skips sources outside the time range', async () => {
    const snap = memorySnapshot(events, { shards: 1, maxSources: 8, seed: 3 });
    const all = await runQuery(snap, { table: 't' });
    const some = await runQuery(snap, { table: 't', from: T0 + 50 * H });
    expect(all.stats.rowsScanned).toBe(7);
    expect(some.stats.rowsScanned).toBeLessThan(7);
    expect(some.stats.segmentsSkipped).toBeGreaterThan(all.stats.segmentsSkipped);
    expect(some.rows).toEqual([[3]]);
    expect(typeof all.stats.elapsedMs).toBe('number');
  });
});
