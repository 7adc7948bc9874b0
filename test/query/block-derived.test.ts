/**
 * Values derived from a cached block's array (percentile bins, actor runs, code histograms;
 * block-derived.ts) are the block's memos when a block cache is the thread's host: counted in
 * its budget, kept only in room that is free or that narrowing blocks frees, dropped with the
 * block. Uncounted, they took a query worker ~75% past its budget on a percentile over a
 * billion events.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { derivedName, derivedOf, keepDerived, mayKeepDerived, setDerivedHost } from '../../engine/query/block-derived.js';
import { pairCounts } from '../../engine/query/code-histograms.js';
import { runQuery, type TableSnapshot } from '../../engine/query/index.js';
import { BlockCache } from '../../engine/query/pool/block-cache.js';
import type { CompactBlock } from '../../engine/query/pool/compact-block.js';
import { loadPlain, manyEvents, openFixture, runThroughCache, type Fixture } from './pool-fixtures.js';

/** 1 KiB that narrowing cannot shrink (ids spanning more than 16 bits). */
const block = (): CompactBlock => ({ form: 'decoded', block: Uint32Array.from({ length: 256 }, (_, i) => i << 16) });

afterEach(() => setDerivedHost(null));

describe('derived values with a block cache as host', () => {
  it('are memos of the block an array was handed out for, counted once in the budget', () => {
    const cache = new BlockCache(4 * 1024);
    setDerivedHost(cache);
    cache.set('a', block(), 1);
    const values = cache.hand('a', new Float64Array(8));
    keepDerived(values, 'bins', 100, 'x');
    expect(derivedOf(values, 'bins')).toBe('x');
    expect(derivedOf(values, 'runs')).toBeUndefined();
    expect(cache.bytes).toBe(1024 + 100);
    // Another array for the same block (a widened view, after narrowing) finds the same values.
    const view = cache.hand('a', new Float64Array(8));
    expect(derivedOf(view, 'bins')).toBe('x');
    expect(derivedName(view)).toBe(derivedName(values));
    expect(cache.memoHits).toBe(2);
  });

  it('take only free room when no block can narrow to free more', () => {
    const cache = new BlockCache(2 * 1024 + 100);
    setDerivedHost(cache);
    cache.set('a', block(), 1);
    cache.set('b', block(), 2);
    const values = cache.hand('b', new Float64Array(8));
    expect(mayKeepDerived(values, 101)).toBe(false);
    keepDerived(values, 'bins', 101, 'x');
    expect(derivedOf(values, 'bins')).toBeUndefined();
    expect(cache.memosDeclined).toBe(1);
    expect(cache.bytes).toBe(2 * 1024);
    expect(mayKeepDerived(values, 100)).toBe(true);
    keepDerived(values, 'bins', 100, 'y');
    expect(derivedOf(values, 'bins')).toBe('y');
    expect(cache.bytes).toBe(cache.budgetBytes);
  });

  it('go with their block', () => {
    const cache = new BlockCache(2 * 1024 + 100);
    setDerivedHost(cache);
    cache.set('a', block(), 1);
    const values = cache.hand('a', new Float64Array(8));
    keepDerived(values, 'bins', 100, 'x');
    cache.set('b', block(), 2);
    cache.set('c', block(), 3); // query 3 may evict query 1's block a, and its memo with it
    expect(cache.get('a', 3)).toBeUndefined();
    expect(derivedOf(values, 'bins')).toBeUndefined();
    expect(mayKeepDerived(values, 1)).toBe(false); // the block is gone: nothing to keep a value with
    keepDerived(values, 'bins', 1, 'y');
    expect(derivedOf(values, 'bins')).toBeUndefined();
    expect(cache.bytes).toBe(2 * 1024);
  });

  it('of two blocks (code pairs) are kept only when the cache holds both', () => {
    const cache = new BlockCache(64 * 1024);
    setDerivedHost(cache);
    cache.set('a', block(), 1);
    cache.set('b', block(), 1);
    const a = cache.hand('a', Uint32Array.from({ length: 256 }, (_, i) => i % 4));
    // b's block not cached: its array is new at every read, so a table kept under it would never be hit
    for (let r = 0; r < 3; r++) expect(pairCounts(a, 4, Uint32Array.from({ length: 256 }, (_, i) => i % 2), 2)![1]).toBe(0);
    expect(cache.memoBytes).toBe(0);
    const b = cache.hand('b', Uint32Array.from({ length: 256 }, (_, i) => i % 2));
    const first = pairCounts(a, 4, b, 2)!;
    expect(Array.from(first)).toEqual([64, 0, 0, 64, 64, 0, 0, 64]);
    expect(cache.memoBytes).toBe(4 * 8 + 64);
    expect(pairCounts(a, 4, cache.hand('b', new Uint32Array(b)), 2)).toBe(first); // another array of block b
  });

  it('of an array no cache handed out live as long as the array, outside any budget', () => {
    const cache = new BlockCache(1024);
    setDerivedHost(cache);
    const mine = new Float64Array(8);
    expect(mayKeepDerived(mine, 1e9)).toBe(true);
    keepDerived(mine, 'bins', 1e9, 'x');
    expect(derivedOf(mine, 'bins')).toBe('x');
    expect(cache.bytes).toBe(0);
    const other = new Float64Array(8);
    expect(derivedName(other)).not.toBe(derivedName(mine));
    expect(derivedName(mine)).toBe(derivedName(mine));
  });
});

