/** Segment readers share a bounded cache of open descriptors, so tables of any segment count stay readable. */
import { openSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../engine/index.js';
import { DEFAULT_SEGMENT_FDS, FdCache, segmentFds } from '../../engine/storage/fd-cache.js';
import { batchOf, canonical, dumpTable, tempDir, type DumpedRow, type PlainEvent } from './helpers.js';

const openFds = (): number => readdirSync('/proc/self/fd').length;
/** How many descriptors of this process point at segment files under `dir`. */
const openSegmentFiles = (dir: string): number =>
  readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith(join(dir, 't', 'segments'));
    } catch {
      return false; // closed since the listing
    }
  }).length;
const stored = (rows: DumpedRow[]): string[] => rows.map((r) => `${r.actor}|${r.timeMs}|${r.values.v}|${r.values.s}`).sort();

describe('FdCache', () => {
  it('opens on demand, keeps the most recently used, and closes the rest', () => {
    const { dir, cleanup } = tempDir();
    const cache = new FdCache(2);
    try {
      const opened: string[] = [];
      const opener = (name: string) => () => {
        opened.push(name);
        return openSync(join(dir, '.'), 'r');
      };
      const [a, b, c] = [{}, {}, {}];
      const before = openFds();
      cache.get(a, opener('a'));
      cache.get(b, opener('b'));
      cache.get(a, opener('a')); // a is now the most recently used
      cache.get(c, opener('c')); // evicts b
      expect(cache.size).toBe(2);
      expect(openFds() - before).toBe(2);
      cache.get(a, opener('a'));
      cache.get(b, opener('b')); // reopened; evicts c
      expect(opened).toEqual(['a', 'b', 'c', 'b']);
      cache.resize(1);
      expect(cache.size).toBe(1);
      cache.close(b);
      expect(cache.size).toBe(0);
      expect(openFds()).toBe(before);
      expect(() => cache.resize(0)).toThrow(/at least one/);
    } finally {
      cleanup();
    }
  });

  it('closes a descriptor adopted for an owner that already held one', () => {
    const { dir, cleanup } = tempDir();
    const cache = new FdCache(4);
    try {
      const before = openFds();
      const owner = {};
      cache.adopt(owner, openSync(dir, 'r'));
      cache.adopt(owner, openSync(dir, 'r'));
      expect(openFds() - before).toBe(1);
      cache.close(owner);
      expect(openFds()).toBe(before);
    } finally {
      cleanup();
    }
  });
});

describe('a table with more segments than open descriptors', () => {
  afterEach(() => segmentFds.resize(DEFAULT_SEGMENT_FDS));

  it('reads every row exactly, before and after reopening, holding at most the limit open', async () => {
    const { dir, cleanup } = tempDir();
    try {
      segmentFds.resize(3);
      const events: PlainEvent[] = [];
      const store = await Store.open(dir);
      const table = await store.getOrCreate('t');
      // 4 flushes of 12 users over 10 days: one segment per (shard, day) each time
      for (let round = 0; round < 4; round++) {
        const batch: PlainEvent[] = [];
        for (let i = 0; i < 240; i++) batch.push({ user: `u${i % 12}`, timeMs: Date.UTC(2026, 0, 1 + (i % 10), round, i % 60), v: round * 1000 + i, s: `s${i % 7}` });
        await table.ingest(batchOf(batch));
        await table.flush();
        events.push(...batch);
      }
      const segmentFiles = readdirSync(join(dir, 't', 'segments')).length;
      expect(segmentFiles).toBeGreaterThan(20);
      const fdsBefore = openFds();
      const first = dumpTable(table);
      expect(stored(first)).toEqual(events.map((e) => `${e.user}|${e.timeMs}|${e.v}|${e.s}`).sort());
      const expected = canonical(first);
      expect(segmentFds.size).toBeLessThanOrEqual(3);
      expect(openFds()).toBeLessThanOrEqual(fdsBefore + 3);
      expect(openSegmentFiles(dir)).toBeLessThanOrEqual(3);
      await store.close();

      const again = await Store.open(dir);
      expect(openSegmentFiles(dir)).toBeLessThanOrEqual(3);
      expect(canonical(dumpTable(again.get('t')))).toEqual(expected);
      expect(segmentFds.size).toBeLessThanOrEqual(3);
      await again.close();
      expect(segmentFds.size).toBe(0);
    } finally {
      cleanup();
    }
  });
});
