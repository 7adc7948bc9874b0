/**
 * Strings in segment footers (column names, string zone bounds) that hold a lone surrogate, as
 * JSON.parse accepts: they are stored as UTF-16 bytes, since MessagePack strings are UTF-8.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Store } from '../../engine/index.js';
import { runQuery } from '../../engine/query/index.js';
import { SegmentReader } from '../../engine/storage/segment-reader.js';
import { writeSegment } from '../../engine/storage/segment-writer.js';
import type { RowSet } from '../../engine/storage/tail.js';
import { batchOf, dumpTable, tempDir, type PlainEvent } from './helpers.js';

const T0 = Date.UTC(2026, 2, 1);

describe('segment footer strings (zone maps) survive the file', () => {
  it('a string block whose values hold a lone surrogate keeps its zone min/max when the segment is reopened', () => {
    const { dir, cleanup } = tempDir('shoal-footer-');
    try {
      const dict = ['\uD800', 'a\uDC00b'];
      const rows: RowSet = {
        rowCount: 2,
        actorIds: Uint32Array.of(0, 0),
        times: Float64Array.of(T0, T0 + 1),
        columns: [{ name: 's', type: 'string', values: Uint32Array.of(0, 1), validity: null, dict }],
      };
      const path = join(dir, 'x.seg');
      writeSegment(path, rows, Uint32Array.of(0, 1), { shard: 0, partition: Math.floor(T0 / 86_400_000), genMin: 1, genMax: 1 }, false);
      const reader = SegmentReader.open(path);
      try {
        const block = reader.footer.columns.find((c) => c.name === 's')!.blocks[0]!;
        // The block's values read back fine (the dictionary blob handles lone surrogates)...
        const vec = reader.readColumn('s', 0)!;
        expect(vec.type === 'string' ? Array.from(vec.codes, (c) => vec.dict[c]) : null).toEqual(dict);
        // ...but the zone map in the msgpack footer must be the same strings too.
        expect([block.min, block.max]).toEqual(['a\uDC00b', '\uD800']);
      } finally {
        reader.close();
      }
    } finally {
      cleanup();
    }
  });

  it('a filter on a lone-surrogate string still finds its rows after the table is reopened', async () => {
    const t = tempDir('shoal-footer-');
    try {
      const store = await Store.open(t.dir, { log: () => {}, table: { autoCompact: false } });
      const table = await store.getOrCreate('t');
      const events: PlainEvent[] = [
        { user: 'a', timeMs: T0, s: '\uD800' },
        { user: 'a', timeMs: T0 + 1, s: '\uD800' },
      ];
      await table.ingest(batchOf(events, 1));
      await table.flush();
      const q = { table: 't', where: ['s', '=', '\uD800'] };
      let snap = table.snapshot();
      expect((await runQuery(snap, q)).rows).toEqual([[2]]);
      snap.release();
      await store.close();

      const again = await Store.open(t.dir, { log: () => {}, table: { autoCompact: false } });
      snap = again.get('t')!.snapshot();
      try {
        // Unfiltered, both rows are there; the filter must find them too (zone maps must not skip the block).
        expect((await runQuery(snap, { table: 't' })).rows).toEqual([[2]]);
        expect((await runQuery(snap, q)).rows).toEqual([[2]]);
      } finally {
        snap.release();
        await again.close();
      }
    } finally {
      t.cleanup();
    }
  });
});

describe('segment footer strings (column names) survive the file', () => {
  it('a column whose name holds a lone surrogate keeps its values after the table is reopened', async () => {
    const t = tempDir('shoal-footer-');
    try {
      const store = await Store.open(t.dir, { log: () => {}, table: { autoCompact: false } });
      const table = await store.getOrCreate('t');
      await table.ingest(batchOf([{ user: 'a', timeMs: T0, ['k\uD800']: 5 }], 1));
      await table.flush();
      expect(dumpTable(table).map((r) => r.values)).toEqual([{ 'k\uD800': 5 }]);
      await store.close();
      const again = await Store.open(t.dir, { log: () => {} });
      try {
        expect(dumpTable(again.get('t')!).map((r) => r.values)).toEqual([{ 'k\uD800': 5 }]);
      } finally {
        await again.close();
      }
    } finally {
      t.cleanup();
    }
  });
});