describe('queries deriving values from cached blocks', () => {
  let fx: Fixture;
  let snapshot: TableSnapshot;
  // Derived from whole blocks: percentile bins (number column), actor runs (group by the actor),
  // code histograms (a count by a string column, and by one string column filtered on another).
  const queries = [
    { table: 't', groupBy: ['event'], measures: ['count', 'p90(latency)', 'p50(latency)'] },
    { table: 't', groupBy: ['$actor'], measures: ['count', 'sum(latency)'], limit: 20 },
    { table: 't', groupBy: ['path'], measures: ['count'], where: [['event', '=', 'buy']] },
    { table: 't', where: [['event', '=', 'view']], measures: ['count'] },
  ];
  const expected: unknown[] = [];

  beforeAll(async () => {
    fx = await openFixture();
    await loadPlain(fx.table, manyEvents(60_000, 500, 3), 20_000);
    await fx.table.flush();
    snapshot = fx.table.snapshot();
    for (const q of queries) expected.push((await runQuery(snapshot, q)).rows);
  });

  afterAll(async () => {
    snapshot.release();
    await fx.cleanup();
  });

  /** Runs every query `runs` times through `cache`, each run a new epoch; checks every answer. */
  const runAll = (cache: BlockCache, runs: number, firstEpoch: number): void => {
    for (let r = 0; r < runs; r++) {
      queries.forEach((q, i) => {
        expect(runThroughCache(snapshot, q, cache, firstEpoch + r * queries.length + i), `${JSON.stringify(q)} run ${r}`).toEqual(expected[i]);
        expect(cache.bytes).toBeLessThanOrEqual(cache.budgetBytes);
      });
    }
  };

  it('count them in the budget when there is room, and serve them from the second run', () => {
    // The blocks alone, measured with no host (derived values kept outside the cache).
    const plainCache = new BlockCache(2 ** 30);
    runAll(plainCache, 2, 1);
    const blockBytes = plainCache.bytes;
    expect(plainCache.memoHits).toBe(0);

    const cache = new BlockCache(2 ** 30);
    setDerivedHost(cache);
    runAll(cache, 3, 1);
    expect(cache.bytes).toBeGreaterThan(blockBytes);
    expect(cache.memoHits).toBeGreaterThan(0);
    const hits = cache.memoHits;
    const bytes = cache.bytes;
    runAll(cache, 1, 100);
    expect(cache.memoHits).toBeGreaterThan(hits);
    expect(cache.bytes).toBe(bytes); // served, nothing new
  });

  it('never take the cache past its budget: with room for the decoded blocks only, they narrow blocks to fit', () => {
    const plainCache = new BlockCache(2 ** 30);
    runAll(plainCache, 1, 1);
    const cache = new BlockCache(plainCache.bytes);
    setDerivedHost(cache);
    runAll(cache, 3, 1); // checks the answers, and the budget after every query
    expect(plainCache.narrowed).toBe(0);
    expect(cache.narrowed).toBeGreaterThan(0);
    expect(cache.memoBytes).toBeGreaterThan(0);
    expect(cache.memoHits).toBeGreaterThan(0);
  });

  it('never take the cache past its budget: with less room than blocks and memos want even narrowed, they are declined', () => {
    const plainCache = new BlockCache(2 ** 30);
    runAll(plainCache, 1, 1);
    const cache = new BlockCache(Math.floor(plainCache.bytes / 2));
    setDerivedHost(cache);
    runAll(cache, 3, 1);
    expect(cache.narrowed).toBeGreaterThan(0);
    expect(cache.memosDeclined).toBeGreaterThan(0);
  });
});
