/**
 * Literal cases for the encoding family: the column shapes Shoal actually stores (sorted actor
 * ids, per-actor and global timestamps, booleans, short decimals, few distinct numbers), the
 * smallest blocks, exactness at the edges of the integer encodings, and the errors a reader sees.
 */
import { describe, expect, it } from 'vitest';
import { decodeBlock, encodeBest, ENCODINGS, ENCODING_IDS, type PhysicalKind } from '../../engine/encodings/index.js';
import { mulberry32 } from '../../bench/generator/rng.js';

type Values = Float64Array | Uint32Array | Uint8Array;

const rng = mulberry32;

/** Float64 values as their 64-bit patterns, so NaN payloads and -0 compare exactly. */
function bitsOf(values: Values): bigint[] | number[] {
  return values instanceof Float64Array ? Array.from(new BigUint64Array(values.buffer, values.byteOffset, values.length)) : Array.from(values);
}

function roundTrip(encodingId: number, values: Values, kind: PhysicalKind): void {
  const encoding = ENCODINGS.get(encodingId)!;
  const bytes = encoding.encode(values, kind);
  expect(bitsOf(decodeBlock(encodingId, bytes, kind, values.length))).toEqual(bitsOf(values));
}

const ids = ENCODING_IDS;
const enc = (id: number) => ENCODINGS.get(id)!;
const ROWS = 65_536;

describe('column shapes Shoal stores', () => {
  it('a sorted actor-id column with runs takes under 2 KB with rle, and encodeBest does as well', () => {
    const r = rng(1);
    const actors = new Uint32Array(ROWS);
    for (let i = 0, id = 4000; i < ROWS; id++) {
      const end = Math.min(ROWS, i + 1 + Math.floor(r() * 250));
      while (i < end) actors[i++] = id;
    }
    const rle = enc(ids.rle).encode(actors, 'u32');
    expect(rle.length).toBeLessThan(2048);
    roundTrip(ids.rle, actors, 'u32');
    const best = encodeBest(actors, 'u32');
    expect(best.bytes.length).toBeLessThanOrEqual(rle.length);
  });

  it('timestamps sorted within per-actor runs take well under 8 bytes a value with delta or for', () => {
    const r = rng(2);
    const times = new Float64Array(ROWS);
    const day0 = Date.UTC(2026, 0, 1);
    for (let i = 0; i < ROWS; ) {
      let t = day0 + Math.floor(r() * 86_400_000);
      const end = Math.min(ROWS, i + 1 + Math.floor(r() * 200));
      for (; i < end; i++) times[i] = t += Math.floor(r() * 120_000);
    }
    for (const id of [ids.deltaBitpack, ids.forBitpack]) {
      expect(enc(id).analyze(times, 'f64')! / ROWS).toBeLessThan(4.5);
      roundTrip(id, times, 'f64');
    }
    expect(encodeBest(times, 'f64').bytes.length / ROWS).toBeLessThan(4.5);
  });

  it('globally sorted timestamps take under 2 bytes a value with delta', () => {
    const r = rng(3);
    const times = new Float64Array(ROWS);
    let t = Date.UTC(2026, 0, 1);
    for (let i = 0; i < ROWS; i++) times[i] = t += Math.floor(r() * 1000);
    const best = encodeBest(times, 'f64');
    expect(best.encodingId).toBe(ids.deltaBitpack);
    expect(best.bytes.length / ROWS).toBeLessThan(2);
  });

  it('booleans take one bit a row, and long runs of them far less', () => {
    const r = rng(4);
    const flips = new Uint8Array(ROWS).map(() => (r() < 0.5 ? 1 : 0));
    expect(encodeBest(flips, 'u8').bytes.length).toBeLessThanOrEqual(ROWS / 8 + 16);
    const runs = new Uint8Array(ROWS).map((_, i) => (i >> 12) & 1);
    expect(encodeBest(runs, 'u8').bytes.length).toBeLessThan(64);
  });

  it('a number column of 200 distinct values (NaN payloads, 0 and -0 among them) uses a dictionary with a raw table', () => {
    const r = rng(5);
    const pool = new Float64Array(200).map(() => r() * 1e6);
    new BigUint64Array(pool.buffer).set([0x7ff0000000000001n, 0xfff8000000000abcn, 0x8000000000000000n, 0n]);
    const values = new Float64Array(ROWS).map(() => pool[Math.floor(r() * 200)]);
    const best = encodeBest(values, 'f64');
    expect(best.encodingId).toBe(ids.dictionarySorted);
    expect(best.bytes.length).toBeLessThan(12 + 200 * 8 + ROWS + 16);
    // The older dictionary-f64 still reads and writes the same column, for stores written before.
    roundTrip(ids.dictionaryF64, values, 'f64');
    expect(bitsOf(decodeBlock(best.encodingId, best.bytes, 'f64', ROWS))).toEqual(bitsOf(values));
  });
});

