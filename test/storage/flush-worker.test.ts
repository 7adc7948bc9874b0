/**
 * Flushes on the flush worker thread: a full disk met by the worker fails the flush with
 * DISK_FULL, keeps every row served from the tails and leaves no segment file behind; once space
 * returns the same rows flush, and a reopen reads exactly them back from the segments.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../engine/index.js';
import { setDiskBudget } from '../../engine/storage/file-io.js';
import { batchOf, canonical, dumpTable, tempDir, type PlainEvent } from './helpers.js';

const BASE = Date.UTC(2026, 9, 1);

function events(n: number): PlainEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    user: `u${i % 97}`,
    timeMs: BASE + (i % 3) * 86_400_000 + i,
    page: `/p${i % 13}`,
    ms: i % 5 === 0 ? null : i / 4,
  }));
}

afterEach(() => setDiskBudget(Infinity));

describe('flush worker', () => {
  for (const budgetBytes of [0, 3000]) {
    it(`fails a flush with DISK_FULL after ${budgetBytes} bytes, keeps the rows, and flushes them once space returns`, async () => {
      const { dir, cleanup } = tempDir('shoal-flushw-');
      try {
        let store = await Store.open(dir, { table: { autoCompact: false, flushWorkerMinRows: 0 } });
        let table = await store.getOrCreate('t');
        await table.ingest(batchOf(events(2000)));
        const expected = canonical(dumpTable(table));
        setDiskBudget(budgetBytes);
        await expect(table.flush()).rejects.toMatchObject({ code: 'DISK_FULL' });
        expect(readdirSync(join(dir, 't', 'segments'))).toEqual([]);
        expect(canonical(dumpTable(table))).toEqual(expected);
        setDiskBudget(Infinity);
        await table.flush();
        expect(table.tailRows()).toBe(0);
        expect(table.segments.size).toBeGreaterThan(0);
        expect(canonical(dumpTable(table))).toEqual(expected);
        await store.close(false);
        store = await Store.open(dir, { table: { autoCompact: false, flushWorkerMinRows: 0 } });
        table = store.get('t');
        expect(table.tailRows()).toBe(0);
        expect(canonical(dumpTable(table))).toEqual(expected);
        await store.close();
      } finally {
        cleanup();
      }
    });
  }

  it('writes a column whose dictionary goes to the workers packed (over 4096 strings) as it was ingested', async () => {
    const { dir, cleanup } = tempDir('shoal-flushw-');
    try {
      const rows: PlainEvent[] = Array.from({ length: 12_000 }, (_, i) => ({
        user: `u${i % 211}`,
        timeMs: BASE + (i % 4) * 86_400_000 + i,
        // ~9,000 distinct strings, some beyond Latin-1 and the BMP, some rows without one.
        session: i % 4 === 3 ? null : `s${(i * 7919) % 9001}${i % 5 === 0 ? 'é' : i % 7 === 0 ? '\u{1F600}' : ''}`,
      }));
      let store = await Store.open(dir, { table: { autoCompact: false, flushWorkerMinRows: 0 } });
      let table = await store.getOrCreate('t');
      await table.ingest(batchOf(rows));
      const expected = canonical(dumpTable(table));
      await table.flush();
      expect(table.tailRows()).toBe(0);
      expect(canonical(dumpTable(table))).toEqual(expected);
      await store.close(false);
      store = await Store.open(dir, { table: { autoCompact: false, flushWorkerMinRows: 0 } });
      table = store.get('t');
      expect(canonical(dumpTable(table))).toEqual(expected);
      await store.close();
    } finally {
      cleanup();
    }
  });
});
