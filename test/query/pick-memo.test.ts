/**
 * Memos kept with cached blocks (BlockCache.keepMemo) and the one that uses them: the rows a
 * funnel's steps pick in a row group, kept with the step column's block (step-mask.ts). A memo
 * counts in the budget, goes with its block, keeps its block in use, and is only served under
 * the name it was kept under: funnels with other steps, other samples or none never see another's
 * picks, run after run, in any order, with the memos hit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runQuery } from '../../engine/query/index.js';
import type { TableSnapshot } from '../../engine/query/index.js';
import { BlockCache } from '../../engine/query/pool/block-cache.js';
import { compactBytes, narrowBlock, type CompactBlock } from '../../engine/query/pool/compact-block.js';
import { rng } from '../helpers/memory-snapshot.js';
import type { PlainEvent } from '../storage/helpers.js';
import { loadPlain, openFixture, runThroughCache } from './pool-fixtures.js';

/** 1 KiB that narrowing cannot shrink (ids spanning more than 16 bits). */
const block = (): CompactBlock => ({ form: 'decoded', block: Uint32Array.from({ length: 256 }, (_, i) => i << 16) });

describe('BlockCache memos', () => {
  const unmade = (): never => {
    throw new Error('a memo made that is not kept');
  };

  it('serves a memo under its name with its block, counting its bytes once', () => {
    const cache = new BlockCache(8 * 1024);
    cache.set('a', block(), 1);
    cache.keepMemo('a', 'm', 100, () => 'first');
    expect(cache.memo('a', 'm', 1)).toBe('first');
    expect(cache.memo('a', 'other', 1)).toBeUndefined();
    expect(cache.memo('b', 'm', 1)).toBeUndefined();
    expect(cache.bytes).toBe(1024 + 100);
    cache.keepMemo('a', 'm', 40, () => 'second'); // replaces: the first one's bytes go
    expect(cache.memo('a', 'm', 1)).toBe('second');
    expect(cache.bytes).toBe(1024 + 40);
    expect(cache.memoHits).toBe(2);
    cache.keepMemo('missing', 'm', 10, unmade); // no block, no memo (not even made)
    expect(cache.memo('missing', 'm', 1)).toBeUndefined();
    expect(cache.bytes).toBe(1024 + 40);
  });

  it('keeps at most four memos per block, dropping the one unused longest', () => {
    const cache = new BlockCache(8 * 1024);
    cache.set('a', block(), 1);
    for (let i = 0; i < 4; i++) cache.keepMemo('a', `m${i}`, 10, () => i);
    expect(cache.memo('a', 'm0', 1)).toBe(0); // m0 used: m1 is now the one unused longest
    cache.keepMemo('a', 'm4', 10, () => 4);
    expect(cache.memo('a', 'm1', 1)).toBeUndefined();
    for (const i of [0, 2, 3, 4]) expect(cache.memo('a', `m${i}`, 1)).toBe(i);
    expect(cache.bytes).toBe(1024 + 40);
  });

  it('never evicts a block for a memo, and makes none that does not fit (blocks that cannot narrow)', () => {
    const cache = new BlockCache(2 * 1024 + 200);
    cache.set('a', block(), 1);
    cache.set('b', block(), 2);
    // Query 5: a and b are evictable for a new block, but not for a memo.
    cache.keepMemo('b', 'm', 250, unmade);
    expect(cache.memosDeclined).toBe(1);
    expect(cache.get('a', 5)).toBeDefined();
    expect(cache.bytes).toBe(2 * 1024);
    cache.keepMemo('b', 'm', 150, () => 'x');
    expect(cache.memo('b', 'm', 5)).toBe('x');
    // A replacement counts the room its predecessor frees; one that still does not fit keeps the old memo.
    cache.keepMemo('b', 'm', 200, () => 'y');
    expect(cache.memo('b', 'm', 5)).toBe('y');
    expect(cache.bytes).toBe(cache.budgetBytes);
    cache.keepMemo('b', 'm', 201, unmade);
    expect(cache.memo('b', 'm', 5)).toBe('y');
    expect(cache.memosDeclined).toBe(2);
  });

  it('keeps a reserve blocks never fill, so memos are still made once blocks fill the rest', () => {
    const cache = new BlockCache(5 * 1024, 1024);
    for (let b = 0; b < 6; b++) cache.set(`b${b}`, block(), 1);
    expect(cache.bytes).toBe(4 * 1024); // four blocks: the fifth would take the reserve
    expect(cache.declined).toBe(2);
    cache.keepMemo('b0', 'm', 200, () => 'x');
    expect(cache.memoBytes).toBe(200);
    cache.keepMemo('b1', 'm', 1000, unmade); // beyond the whole budget: declined
    expect(cache.memosDeclined).toBe(1);
    // Query 2 may not evict query 1's blocks (the previous query's); query 3 evicts the least
    // recently used, b0, and its memo goes with it.
    cache.set('c', block(), 2);
    expect(cache.declined).toBe(3);
    cache.set('d', block(), 3);
    expect(cache.memo('b0', 'm', 3)).toBeUndefined();
    expect(cache.memoBytes).toBe(0);
    expect(cache.bytes).toBe(4 * 1024);
  });

  it('drops a memo with its block', () => {
    const cache = new BlockCache(2 * 1024 + 200);
    cache.set('a', block(), 1);
    cache.keepMemo('a', 'm', 150, () => 'x');
    cache.set('b', block(), 2);
    // Query 3 may evict query 1's block a: its memo goes with it.
    cache.set('c', block(), 3);
    expect(cache.get('a', 3)).toBeUndefined();
    expect(cache.memo('a', 'm', 3)).toBeUndefined();
    expect(cache.bytes).toBe(2 * 1024);
  });

  it('keeps counting a memo when its block is narrowed', () => {
    // Ids spanning 16 bits narrow from 4 to 2 bytes each.
    const ids = (): CompactBlock => ({ form: 'decoded', block: Uint32Array.from({ length: 1024 }, (_, i) => 7 * i) });
    const cache = new BlockCache(6 * 1024 + 100);
    cache.set('a', ids(), 1);
    cache.keepMemo('a', 'm', 100, () => 'x');
    cache.set('b', ids(), 2); // no room: a (the previous query's) is narrowed, not evicted
    expect(cache.narrowed).toBe(1);
    expect(cache.memo('a', 'm', 2)).toBe('x');
    expect(cache.bytes).toBe(compactBytes(narrowBlock(ids())) + 100 + compactBytes(ids()));
  });

  it('counts a memo hit as a use of its block', () => {
    const cache = new BlockCache(2 * 1024 + 100);
    cache.set('a', block(), 1);
    cache.keepMemo('a', 'm', 100, () => 'x');
    cache.set('b', block(), 1);
    // Query 2 reads a only through its memo, query 3 nothing of it: a is still the previous query's.
    expect(cache.memo('a', 'm', 2)).toBe('x');
    cache.set('c', block(), 3); // takes b's room (last used by query 1), not a's
    expect(cache.get('b', 3)).toBeUndefined();
    expect(cache.memo('a', 'm', 3)).toBe('x');
  });
});

