/**
 * Property and shape tests for the encodings that bring the generator's schema under 8 bytes an
 * event: delta-split (timestamps sorted within actor sessions), sparse (valid rows only, null rows
 * rebuilt from the validity bitmap) and dictionary-sorted (a sorted, compactly stored table of
 * short decimals). Round trips are bit-exact on random blocks shaped to reach each encoding's
 * edges (every small width, int32 run-sum limits, ±2^53, NaN payloads, empty and one-row blocks),
 * and on data like the generator's each is chosen and beats what was chosen before. fast-check
 * prints the seed of a failing case.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBlock, encodeBest, ENCODINGS, ENCODING_IDS, type PhysicalKind } from '../../engine/encodings/index.js';
import { mulberry32 } from '../../bench/generator/rng.js';

type Values = Float64Array | Uint32Array | Uint8Array;
type Rand = () => number;

const RUNS = Number(process.env.ENCODING_PROPERTY_RUNS ?? 120);
const ids = ENCODING_IDS;
const enc = (id: number) => ENCODINGS.get(id)!;
const below = (r: Rand, n: number): number => Math.floor(r() * n);

/** Float64 values as 64-bit patterns, so NaN payloads and -0 compare exactly. */
function bitsOf(values: Values): bigint[] | number[] {
  return values instanceof Float64Array ? Array.from(new BigUint64Array(values.buffer, values.byteOffset, values.length)) : Array.from(values);
}

/** Expects `actual` to equal `expected` bit for bit, naming the first row that differs (fast on 70k rows). */
function expectSameBits(actual: Values, expected: Values, what: string): void {
  const words = (v: Values): Uint32Array | Values => (v instanceof Float64Array ? new Uint32Array(v.buffer, v.byteOffset, 2 * v.length) : v);
  const a = words(actual);
  const b = words(expected);
  let first = a.length === b.length ? -1 : 0;
  for (let i = 0; i < b.length && first < 0; i++) if (a[i] !== b[i]) first = i;
  expect(first, `${what}: first differing element`).toBe(-1);
}

/** Encodes with `id`, checks the estimate, and decodes (plain and into a dirty, larger out). */
function roundTrip(id: number, values: Values, kind: PhysicalKind, validity: Uint8Array | null = null): Uint8Array {
  const e = enc(id);
  const estimate = e.analyze(values, kind, validity);
  expect(estimate, `${e.name} accepts`).not.toBeNull();
  const bytes = e.encode(values, kind, validity);
  expect(bytes.length).toBe(estimate);
  expectSameBits(decodeBlock(id, bytes, kind, values.length, undefined, validity), values, e.name);
  const out = (kind === 'f64' ? new Float64Array(values.length + 2) : kind === 'u32' ? new Uint32Array(values.length + 2) : new Uint8Array(values.length + 2)).fill(9);
  decodeBlock(id, bytes, kind, values.length, out, validity);
  expectSameBits(out.subarray(0, values.length), values, `${e.name} into out`);
  expect(Array.from(out.subarray(values.length))).toEqual([9, 9]);
  return bytes;
}

/** Epoch-ms times of actors' sessions: in-session gaps of `gapMs`-ish, jumps between sessions and actors. */
function sessionTimes(r: Rand, n: number, gapMs: number): Float64Array {
  const times = new Float64Array(n);
  const day0 = Date.UTC(2026, 9, 1);
  let t = day0;
  for (let i = 0; i < n; i++) {
    const u = r();
    if (u < 0.05) t = day0 + below(r, 86_400_000); // next actor: anywhere in the day
    else if (u < 0.12) t += 600_000 + below(r, 20_000_000); // next session of the same actor
    else t += 200 + Math.floor(gapMs * Math.exp(1.2 * (r() + r() + r() - 1.5)));
    times[i] = t;
  }
  return times;
}

