/**
 * WAL record payloads: a shard part decodes to the rows it was encoded from, with string
 * dictionaries cut to the strings its rows use (any string, including lone surrogates and NUL),
 * codes of any width, sparse columns (their rows and values, in rows of any width; versions 1–3
 * write them dense), and records of the previous layouts (versions 1, 2 and 3) still decode.
 */
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readWal } from '../../engine/storage/wal.js';
import { compactDict, decodeShardPart, encodeShardPart, encodeShardRecord, type ShardPart } from '../../engine/storage/wal-record.js';
import { encodeShardPartV2 } from '../../engine/storage/wal-record-v2.js';
import { encodeShardRecordV3 } from '../../engine/storage/wal-record-v3.js';
import { densePart, type SparseColumn } from '../../engine/storage/typed-column.js';
import { tempDir } from './helpers.js';

const ODD = ['plain', '', '\u0000nul', '\ud800 lone', 'é', '😀', '"quoted"\\', '__proto__'];

function part(): ShardPart {
  // Codes point into a larger shared dictionary, as parts from the ingest path do.
  const shared = ['unused', ...ODD, 'also unused'];
  return {
    batchId: 7,
    parts: 2,
    shard: 3,
    rowCount: 5,
    times: Float64Array.from([1, 2, 3, 4, 5]),
    actorValues: ['a', 42],
    actorCodes: Uint32Array.from([0, 1, 0, 1, 0]),
    columns: [
      { name: 's', type: 'string', values: Uint32Array.from([1, 3, 4, 0, 8]), dict: shared, validity: Uint8Array.from([0b10111]) },
      { name: 'n', type: 'number', values: Float64Array.from([0.5, -0, 3, 4, 5]), validity: null },
      { name: 'rare', type: 'string', rows: Uint32Array.from([1, 4]), values: Uint32Array.from([5, 2]), dict: shared },
      { name: 'rare_n', type: 'number', rows: Uint32Array.from([3]), values: Float64Array.from([-0]) },
    ],
    typeErrors: [['s', 1]],
  };
}

function strings(p: ShardPart, name: string): (string | null)[] {
  const c = densePart(p.columns.find((x) => x.name === name)!, p.rowCount);
  return Array.from(c.values as Uint32Array, (code, j) => (c.validity === null || (c.validity[j >> 3] >> (j & 7)) & 1 ? c.dict![code] : null));
}

