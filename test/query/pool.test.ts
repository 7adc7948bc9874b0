/**
 * The query pool gives runQuery's answers: on random tables (segments from random flushes,
 * an in-memory tail, compaction) and random queries, while the tail grows and is flushed
 * between queries (workers mirror it incrementally), for concurrent queries, with a block
 * cache far smaller than the data, and on a snapshot whose segments compaction retired.
 * A failure prints the seed.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueryPool } from '../../engine/query/pool/index.js';
import { runQuery } from '../../engine/query/index.js';
import { SegmentReader } from '../../engine/storage/segment-reader.js';
import { normalize, rng } from '../helpers/memory-snapshot.js';
import { randomEvents, randomQuery } from '../helpers/random-query.js';
import { randomBehavioralEvents, randomFunnel, randomPaths, randomRetention, randomSessions } from '../behavioral/random-behavioral.js';
import { expectSameAsRunQuery, loadLayered, loadPlain, manyEvents, openFixture } from './pool-fixtures.js';

let pool: QueryPool;

beforeAll(() => {
  // inlineMaxRows 0: every query goes to the workers, however small.
  pool = new QueryPool({ workers: 2, inlineMaxRows: 0 });
});
afterAll(async () => {
  await pool.close();
});

async function checkSeed(seed: number): Promise<void> {
  const rand = rng(seed);
  const c = randomEvents(rand);
  const fx = await openFixture();
  try {
    const half = Math.floor(c.events.length / 2);
    await loadLayered(fx.table, c.events.slice(0, half), rand);
    const t = normalize(c.events);
    const stages = [
      async () => {},
      // more rows in the tail: workers receive only the new ones
      () => loadLayered(fx.table, c.events.slice(half), rand),
      () => fx.table.flush(),
      () => fx.table.compact(),
    ];
    for (const [stage, step] of stages.entries()) {
      await step();
      const snapshot = fx.table.snapshot();
      try {
        for (let q = 0; q < 4; q++) {
          const query = randomQuery(rand, t, c);
          await expectSameAsRunQuery(pool, snapshot, query, `seed ${seed} stage ${stage}: ${JSON.stringify(query)}`);
        }
        const samples = { table: 't', kind: 'samples', limit: 1 + Math.floor(rand() * 50) };
        await expectSameAsRunQuery(pool, snapshot, samples, `seed ${seed} stage ${stage}: samples`);
      } finally {
        snapshot.release();
      }
    }
  } finally {
    await fx.cleanup();
  }
}

describe('query pool', () => {
  it('matches runQuery on random tables and queries, as the tail grows, flushes and compacts', async () => {
    if (process.env.SEED !== undefined) return checkSeed(Number(process.env.SEED));
    for (let seed = 1; seed <= 8; seed++) await checkSeed(seed * 7919);
    expect(pool.stats().tasks).toBeGreaterThan(0);
    expect(pool.stats().inlineQueries).toBe(0);
  });

  it('matches runQuery on behavioral kinds (funnel, sessions, retention, paths), sampled or not', async () => {
    for (let seed = 1; seed <= 5; seed++) {
      const rand = rng(seed * 104729);
      const c = randomBehavioralEvents(rand, 600);
      const fx = await openFixture();
      try {
        await loadLayered(fx.table, c.events, rand);
        const snapshot = fx.table.snapshot();
        try {
          for (const make of [randomFunnel, randomSessions, randomRetention, randomPaths]) {
            const query = make(rand, c);
            await expectSameAsRunQuery(pool, snapshot, query, `seed ${seed}: ${JSON.stringify(query)}`);
            const sampled = { ...query, sample: 0.5 };
            await expectSameAsRunQuery(pool, snapshot, sampled, `seed ${seed}: ${JSON.stringify(sampled)}`);
          }
        } finally {
          snapshot.release();
        }
      } finally {
        await fx.cleanup();
      }
    }
  });

  it('runs small queries on the calling thread without starting workers; warm() starts them', async () => {
    const lazy = new QueryPool({ workers: 2 });
    const fx = await openFixture();
    try {
      await loadPlain(fx.table, manyEvents(5_000, 300, 2));
      const snapshot = fx.table.snapshot();
      try {
        await expectSameAsRunQuery(lazy, snapshot, { table: 't', groupBy: ['event'], measures: ['count'] }, 'small query');
        expect(lazy.stats().inlineQueries).toBe(1);
        expect(lazy.stats().workers).toEqual([]);
        lazy.warm();
        expect(lazy.stats().workers.map((w) => w.index)).toEqual([0, 1]);
      } finally {
        snapshot.release();
      }
    } finally {
      await lazy.close();
      await fx.cleanup();
    }
  });

  it('answers row counts that zone maps decide on the calling thread, without a worker task', async () => {
    const fx = await openFixture();
    try {
      const events = manyEvents(40_000, 1500, 11);
      await loadPlain(fx.table, events);
      await fx.table.flush(); // segments per shard and UTC day: day ranges and 1d buckets align
      const day = 86_400_000;
      const from = Date.UTC(2026, 0, 6);
      const inDay = events.filter((e) => e.timeMs >= from && e.timeMs < from + day).length;
      const snapshot = fx.table.snapshot();
      try {
        const tasks = pool.stats().tasks;
        const metadata = pool.stats().metadataQueries;
        const answerable = [
          { table: 't', measures: ['count'] },
          { table: 't', measures: ['count'], from, to: from + day },
          { table: 't', measures: ['count'], bucket: '1d' },
        ];
        for (const q of answerable) await expectSameAsRunQuery(pool, snapshot, q, JSON.stringify(q));
        expect((await pool.run(snapshot, answerable[0])).rows).toEqual([[events.length]]);
        expect((await pool.run(snapshot, answerable[1])).rows).toEqual([[inDay]]);
        expect(pool.stats().metadataQueries - metadata).toBe(answerable.length + 2);
        expect(pool.stats().tasks).toBe(tasks);
        // A filter the zone maps cannot decide, or a grouped count, goes to the workers.
        await expectSameAsRunQuery(pool, snapshot, { table: 't', measures: ['count'], where: ['event', '=', 'buy'] }, 'filtered');
        await expectSameAsRunQuery(pool, snapshot, { table: 't', measures: ['count'], from: from + 3_600_000 }, 'unaligned from');
        await expectSameAsRunQuery(pool, snapshot, { table: 't', measures: ['count'], bucket: '1h' }, 'hourly');
        expect(pool.stats().metadataQueries - metadata).toBe(answerable.length + 2);
        expect(pool.stats().tasks).toBeGreaterThan(tasks);
      } finally {
        snapshot.release();
      }
    } finally {
      await fx.cleanup();
    }
  });

  it('answers an older snapshot after a newer one over the same growing tail', async () => {
    const fx = await openFixture();
    try {
      await loadPlain(fx.table, manyEvents(30_000, 2000, 31));
      const older = fx.table.snapshot();
      await loadPlain(fx.table, manyEvents(10_000, 2500, 32));
      const newer = fx.table.snapshot();
      try {
        const query = { table: 't', groupBy: ['event'], measures: ['count', 'uniq($actor)', 'sum(latency)'] };
        await expectSameAsRunQuery(pool, newer, query, 'newer snapshot');
        await expectSameAsRunQuery(pool, older, query, 'older snapshot, after the newer one');
        await expectSameAsRunQuery(pool, newer, { table: 't', kind: 'samples', limit: 40 }, 'newer again');
      } finally {
        older.release();
        newer.release();
      }
    } finally {
      await fx.cleanup();
    }
  });

  it('answers concurrent queries, each as runQuery does', async () => {
    const fx = await openFixture();
    try {
      await loadPlain(fx.table, manyEvents(60_000, 3000, 5));
      await fx.table.flush();
      await loadPlain(fx.table, manyEvents(20_000, 3000, 6));
      const snapshot = fx.table.snapshot();
      try {
        const queries = [
          { table: 't', measures: ['count'] },
          { table: 't', groupBy: ['event'], measures: ['count', 'uniq($actor)', 'p90(latency)'] },
          { table: 't', groupBy: ['path'], measures: ['avg(latency)'], limit: 10, other: true },
          { table: 't', bucket: '1h', measures: ['count', 'max(latency)'], where: ['event', '=', 'buy'] },
          { table: 't', groupBy: ['$actor'], measures: ['count', 'sum(latency)'], limit: 50 },
          { table: 't', kind: 'samples', limit: 20, where: ['path', 'startsWith', '/p1'] },
        ];
        const singles = await Promise.all(queries.map((q) => runQuery(snapshot, q)));
        const pooled = await Promise.all(queries.map((q) => pool.run(snapshot, q)));
        pooled.forEach((p, i) => {
          expect(p.rows, JSON.stringify(queries[i])).toEqual(singles[i].rows);
          expect(p.columns).toEqual(singles[i].columns);
        });
      } finally {
        snapshot.release();
      }
    } finally {
      await fx.cleanup();
    }
  });

  it('stays exact with a block cache far smaller than the data, and caches within its budget', async () => {
    const budget = 64 * 1024;
    const small = new QueryPool({ workers: 2, inlineMaxRows: 0, blockCacheBytes: budget });
    const fx = await openFixture();
    try {
      await loadPlain(fx.table, manyEvents(150_000, 5000, 9));
      await fx.table.flush();
      const snapshot = fx.table.snapshot();
      try {
        const queries = [
          { table: 't', groupBy: ['event', 'path'], measures: ['count', 'sum(latency)', 'uniq($actor)'], limit: 100000 },
          { table: 't', where: ['latency', '>', 600], measures: ['count', 'median(latency)'] },
        ];
        for (let round = 0; round < 2; round++) {
          for (const q of queries) await expectSameAsRunQuery(small, snapshot, q, `round ${round}: ${JSON.stringify(q)}`);
        }
        for (const w of small.stats().workers) expect(w.blockCacheBytes).toBeLessThanOrEqual(budget);
        // The default budget holds these blocks: the second run finds them cached.
        await pool.run(snapshot, queries[0]);
        expect(pool.stats().workers.some((w) => w.blockCacheBytes > budget)).toBe(true);
      } finally {
        snapshot.release();
      }
    } finally {
      await small.close();
      await fx.cleanup();
    }
  });

  it('reads a snapshot whose segments compaction retired, and their files go when it is released', async () => {
    const fresh = new QueryPool({ workers: 2, inlineMaxRows: 0 });
    const fx = await openFixture();
    try {
      for (let part = 0; part < 3; part++) {
        await loadPlain(fx.table, manyEvents(20_000, 2000, 20 + part));
        await fx.table.flush();
      }
      const snapshot = fx.table.snapshot();
      const paths = snapshot.shards.flatMap((s) => s.sources.filter((x) => x instanceof SegmentReader).map((x) => (x as SegmentReader).path));
      const query = { table: 't', groupBy: ['event'], measures: ['count', 'uniq($actor)', 'avg(latency)'] };
      const before = await runQuery(snapshot, query);
      // Compaction runs while the pooled query is in flight; the workers open files by path.
      const running = fresh.run(snapshot, query);
      expect(await fx.table.compact()).toBeGreaterThan(0);
      expect(paths.every((p) => existsSync(p))).toBe(true);
      expect((await running).rows).toEqual(before.rows);
      expect((await fresh.run(snapshot, { ...query, measures: ['count'] })).rows).toEqual((await runQuery(snapshot, { ...query, measures: ['count'] })).rows);
      snapshot.release();
      expect(paths.filter((p) => existsSync(p))).toEqual([]);
      const after = fx.table.snapshot();
      try {
        expect((await fresh.run(after, query)).rows).toEqual(before.rows);
      } finally {
        after.release();
      }
    } finally {
      await fresh.close();
      await fx.cleanup();
    }
  });
});
