/**
 * Compaction's merges run on the flush workers: the main thread reads no block of a merged
 * segment, the stored rows are unchanged, and a damaged input found by a worker is recorded
 * (named in the table's damage list) and left alone by later rounds, which merge everything else;
 * a segment column of another type than the table's is reported as that, not as damage.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Store } from '../../engine/index.js';
import { CorruptDataError } from '../../engine/errors.js';
import { MERGES_PER_COMMIT } from '../../engine/storage/compaction.js';
import { concatSegments } from '../../engine/storage/segment-merge.js';
import { SegmentReader } from '../../engine/storage/segment-reader.js';
import { writeSegment } from '../../engine/storage/segment-writer.js';
import type { SegmentHandle } from '../../engine/storage/segment-handle.js';
import type { Table } from '../../engine/storage/table.js';
import type { TypedColumn } from '../../engine/storage/typed-column.js';
import { batchOf, canonical, dumpTable, tempDir, type PlainEvent } from './helpers.js';

const DAY = 86_400_000;
const START = Date.UTC(2026, 2, 1);

/** Three flushes of events over `days` days, 60 users: up to three segments per (shard, day). */
async function threeFlushes(table: Table, days = 2): Promise<void> {
  for (let f = 0; f < 3; f++) {
    const events: PlainEvent[] = Array.from({ length: 900 }, (_, i) => ({
      user: `u${(i * 7 + f) % 60}`,
      timeMs: START + ((i * 97_000 * days + f * 13) % (days * DAY)),
      v: i * 3 + f,
      s: `s${(i + f) % 11}`,
    }));
    await table.ingest(batchOf(events, f * 900 + 1));
    await table.flush();
  }
}

