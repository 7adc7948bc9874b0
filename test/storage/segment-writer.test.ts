/**
 * The flush's write path against plain references: `sortRows` orders rows exactly as sorting by
 * (partition, actor, time, row) does, on both of its paths (one counting sort, or two passes when
 * partitions × actors is large) and for short and long runs, integer and fractional times; and
 * `encodeSegments` — several segments of a shard at once, with the full encoding search or with
 * sticky choices (`EncodingChoices`) whose shape changes mid-column — writes files that read back
 * row for row, with the zone maps, null counts and time bounds of the rows they hold, and are
 * byte for byte what `encodeSegment` writes for each segment alone (which gathers sparse columns
 * row by row, where a shard's several segments gather them from their valid rows, and dense
 * columns straight from the shard's rows, where a big shard's segments gather them from a copy
 * regrouped by segment).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../bench/generator/rng.js';
import { EncodingChoices } from '../../engine/encodings/choice.js';
import { PARTITION_MS, sortRows } from '../../engine/storage/row-order.js';
import { ROW_GROUP_ROWS } from '../../engine/storage/segment-format.js';
import { SegmentReader } from '../../engine/storage/segment-reader.js';
import { regroupRows } from '../../engine/storage/segment-regroup.js';
import { encodeSegment, encodeSegments } from '../../engine/storage/segment-writer.js';
import type { RowSet } from '../../engine/storage/tail.js';
import type { TypedColumn } from '../../engine/storage/typed-column.js';
import { tempDir } from './helpers.js';

type Rand = () => number;
const below = (r: Rand, n: number): number => Math.floor(r() * n);
const DAY0 = Date.UTC(2026, 9, 1);

/** The reference order: rows sorted by (partition, actor, time, row). */
function referenceOrder(actorIds: Uint32Array, times: Float64Array): number[] {
  const rows = Array.from({ length: times.length }, (_, i) => i);
  const part = (i: number): number => Math.floor(times[i] / PARTITION_MS);
  return rows.sort((a, b) => part(a) - part(b) || actorIds[a] - actorIds[b] || times[a] - times[b] || a - b);
}

interface Shape {
  rows: number;
  actors: number;
  /** The smallest actor id (a table's new actors come after all its old ones). */
  firstActor?: number;
  days: number;
  fractional: boolean;
  seed: number;
  /** The first day's start (DAY0 unless given). */
  from?: number;
  /** Times spread over the whole day rather than its first 50 seconds. */
  spread?: boolean;
}

function rowsOf(s: Shape): { actorIds: Uint32Array; times: Float64Array } {
  const r = mulberry32(s.seed);
  const actorIds = Uint32Array.from({ length: s.rows }, () => (s.firstActor ?? 0) + below(r, s.actors));
  // Few distinct times per actor-day as well, so ties between rows are common.
  const times = Float64Array.from({ length: s.rows }, () => (s.from ?? DAY0) + below(r, s.days) * PARTITION_MS + below(r, 50) * (s.spread === true ? 1_700_000 : 1000) + (s.fractional ? below(r, 4) / 4 : 0));
  return { actorIds, times };
}

describe('sortRows', () => {
  it('orders rows by (partition, actor, time, row), with one range per partition', () => {
    const shapes = fc.record({
      // From 1,024 rows the runs are put in time order by a radix sort beforehand.
      rows: fc.integer({ min: 0, max: 3000 }),
      // 1–3 actors give runs far longer than insertion sort takes; 5000 actors × 40 days take the two-pass path.
      actors: fc.constantFrom(1, 3, 40, 5000),
      firstActor: fc.constantFrom(0, 7, 600_000),
      days: fc.constantFrom(1, 3, 40),
      fractional: fc.boolean(),
      seed: fc.integer(),
      // Times before 1970 too: a day's offsets count from its start all the same.
      from: fc.constantFrom(DAY0, -3 * PARTITION_MS),
      spread: fc.boolean(),
    });
    fc.assert(
      fc.property(shapes, (shape) => {
        const { actorIds, times } = rowsOf(shape);
        const { order, ranges } = sortRows(actorIds, times);
        expect(Array.from(order)).toEqual(referenceOrder(actorIds, times));
        let at = 0;
        for (const range of ranges) {
          expect(range.start).toBe(at);
          for (let k = range.start; k < range.end; k++) expect(Math.floor(times[order[k]] / PARTITION_MS)).toBe(range.partition);
          at = range.end;
        }
        expect(at).toBe(shape.rows);
      }),
      { numRuns: 100 },
    );
  });
});

