/**
 * Bulk loads: an `unlogged` ingest call writes no WAL record; its rows are visible at once and
 * become durable only when a flush commits them. Logged calls beside it keep their guarantees.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Store } from '../../engine/index.js';
import { batchOf, canonical, dumpTable, tempDir, type PlainEvent } from './helpers.js';

const BASE = Date.UTC(2026, 9, 1);

/** Bytes in a table's WAL files. */
function walBytes(tableDir: string): number {
  const dir = join(tableDir, 'wal');
  return readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

const logged = batchOf([
  { user: 'a', timeMs: BASE, k: 1 },
  { user: 'b', timeMs: BASE + 1, k: 2 },
]);
const bulkEvents: PlainEvent[] = [
  { user: 'a', timeMs: BASE + 2, k: 3 },
  { user: 'c', timeMs: BASE + 3, k: 'x', onlyBulk: true }, // k conflicts: a dead letter
  { user: 'd', timeMs: BASE + 4 },
];

describe('bulk load (unlogged ingest)', () => {
  it('writes no WAL record, is visible at once, and survives a restart only once a flush committed it', async () => {
    const { dir, cleanup } = tempDir();
    try {
      let store = await Store.open(dir);
      let table = await store.getOrCreate('t');
      await table.ingest(logged);
      const walAfterLogged = walBytes(table.dir);
      expect(walAfterLogged).toBeGreaterThan(0);
      const result = await table.ingest(batchOf(bulkEvents), { unlogged: true });
      expect(result).toMatchObject({ accepted: 3, rejected: 0, typeErrors: 1 });
      expect(walBytes(table.dir)).toBe(walAfterLogged);
      expect(dumpTable(table)).toHaveLength(5);
      expect(table.deadLetters.count).toBe(1); // dead letters are logged even when rows are not

      await store.close(false); // no flush: as after a crash, the unlogged rows are gone
      store = await Store.open(dir);
      table = store.get('t');
      const afterLoss = dumpTable(table);
      expect(afterLoss.map((r) => r.values.k).sort()).toEqual([1, 2]);
      expect(table.schema.has('onlyBulk')).toBe(false);

      await table.ingest(batchOf(bulkEvents), { unlogged: true });
      await table.flush();
      const flushed = canonical(dumpTable(table));
      expect(flushed).toHaveLength(5);
      await store.close(false);
      store = await Store.open(dir);
      table = store.get('t');
      expect(canonical(dumpTable(table))).toEqual(flushed);
      expect(table.schema.get('onlyBulk')).toBe('boolean');
      await store.close();
    } finally {
      cleanup();
    }
  });

  it('refuses an idempotency key on an unlogged call and stores nothing', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const store = await Store.open(dir);
      const table = await store.getOrCreate('t');
      await expect(table.ingest(logged, { unlogged: true, idempotencyKey: 'k1' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
      expect(dumpTable(table)).toEqual([]);
      await store.close();
    } finally {
      cleanup();
    }
  });
});