describe('smallest blocks', () => {
  const samples: Record<PhysicalKind, Values[]> = {
    f64: [new Float64Array(0), new Float64Array([-0]), new Float64Array([NaN]), new Float64Array([12.5]), new Float64Array([2 ** 53])],
    u32: [new Uint32Array(0), new Uint32Array([0]), new Uint32Array([4294967295])],
    u8: [new Uint8Array(0), new Uint8Array([0]), new Uint8Array([255])],
  };
  for (const kind of ['f64', 'u32', 'u8'] as const) {
    it(`${kind}: 0 and 1 rows round-trip through every encoding that accepts them`, () => {
      let accepted = 0;
      for (const values of samples[kind]) {
        for (const encoding of ENCODINGS.values()) {
          if (!encoding.kinds.includes(kind) || encoding.analyze(values, kind) === null) continue;
          accepted++;
          roundTrip(encoding.id, values, kind);
        }
      }
      expect(accepted).toBeGreaterThanOrEqual(samples[kind].length * 3);
    });
  }
});

describe('exactness at the edges of the integer encodings', () => {
  it('for-bitpack stores f64 residuals wider than 32 bits exactly', () => {
    const values = new Float64Array([0, 2 ** 41 + 7, 2 ** 52 + 3, 2 ** 53 - 1, 12345678901234, 1]);
    const bytes = enc(ids.forBitpack).encode(values, 'f64');
    expect(bytes[0]).toBe(53); // header byte 0: residual width
    roundTrip(ids.forBitpack, values, 'f64');
    roundTrip(ids.forBitpack, new Float64Array([-(2 ** 53), -(2 ** 53) + 2 ** 52 + 1]), 'f64');
    expect(enc(ids.forBitpack).analyze(new Float64Array([-(2 ** 53), 2 ** 53]), 'f64')).toBeNull();
  });

  it('delta-bitpack refuses or round-trips every pair and triple of extreme integers', () => {
    const pool = [0, 1, -1, 2 ** 53, -(2 ** 53), 2 ** 53 - 1, -(2 ** 53) + 1, 2 ** 52 + 1, -(2 ** 52) - 1, 2 ** 32 + 1];
    let accepted = 0;
    for (const a of pool) {
      for (const b of pool) {
        for (const c of [undefined, ...pool]) {
          const values = new Float64Array(c === undefined ? [a, b] : [a, b, c]);
          if (enc(ids.deltaBitpack).analyze(values, 'f64') === null) continue;
          accepted++;
          roundTrip(ids.deltaBitpack, values, 'f64');
        }
      }
    }
    expect(accepted).toBeGreaterThan(100);
  });

  it('delta-bitpack wraps u32 deltas and still round-trips', () => {
    roundTrip(ids.deltaBitpack, new Uint32Array([4294967295, 0, 4294967295, 1, 2 ** 31, 0]), 'u32');
    roundTrip(ids.deltaBitpack, new Uint8Array([255, 0, 255, 1, 128, 0]), 'u8');
  });

  it('for-bitpack and delta-bitpack refuse -0, fractions, NaN and values past 2^53', () => {
    for (const bad of [-0, 0.5, NaN, Infinity, 2 ** 53 + 2]) {
      const values = new Float64Array([1, bad, 3]);
      expect(enc(ids.forBitpack).analyze(values, 'f64'), String(bad)).toBeNull();
      expect(enc(ids.deltaBitpack).analyze(values, 'f64'), String(bad)).toBeNull();
    }
  });
});

