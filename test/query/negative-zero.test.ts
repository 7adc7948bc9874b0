/**
 * -0 in results: 0 and -0 are one group value and tie in min and max, so which one a shard met
 * first must not show; both executors report 0 (MessagePack and Arrow carry the sign).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runQuery } from '../../engine/query/index.js';
import { QueryPool } from '../../engine/query/pool/index.js';
import { batchOf } from '../storage/helpers.js';
import { openFixture, type Fixture } from './pool-fixtures.js';

let pool: QueryPool;
beforeAll(() => {
  pool = new QueryPool({ workers: 2, inlineMaxRows: 0 });
});
afterAll(async () => {
  await pool.close();
});

describe('negative zero', () => {
  it('report -0 as 0 in min, max and group values, however the shards were merged', async () => {
    const fx: Fixture = await openFixture();
    try {
      const base = Date.UTC(2026, 0, 5);
      await fx.table.ingest(batchOf(Array.from({ length: 400 }, (_, i) => ({ user: `u${i}`, timeMs: base + i, k: 'x' }))));
      let snap = fx.table.snapshot();
      const shardOf = new Map<string, number>();
      for (const s of snap.shards) for (let id = 0; id < s.actorCount; id++) shardOf.set(String(s.actorValue(id)), s.shard);
      snap.release();
      const inShard = (n: number): string => [...shardOf].find(([, s]) => s === n)![0];
      // shard 1 holds 0, shard 2 holds -0: runQuery meets 0 first; one worker scans shards 0 and 2 together
      await fx.table.ingest(batchOf([
        { user: inShard(1), timeMs: base + 10_000, n: 0, k: 'x' },
        { user: inShard(2), timeMs: base + 10_001, n: -0, k: 'x' },
        { user: inShard(3), timeMs: base + 10_002, n: -5, k: 'x' },
      ]));
      snap = fx.table.snapshot();
      try {
        const single = await runQuery(snap, { table: 't', measures: ['max(n)', 'min(n)'] });
        expect(Object.is(single.rows[0][0], 0)).toBe(true);
        expect(single.rows[0][1]).toBe(-5);
        for (const q of [
          { table: 't', measures: ['max(n)'] },
          { table: 't', groupBy: ['k'], measures: ['max(n)'] },
          { table: 't', where: ['n', '>=', 0], groupBy: ['n'], measures: ['count'] },
        ]) {
          const a = await runQuery(snap, q);
          const b = await pool.run(snap, q);
          expect(b.rows.map((r) => r.map((v) => (Object.is(v, -0) ? '-0' : v))), JSON.stringify(q)).toEqual(a.rows.map((r) => r.map((v) => (Object.is(v, -0) ? '-0' : v))));
        }
      } finally {
        snap.release();
      }
    } finally {
      await fx.cleanup();
    }
  });
});
