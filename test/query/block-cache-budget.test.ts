/**
 * The query workers' block cache: the default budget (a quarter of memory over the workers,
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
  it('gives each worker its share of a quarter of memory', () => {
    expect(defaultBlockCacheBytes(2, 24 * GIB)).toBe(3 * GIB);
    expect(defaultBlockCacheBytes(4, 16 * GIB)).toBe(1 * GIB);
  });

  it('keeps at least 256 MiB and at most 4 GiB per worker', () => {
    expect(defaultBlockCacheBytes(8, 2 * GIB)).toBe(256 * MIB);
    expect(defaultBlockCacheBytes(1, 256 * GIB)).toBe(4 * GIB);
    expect(defaultBlockCacheBytes(0, 8 * GIB)).toBe(2 * GIB);
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

  it('lets a later query replace the blocks of earlier ones, least recently used first', () => {
    const cache = new BlockCache(10 * 1024);
    scan(cache, 'a', 10, 1);
    scan(cache, 'a', 5, 2); // a0 … a4 used again, by a later query
    expect(scan(cache, 'b', 5, 3)).toBe(0);
    // b took the room of a5 … a9 (last used by query 1), not of a0 … a4.
    expect(scan(cache, 'a', 5, 4)).toBe(5);
    expect(scan(cache, 'b', 5, 5)).toBe(5);
    expect(cache.get('a9', 6)).toBeUndefined();
    // A query whose blocks fill the cache evicts everything older, then declines its own overflow.
    expect(scan(cache, 'c', 10, 6)).toBe(0);
    const before = cache.declined;
    expect(scan(cache, 'd', 3, 6)).toBe(0);
    expect(cache.declined - before).toBe(3);
    expect(scan(cache, 'c', 10, 7)).toBe(10);
    expect(cache.bytes).toBe(10 * 1024);
  });
});
