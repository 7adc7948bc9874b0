/**
 * Bulk loads: an `unlogged` ingest call writes no WAL record; its rows are visible at once and
 * become durable only when a flush commits them. Logged calls beside it keep their guarantees.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Store, type Table } from '../../engine/index.js';
import { setDiskBudget } from '../../engine/storage/file-io.js';
import { PendingColumns } from '../../engine/storage/pending-columns.js';
import type { StoredType } from '../../engine/storage/typed-column.js';
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

/** A table's rows as (time, actor), by time. */
function actorsByTime(table: Table): [number, string | number][] {
  return dumpTable(table)
    .map((r): [number, string | number] => [r.timeMs, r.actor])
    .sort((x, y) => x[0] - y[0]);
}

describe('bulk load (unlogged ingest)', () => {
  it('stores each row with its actor, in its tail and its segments, as a logged call does', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const store = await Store.open(dir);
      // 45 actors over 16 shards: most shards hold several, so a row's dense id matters.
      const events: PlainEvent[] = Array.from({ length: 300 }, (_, k) => ({ user: `u${(k * 7) % 45}`, timeMs: BASE + k, n: k }));
      const expected = events.map((e): [number, string | number] => [e.timeMs, e.user as string]);
      const bulk = await store.getOrCreate('bulk');
      const logged = await store.getOrCreate('logged');
      await bulk.ingest(batchOf(events), { unlogged: true });
      await logged.ingest(batchOf(events));
      expect(actorsByTime(bulk)).toEqual(expected);
      expect(canonical(dumpTable(bulk))).toEqual(canonical(dumpTable(logged)));
      await bulk.flush();
      expect(actorsByTime(bulk)).toEqual(expected);
      await store.close();
    } finally {
      cleanup();
    }
  });

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

  it('replays a logged call that came after an unlogged one the crash lost, actors and values intact', async () => {
    const { dir, cleanup } = tempDir();
    try {
      let store = await Store.open(dir);
      let table = await store.getOrCreate('t');
      // New actors and a new column first seen in the unlogged call, then used by the logged one.
      await table.ingest(batchOf([{ user: 'x1', timeMs: BASE, k: 'a' }, { user: 'x2', timeMs: BASE + 1, k: 'b' }]), { unlogged: true });
      await table.ingest(batchOf([{ user: 'x3', timeMs: BASE + 2, k: 'c' }, { user: 'x1', timeMs: BASE + 3, k: 'd' }]));
      await store.close(false);
      store = await Store.open(dir);
      table = store.get('t');
      const rows = dumpTable(table).map((r) => [r.actor, r.values.k]).sort();
      expect(rows).toEqual([['x1', 'd'], ['x3', 'c']]);
      expect(table.schema.get('k')).toBe('string');
      await store.close();
    } finally {
      cleanup();
    }
  });

  it('keeps an unlogged call\'s new column out of a manifest until the flush of its rows', () => {
    const pending = new PendingColumns();
    const schema = new Map<string, StoredType>([['n', 'number']]);
    const seq = pending.begin([]);
    schema.set('k', 'string'); // the split adds the column
    pending.added(seq, schema, new Set(['n']));
    pending.applied([seq], 2); // its rows are in generation 2's tails
    expect(pending.durable(schema)).toEqual([['n', 'number']]);
    expect(pending.durable(schema, 1)).toEqual([['n', 'number']]); // flushing generation 1 only
    expect(pending.durable(schema, 2)).toEqual([['n', 'number'], ['k', 'string']]);
    pending.flushed(1);
    expect(pending.durable(schema)).toEqual([['n', 'number']]);
    pending.flushed(2);
    expect(pending.durable(schema)).toEqual([['n', 'number'], ['k', 'string']]);
  });

  it('reports a flush done when only the merge after it runs out of space', async () => {
    const { dir, cleanup } = tempDir();
    const part = (k: number): ReturnType<typeof batchOf> =>
      batchOf(Array.from({ length: 20_000 }, (_, i) => ({ user: `u${(i * 7 + k) % 3000}`, timeMs: BASE + i * 10, n: k * 1e6 + i, s: `v${(i * 13 + k) % 9999}` })));
    const bytes = (): number => readdirSync(join(dir, 't', 'segments')).reduce((n, f) => n + statSync(join(dir, 't', 'segments', f)).size, 0);
    try {
      let store = await Store.open(dir, { shardCount: 1, table: { compactAt: 3 } });
      const table = await store.getOrCreate('t');
      const failures: unknown[] = [];
      table.onBackgroundError = (err) => failures.push(err);
      await table.ingest(part(1), { unlogged: true });
      await table.flush();
      const first = bytes();
      await table.ingest(part(2), { unlogged: true });
      await table.flush();
      const perFlush = bytes() - first;
      await table.ingest(part(3), { unlogged: true });
      setDiskBudget(Math.round(perFlush * 1.6)); // room for the flush, not for merging three segments
      try {
        await table.flush(); // resolves: the rows are committed
      } finally {
        setDiskBudget(Infinity);
      }
      expect(failures).toMatchObject([{ code: 'DISK_FULL' }]);
      expect(table.manifest.segments).toHaveLength(3);
      await store.close(false);
      store = await Store.open(dir);
      expect(dumpTable(store.get('t'))).toHaveLength(60_000);
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