describe('decimal', () => {
  const exponentOf = (values: number[]) => enc(ids.decimal).encode(new Float64Array(values), 'f64')[1];

  it('picks the smallest exponent that represents every value exactly', () => {
    expect(exponentOf([12.375, 3, -4.5])).toBe(3);
    expect(exponentOf([1.5, 2.25])).toBe(2);
    expect(exponentOf([7, -12, 40000])).toBe(0);
    expect(exponentOf([0.0001, -0.0001, 99999.9999])).toBe(4);
    roundTrip(ids.decimal, new Float64Array([12.375, 0.1, 0.2, 0.3, -9999.9999, 1e10 + 0.25]), 'f64');
  });

  it('refuses what it cannot represent exactly', () => {
    for (const bad of [0.1 + 0.2, 1e-5, 1 / 3, NaN, Infinity, -Infinity, -0, 2 ** 53, 1e16, Math.PI]) {
      expect(enc(ids.decimal).analyze(new Float64Array([1.25, bad]), 'f64'), String(bad)).toBeNull();
    }
  });

  it('accepts every k / 10^e with e ≤ 4 and round-trips it', () => {
    const r = rng(6);
    for (let e = 0; e <= 4; e++) {
      const values = new Float64Array(5000).map(() => Math.round((r() - 0.5) * 2 ** 40) / 10 ** e);
      expect(enc(ids.decimal).analyze(values, 'f64'), `e = ${e}`).not.toBeNull();
      roundTrip(ids.decimal, values, 'f64');
    }
  });
});

describe('errors a reader sees', () => {
  it('an unknown encoding id throws an error naming it', () => {
    expect(() => decodeBlock(99, new Uint8Array(8), 'u32', 1)).toThrow(/encoding id 99/);
  });

  it('an encoding asked for a kind it cannot hold throws', () => {
    expect(() => decodeBlock(ids.decimal, new Uint8Array(16), 'u32', 1)).toThrow(/decimal/);
  });

  it('rle runs that do not cover the row count throw', () => {
    const bytes = enc(ids.rle).encode(new Uint32Array([1, 1, 2, 2, 2]), 'u32');
    expect(() => decodeBlock(ids.rle, bytes, 'u32', 6)).toThrow(/rle/);
    // long blocks: short and long runs, one row more or fewer than they cover, as u32 and f64
    const long = Uint32Array.from({ length: 1000 }, (_, i) => Math.floor(Math.sqrt(i * 7)) + (i > 900 ? i : 0));
    for (const kind of ['u32', 'f64'] as const) {
      const values = kind === 'u32' ? long : Float64Array.from(long);
      const encoded = enc(ids.rle).encode(values, kind);
      expect(Array.from(decodeBlock(ids.rle, encoded, kind, 1000))).toEqual(Array.from(long));
      expect(() => decodeBlock(ids.rle, encoded, kind, 999)).toThrow(/runs cover/);
      expect(() => decodeBlock(ids.rle, encoded, kind, 1001)).toThrow(/runs cover/);
    }
  });

  it('an out array of the wrong type or too short throws', () => {
    const bytes = enc(ids.plain).encode(new Uint32Array([1, 2, 3]), 'u32');
    expect(() => decodeBlock(ids.plain, bytes, 'u32', 3, new Uint32Array(2))).toThrow(/out/);
    expect(() => decodeBlock(ids.plain, bytes, 'u32', 3, new Float64Array(3))).toThrow(/out/);
  });
});
