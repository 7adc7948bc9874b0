/**
 * WAL record payloads: a shard part decodes to the rows it was encoded from, with string
 * dictionaries cut to the strings its rows use (any string, including lone surrogates and NUL),
 * and records of the previous layout (version 1) still decode.
 */
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decodeShardPart, encodeShardPart, type ShardPart } from '../../engine/storage/wal-record.js';

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
    ],
    typeErrors: [['s', 1]],
  };
}

function strings(p: ShardPart, name: string): (string | null)[] {
  const c = p.columns.find((x) => x.name === name)!;
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
});
