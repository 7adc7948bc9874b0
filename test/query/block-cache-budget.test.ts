/**
 * The query workers' block cache: the default budget (45% of memory over the workers,
 * bounded per worker, so a big machine keeps a 100M-event working set decoded and a small one
 * still caches), and its admission: a query that reads more than the budget keeps the part it
 * cached for its next run instead of evicting every block before it is used again, while a
 * later query's blocks still replace an earlier query's.
 */
import { describe, expect, it } from 'vitest';
import { BlockCache, defaultBlockCacheBytes } from '../../engine/query/pool/block-cache.js';
import type { CompactBlock } from '../../engine/query/pool/compact-block.js';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

describe('defaultBlockCacheBytes', () => {
  it("gives each worker its share of 45% of memory", () => {
    expect(defaultBlockCacheBytes(2, 20 * GIB)).toBe(4.5 * GIB);
    expect(defaultBlockCacheBytes(4, 16 * GIB)).toBe(Math.floor(1.8 * GIB));
    // this machine's kind: 2 workers on 24 GiB take 10.8 GiB, leaving room under the 16 GiB the 1B run must stay within
    expect(2 * defaultBlockCacheBytes(2, 24 * GIB)).toBeLessThanOrEqual(10.8 * GIB);
  });

  it('keeps at least 256 MiB and at most 16 GiB per worker', () => {
    expect(defaultBlockCacheBytes(8, 2 * GIB)).toBe(256 * MIB);
    expect(defaultBlockCacheBytes(1, 256 * GIB)).toBe(16 * GIB);
    expect(defaultBlockCacheBytes(0, 10 * GIB)).toBe(4.5 * GIB);
  });
});

describe('BlockCache admission', () => {
  /** 1 KiB that narrowing cannot shrink (ids spanning more than 16 bits). */
  const block = (): CompactBlock => ({ form: 'decoded', block: Uint32Array.from({ length: 256 }, (_, i) => i << 16) });
  /** One run of a query over blocks 0 … n−1 in order; returns its hits. */
  const scan = (cache: BlockCache, prefix: string, n: number, epoch: number): number => {
    const before = cache.hits;
    for (let b = 0; b < n; b++) if (cache.get(`${prefix}${b}`, epoch) === undefined) cache.set(`${prefix}${b}`, block(), epoch);
    return cache.hits - before;
  };

  it('keeps a scan larger than the budget partly cached, so repeated runs hit that part', () => {
    const cache = new BlockCache(40 * 1024);
    expect(scan(cache, 'a', 100, 1)).toBe(0);
    expect(cache.bytes).toBe(40 * 1024);
    expect(cache.declined).toBe(60);
    // Plain LRU would hit nothing here: each block is evicted before its next use.
    for (let run = 2; run <= 4; run++) expect(scan(cache, 'a', 100, run)).toBe(40);
    expect(cache.bytes).toBeLessThanOrEqual(cache.budgetBytes);
  });

  it('lets a query replace the blocks of queries before the previous one, least recently used first', () => {
    const cache = new BlockCache(10 * 1024);
    scan(cache, 'a', 10, 1);
    scan(cache, 'a', 5, 2); // a0 … a4 used again, by a later query
    expect(scan(cache, 'b', 5, 3)).toBe(0);
    // b took the room of a5 … a9 (last used by query 1), not of a0 … a4 (the previous query's).
    expect(scan(cache, 'a', 5, 4)).toBe(5);
    expect(scan(cache, 'b', 5, 5)).toBe(5);
    expect(cache.get('a9', 6)).toBeUndefined();
    // Query 6 takes the room of a0 … a4 (query 4), not of b (query 5, the previous one), and declines the rest.
    expect(scan(cache, 'c', 10, 6)).toBe(0);
    expect(scan(cache, 'b', 5, 7)).toBe(5);
    // c again (query 8) finds the part it kept; b, the previous query's, stays.
    expect(scan(cache, 'c', 10, 8)).toBe(5);
    // Once b is two queries back, c takes its room, and its next run hits every block.
    expect(scan(cache, 'c', 10, 9)).toBe(5);
    expect(scan(cache, 'c', 10, 10)).toBe(10);
    expect(cache.bytes).toBe(10 * 1024);
  });

  it('does not let a repeated scan evict, at a miss, the blocks it is about to reach', () => {
    // Cached and uncached blocks interleave (as columns of one row group do): with only the
    // current query spared, the first miss of a run evicted the next cached block (last used by
    // the previous run), whose miss evicted the next, and so on.
    const cache = new BlockCache(20 * 1024);
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
    for (const k of keys.filter((_, i) => i % 2 === 0)) cache.set(k, block(), 1);
    for (let run = 2; run <= 4; run++) {
      const before = cache.hits;
      for (const k of keys) if (cache.get(k, run) === undefined) cache.set(k, block(), run);
      expect(cache.hits - before).toBe(20);
    }
  });

  it('numbers queries by their order, whatever the gaps between epochs', () => {
    const cache = new BlockCache(2 * 1024);
    cache.set('x', block(), 10);
    cache.set('y', block(), 30); // the next query, though epoch 30: x is the previous query's
    expect(cache.get('x', 30)).toBeDefined();
    cache.set('z', block(), 31); // x and y now belong to query 2, the previous one: declined
    expect(cache.get('z', 31)).toBeUndefined();
    cache.set('z', block(), 50); // two queries on: room
    expect(cache.get('z', 50)).toBeDefined();
  });

  it('makes room for a memo by narrowing blocks held as decoded, never by evicting', () => {
    // 1 KiB decoded, 256 B narrowed (small ids): four fill an 4 KiB budget as decoded.
    const narrowable = (): CompactBlock => ({ form: 'decoded', block: Uint32Array.from({ length: 256 }, (_, i) => i) });
    const cache = new BlockCache(4 * 1024);
    for (let b = 0; b < 4; b++) cache.set(`n${b}`, narrowable(), 1);
    expect(cache.bytes).toBe(4 * 1024);
    cache.keepMemo('n3', 'memo', 1500, () => 'kept');
    expect(cache.memo('n3', 'memo', 1)).toBe('kept');
    expect(cache.memosDeclined).toBe(0);
    // The two least recently used blocks were narrowed (768 B each freed), none evicted.
    expect(cache.narrowed).toBe(2);
    for (let b = 0; b < 4; b++) expect(cache.get(`n${b}`, 1)).toBeDefined();
    expect(cache.bytes).toBeLessThanOrEqual(cache.budgetBytes);
    // A memo that does not fit even with every block narrowed is declined, and nothing is evicted.
    cache.keepMemo('n2', 'big', 3000, () => 'too big');
    expect(cache.memo('n2', 'big', 1)).toBeUndefined();
    expect(cache.memosDeclined).toBe(1);
    expect(cache.narrowed).toBe(2); // and it narrowed nothing more for it
    for (let b = 0; b < 4; b++) expect(cache.get(`n${b}`, 1)).toBeDefined();
  });

  it('narrows nothing for a memo that could not fit even with every block narrowed', () => {
    const narrowable = (): CompactBlock => ({ form: 'decoded', block: Uint32Array.from({ length: 256 }, (_, i) => i) });
    const cache = new BlockCache(4 * 1024);
    for (let b = 0; b < 4; b++) cache.set(`n${b}`, narrowable(), 1);
    cache.keepMemo('n0', 'big', 5000, () => 'too big');
    expect(cache.memosDeclined).toBe(1);
    expect(cache.narrowed).toBe(0);
  });
});