/** Segments per (shard, partition). */
function perPartition(table: Table): Map<string, number> {
  const m = new Map<string, number>();
  for (const h of table.segments.values()) {
    const k = `${h.entry.shard}:${h.entry.partition}`;
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

let cleanup: () => void = () => {};
afterEach(() => {
  vi.restoreAllMocks();
  cleanup();
});

/**
 * A table of three flushes over `days` days (in a temp dir cleaned after the test) whose
 * partition `pick(mergeable)` has a segment with a flipped byte inside its first block (the
 * footer stays intact, so only reading the block finds it); `mergeable`: the partitions with 2+
 * segments, in the order compaction takes them.
 */
async function withDamage(days: number, pick: (mergeable: string[]) => string) {
  const t = tempDir();
  cleanup = t.cleanup;
  const store = await Store.open(t.dir, { log: () => {} });
  const table = await store.getOrCreate('t');
  await threeFlushes(table, days);
  const keyOf = (h: SegmentHandle): string => `${h.entry.shard}:${h.entry.partition}`;
  const counts = perPartition(table);
  const mergeable = [...new Set([...table.segments.values()].map(keyOf))].filter((k) => counts.get(k)! >= 2);
  const key = pick(mergeable);
  const victim = [...table.segments.values()].find((h) => keyOf(h) === key)!;
  const bytes = readFileSync(victim.reader.path);
  bytes[8 + 3] ^= 0xff;
  writeFileSync(victim.reader.path, bytes);
  return { store, table, counts, key, victim, mergeable };
}

describe('compaction on the flush workers', () => {
  it('merges every partition to one segment without decoding a block on the main thread', async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const store = await Store.open(t.dir);
    const table = await store.getOrCreate('t');
    await threeFlushes(table);
    const before = canonical(dumpTable(table));
    expect([...perPartition(table).values()].some((n) => n >= 2)).toBe(true);
    const oldFiles = [...table.segments.values()].map((h) => h.reader.path);
    const reads = [vi.spyOn(SegmentReader.prototype, 'readColumn'), vi.spyOn(SegmentReader.prototype, 'readActorIds')];
    const merged = await table.compact(true);
    for (const spy of reads) expect(spy).not.toHaveBeenCalled();
    vi.restoreAllMocks();
    expect(merged).toBeGreaterThan(0);
    expect([...perPartition(table).values()].every((n) => n === 1)).toBe(true);
    expect(canonical(dumpTable(table))).toEqual(before);
    // Merged inputs are gone from disk (no snapshot held them); the outputs reopen intact.
    const kept = new Set([...table.segments.values()].map((h) => h.reader.path));
    for (const f of oldFiles) expect(existsSync(f)).toBe(kept.has(f));
    await store.close();
    const again = await Store.open(t.dir);
    expect(canonical(dumpTable(again.get('t')))).toEqual(before);
    await again.close();
  });

  it('records a damaged input a worker finds, and later rounds merge everything else', async () => {
    const { store, table, counts, key, victim } = await withDamage(2, (mergeable) => mergeable[0]);
    const path = victim.reader.path;

    const err = await table.compact(true).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptDataError);
    expect((err as CorruptDataError).file).toBe(path);
    // The reader keeps what is wrong (the file is the report's other field).
    expect(victim.reader.damage).toMatch(/checksum mismatch|undecompressable|short read/);
    expect(table.damaged.map((d) => d.file)).toEqual([path]);
    // The failed round committed nothing.
    expect(perPartition(table)).toEqual(counts);

    expect(await table.compact(true)).toBeGreaterThan(0);
    for (const [k, n] of perPartition(table)) expect(n, k).toBe(k === key ? counts.get(key) : 1);
    expect(existsSync(path)).toBe(true);
    await store.close();
  });

  it('commits every MERGES_PER_COMMIT merges, so a failure in a later round keeps the earlier ones', async () => {
    const { store, table, counts, key, mergeable } = await withDamage(6, (keys) => keys[keys.length - 1]);
    expect(mergeable.length).toBeGreaterThan(MERGES_PER_COMMIT);

    await expect(table.compact(true)).rejects.toBeInstanceOf(CorruptDataError);
    const after = perPartition(table);
    // The first round committed; the victim's round (the second) did not.
    for (const k of mergeable.slice(0, MERGES_PER_COMMIT)) expect(after.get(k), k).toBe(1);
    expect(after.get(key)).toBe(counts.get(key));
    await store.close();
  });

  it('merges segments of several row groups, whose row groups share one dictionary per column', async () => {
    // One actor and one day: each flush is one segment of three row groups (65,536 rows each at
    // most), strings from a dictionary larger than a row group's, and nulls in every column.
    const t = tempDir();
    cleanup = t.cleanup;
    const store = await Store.open(t.dir, { log: () => {} });
    const table = await store.getOrCreate('t');
    const rows = 140_000;
    for (let f = 0; f < 2; f++) {
      const events: PlainEvent[] = Array.from({ length: rows }, (_, i) => {
        const e: PlainEvent = { user: 'u1', timeMs: START + ((i * 7_919 + f * 31) % DAY) };
        if (i % 13 !== 0) e.s = `s${(i * 31 + f * 50_000) % 90_000}`;
        if (i % 7 !== 0) e.v = f === 0 ? i : -i / 4;
        if (i % 5 !== 0) e.b = (i & 2) === 0;
        return e;
      });
      await table.ingest(batchOf(events, f * rows + 1));
      await table.flush();
    }
    const segments = [...table.segments.values()];
    expect(segments.length).toBe(2);
    for (const h of segments) expect(h.reader.rowGroups.length).toBeGreaterThanOrEqual(3);
    const before = canonical(dumpTable(table));
    expect(await table.compact(true)).toBe(2);
    expect(table.segments.size).toBe(1);
    // Compared row by row: a diff of 280,000 rows would take vitest minutes to print.
    const after = canonical(dumpTable(table));
    expect(after.length).toBe(before.length);
    const first = after.findIndex((row, i) => row !== before[i]);
    expect(first === -1 ? null : { at: first, got: after[first], want: before[first] }).toBeNull();
    await store.close();
  });

  it('reports a segment column of another type than the table\'s as such, not as damage', () => {
    // Blocks are decoded in place into the merged columns; a block of another kind must still
    // decode (into its own array) so the type error, not a decode failure, is what is reported.
    const t = tempDir();
    cleanup = t.cleanup;
    const path = `${t.dir}/x.seg`;
    const rows = {
      rowCount: 3,
      actorIds: Uint32Array.of(0, 0, 1),
      times: Float64Array.of(START, START + 1, START + 2),
      columns: [
        { name: 's', type: 'string' as const, values: Uint32Array.of(0, 1, 0), validity: null, dict: ['a', 'b'] },
        { name: 'v', type: 'number' as const, values: Float64Array.of(1, 2, 3), validity: null },
      ],
    };
    writeSegment(path, rows, Uint32Array.of(0, 1, 2), { shard: 0, partition: Math.floor(START / DAY), genMin: 1, genMax: 1 });
    const reader = SegmentReader.open(path);
    expect(() => concatSegments([reader], new Map([['s', 'number'], ['v', 'number']]))).toThrow('column "s" is string in a segment, number in the table');
    expect(() => concatSegments([reader], new Map([['s', 'string'], ['v', 'boolean']]))).toThrow('column "v" is number in a segment, boolean in the table');
    expect(reader.damage).toBeNull();
    const merged = concatSegments([reader], new Map([['s', 'string'], ['v', 'number']]));
    expect([...merged.columns.find((c) => c.name === 'v')!.values]).toEqual([1, 2, 3]);
    reader.close();
  });

  it('writes the same merged segment whatever an earlier merge left in the arrays it reuses', () => {
    // A merge's arrays are kept for the next one (segment-merge.ts MergeArrays), with the last
    // merge's values in them: where a merged column is null, they must not reach the output,
    // whether the column is gathered row by row (half its rows valid) or from its valid rows.
    const t = tempDir();
    cleanup = t.cleanup;
    const part = Math.floor(START / DAY);
    const dict = ['a', 'b', 'c', 'd'];
    type Spec = (i: number) => number | null;
    const write = (name: string, n: number, specs: { v: Spec; w: Spec; s: Spec }): SegmentReader => {
      const column = (spec: Spec, type: 'number' | 'string'): TypedColumn => {
        const validity = new Uint8Array((n + 7) >> 3);
        for (let i = 0; i < n; i++) if (spec(i) !== null) validity[i >> 3] |= 1 << (i & 7);
        const values = type === 'number' ? Float64Array.from({ length: n }, (_, i) => spec(i) ?? 0) : Uint32Array.from({ length: n }, (_, i) => spec(i) ?? 0);
        return { name: '', type, values, validity, ...(type === 'string' ? { dict } : {}) };
      };
      const rows = {
        rowCount: n,
        actorIds: Uint32Array.from({ length: n }, (_, i) => i >> 2),
        times: Float64Array.from({ length: n }, (_, i) => START + (i & 3) * 1000),
        columns: [
          { ...column(specs.v, 'number'), name: 'v' },
          { ...column(specs.w, 'number'), name: 'w' },
          { ...column(specs.s, 'string'), name: 's' },
        ],
      };
      writeSegment(`${t.dir}/${name}.seg`, rows, Uint32Array.from({ length: n }, (_, i) => i), { shard: 0, partition: part, genMin: 1, genMax: 1 });
      return SegmentReader.open(`${t.dir}/${name}.seg`);
    };
    const holey = { v: (i: number) => (i % 5 === 0 ? i : null), w: (i: number) => (i % 2 === 0 ? i / 4 : null), s: (i: number) => (i % 3 === 0 ? null : i % 4) };
    // Segment b holds none of them: its rows of each keep what the arrays held before.
    const empty = { v: () => null, w: () => null, s: () => null };
    const full = { v: (i: number) => 1e6 + i * 0.5, w: (i: number) => 7e5 - i, s: (i: number) => 3 - (i % 4) };
    const holes = [write('a', 3000, holey), write('b', 2000, empty)];
    const dense = [write('c', 6000, full)];
    const encode = (readers: SegmentReader[]): Buffer => {
      const rows = concatSegments(readers, new Map([['v', 'number'], ['w', 'number'], ['s', 'string']]));
      const order = Uint32Array.from({ length: rows.rowCount }, (_, i) => i);
      writeSegment(`${t.dir}/out.seg`, rows, order, { shard: 0, partition: part, genMin: 1, genMax: 2 });
      return readFileSync(`${t.dir}/out.seg`);
    };
    const first = encode(holes);
    encode(dense); // fills the reused arrays with other values, at every row
    expect(Buffer.compare(encode(holes), first)).toBe(0);
    for (const r of [...holes, ...dense]) r.close();
  });
});