/** A shard's rows in arrival order: number and string columns with nulls (two of them sparse), a boolean. */
function shardRows(r: Rand, n: number, days: number, numberShape: 'int' | 'fraction'): RowSet {
  const { actorIds, times } = rowsOf({ rows: n, actors: 1 + below(r, 300), days, fractional: false, seed: below(r, 2 ** 30) });
  // Code order is not string order (code 0 is "s05"), as in a tail's dictionary.
  const dict = Array.from({ length: 40 }, (_, k) => `s${String((k * 17 + 5) % 40).padStart(2, '0')}`);
  const bitmap = (density: number): Uint8Array => {
    const v = new Uint8Array((n + 7) >> 3);
    for (let i = 0; i < n; i++) if (r() < density) v[i >> 3] |= 1 << (i & 7);
    return v;
  };
  const sessions = Array.from({ length: 5000 }, (_, k) => `s${((k * 7919) % 5000).toString(16)}`);
  const numbers = Float64Array.from({ length: n }, () => (numberShape === 'int' ? below(r, 1000) : below(r, 1000) / 7));
  const columns: TypedColumn[] = [
    { name: 'ms', type: 'number', values: numbers, validity: bitmap(0.3) },
    { name: 'page', type: 'string', values: Uint32Array.from({ length: n }, () => below(r, dict.length)), validity: bitmap(0.8), dict },
    { name: 'ok', type: 'boolean', values: Uint8Array.from({ length: n }, () => below(r, 2)), validity: null },
    // Large enough that segments sort the strings they use rather than ranking the dictionary.
    { name: 'sid', type: 'string', values: Uint32Array.from({ length: n }, () => below(r, sessions.length)), validity: bitmap(0.9), dict: sessions },
    // Sparse enough that encodeSegments gathers them from their valid rows' positions (a shard
    // with several segments is compared with encodeSegment's row-by-row gathers below).
    { name: 'rare', type: 'string', values: Uint32Array.from({ length: n }, () => below(r, dict.length)), validity: bitmap(0.02), dict },
    { name: 'rare_ms', type: 'number', values: Float64Array.from({ length: n }, () => below(r, 50)), validity: bitmap(0.06) },
  ];
  return { rowCount: n, actorIds, times, columns };
}

const isSet = (v: Uint8Array | null, i: number): boolean => v === null || (v[i >> 3] & (1 << (i & 7))) !== 0;

