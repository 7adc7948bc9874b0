/**
 * Columns named like Object.prototype's members ("constructor", "toString", "__proto__"): the
 * per-column counts a table keeps by name (null counts in manifest entries, type errors in the
 * manifest) must be the columns' own counts, before and after a flush, a compaction and a reopen,
 * never an inherited function or a count lost to the `__proto__` setter.
 */
import { describe, expect, it } from 'vitest';
import { Store } from '../../engine/index.js';
import { tableStats } from '../../engine/storage/table-stats.js';
import { batchOf, tempDir, type PlainEvent } from './helpers.js';

const T0 = Date.UTC(2026, 2, 1);

/** Events whose keys include "__proto__" as an ordinary key (as JSON.parse makes it). */
function events(json: string): PlainEvent[] {
  return JSON.parse(json) as PlainEvent[];
}

function columnCounts(store: Store): Record<string, [number, number]> {
  const stats = tableStats(store.get('t'));
  return Object.fromEntries(stats.columns.map((c) => [c.name, [c.nullCount, c.typeErrors]]));
}

describe('columns named like Object.prototype members', () => {
  it('keep exact null and type-error counts through flush, compaction and reopen', async () => {
    const { dir, cleanup } = tempDir('shoal-proto-');
    try {
      const expected = {
        n: [2, 0],
        constructor: [2, 0],
        toString: [1, 1],
        ['__proto__']: [2, 0], // a computed key: an own property, not the prototype
      };
      let store = await Store.open(dir, { log: () => {}, table: { autoCompact: false } });
      const table = await store.getOrCreate('t');
      await table.ingest(batchOf(events(`[
        {"user":"a","timeMs":${T0},"n":1,"constructor":"x","toString":1,"__proto__":5},
        {"user":"b","timeMs":${T0 + 1},"n":2,"constructor":"y","toString":2}
      ]`)));
      await table.flush();
      // A second segment: "toString" gets a string (a type error, stored as null), "n" is absent.
      await table.ingest(batchOf(events(`[
        {"user":"a","timeMs":${T0 + 2},"toString":"oops","__proto__":6},
        {"user":"c","timeMs":${T0 + 3},"__proto__":null,"toString":3}
      ]`), 3));
      // Counts while the rows are in the tail, then from the manifest entries.
      expect(columnCounts(store)).toEqual(expected);
      await table.flush();
      expect(columnCounts(store)).toEqual(expected);
      expect(await table.compact(true)).toBeGreaterThan(0);
      expect(columnCounts(store)).toEqual(expected);
      await store.close();
      store = await Store.open(dir, { log: () => {} });
      expect(columnCounts(store)).toEqual(expected);
      await store.close();
    } finally {
      cleanup();
    }
  });
});
