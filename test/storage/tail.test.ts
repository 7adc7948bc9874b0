/**
 * Tail appends: parts of any length, at any row offset (byte-aligned or not), with and without
 * validity bitmaps or in sparse form, leave every row's value and null state and each column's
 * null count as a per-row reference says, including columns missing from some parts and bitmaps
 * with bits set past their part's rows.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Tail } from '../../engine/storage/tail.js';
import { TailDicts } from '../../engine/storage/tail-dicts.js';
import { isSet, type PartColumn } from '../../engine/storage/typed-column.js';
import type { ShardPart } from '../../engine/storage/wal-record.js';

/** A part's rows: per row, a number, null, or absent column (undefined). */
const partArb = fc.record({
  rows: fc.array(fc.oneof(fc.double({ noNaN: true }), fc.constant(null)), { minLength: 1, maxLength: 40 }),
  hasColumn: fc.boolean(),
  allValidAsNull: fc.boolean(),
  sparse: fc.boolean(),
  /** The bitmap's bits past the part's rows are set (a bitmap cut from a longer one). */
  dirtyPad: fc.boolean(),
});

function partOf(rows: (number | null)[], hasColumn: boolean, allValidAsNull: boolean, sparse: boolean, dirtyPad = false): ShardPart {
  const n = rows.length;
  const columns: PartColumn[] = [];
  if (hasColumn && sparse) {
    const valid = rows.flatMap((v, j) => (v === null ? [] : [j]));
    columns.push({ name: 'x', type: 'number', rows: Uint32Array.from(valid), values: Float64Array.from(valid, (j) => rows[j]!) });
  } else if (hasColumn) {
    const validity = new Uint8Array((n + 7) >> 3);
    rows.forEach((v, j) => {
      if (v !== null) validity[j >> 3] |= 1 << (j & 7);
    });
    if (dirtyPad && (n & 7) !== 0) validity[validity.length - 1] |= 0xff << (n & 7);
    const allValid = rows.every((v) => v !== null);
    columns.push({ name: 'x', type: 'number', values: Float64Array.from(rows, (v) => v ?? 0), validity: allValid && allValidAsNull ? null : validity });
  }
  return { batchId: 1, parts: 1, shard: 0, rowCount: n, times: new Float64Array(n), actorValues: ['a'], actorCodes: new Uint32Array(n), columns, typeErrors: [] };
}

describe('Tail.append', () => {
  it('keeps every value and null at any offset', () => {
    fc.assert(
      fc.property(fc.array(partArb, { minLength: 1, maxLength: 12 }), (parts) => {
        const tail = new Tail(0, 1);
        const want: (number | null)[] = [];
        for (const p of parts) {
          tail.append(partOf(p.rows, p.hasColumn, p.allValidAsNull, p.sparse, p.dirtyPad), Uint32Array.of(0));
          for (const v of p.rows) want.push(p.hasColumn ? v : null);
        }
        const col = tail.columns.get('x');
        if (col === undefined) {
          expect(parts.every((p) => !p.hasColumn)).toBe(true);
          return;
        }
        const got = want.map((_, r) => (isSet(col.validity, r) ? col.values[r] : null));
        expect(got).toEqual(want);
        expect(col.nullCount).toBe(want.filter((v) => v === null).length);
      }),
      { numRuns: 300, verbose: true },
    );
  });
});

describe('Tail growth', () => {
  it('doubles while small, then jumps once to its share of the flush point, keeping every row', () => {
    // 20 bytes per row (actor id 4, time 8, one number column 8) plus its validity bit: the byte
    // share allows ~600,000 rows, the row share 200,000
    const tail = new Tail(0, 1, undefined, { rows: 200_000, bytes: 600_000 * 20 });
    const capacities = new Set<number>();
    let written = 0;
    while (written < 300_000) {
      const rows = Array.from({ length: 10_000 }, (_, j) => written + j);
      tail.append(partOf(rows, true, true, false), Uint32Array.of(0));
      written += rows.length;
      capacities.add(tail.times.length);
    }
    // 16k by doubling (the first part; a tail's first growth always doubles); past 4,096 rows
    // straight to 1.25 × min(200,000 rows, 600,000 rows of bytes)
    expect([...capacities]).toEqual([16_384, 250_000, 500_000]);
    expect(tail.sizeBytes()).toBe(300_000 * 20 + 300_000 / 8);
    const col = tail.columns.get('x')!;
    expect(Array.from(col.values.subarray(0, written))).toEqual(Array.from({ length: written }, (_, r) => r));
  });

  it('counts the rows held, not the capacity reserved ahead', () => {
    const tail = new Tail(0, 1);
    tail.append(partOf([1, 2, 3], true, true, false), Uint32Array.of(0));
    expect(tail.times.length).toBe(1024);
    expect(tail.sizeBytes()).toBe(3 * 20 + 1);
  });
});