describe('WAL record payload', () => {
  it('round-trips rows and keeps only the strings the rows use', () => {
    const p = part();
    const back = decodeShardPart(encodeShardPart(p));
    expect(strings(back, 's')).toEqual(strings(p, 's'));
    expect(back.columns.find((c) => c.name === 's')!.dict).toEqual(['plain', '\u0000nul', '\ud800 lone', '__proto__']);
    expect(Array.from(back.columns[1].values)).toEqual(Array.from(p.columns[1].values));
    expect(Object.is(back.columns[1].values[1], -0)).toBe(true);
    // Sparse columns come back sparse, their dictionaries cut to the strings they use.
    expect(strings(back, 'rare')).toEqual([null, 'é', null, null, '']);
    const rare = back.columns.find((c) => c.name === 'rare') as SparseColumn;
    expect([Array.from(rare.rows), rare.dict]).toEqual([[1, 4], ['é', '']]);
    const rareN = back.columns.find((c) => c.name === 'rare_n') as SparseColumn;
    expect([Array.from(rareN.rows), Object.is(rareN.values[0], -0)]).toEqual([[3], true]);
    expect([back.batchId, back.parts, back.shard, back.rowCount, back.actorValues, Array.from(back.actorCodes)]).toEqual([7, 2, 3, 5, ['a', 42], [0, 1, 0, 1, 0]]);
  });

  it('reads version 1 records (dictionary as a msgpack array)', () => {
    const packr = new Packr({ useRecords: false, mapsAsObjects: false });
    const bytes = (a: Float64Array | Uint32Array): Uint8Array => new Uint8Array(a.buffer);
    const v1 = packr.pack([1, 9, 1, 0, 2, bytes(Float64Array.from([10, 20])), ['u'], bytes(Uint32Array.from([0, 0])), [['e', 2, bytes(Uint32Array.from([1, 0])), ['view', 'buy'], null]], [], null]);
    const back = decodeShardPart(v1);
    expect(strings(back, 'e')).toEqual(['buy', 'view']);
    expect(Array.from(back.times)).toEqual([10, 20]);
  });

  it('refuses a damaged dictionary', () => {
    const packr = new Packr({ useRecords: false, mapsAsObjects: false });
    const bad = packr.pack([2, 1, 1, 0, 1, new Uint8Array(8), ['u'], new Uint8Array(4), [['e', 2, new Uint8Array(4), '[1]', null]], [], null]);
    expect(() => decodeShardPart(bad)).toThrow(/dictionary/);
  });

  it('reads version 2 records', () => {
    const p = part();
    const back = decodeShardPart(encodeShardPartV2(p));
    expect(strings(back, 's')).toEqual(strings(p, 's'));
    expect(strings(back, 'rare')).toEqual(strings(p, 'rare'));
    expect(Array.from(back.times)).toEqual([1, 2, 3, 4, 5]);
  });

  it('round-trips codes and actors that need two and four bytes, nulls, booleans and an idempotency entry', () => {
    const rows = 70_000;
    const shared = Array.from({ length: rows }, (_, k) => `s${k}`);
    const codes = Uint32Array.from({ length: rows }, (_, j) => (j * 7919) % rows);
    const few = Uint32Array.from({ length: rows }, (_, j) => j % 300);
    const validity = new Uint8Array((rows + 7) >> 3).fill(0xff);
    for (let j = 0; j < rows; j += 3) validity[j >> 3] &= ~(1 << (j & 7));
    const p: ShardPart = {
      batchId: 1,
      parts: 1,
      shard: 0,
      rowCount: rows,
      times: Float64Array.from({ length: rows }, (_, j) => 1e12 + j),
      actorValues: Array.from({ length: 300 }, (_, k) => (k % 2 === 0 ? `u${k}` : k)),
      actorCodes: few,
      columns: [
        { name: 'wide', type: 'string', values: codes, dict: shared, validity: null },
        { name: 'mid', type: 'string', values: few, dict: shared, validity },
        { name: 'flag', type: 'boolean', values: Uint8Array.from({ length: rows }, (_, j) => j & 1), validity },
        // Rows past 65,536 take four bytes each.
        { name: 'rare', type: 'string', rows: Uint32Array.from([0, 65_000, rows - 1]), values: Uint32Array.from([rows - 1, 3, 3]), dict: shared },
        { name: 'rare_flag', type: 'boolean', rows: Uint32Array.from([2, 66_000]), values: Uint8Array.from([1, 0]) },
      ],
      typeErrors: [['flag', 2]],
      idempotency: { key: 'k-1', atMs: 5, result: { accepted: rows, rejected: 0, typeErrors: 2, errors: [{ line: 3, message: 'm' }] } },
    };
    const back = decodeShardPart(encodeShardPart(p));
    expect(strings(back, 'wide')).toEqual(strings(p, 'wide'));
    expect(strings(back, 'mid')).toEqual(strings(p, 'mid'));
    expect(Array.from(back.columns[2].values)).toEqual(Array.from(p.columns[2].values));
    expect(Array.from(densePart(back.columns[2], rows).validity!)).toEqual(Array.from(validity));
    expect(strings(back, 'rare')).toEqual(strings(p, 'rare'));
    const flag = back.columns[4] as SparseColumn;
    expect([Array.from(flag.rows), Array.from(flag.values)]).toEqual([[2, 66_000], [1, 0]]);
    expect(Array.from(back.actorCodes, (c) => back.actorValues[c])).toEqual(Array.from(few, (c) => p.actorValues[c]));
    expect([back.typeErrors, back.idempotency]).toEqual([p.typeErrors, p.idempotency]);
  });

  it('keeps actor values JSON cannot hold (a NaN from MessagePack input)', () => {
    const p = { ...part(), actorValues: [Number.NaN, -Infinity] };
    const back = decodeShardPart(encodeShardPart(p));
    expect(back.actorValues).toEqual([Number.NaN, -Infinity]);
  });

  it('frames a record as the WAL reads it', () => {
    const { dir, cleanup } = tempDir('shoal-walrec-');
    try {
      const path = `${dir}/r.wal`;
      writeFileSync(path, Buffer.concat([Buffer.from('SHOALWAL\x01\x00\x00\x00', 'latin1'), encodeShardRecord(part()), encodeShardRecord(part())]));
      const { records, damage } = readWal(path);
      expect(damage).toBeNull();
      expect(records.map((r) => strings(decodeShardPart(r), 's'))).toEqual([strings(part(), 's'), strings(part(), 's')]);
    } finally {
      cleanup();
    }
  });

  it('reads version 3 records, written by earlier builds', () => {
    const p = { ...part(), idempotency: { key: 'k', atMs: 1, result: { accepted: 5, rejected: 0, typeErrors: 1, errors: [] } } };
    const back = decodeShardPart(encodeShardRecordV3(p).subarray(8));
    expect(back.columns.find((c) => c.name === 's')!.dict).toEqual(['plain', '\u0000nul', '\ud800 lone', '__proto__']);
    expect(strings(back, 's')).toEqual(strings(p, 's'));
    expect([back.batchId, back.parts, back.shard, back.actorValues, Array.from(back.actorCodes), back.idempotency]).toEqual([7, 2, 3, ['a', 42], [0, 1, 0, 1, 0], p.idempotency]);
  });

  it('round-trips string actors and ASCII-only or non-ASCII text alike', () => {
    for (const words of [['view', 'buy', ''], ['vue', 'achète', '😀', '\udc00']]) {
      const p: ShardPart = {
        ...part(),
        actorValues: ['u1', words[1]],
        columns: [{ name: 'w', type: 'string', values: Uint32Array.from([2, 0, 1, 1, 0]), dict: words, validity: null }],
        typeErrors: [],
      };
      const back = decodeShardPart(encodeShardPart(p));
      expect(back.actorValues).toEqual(['u1', words[1]]);
      expect(strings(back, 'w')).toEqual(strings(p, 'w'));
      expect(back.columns[0].dict).toEqual([words[2], words[0], words[1]]);
    }
  });

  it('refuses a version 3 record whose sections or codes do not fit', () => {
    const payload = encodeShardRecordV3(part()).subarray(8);
    expect(() => decodeShardPart(payload.subarray(0, payload.length - 8))).toThrow(/shorter/);
    const bad = Uint8Array.from(payload);
    // The actor codes follow the header and the times; a code past the two actor values is damage.
    const headerBytes = Buffer.from(bad.buffer).readUInt32LE(20);
    const actorAt = ((24 + headerBytes + 7) & ~7) + 5 * 8;
    bad[actorAt] = 9;
    expect(() => decodeShardPart(bad)).toThrow(/outside/);
  });

  it('writes and reads version 4 records (no sparse columns) and refuses sparse columns that do not fit', () => {
    const dense = { ...part(), columns: part().columns.filter((c) => !('rows' in c)) };
    // Without sparse columns a part is written as version 4, which builds before version 5 read.
    const v4 = encodeShardPart(dense);
    expect(v4[0]).toBe(4);
    expect(strings(decodeShardPart(v4), 's')).toEqual(strings(dense, 's'));
    const sparse = Uint8Array.from(encodeShardPart(part()));
    expect(sparse[0]).toBe(5);
    sparse[0] = 4;
    expect(() => decodeShardPart(sparse)).toThrow(/malformed column entry/);
    const withRows = (rows: number[]): ShardPart => ({ ...part(), columns: [{ name: 'r', type: 'number', rows: Uint32Array.from(rows), values: new Float64Array(rows.length) }] });
    expect(() => decodeShardPart(encodeShardPart(withRows([3, 1])))).toThrow(/out of order/);
    expect(() => decodeShardPart(encodeShardPart(withRows([2, 2])))).toThrow(/out of order/);
    expect(() => decodeShardPart(encodeShardPart(withRows([1, 5])))).toThrow(/outside/);
    expect(Array.from((decodeShardPart(encodeShardPart(withRows([0, 4]))).columns[0] as SparseColumn).rows)).toEqual([0, 4]);
  });

  it('refuses a version 5 record whose sections, strings or codes do not fit', () => {
    const p = { ...part(), actorValues: ['a', 'b'] };
    const payload = encodeShardPart(p);
    expect(() => decodeShardPart(payload.subarray(0, payload.length - 8))).toThrow(/shorter/);
    const view = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    const headerBytes = view(payload).readUInt32LE(20);
    const stringCount = view(payload).readUInt32LE(24);
    const textBytes = view(payload).readUInt32LE(28);
    const lengthsAt = (32 + headerBytes + 7) & ~7;
    const longer = Uint8Array.from(payload);
    view(longer).writeUInt32LE(view(payload).readUInt32LE(lengthsAt) + 1, lengthsAt);
    expect(() => decodeShardPart(longer)).toThrow(/lengths/);
    const bad = Uint8Array.from(payload);
    const actorAt = ((lengthsAt + 4 * stringCount + 7) & ~7) + ((textBytes + 7) & ~7) + 5 * 8;
    bad[actorAt] = 9;
    expect(() => decodeShardPart(bad)).toThrow(/outside/);
  });

  it('cuts part dictionaries from a shared, growing dictionary as a first-use reference does (property)', () => {
    // Parts in a row over one source dictionary (its scratch marks reused by epoch, and regrown
    // when the source grows past it; past 65,536 strings, a small table per part), with and
    // without nulls, against a plain Map.
    const partArb = fc.record({
      grow: fc.oneof(fc.nat(300), fc.constant(70_000)),
      // Repeats as well as distinct codes.
      codes: fc.array(fc.oneof(fc.nat(1_000_000), fc.nat(5)), { maxLength: 200, size: 'max' }),
      nulls: fc.option(fc.array(fc.boolean(), { minLength: 200, maxLength: 200 })),
    });
    fc.assert(
      fc.property(fc.array(partArb, { minLength: 1, maxLength: 8 }), (parts) => {
        const source: string[] = [];
        for (const p of parts) {
          for (let k = 0; k < p.grow || source.length === 0; k++) source.push(`v${source.length}`);
          const n = p.codes.length;
          const values = Uint32Array.from(p.codes, (c) => c % source.length);
          let validity: Uint8Array | null = null;
          if (p.nulls !== null) {
            validity = new Uint8Array((n + 7) >> 3);
            for (let j = 0; j < n; j++) if (!p.nulls[j]) validity[j >> 3] |= 1 << (j & 7);
          }
          const out = new Uint32Array(n);
          const dict = compactDict({ name: 's', type: 'string', values, dict: source, validity }, n, out);
          const first = new Map<number, number>();
          for (let j = 0; j < n; j++) {
            const valid = validity === null || ((validity[j >> 3] >> (j & 7)) & 1) === 1;
            if (!valid) {
              expect(out[j]).toBe(0);
              continue;
            }
            if (!first.has(values[j])) first.set(values[j], first.size);
            expect(out[j]).toBe(first.get(values[j]));
          }
          expect(dict).toEqual([...first.keys()].map((c) => source[c]));
        }
      }),
      { numRuns: 200 },
    );
  });
});

