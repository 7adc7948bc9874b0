/**
 * Retired tails' arrays are recycled (tail.ts, typed-column.ts `sharedBuffers`): after a flush
 * commits a generation's rows, its tails' SharedArrayBuffers go back to the pool for the next
 * generation — but only once no snapshot views them. A snapshot taken before the flush must keep
 * reading its rows while later generations are ingested into recycled memory.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Store, type Table } from '../../engine/index.js';
import { runQuery, type QueryResult } from '../../engine/query/index.js';
import { sharedBuffers } from '../../engine/storage/typed-column.js';
import { batchOf, tempDir, type PlainEvent } from './helpers.js';

const T = Date.UTC(2024, 0, 1);

/** `n` events of one actor (so one shard's tail holds them all), with `latency` = base + i. */
function events(n: number, base: number): PlainEvent[] {
  return Array.from({ length: n }, (_, i) => ({ user: 'u1', timeMs: T + i, latency: base + i, page: `p${i % 7}` }));
}

afterEach(() => sharedBuffers.trim());

/** Runs `body` on a new table whose one busy shard's tail holds 100k rows (arrays past the pooling threshold, 256 KiB), with the pool empty. */
async function withFullTail(body: (t: Table) => Promise<void>): Promise<void> {
  const { dir, cleanup } = tempDir('shoal-recycle-');
  try {
    const store = await Store.open(dir, { table: { autoCompact: false, flushWorkerMinRows: Infinity } });
    const t = await store.getOrCreate('t');
    sharedBuffers.trim();
    await t.ingest(batchOf(events(100_000, 0)));
    await body(t);
    await store.close();
  } finally {
    cleanup();
  }
}

/** The query's result over a snapshot of `t`, released after. */
async function query(t: Table, q: unknown): Promise<QueryResult> {
  const snap = t.snapshot();
  try {
    return await runQuery(snap, q);
  } finally {
    snap.release();
  }
}

describe('tail recycling', () => {
  it('returns a flushed generation\'s arrays to the pool, and the next generation takes them', () =>
    withFullTail(async (t) => {
      await t.flush();
      const idle = sharedBuffers.idleBytes;
      expect(idle).toBeGreaterThan(100_000 * 8); // at least the times column
      await t.ingest(batchOf(events(100_000, 1e6), 100_001));
      expect(sharedBuffers.idleBytes).toBeLessThan(idle);
      const r = await query(t, { table: 't', measures: ['count', 'sum(latency)'] });
      expect(r.rows).toEqual([[200_000, (99_999 * 100_000) / 2 + 100_000 * 1e6 + (99_999 * 100_000) / 2]]);
    }));

  it('keeps a pinned generation\'s arrays out of the pool until its snapshot is released', () =>
    withFullTail(async (t) => {
      const old = t.snapshot();
      const q = { table: 't', measures: ['count', 'sum(latency)'], groupBy: ['page'], orderBy: [['page', 'asc']] };
      const before = await runQuery(old, q);
      await t.flush();
      // A new generation of other values, in memory the old tail would have given back.
      await t.ingest(batchOf(events(100_000, 5e6), 100_001));
      expect(await runQuery(old, q)).toMatchObject({ rows: before.rows });
      expect(sharedBuffers.idleBytes).toBe(0);
      old.release();
      expect(sharedBuffers.idleBytes).toBeGreaterThan(100_000 * 8);
    }));
});