describe('Tail.append of a part coded against another dictionary', () => {
  it('looks up only the strings the part uses (a part split before a flush started a new generation)', () => {
    const previous = Array.from({ length: 100_000 }, (_, k) => `s${k}`); // the previous generation's dictionary
    const tail = new Tail(0, 2);
    const part = (codes: number[]): ShardPart => ({
      batchId: 1, parts: 1, shard: 0, rowCount: codes.length, times: new Float64Array(codes.length), actorValues: ['a'], actorCodes: new Uint32Array(codes.length),
      columns: [{ name: 'session', type: 'string', values: Uint32Array.from(codes), dict: previous, validity: null }], typeErrors: [],
    });
    tail.append(part([7, 99_999, 7]), Uint32Array.of(0));
    tail.append(part([42, 99_999]), Uint32Array.of(0));
    // A sparse part: rows 1 and 3 of four.
    tail.append({ ...part([0, 0, 0, 0]), columns: [{ name: 'session', type: 'string', rows: Uint32Array.of(1, 3), values: Uint32Array.of(5, 42), dict: previous }] }, Uint32Array.of(0));
    const col = tail.columns.get('session')!;
    expect(col.dict).toEqual(['s7', 's99999', 's42', 's5']);
    expect(Array.from(col.values.subarray(0, 9), (c, r) => (isSet(col.validity, r) ? col.dict![c] : null))).toEqual(['s7', 's99999', 's7', 's42', 's99999', null, 's5', null, 's42']);
    expect(col.nullCount).toBe(2);
    // A sparse part coded against the generation's own dictionary (as splits are): rows 0 and 2 of three.
    tail.append({ ...part([0, 0, 0]), columns: [{ name: 'session', type: 'string', rows: Uint32Array.of(0, 2), values: Uint32Array.of(1, 3), dict: col.dict }] }, Uint32Array.of(0));
    expect(col.dict).toEqual(['s7', 's99999', 's42', 's5']);
    expect(Array.from(col.values.subarray(9, 12), (c, r) => (isSet(col.validity, 9 + r) ? col.dict![c] : null))).toEqual(['s99999', null, 's5']);
    expect(col.nullCount).toBe(3);
  });
});

describe('TailDicts.remapFor', () => {
  it('maps only the codes met into the generation dictionary, caching them per source', () => {
    const dicts = new TailDicts();
    const worker = Array.from({ length: 100_000 }, (_, k) => `s${k}`); // a parse worker's stream dictionary
    const first = dicts.remapFor('session', worker);
    dicts.mapCodes(first, Int32Array.of(5, 9), 2);
    expect(dicts.get('session').values).toEqual(['s5', 's9']);
    expect([first.codes[5], first.codes[9], first.codes[0]]).toEqual([0, 1, -1]);
    worker.push('new');
    const second = dicts.remapFor('session', worker);
    expect(second).toBe(first);
    expect(second.codes.length).toBeGreaterThanOrEqual(worker.length);
    dicts.mapCodes(second, Int32Array.of(100_000), 1);
    expect(dicts.get('session').values).toEqual(['s5', 's9', 'new']);
    expect([second.codes[100_000], second.codes[9], second.codes[5]]).toEqual([2, 1, 0]);
  });

  it('maps codes in blocks as one lookup at a time does, across sources sharing strings (property)', () => {
    // Two parse workers' dictionaries drawing from one pool of strings, so a string one worker
    // added is found, not added again, when the other maps it; batches of codes span several blocks.
    const pool = Array.from({ length: 400 }, (_, k) => `s${(k * 7919) % 400}`);
    const batchArb = fc.record({ worker: fc.nat(1), picks: fc.uniqueArray(fc.nat(399), { minLength: 0, maxLength: 300, size: 'max' }) });
    fc.assert(
      fc.property(fc.array(batchArb, { maxLength: 6 }), fc.integer(), (batches, seed) => {
        let x = seed | 0;
        const workers = [0, 1].map(() => pool.filter(() => ((x = Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 1) & 1) === 0));
        const blocked = new TailDicts();
        const single = new TailDicts();
        for (const b of batches) {
          const source = workers[b.worker];
          const codes = Int32Array.from(b.picks.filter((c) => c < source.length));
          const r = blocked.remapFor('s', source);
          const fresh = Array.from(codes).filter((c) => r.codes[c] < 0);
          blocked.mapCodes(r, Int32Array.from(fresh), fresh.length);
          const one = single.remapFor('s', source);
          for (const c of codes) if (one.codes[c] < 0) one.codes[c] = single.codeOf(single.get('s'), source[c]);
          expect(Array.from(codes, (c) => r.codes[c])).toEqual(Array.from(codes, (c) => one.codes[c]));
        }
        expect(blocked.get('s').values).toEqual(single.get('s').values);
        expect(new Set(blocked.get('s').values).size).toBe(blocked.get('s').values.length);
      }),
      { numRuns: 200 },
    );
  });
});
