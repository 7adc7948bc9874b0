/**
 * Sampled results scaled by what each column is: counts, distinct actors and sums are scaled,
 * group columns never (whatever they are called), however a measure is written, and on every
 * path (the pool's answer from zone maps too).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { runQuery } from '../../engine/query/index.js';
import { QueryPool } from '../../engine/query/pool/index.js';
import { memorySnapshot, type Event } from '../helpers/memory-snapshot.js';
import { batchOf, type PlainEvent } from '../storage/helpers.js';
import { openFixture } from './pool-fixtures.js';

const T0 = Date.UTC(2024, 4, 1);

const pools: QueryPool[] = [];
afterAll(async () => {
  for (const p of pools) await p.close();
});

function plainEvents(n: number, actors: number): PlainEvent[] {
  return Array.from({ length: n }, (_, i) => ({ user: `u${i % actors}`, timeMs: T0 + (i % 1000) * 1000, count: (i % 7) + 10, v: i % 13 }));
}

describe('sample scaling', () => {
  it('pool: a sampled count answered from zone maps is scaled like runQuery does', async () => {
    const fx = await openFixture();
    const pool = new QueryPool({ workers: 2, inlineMaxRows: 0 });
    pools.push(pool);
    try {
      await fx.table.ingest(batchOf(plainEvents(4000, 400)));
      await fx.table.flush();
      const snap = fx.table.snapshot();
      try {
        // 0.5 of 16 shards: shards 0–7 whole, no boundary shard.
        const q = { table: 't', measures: ['count'], sample: 0.5 };
        const single = await runQuery(snap, q);
        const pooled = await pool.run(snap, q);
        expect(single.rows[0][0]).toBeGreaterThan(1000); // scaled by 1/0.5
        expect(pooled.rows).toEqual(single.rows);
        expect((pooled as { sampled?: boolean }).sampled).toBe(true);
      } finally {
        snap.release();
      }
    } finally {
      await fx.cleanup();
    }
  });

  it('a group column whose name looks like a measure ("count") is not scaled', async () => {
    const evs: Event[] = Array.from({ length: 400 }, (_, i) => ({ user_id: `u${i}`, time: T0 + i, count: 7 }));
    const r = await runQuery(memorySnapshot(evs, { shards: 16 }), { table: 't', groupBy: ['count'], measures: ['sum(count)'], sample: 0.5 });
    // the group value is the stored value 7, whatever the sample
    expect(r.rows.map((row) => row[0])).toEqual([7]);
  });

  it('"sum (v)" and "uniq( $actor )" are scaled as "sum(v)" and "uniq($actor)" are', async () => {
    const evs: Event[] = Array.from({ length: 400 }, (_, i) => ({ user_id: `u${i}`, time: T0 + i, v: 3 }));
    const snap = memorySnapshot(evs, { shards: 16 });
    const plain = await runQuery(snap, { table: 't', measures: ['sum(v)', 'uniq($actor)'], sample: 0.5 });
    const spaced = await runQuery(snap, { table: 't', measures: ['sum (v)', 'uniq( $actor )'], sample: 0.5 });
    expect(spaced.rows).toEqual(plain.rows);
  });
});