/** Reads a written segment back and compares every block with the source rows in `order`. */
function checkSegment(dir: string, name: string, bytes: Uint8Array, rows: RowSet, order: Uint32Array): void {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  const reader = SegmentReader.open(path);
  try {
    const f = reader.footer;
    expect(f.rowCount).toBe(order.length);
    expect(f.minTimeMs).toBe(Math.min(...Array.from(order, (i) => rows.times[i])));
    expect(f.maxTimeMs).toBe(Math.max(...Array.from(order, (i) => rows.times[i])));
    let base = 0;
    for (let g = 0; g < f.rowGroups.length; g++) {
      const n = f.rowGroups[g];
      const rowsOfGroup = Array.from(order.subarray(base, base + n));
      expect(Array.from(reader.readActorIds(g))).toEqual(rowsOfGroup.map((i) => rows.actorIds[i]));
      const timeVec = reader.readColumn('$time', g);
      expect(timeVec?.type === 'time' ? Array.from(timeVec.values) : null).toEqual(rowsOfGroup.map((i) => rows.times[i]));
      for (const col of rows.columns) {
        const vec = reader.readColumn(col.name, g);
        const valid = rowsOfGroup.filter((i) => isSet(col.validity, i));
        const expected = valid.map((i) => (col.type === 'string' ? col.dict![col.values[i]] : col.values[i]));
        const meta = f.columns.find((c) => c.name === col.name);
        if (valid.length === 0) {
          expect(meta?.blocks[g] ?? null).toBeNull();
          continue;
        }
        const got: unknown[] = [];
        rowsOfGroup.forEach((_, k) => {
          if (!isSet(vec!.validity, k)) return;
          got.push(vec!.type === 'string' ? vec!.dict[vec!.codes[k]] : vec!.values[k]);
        });
        expect(got).toEqual(expected);
        const block = meta!.blocks[g]!;
        const sorted = [...expected].sort((a, b) => (a! < b! ? -1 : a! > b! ? 1 : 0));
        expect([block.min, block.max, block.nc]).toEqual([sorted[0], sorted[sorted.length - 1], n - valid.length]);
      }
      base += n;
    }
  } finally {
    reader.close();
  }
}

describe('encodeSegments', () => {
  it('writes a shard’s segments that read back row for row, with full search and with sticky choices', () => {
    const { dir, cleanup } = tempDir('shoal-segw-');
    try {
      // Choices carry across shards, and the number column turns fractional in the last one, so
      // a chosen integer encoding must give way.
      const choices = new EncodingChoices(3);
      const r = mulberry32(7);
      // The last shard is big enough to be gathered from columns regrouped by segment
      // (segment-regroup.ts), which must change no byte; the one before it has one segment.
      const shapes: ['int' | 'fraction', number, number][] = [
        ['int', 5000, 6],
        ['int', 3000, 6],
        ['fraction', 4000, 6],
        ['int', ROW_GROUP_ROWS + 3001, 1],
        ['int', 2 * ROW_GROUP_ROWS + 5003, 2],
      ];
      shapes.forEach(([shape, n, days], s) => {
        const rows = shardRows(r, n, days, shape);
        const { order, ranges } = sortRows(rows.actorIds, rows.times);
        expect(regroupRows(order, ranges, n) !== null).toBe(s === 4);
        const full = encodeSegments(rows, order, ranges, { shard: s, genMin: 1, genMax: 2 });
        const sticky = encodeSegments(rows, order, ranges, { shard: s, genMin: 1, genMax: 2 }, choices);
        ranges.forEach((range, k) => {
          const segOrder = order.subarray(range.start, range.end);
          const alone = encodeSegment(rows, segOrder, { shard: s, partition: range.partition, genMin: 1, genMax: 2 });
          expect(Buffer.compare(full[k].bytes, alone.bytes)).toBe(0);
          expect(full[k].footer.partition).toBe(range.partition);
          checkSegment(dir, `full-${s}-${k}.seg`, full[k].bytes, rows, segOrder);
          checkSegment(dir, `sticky-${s}-${k}.seg`, sticky[k].bytes, rows, segOrder);
        });
      });
    } finally {
      cleanup();
    }
  });
});

describe('EncodingChoices', () => {
  it('searches a column’s first block, reuses the winner, and searches again when the winner cannot hold a block', () => {
    const choices = new EncodingChoices(100);
    const ints = Float64Array.from({ length: 1000 }, (_, i) => i % 17);
    const first = choices.encode('x', ints, 'f64', null);
    expect(first.searched).toBe(true);
    const again = choices.encode('x', ints.map((v) => v + 1), 'f64', null);
    expect(again).toMatchObject({ searched: false, encodingId: first.encodingId });
    const fractions = Float64Array.from({ length: 1000 }, (_, i) => i / 3);
    expect(choices.encode('x', fractions, 'f64', null).searched).toBe(true);
  });
});
