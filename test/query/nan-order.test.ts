/**
 * A sum whose partials overflow with both signs is NaN (README, "Overflow"), which JSON shows as
 * null. orderBy put such a group first in a descending sort (NaN compared equal to every value,
 * so the group-value tie-break decided); it now sorts with the nulls, last in either direction.
 */
import { describe, expect, it } from 'vitest';
import { runQuery } from '../../engine/query/index.js';
import { actorKey, shardOf } from '../../engine/storage/hash.js';
import { batchOf } from '../storage/helpers.js';
import { openFixture } from './pool-fixtures.js';

describe('ordering by a NaN measure', () => {
  it('puts the NaN group last, like a null, ascending and descending', async () => {
    const fx = await openFixture();
    try {
      let other = 'b';
      for (let i = 0; shardOf(actorKey(other), 16) === shardOf(actorKey('a'), 16); i++) other = `b${i}`;
      const t0 = Date.UTC(2024, 0, 1);
      await fx.table.ingest(batchOf([
        // group "a": +Infinity in one shard, −Infinity in another, NaN merged
        { user: 'a', timeMs: t0, k: 'a', x: 1.7e308 },
        { user: 'a', timeMs: t0 + 1, k: 'a', x: 1.7e308 },
        { user: other, timeMs: t0 + 2, k: 'a', x: -1.7e308 },
        { user: other, timeMs: t0 + 3, k: 'a', x: -1.7e308 },
        { user: 'a', timeMs: t0 + 4, k: 'b', x: 5 },
        { user: 'a', timeMs: t0 + 5, k: 'c', x: 3 },
      ]));
      const snap = fx.table.snapshot();
      try {
        for (const dir of ['desc', 'asc']) {
          const r = await runQuery(snap, { table: 't', groupBy: ['k'], measures: ['sum(x)'], orderBy: [['sum(x)', dir]] });
          expect(r.rows.map((row) => row[0]), dir).toEqual(dir === 'desc' ? ['b', 'c', 'a'] : ['c', 'b', 'a']);
          expect(Number.isNaN(r.rows[2][1])).toBe(true);
        }
        const top = await runQuery(snap, { table: 't', groupBy: ['k'], measures: ['sum(x)'], orderBy: [['sum(x)', 'desc']], limit: 1 });
        expect(top.rows).toEqual([['b', 5]]);
      } finally {
        snap.release();
      }
    } finally {
      await fx.cleanup();
    }
  });
});
