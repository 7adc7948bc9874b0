/**
 * `"sample": f`: the same actors every time (those whose position is below f, on the pool
 * and on runQuery alike), additive measures scaled by 1/f, the others as measured on the
 * sample, a flagged result, less data read, and validation with path `sample`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableSnapshot } from '../../engine/index.js';
import { actorPosition, runQuery, type SampledResult } from '../../engine/query/index.js';
import { scaleKind } from '../../engine/query/sample.js';
import { diffResults } from '../helpers/compare-results.js';
import { memorySnapshot, rng } from '../helpers/memory-snapshot.js';
import { randomEvents, randomQuery } from '../helpers/random-query.js';
import { QueryPool } from '../../engine/query/pool/index.js';
import { loadPlain, manyEvents, openFixture, type Fixture } from './pool-fixtures.js';

let fx: Fixture;
let snapshot: TableSnapshot;
let pool: QueryPool;
let actors: string[];

beforeAll(async () => {
  fx = await openFixture();
  const events = manyEvents(60_000, 4000, 21);
  actors = [...new Set(events.map((e) => e.user as string))];
  await loadPlain(fx.table, events.slice(0, 45_000));
  await fx.table.flush();
  await loadPlain(fx.table, events.slice(45_000)); // the rest stays in the tail
  snapshot = fx.table.snapshot();
  pool = new QueryPool({ workers: 2, inlineMaxRows: 0 });
});

afterAll(async () => {
  snapshot.release();
  await pool.close();
  await fx.cleanup();
});

const byActor = (r: SampledResult): Map<string, number> => new Map(r.rows.map((row) => [row[0] as string, row[1] as number]));

describe('sampled queries', () => {
  it('read the same actors every time, those below the fraction, with counts scaled', async () => {
    const f = 0.3;
    const query = { table: 't', groupBy: ['$actor'], measures: ['count'], limit: 100000, sample: f };
    const first = await pool.run(snapshot, query);
    const again = await pool.run(snapshot, query);
    const single = await runQuery(snapshot, query);
    expect(again.rows).toEqual(first.rows);
    expect(single.rows).toEqual(first.rows);
    const expected = actors.filter((a) => actorPosition(a, snapshot.shards.length) < f).sort();
    expect([...byActor(first).keys()].sort()).toEqual(expected);
    expect(expected.length / actors.length).toBeGreaterThan(0.2);
    expect(expected.length / actors.length).toBeLessThan(0.4);
    const exact = byActor(await runQuery(snapshot, { ...query, sample: undefined }));
    for (const [actor, count] of byActor(first)) expect(count, actor).toBe(Math.round(exact.get(actor)! / f));
    expect(first.sampled).toBe(true);
    expect(first.stats.sample).toBe(f);
  });

  it('scale additive measures and leave the others as measured on the sampled actors', async () => {
    const f = 0.25;
    const measures = ['count', 'sum(latency)', 'uniq($actor)', 'uniq(user_id)', 'avg(latency)', 'max(latency)', 'uniq(path)'];
    const sampled = await pool.run(snapshot, { table: 't', groupBy: ['event'], measures, sample: f });
    const inSample = actors.filter((a) => actorPosition(a, snapshot.shards.length) < f);
    const exact = await runQuery(snapshot, { table: 't', groupBy: ['event'], measures, where: ['$actor', 'in', inSample] });
    expect(sampled.columns).toEqual(exact.columns);
    expect(sampled.rows.length).toBe(exact.rows.length);
    const exactBy = new Map(exact.rows.map((r) => [r[0], r]));
    for (const row of sampled.rows) {
      const e = exactBy.get(row[0])!;
      expect(row[1]).toBe(Math.round((e[1] as number) / f));
      expect(row[2]).toBeCloseTo((e[2] as number) / f, 6);
      expect(row[3]).toBe(Math.round((e[3] as number) / f));
      expect(row[4]).toBe(Math.round((e[4] as number) / f));
      expect(row.slice(5)).toEqual(e.slice(5));
    }
  });

  it('scale funnel steps, retention cohorts and path sessions, not conversions', async () => {
    const f = 0.4;
    const inSample = actors.filter((a) => actorPosition(a, snapshot.shards.length) < f);
    const kinds = [
      { table: 't', kind: 'funnel', steps: [['event', '=', 'view'], ['event', '=', 'click'], ['event', '=', 'buy']], window: '1d' },
      { table: 't', kind: 'retention', start: ['event', '=', 'signup'], period: '1d', periods: 2 },
      { table: 't', kind: 'paths', node: 'event', depth: 2, limit: 5 },
    ];
    for (const q of kinds) {
      const sampled = (await pool.run(snapshot, { ...q, sample: f })) as SampledResult & { edges?: number[][] };
      const exact = (await runQuery(snapshot, { ...q, where: ['$actor', 'in', inSample] })) as SampledResult & { edges?: number[][] };
      expect(sampled.columns).toEqual(exact.columns);
      sampled.columns.forEach((c, j) => {
        const scaled = /^(step\d+|period\d+|cohort_size|sessions)$/.test(c.name);
        const want = exact.rows.map((r) => (scaled ? Math.round((r[j] as number) / f) : r[j]));
        expect(sampled.rows.map((r) => r[j]), `${q.kind} ${c.name}`).toEqual(want);
      });
      if (exact.edges !== undefined) expect(sampled.edges).toEqual(exact.edges.map((e) => [e[0], e[1], e[2], Math.round(e[3] / f)]));
      expect(sampled.sampled).toBe(true);
    }
  });

  it('count through every counting path only the sampled actors\' rows', async () => {
    // Ungrouped counts with and without a filter, counts by a string column with a one-leaf
    // string filter (folded into the tally), with another filter and with none, and a grouped
    // sum: each path of the aggregate scan, which drops other actors' rows itself.
    const f = 0.1;
    const inSample = actors.filter((a) => actorPosition(a, snapshot.shards.length) < f);
    const queries = [
      { measures: ['count'], where: ['event', '=', 'buy'] },
      { measures: ['count'], where: ['latency', '>', 600] },
      { groupBy: ['path'], measures: ['count'], where: ['event', 'in', ['view', 'share']], limit: 1000 },
      { groupBy: ['event'], measures: ['count'], where: ['latency', '<', 300] },
      { groupBy: ['event'], measures: ['count'] },
      { groupBy: ['event'], measures: ['count', 'sum(latency)'] },
    ];
    for (const q of queries) {
      const where = q.where === undefined ? [] : [q.where];
      const exact = await runQuery(snapshot, { table: 't', ...q, where: [...where, ['$actor', 'in', inSample]] });
      const want = exact.rows.map((row) => row.map((v, j) => (j >= (q.groupBy?.length ?? 0) && typeof v === 'number' ? (exact.columns[j].name === 'count' ? Math.round(v / f) : v / f) : v)));
      for (const run of [(x: object) => pool.run(snapshot, x), (x: object) => runQuery(snapshot, x)]) {
        const got = await run({ table: 't', ...q, sample: f });
        expect(diffResults(got, { columns: exact.columns, rows: want }), JSON.stringify(q)).toBeNull();
      }
    }
  });

  it('read a fraction of the rows, and samples rows only of sampled actors', async () => {
    const full = await pool.run(snapshot, { table: 't', measures: ['count'] });
    const tenth = await pool.run(snapshot, { table: 't', measures: ['count'], sample: 0.1 });
    expect(tenth.stats.rowsScanned).toBeLessThan(full.stats.rowsScanned / 4);
    const rows = await pool.run(snapshot, { table: 't', kind: 'samples', limit: 200, sample: 0.1 });
    expect(rows.rows.length).toBe(200);
    for (const r of rows.rows) expect(actorPosition(r[0] as string, snapshot.shards.length)).toBeLessThan(0.1);
    expect(rows.sampled).toBe(true);
  });

  it('on random layouts and queries equals the query restricted to the sampled actors, scaled', async () => {
    for (let seed = 1; seed <= 60; seed++) {
      const rand = rng(seed * 31337);
      const c = randomEvents(rand);
      const shards = rand() < 0.7 ? 16 : 1 + Math.floor(rand() * 5);
      const snap = memorySnapshot(c.events, { seed, shards, maxSources: 1 + Math.floor(rand() * 4), maxRowGroup: 1 + Math.floor(rand() * 40) });
      const query = randomQuery(rand, snap.normalized, c);
      const f = [0.1, 0.3, 0.5, 0.77][Math.floor(rand() * 4)];
      const kept = [...new Set(snap.normalized.rows.map((r) => r.actor))].filter((a) => actorPosition(a, shards) < f);
      const w = query.where;
      const list = w === undefined ? [] : Array.isArray(w) && typeof w[0] !== 'string' ? w : [w];
      const label = `seed ${seed}, sample ${f}: ${JSON.stringify(query)}`;
      const sampled = await runQuery(snap, { ...query, sample: f });
      const exact = await runQuery(snap, { ...query, where: [...list, ['$actor', 'in', kept]] });
      const scaled = exact.rows.map((row) =>
        row.map((v, j) => {
          const kind = exact.columns[j].type === 'number' ? scaleKind(exact.columns[j].name, 'user_id') : null;
          return kind === null || typeof v !== 'number' ? v : kind === 'count' ? Math.round(v / f) : v / f;
        }));
      expect(diffResults(sampled, { columns: exact.columns, rows: scaled }), label).toBeNull();
    }
  });

  it('is validated with path "sample"; 1 means unsampled', async () => {
    for (const bad of [0, -0.5, 1.5, '0.1', true, [0.5]]) {
      await expect(pool.run(snapshot, { table: 't', measures: ['count'], sample: bad })).rejects.toMatchObject({ code: 'BAD_QUERY', path: 'sample' });
      await expect(runQuery(snapshot, { table: 't', kind: 'samples', sample: bad })).rejects.toMatchObject({ code: 'BAD_QUERY', path: 'sample' });
    }
    const whole = await pool.run(snapshot, { table: 't', measures: ['count'], sample: 1 });
    expect(whole.sampled).toBeUndefined();
    expect(whole.rows).toEqual([[60_000]]);
  });
});
