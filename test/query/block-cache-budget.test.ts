/**
 * The query workers' default block-cache budget: a quarter of memory over the workers, bounded
 * per worker, so a big machine keeps a 100M-event working set decoded and a small one still caches.
 */
import { describe, expect, it } from 'vitest';
import { defaultBlockCacheBytes } from '../../engine/query/pool/block-cache.js';

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
