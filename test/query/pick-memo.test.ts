/**
 * Memos kept with cached blocks (BlockCache.keepMemo) and the one that uses them: the rows a
 * funnel's steps pick in a row group, kept with the step column's block (step-mask.ts). A memo
 * counts in the budget, goes with its block, keeps its block in use, and is only served under
 * the name it was kept under: funnels with other steps, other samples or none never see another's
 * picks, run after run, in any order, with the memos hit.
 */
import { describe, expect, it } from 'vitest';
import { runQuery } from '../../engine/query/index.js';
import type { TableSnapshot } from '../../engine/query/index.js';
import { BlockCache } from '../../engine/query/pool/block-cache.js';
import type { CompactBlock } from '../../engine/query/pool/compact-block.js';
import { rng } from '../helpers/memory-snapshot.js';
import type { PlainEvent } from '../storage/helpers.js';
import { loadPlain, openFixture, runThroughCache } from './pool-fixtures.js';

/** 1 KiB that narrowing cannot shrink (ids spanning more than 16 bits). */
const block = (): CompactBlock => ({ form: 'decoded', block: Uint32Array.from({ length: 256 }, (_, i) => i << 16) });

describe('BlockCache memos', () => {
  it('serves a memo under its name with its block, counting its bytes once', () => {
    const cache = new BlockCache(8 * 1024);
    cache.set('a', block(), 1);
    cache.keepMemo('a', 'm', 100, () => 'first', 1);
    expect(cache.memo('a', 'm', 1)).toBe('first');
    expect(cache.memo('a', 'other', 1)).toBeUndefined();
    expect(cache.memo('b', 'm', 1)).toBeUndefined();
    expect(cache.bytes).toBe(1024 + 100);
    cache.keepMemo('a', 'm', 40, () => 'second', 1); // replaces: the first one's bytes go
    expect(cache.memo('a', 'm', 1)).toBe('second');
    expect(cache.bytes).toBe(1024 + 40);
    expect(cache.memoHits).toBe(2);
    const unmade = (): never => {
      throw new Error('a memo made that is not kept');
    };
    cache.keepMemo('missing', 'm', 10, unmade, 1); // no block, no memo (not even made)
    expect(cache.memo('missing', 'm', 1)).toBeUndefined();
    expect(cache.bytes).toBe(1024 + 40);
  });

  it('keeps at most four memos per block, dropping the oldest', () => {
    const cache = new BlockCache(8 * 1024);
    cache.set('a', block(), 1);
    for (let i = 0; i < 5; i++) cache.keepMemo('a', `m${i}`, 10, () => i, 1);
    expect(cache.memo('a', 'm0', 1)).toBeUndefined();
    for (let i = 1; i < 5; i++) expect(cache.memo('a', `m${i}`, 1)).toBe(i);
    expect(cache.bytes).toBe(1024 + 40);
  });

  it('drops a memo with its block, and keeps none it has no room for', () => {
    const cache = new BlockCache(2 * 1024 + 200);
    cache.set('a', block(), 1);
    cache.keepMemo('a', 'm', 150, () => 'x', 1);
    cache.set('b', block(), 2);
    // Query 3 may evict query 1's block a: its memo goes with it.
    cache.set('c', block(), 3);
    expect(cache.get('a', 3)).toBeUndefined();
    expect(cache.memo('a', 'm', 3)).toBeUndefined();
    expect(cache.bytes).toBe(2 * 1024);
    // Only blocks of this query (c) and the previous one (b) left: no room for 250 bytes.
    const declined = cache.declined;
    cache.keepMemo('c', 'm', 250, () => {
      throw new Error('a memo made that is not kept');
    }, 3);
    expect(cache.memo('c', 'm', 3)).toBeUndefined();
    expect(cache.declined).toBe(declined + 1);
    expect(cache.bytes).toBe(2 * 1024);
    cache.keepMemo('c', 'm', 200, () => 'z', 3); // fits
    expect(cache.memo('c', 'm', 3)).toBe('z');
    expect(cache.bytes).toBe(cache.budgetBytes);
  });

  it('counts a memo hit as a use of its block', () => {
    const cache = new BlockCache(2 * 1024 + 100);
    cache.set('a', block(), 1);
    cache.keepMemo('a', 'm', 100, () => 'x', 1);
    cache.set('b', block(), 1);
    // Query 2 reads a only through its memo, query 3 nothing of it: a is still the previous query's.
    expect(cache.memo('a', 'm', 2)).toBe('x');
    cache.set('c', block(), 3); // takes b's room (last used by query 1), not a's
    expect(cache.get('b', 3)).toBeUndefined();
    expect(cache.memo('a', 'm', 3)).toBe('x');
  });
});