const DAY = 86_400_000;
/** The first day of the events. */
const DAY0 = Date.UTC(2026, 0, 5);

/** Events over 3 days of a few thousand users, with a small and a wider event vocabulary. */
function events(n: number, seed: number): PlainEvent[] {
  const rand = rng(seed);
  const base = DAY0;
  const kinds = ['view', 'search', 'cart', 'buy', 'share'];
  return Array.from({ length: n }, () => ({
    user: `u${Math.floor(rand() ** 2 * 3000)}`,
    timeMs: base + Math.floor(rand() * 3 * 86_400_000),
    event: kinds[Math.floor(rand() * kinds.length)],
    country: ['DE', 'FR', 'US', 'IN'][Math.floor(rand() * 4)],
  }));
}

describe('funnel picks kept with cached blocks', () => {
  let fx: Awaited<ReturnType<typeof openFixture>>;
  let snapshot: TableSnapshot;
  beforeAll(async () => {
    fx = await openFixture();
    await loadPlain(fx.table, events(120_000, 11), 40_000);
    await fx.table.flush();
    snapshot = fx.table.snapshot();
  });
  afterAll(async () => {
    snapshot.release();
    await fx.cleanup();
  });

  it('answer what runQuery answers, for every steps and sample, in any order, run after run', async () => {
    const steps3 = [['event', '=', 'view'], ['event', '=', 'cart'], ['event', '=', 'buy']];
    const steps2 = [['event', '=', 'search'], ['event', 'in', ['cart', 'buy']]];
    // 0.05 and 0.1 both read shards 0 and 1, with different actors (thresholds 0.4 and 0.8).
    const queries = [
      { kind: 'funnel', steps: steps3, window: '1d' },
      { kind: 'funnel', steps: steps3, window: '1d', sample: 0.1 },
      { kind: 'funnel', steps: steps3, window: '1d', sample: 0.05 },
      { kind: 'funnel', steps: steps2, window: '1h', sample: 0.1, groupBy: ['country'] },
      { kind: 'funnel', steps: steps2, window: '1h' },
      // the same shapes with other events, and steps3's steps in another order
      { kind: 'funnel', steps: [['event', '=', 'search'], ['event', '=', 'cart'], ['event', '=', 'buy']], window: '1d' },
      { kind: 'funnel', steps: [['event', '=', 'cart'], ['event', '=', 'view'], ['event', '=', 'buy']], window: '1d' },
      // with and without a constant filter (no `return`: every event)
      { kind: 'retention', start: ['event', '=', 'view'], return: ['event', '=', 'buy'], period: '1d', periods: 2, sample: 0.05 },
      { kind: 'retention', start: ['event', '=', 'view'], period: '1d', periods: 2, sample: 0.05 },
      // steps2's leaves under two entry ranges — a streamed funnel's picks leave out first-step
      // rows outside its range, and with a 2-day window days 1 and 2 are read whole by both, in
      // the first outside the range — in a gathered `any` funnel and in a retention: none may
      // see another's picks
      { kind: 'funnel', steps: steps2, window: '2d', from: DAY0, to: DAY0 + DAY },
      { kind: 'funnel', steps: steps2, window: '2d', from: DAY0, to: DAY0 + 3 * DAY },
      { kind: 'funnel', steps: steps2, window: '1h', mode: 'any' },
      { kind: 'retention', start: steps2[0], return: steps2[1], period: '1d', periods: 2 },
    ].map((q) => ({ table: 't', ...q }));
    const expected = await Promise.all(queries.map(async (q) => (await runQuery(snapshot, q)).rows));
    const cache = new BlockCache(2 ** 30);
    let epoch = 0;
    const run = (i: number): unknown => runThroughCache(snapshot, queries[i], cache, ++epoch);
    // Memos are made on a cached block's first use and served from its second.
    expect(run(0)).toEqual(expected[0]);
    expect(cache.memoHits).toBe(0);
    const made = cache.bytes;
    expect(run(0)).toEqual(expected[0]);
    expect(cache.memoHits).toBeGreaterThan(0);
    expect(cache.bytes).toBe(made); // the second run made nothing new
    // Each other query twice (making its memos), then all of them interleaved, twice, so that
    // each finds other queries' memos beside its own on the blocks it reads.
    for (let i = 1; i < queries.length; i++) for (let r = 0; r < 2; r++) expect(run(i), `${JSON.stringify(queries[i])} run ${r}`).toEqual(expected[i]);
    const memoHits = cache.memoHits;
    for (let round = 0; round < 2; round++) {
      for (const i of [2, 9, 6, 0, 11, 8, 3, 10, 1, 7, 12, 5, 4]) expect(run(i), `round ${round}: ${JSON.stringify(queries[i])}`).toEqual(expected[i]);
    }
    expect(cache.memoHits).toBeGreaterThan(memoHits);
    expect(cache.bytes).toBeLessThanOrEqual(cache.budgetBytes);
  });

  it('answer what runQuery answers when the cache holds their blocks narrowed', async () => {
    // Chains marked in the kept picks (annotateChains), and times widened at the picked rows only
    // (CachedSegment.readTimesAt), in a cache too small to hold the funnels' blocks decoded.
    const queries = [
      { kind: 'funnel', steps: [['event', '=', 'view'], ['event', '=', 'search'], ['event', '=', 'cart']], window: '1d' },
      { kind: 'funnel', steps: [['event', '=', 'view'], ['event', '=', 'search'], ['event', '=', 'cart'], ['event', '=', 'buy']], window: '2h', groupBy: ['country'] },
      { kind: 'funnel', steps: [['event', '=', 'search'], ['event', '=', 'cart']], window: '1d', from: DAY0 + DAY / 2, to: DAY0 + 2 * DAY },
      { kind: 'funnel', steps: [['event', '=', 'view'], ['event', '=', 'cart']], window: '1d', sample: 0.1 },
    ].map((q) => ({ table: 't', ...q }));
    const expected = await Promise.all(queries.map(async (q) => (await runQuery(snapshot, q)).rows));
    const sizing = new BlockCache(2 ** 30);
    for (let i = 0; i < queries.length; i++) runThroughCache(snapshot, queries[i], sizing, i + 1);
    const cache = new BlockCache(Math.floor(sizing.bytes * 0.6));
    let epoch = 0;
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < queries.length; i++) expect(runThroughCache(snapshot, queries[i], cache, ++epoch), `round ${round}: ${JSON.stringify(queries[i])}`).toEqual(expected[i]);
    }
    expect(cache.narrowed).toBeGreaterThan(0);
    expect(cache.memoHits).toBeGreaterThan(0);
  });

  it('never cost a query that alternates with another its cached blocks', () => {
    const funnel = { table: 't', kind: 'funnel', steps: [['event', '=', 'view'], ['event', '=', 'buy']], window: '1d' };
    const other = { table: 't', groupBy: ['country'], measures: ['count'] };
    // The decoded size of both queries' blocks and the funnel's memos.
    const sizing = new BlockCache(2 ** 30);
    runThroughCache(snapshot, funnel, sizing, 1);
    runThroughCache(snapshot, other, sizing, 2);
    // Both fit decoded with a little room left; both fit only narrowed.
    for (const budget of [Math.floor(sizing.bytes * 1.02), Math.floor(sizing.bytes * 0.8)]) {
      const cache = new BlockCache(budget);
      let epoch = 0;
      for (let round = 0; round < 5; round++) {
        for (const [name, q] of [['funnel', funnel], ['aggregate', other]] as const) {
          const misses = cache.misses;
          runThroughCache(snapshot, q, cache, ++epoch);
          // From the third round on every block is cached: a memo never made room by evicting one.
          if (round >= 2) expect(cache.misses - misses, `budget ${budget}, round ${round}, ${name}`).toBe(0);
        }
      }
      expect(cache.bytes).toBeLessThanOrEqual(budget);
    }
  });
});
