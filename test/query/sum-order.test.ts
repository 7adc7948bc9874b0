/**
 * Sums do not depend on the order rows are added in: the tail adds rows in arrival order, a
 * segment by actor and time, so the same rows used to sum to 0 before a flush and 1 after it
 * (1e16 + 1 − 1e16, rounded at each step). Sums are compensated (Neumaier), so the rounding
 * error of each addition is carried and the answer is the exact one in either order.
 */
import { describe, expect, it } from 'vitest';
import { runQuery } from '../../engine/query/index.js';
import { actorKey, shardOf } from '../../engine/storage/hash.js';
import { batchOf } from '../storage/helpers.js';
import { openFixture } from './pool-fixtures.js';

describe('sum and avg', () => {
  it('give the exact answer whatever order the rows are added in (tail, segment)', async () => {
    const fx = await openFixture();
    try {
      // two actors of one shard, so one scan adds all three rows
      let other = 'b';
      for (let i = 0; shardOf(actorKey(other), 16) !== shardOf(actorKey('a'), 16); i++) other = `b${i}`;
      const t0 = Date.UTC(2024, 0, 1);
      await fx.table.ingest(batchOf([
        { user: 'a', timeMs: t0, x: 1e16 },
        { user: other, timeMs: t0 + 1, x: 1 },
        { user: 'a', timeMs: t0 + 2, x: -1e16 },
      ]));
      const q = { table: 't', measures: ['sum(x)', 'avg(x)'] };
      const grouped = { table: 't', groupBy: ['$actor'], measures: ['sum(x)'], orderBy: [['$actor', 'asc']] };
      const answers = async (): Promise<unknown[]> => {
        const snap = fx.table.snapshot();
        try {
          return [(await runQuery(snap, q)).rows, (await runQuery(snap, grouped)).rows];
        } finally {
          snap.release();
        }
      };
      const expected = [[[1, 1 / 3]], [['a', 0], [other, 1]]];
      expect(await answers()).toEqual(expected); // in the tail: arrival order
      await fx.table.flush();
      expect(await answers()).toEqual(expected); // in a segment: by actor, then time
    } finally {
      await fx.cleanup();
    }
  });
});