/** Events over 3 days of a few thousand users, with a small and a wider event vocabulary. */
function events(n: number, seed: number): PlainEvent[] {
  const rand = rng(seed);
  const base = Date.UTC(2026, 0, 5);
  const kinds = ['view', 'search', 'cart', 'buy', 'share'];
  return Array.from({ length: n }, () => ({
    user: `u${Math.floor(rand() ** 2 * 3000)}`,
    timeMs: base + Math.floor(rand() * 3 * 86_400_000),
    event: kinds[Math.floor(rand() * kinds.length)],
    country: ['DE', 'FR', 'US', 'IN'][Math.floor(rand() * 4)],
  }));
}

describe('funnel picks kept with cached blocks', () => {
  it('answer what runQuery answers, for every steps and sample, in any order, run after run', async () => {
    const fx = await openFixture();
    try {
      await loadPlain(fx.table, events(120_000, 11), 40_000);
      await fx.table.flush();
      const snapshot: TableSnapshot = fx.table.snapshot();
      try {
        const steps3 = [['event', '=', 'view'], ['event', '=', 'cart'], ['event', '=', 'buy']];
        const steps2 = [['event', '=', 'search'], ['event', 'in', ['cart', 'buy']]];
        // 0.05 and 0.1 both read shards 0 and 1, with different actors (thresholds 0.4 and 0.8).
        const queries = [
          { kind: 'funnel', steps: steps3, window: '1d' },
          { kind: 'funnel', steps: steps3, window: '1d', sample: 0.1 },
          { kind: 'funnel', steps: steps3, window: '1d', sample: 0.05 },
          { kind: 'funnel', steps: steps2, window: '1h', sample: 0.1, groupBy: ['country'] },
          { kind: 'funnel', steps: steps2, window: '1h' },
          { kind: 'retention', start: ['event', '=', 'view'], return: ['event', '=', 'buy'], period: '1d', periods: 2, sample: 0.05 },
        ].map((q) => ({ table: 't', ...q }));
        const expected = await Promise.all(queries.map(async (q) => (await runQuery(snapshot, q)).rows));
        const cache = new BlockCache(2 ** 30);
        let epoch = 0;
        const run = (q: (typeof queries)[number]): unknown => runThroughCache(snapshot, q, cache, ++epoch);
        // Each query twice (its memos are kept from the second use of a block on), then all of
        // them in an interleaved order, twice, so each is served memos another query's run kept beside its own.
        for (const [i, q] of queries.entries()) for (let r = 0; r < 2; r++) expect(run(q), `${JSON.stringify(q)} run ${r}`).toEqual(expected[i]);
        const memoHits = cache.memoHits;
        for (let round = 0; round < 2; round++) {
          for (const i of [2, 0, 3, 1, 5, 4]) expect(run(queries[i]), `round ${round}: ${JSON.stringify(queries[i])}`).toEqual(expected[i]);
        }
        expect(cache.memoHits).toBeGreaterThan(memoHits);
        expect(cache.bytes).toBeLessThanOrEqual(cache.budgetBytes);
      } finally {
        snapshot.release();
      }
    } finally {
      await fx.cleanup();
    }
  });
});