/** Integer blocks that reach delta-split's edges. */
const splitBlock = fc
  .record({
    shape: fc.constantFrom('sessions', 'constantStep', 'hugeSteps', 'descending', 'extremes', 'widthSweep'),
    n: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constantFrom(31, 32, 33, 64, 65_536), fc.integer({ min: 0, max: 70_000 })),
    seed: fc.integer(),
  })
  .map(({ shape, n, seed }) => {
    const r = mulberry32(seed);
    const v = new Float64Array(n);
    if (shape === 'sessions') v.set(sessionTimes(r, n, [10, 1000, 15_000][below(r, 3)]));
    else if (shape === 'constantStep') for (let i = 0, t = below(r, 1e9); i < n; i++) v[i] = t += 7;
    else if (shape === 'hugeSteps') {
      // Steps near 2^30 and 2^31: runs of small rows must break before their sum reaches 2^31.
      for (let i = 0, t = -(2 ** 52); i < n; i++) v[i] = t += [2 ** 30, 2 ** 31 - 1, 2 ** 31, 1, 2 ** 29 + below(r, 2 ** 29)][below(r, 5)];
    } else if (shape === 'descending') for (let i = 0, t = 2 ** 40; i < n; i++) v[i] = t -= below(r, 1000);
    else if (shape === 'extremes') for (let i = 0; i < n; i++) v[i] = [2 ** 53, 2 ** 53 - 1, 1, 0, 2 ** 52][below(r, 5)];
    else {
      // Delta widths spread over 0..31 bits, so every small width is the best for some block.
      const w = below(r, 32);
      for (let i = 0, t = 0; i < n; i++) v[i] = t += r() < 0.9 ? below(r, 2 ** w) : 2 ** 40 * r() - t * (r() < 0.5 ? 1 : 0);
      for (let i = 0; i < n; i++) v[i] = Math.round(v[i]);
    }
    return v;
  });

describe('delta-split', () => {
  it('round-trips every integer block it accepts, and accepts every block of safe integers', () => {
    const widths = new Set<number>();
    fc.assert(
      fc.property(splitBlock, (values) => {
        const range = values.length === 0 ? 0 : Math.max(...values) - Math.min(...values);
        if (range > Number.MAX_SAFE_INTEGER) {
          expect(enc(ids.deltaSplit).analyze(values, 'f64')).toBeNull();
          return;
        }
        const bytes = roundTrip(ids.deltaSplit, values, 'f64');
        if (values.length > 0) widths.add(bytes[0]);
      }),
      { numRuns: RUNS },
    );
    // Small widths from 0 to past 20 bits were chosen, so the plan's width search was exercised.
    expect(widths.has(0)).toBe(true);
    expect(Math.max(...widths)).toBeGreaterThan(20);
  });

  it('refuses fractions, NaN, -0 and values past 2^53', () => {
    for (const bad of [0.5, NaN, -0, 2 ** 53 + 2, Infinity]) {
      expect(enc(ids.deltaSplit).analyze(new Float64Array([1, bad, 3]), 'f64'), String(bad)).toBeNull();
    }
  });

  it('holds session-shaped timestamps in under 3/4 of frame-of-reference and is what encodeBest picks', () => {
    const times = sessionTimes(mulberry32(11), 65_536, 15_000);
    const split = roundTrip(ids.deltaSplit, times, 'f64');
    expect(split.length).toBeLessThan(0.75 * enc(ids.forBitpack).analyze(times, 'f64')!);
    expect(split.length).toBeLessThan(enc(ids.deltaBitpack).analyze(times, 'f64')!);
    expect(encodeBest(times, 'f64').encodingId).toBe(ids.deltaSplit);
  });

  it('rejects a block whose selector disagrees with its header', () => {
    const times = sessionTimes(mulberry32(12), 1000, 15_000);
    const bytes = enc(ids.deltaSplit).encode(times, 'f64').slice();
    bytes[32] |= 1; // mark row 0 small
    expect(() => decodeBlock(ids.deltaSplit, bytes, 'f64', 1000)).toThrow(/row 0/);
    const other = enc(ids.deltaSplit).encode(times, 'f64').slice();
    other[33] ^= 0xff; // flip eight selector bits: the small-row count no longer matches
    expect(() => decodeBlock(ids.deltaSplit, other, 'f64', 1000)).toThrow();
  });
});

/** Values of `kind` from a small pool (so runs and dictionaries occur), NaN payloads included for f64. */
function poolValues(r: Rand, kind: PhysicalKind, n: number, poolSize: number): Values {
  const pool = Array.from({ length: poolSize }, () => (kind === 'f64' ? [below(r, 1e4) / 10, NaN, -0, 2 ** 60, r()][below(r, 5)] : below(r, kind === 'u8' ? 256 : 2 ** 32)));
  const values = kind === 'f64' ? new Float64Array(n) : kind === 'u32' ? new Uint32Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) values[i] = pool[below(r, poolSize)];
  if (kind === 'f64' && n > 0) new BigUint64Array(values.buffer, 0, 1)[0] = 0x7ff4000000000123n; // a NaN payload
  return values;
}

/** A validity bitmap with `density` valid rows, and null rows given the writer's filler. */
function nullsFilled(values: Values, r: Rand, density: number): Uint8Array {
  const n = values.length;
  const validity = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) if (r() < density) validity[i >> 3] |= 1 << (i & 7);
  const size = values.BYTES_PER_ELEMENT;
  const bytes = new Uint8Array(values.buffer, values.byteOffset, n * size);
  let from = -1;
  for (let i = 0; i < n; i++) if (from < 0 && (validity[i >> 3] >> (i & 7)) & 1) from = i;
  for (let i = 0; i < n && from >= 0; i++) {
    if ((validity[i >> 3] >> (i & 7)) & 1) from = i;
    else bytes.copyWithin(i * size, from * size, from * size + size);
  }
  return validity;
}

describe('sparse', () => {
  const block = fc.record({
    kind: fc.constantFrom<PhysicalKind>('f64', 'u32', 'u8'),
    n: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constantFrom(1, 7, 8, 9, 65_536), fc.integer({ min: 0, max: 70_000 })),
    density: fc.constantFrom(0, 0.001, 0.02, 0.15, 0.5, 0.97, 1),
    pool: fc.constantFrom(1, 3, 60, 5000),
    seed: fc.integer(),
  });

  it('round-trips blocks whose null rows hold the filler, given their validity, and refuses the rest', () => {
    fc.assert(
      fc.property(block, ({ kind, n, density, pool, seed }) => {
        const r = mulberry32(seed);
        const values = poolValues(r, kind, n, pool);
        const validity = nullsFilled(values, r, density);
        let valid = 0;
        for (let i = 0; i < n; i++) valid += (validity[i >> 3] >> (i & 7)) & 1;
        const sparse = enc(ids.sparse);
        if (valid === 0 || valid === n) {
          expect(sparse.analyze(values, kind, validity)).toBeNull();
          return;
        }
        roundTrip(ids.sparse, values, kind, validity);
        expect(sparse.analyze(values, kind, null)).toBeNull();
        expect(() => sparse.decode(sparse.encode(values, kind, validity), kind, n)).toThrow(/validity/);
        // A null row holding anything but the filler is refused: the decoder could not rebuild it.
        const i = [...Array(n).keys()].find((k) => ((validity[k >> 3] >> (k & 7)) & 1) === 0)!;
        const changed = values.slice();
        changed[i] = kind === 'f64' ? 0.123 : (changed[i] + 1) % (kind === 'u8' ? 256 : 2 ** 32);
        if (bitsOf(changed.subarray(i, i + 1))[0] !== bitsOf(values.subarray(i, i + 1))[0]) {
          expect(sparse.analyze(changed, kind, validity)).toBeNull();
        }
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('a column present on 15% of rows costs about 15% of its dense encoding, and encodeBest stores it sparse', () => {
    const r = mulberry32(21);
    const values = new Float64Array(65_536).map(() => below(r, 60));
    const validity = nullsFilled(values, r, 0.15);
    const best = encodeBest(values, 'f64', validity);
    expect(best.encodingId).toBe(ids.sparse);
    expect(best.bytes.length).toBeLessThan(0.2 * encodeBest(new Float64Array(65_536).map(() => below(r, 60)), 'f64').bytes.length);
  });

  it('a block whose bitmap marks more or fewer valid rows than it holds is rejected', () => {
    const r = mulberry32(22);
    const values = new Uint32Array(1000).map(() => below(r, 100));
    const validity = nullsFilled(values, r, 0.3);
    const bytes = enc(ids.sparse).encode(values, 'u32', validity);
    const more = validity.slice();
    more[5] = 0xff;
    more[6] = 0xff;
    expect(() => decodeBlock(ids.sparse, bytes, 'u32', 1000, undefined, more)).toThrow(/valid rows/);
  });
});

describe('dictionary-sorted', () => {
  /**
   * Latency-like values as the generator logs them: log-normal around a few endpoint medians,
   * one decimal below 100 ms, whole milliseconds from 100 up, a 1% tail.
   */
  function latencies(r: Rand, n: number): Float64Array {
    const normal = (): number => (r() + r() + r() + r() + r() + r() - 3) * Math.SQRT2;
    return new Float64Array(n).map(() => {
      const v = [20, 45, 120, 300][below(r, 4)] * Math.exp(0.55 * normal()) * (r() < 0.01 ? 6 : 1);
      return v >= 100 ? Math.round(v) : Math.round(v * 10) / 10;
    });
  }

  it('round-trips short decimals (any exponent, negative values) and raw tables (NaN payloads, -0)', () => {
    fc.assert(
      fc.property(
        fc.record({
          exponent: fc.integer({ min: 0, max: 6 }),
          distinct: fc.oneof(fc.constantFrom(1, 2, 255, 256, 257, 65_536), fc.integer({ min: 1, max: 3000 })),
          n: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 70_000 })),
          raw: fc.boolean(),
          seed: fc.integer(),
        }),
        ({ exponent, distinct, n, raw, seed }) => {
          const r = mulberry32(seed);
          const pool = new Float64Array(distinct).map(() => (below(r, 2 ** 31) - 2 ** 30) / 10 ** exponent);
          if (raw) new BigUint64Array(pool.buffer).set([0xfff8000000000abcn, 0x8000000000000000n].slice(0, distinct));
          const values = new Float64Array(n).map(() => pool[below(r, distinct)]);
          const e = enc(ids.dictionarySorted);
          if (e.analyze(values, 'f64') === null) {
            // Only too many distinct values are refused.
            expect(new Set<bigint | number>(bitsOf(values)).size).toBeGreaterThan(Math.min(65_536, Math.max(1, Math.floor((n * 3) / 4))));
            return;
          }
          roundTrip(ids.dictionarySorted, values, 'f64');
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('stores latency-like blocks in under 2/3 of dictionary-f64, and encodeBest picks it', () => {
    // A segment's block of one day and shard: ~16k rows, ~1,700 distinct values.
    const values = latencies(mulberry32(31), 16_384);
    const bytes = roundTrip(ids.dictionarySorted, values, 'f64');
    expect(bytes.length).toBeLessThan((2 / 3) * enc(ids.dictionaryF64).analyze(values, 'f64')!);
    expect(encodeBest(values, 'f64').encodingId).toBe(ids.dictionarySorted);
  });

  it('nested inside sparse, with a delta-split table, still round-trips (scratch space is not shared)', () => {
    const r = mulberry32(32);
    const values = latencies(r, 65_536);
    const validity = nullsFilled(values, r, 0.7);
    const bytes = roundTrip(ids.sparse, values, 'f64', validity);
    expect(bytes[0]).toBe(ids.dictionarySorted);
    // A second block decoded in between must not disturb the first's result.
    const other = encodeBest(sessionTimes(r, 65_536, 15_000), 'f64');
    const out = decodeBlock(ids.sparse, bytes, 'f64', 65_536, undefined, validity);
    decodeBlock(other.encodingId, other.bytes, 'f64', 65_536);
    expectSameBits(out, values, 'first block after a second decode');
  });
});
