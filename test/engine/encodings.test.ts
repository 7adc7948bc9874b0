/**
 * Property tests for the encoding family: on random blocks of every physical kind and many shapes
 * (random bit patterns, edge values, integers of every width, sorted and run-sorted timestamps,
 * short decimals, few distinct values, runs, constants; 0..70000 rows; without nulls, or with
 * random or run-shaped nulls whose rows hold the writer's filler or arbitrary values), every
 * encoding that accepts a block round-trips it bit for bit given the block's validity, its
 * estimate matches its output, truncated blocks are rejected, and encodeBest picks the smallest
 * and is never larger than plain. A block is built from (shape, size, seed, nulls), so a failing
 * case prints as a short seed fast-check can shrink.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBlock, decodeValidValues, encodeBest, ENCODINGS, ENCODING_IDS, type PhysicalKind } from '../../engine/encodings/index.js';
import { encodeSparseValid, encodeSparseWith } from '../../engine/encodings/sparse.js';
import { mulberry32 } from '../../bench/generator/rng.js';

type Values = Float64Array | Uint32Array | Uint8Array;
type Rand = () => number;

const RUNS = Number(process.env.ENCODING_PROPERTY_RUNS ?? 120);

const rng = (seed: number): Rand => mulberry32(seed);

const u32 = (r: Rand): number => Math.floor(r() * 4294967296);
const below = (r: Rand, n: number): number => Math.floor(r() * n);
/** A uniform integer in [0, 2^w), w ≤ 53. */
const bits = (r: Rand, w: number): number => (w <= 32 ? Math.floor(r() * 2 ** w) : below(r, 2 ** (w - 32)) * 4294967296 + u32(r));

function fromBits(lo: number, hi: number): number {
  const words = new Uint32Array([lo, hi]);
  return new Float64Array(words.buffer)[0];
}

/** Float64 edge values, as bit patterns where a number literal would lose the payload. */
const EDGE_F64 = [
  0, -0, NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 53), 2 ** 53 - 1, 2 ** 53 + 2, Number.MAX_VALUE, -Number.MAX_VALUE,
  Number.MIN_VALUE, -Number.MIN_VALUE, 2.2250738585072014e-308, 1e-300, 1e300, 0.1, 0.30000000000000004, 12.375, -3.25, 1, -1,
  4294967295, 4294967296, 1.7e12,
  fromBits(1, 0x7ff00000), // signalling NaN
  fromBits(0x123, 0xfff80000), // negative quiet NaN with a payload
  fromBits(0, 0x7ff40000), // signalling NaN, high payload bit
];
const EDGE_U32 = [0, 1, 2, 255, 256, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 4294967294, 4294967295];

type Fill = (r: Rand, n: number, out: number[] | Values) => void;

function pooled(pool: number[]): Fill {
  return (r, n, out) => {
    for (let i = 0; i < n; i++) out[i] = pool[below(r, pool.length)];
  };
}

function runsOf(value: (r: Rand) => number, maxRun: number): Fill {
  return (r, n, out) => {
    for (let i = 0; i < n; ) {
      const v = value(r);
      const end = Math.min(n, i + 1 + below(r, maxRun));
      while (i < end) out[i++] = v;
    }
  };
}

/** Epoch-ms timestamps: sorted, or sorted within per-actor runs that restart within a day. */
function timestamps(maxStep: number, maxRun: number): Fill {
  return (r, n, out) => {
    const t0 = 1.7e12 + below(r, 2 ** 30);
    for (let i = 0; i < n; ) {
      let t = t0 + below(r, 86_400_000);
      const end = Math.min(n, i + 1 + below(r, maxRun));
      for (; i < end; i++) out[i] = t += below(r, maxStep + 1);
    }
  };
}

const F64_SHAPES: Record<string, Fill> = {
  bits: (r, n, out) => {
    for (let i = 0; i < n; i++) out[i] = fromBits(u32(r), u32(r));
  },
  edges: pooled(EDGE_F64),
  integers: (r, n, out) => {
    const w = below(r, 55);
    const base = (r() < 0.5 ? -1 : 1) * bits(r, below(r, 54));
    for (let i = 0; i < n; i++) out[i] = base + bits(r, w) - (r() < 0.001 ? 0.5 : 0);
  },
  bigIntegers: pooled([0, 1, -1, 2 ** 53, -(2 ** 53), 2 ** 53 - 2, -(2 ** 53) + 2, 2 ** 52 + 1, -(2 ** 52) - 1, 2 ** 32, 2 ** 31 - 1]),
  sortedTimes: timestamps(1000, 1e9),
  actorTimes: timestamps(60_000, 300),
  decimals: (r, n, out) => {
    const e = below(r, 6);
    const w = below(r, 48);
    for (let i = 0; i < n; i++) out[i] = (bits(r, w) - 2 ** (w - 1)) / 10 ** e;
  },
  fewDistinct: (r, n, out) => {
    const pool = Array.from({ length: 1 + below(r, 300) }, () => (r() < 0.3 ? EDGE_F64[below(r, EDGE_F64.length)] : fromBits(u32(r), u32(r))));
    const fill = pooled(pool);
    fill(r, n, out);
  },
  runs: runsOf((r) => (r() < 0.2 ? EDGE_F64[below(r, EDGE_F64.length)] : below(r, 1000) / 8), 500),
  constant: (r, n, out) => {
    const v = r() < 0.5 ? EDGE_F64[below(r, EDGE_F64.length)] : fromBits(u32(r), u32(r));
    for (let i = 0; i < n; i++) out[i] = v;
  },
};

const U32_SHAPES: Record<string, Fill> = {
  random: (r, n, out) => {
    for (let i = 0; i < n; i++) out[i] = u32(r);
  },
  edges: pooled(EDGE_U32),
  narrow: (r, n, out) => {
    const w = below(r, 33);
    const base = below(r, 2 ** 32 - 2 ** w + 1);
    for (let i = 0; i < n; i++) out[i] = base + bits(r, w);
  },
  sortedIds: (r, n, out) => {
    let id = below(r, 1000);
    const maxRun = 1 + below(r, 400);
    for (let i = 0; i < n; ) {
      const end = Math.min(n, i + 1 + below(r, maxRun));
      while (i < end) out[i++] = id;
      id += 1 + (r() < 0.05 ? below(r, 50) : 0);
    }
  },
  walk: (r, n, out) => {
    let v = u32(r);
    for (let i = 0; i < n; i++) out[i] = v = (v + below(r, 201) - 100) >>> 0;
  },
  runs: runsOf((r) => EDGE_U32[below(r, EDGE_U32.length)], 300),
  constant: (r, n, out) => {
    const v = EDGE_U32[below(r, EDGE_U32.length)];
    for (let i = 0; i < n; i++) out[i] = v;
  },
};

const U8_SHAPES: Record<string, Fill> = {
  random: (r, n, out) => {
    for (let i = 0; i < n; i++) out[i] = below(r, 256);
  },
  booleans: (r, n, out) => {
    const p = r();
    for (let i = 0; i < n; i++) out[i] = r() < p ? 1 : 0;
  },
  booleanRuns: runsOf((r) => below(r, 2), 200),
  narrow: (r, n, out) => {
    const w = below(r, 9);
    const base = below(r, 256 - 2 ** w + 1);
    for (let i = 0; i < n; i++) out[i] = base + bits(r, w);
  },
  edges: pooled([0, 1, 127, 128, 254, 255]),
  constant: (r, n, out) => out.fill(below(r, 256), 0, n),
};

const SHAPES: Record<PhysicalKind, Record<string, Fill>> = { f64: F64_SHAPES, u32: U32_SHAPES, u8: U8_SHAPES };
const SIZES = fc.oneof(
  fc.integer({ min: 0, max: 40 }),
  fc.constantFrom(0, 1, 2, 31, 32, 33, 63, 64, 65, 1000, 65535, 65536, 70000),
  fc.integer({ min: 0, max: 70000 }),
);

interface Block {
  shape: string;
  values: Values;
  /** Validity bitmap (bit set = valid) or null; encoders and decoders get it as the writer passes it. */
  validity: Uint8Array | null;
}

/**
 * Null patterns: none, or a density of nulls (all, none, sparse, dense) in random rows or runs.
 * `filled` null rows hold the segment writer's filler (the previous valid value, the first valid
 * value before it), as stored blocks do; otherwise they keep arbitrary values.
 */
const NULLS = fc.oneof(
  fc.constant(null),
  fc.record({ density: fc.constantFrom(0, 0.01, 0.15, 0.5, 0.9, 0.999, 1), runs: fc.boolean(), filled: fc.boolean(), seed: fc.integer() }),
);

function withNulls(values: Values, spec: { density: number; runs: boolean; filled: boolean; seed: number }): Uint8Array {
  const r = rng(spec.seed);
  const n = values.length;
  const validity = new Uint8Array((n + 7) >> 3);
  let isNull = false;
  for (let i = 0; i < n; i++) {
    if (!spec.runs || r() < 0.05) isNull = r() < spec.density;
    if (!isNull) validity[i >> 3] |= 1 << (i & 7);
  }
  if (spec.filled) {
    let first = -1;
    for (let i = 0; i < n && first < 0; i++) if ((validity[i >> 3] >> (i & 7)) & 1) first = i;
    // Copy bit patterns through a byte view: NaN payloads must survive as the writer's copies do.
    const size = values.BYTES_PER_ELEMENT;
    const bytes = new Uint8Array(values.buffer, values.byteOffset, n * size);
    let from = first;
    for (let i = 0; i < n && first >= 0; i++) {
      if ((validity[i >> 3] >> (i & 7)) & 1) from = i;
      else bytes.copyWithin(i * size, from * size, from * size + size);
    }
  }
  return validity;
}

/** A block of `kind` values: a shape, a size, a seed, an element offset into its buffer, nulls. */
function blockArb(kind: PhysicalKind): fc.Arbitrary<Block> {
  return fc
    .record({ shape: fc.constantFrom(...Object.keys(SHAPES[kind])), size: SIZES, seed: fc.integer(), offset: fc.integer({ min: 0, max: 3 }), nulls: NULLS })
    .map(({ shape, size, seed, offset, nulls }) => {
      const all = kind === 'f64' ? new Float64Array(size + offset) : kind === 'u32' ? new Uint32Array(size + offset) : new Uint8Array(size + offset);
      const values = all.subarray(offset);
      SHAPES[kind][shape](rng(seed), size, values);
      return { shape, values, validity: nulls === null ? null : withNulls(values, nulls) };
    });
}

/** Index of the first element whose bit pattern differs (float64 compared as 64-bit words), or -1. */
function firstDifference(a: Values, b: Values, n: number): number {
  if (a instanceof Float64Array && b instanceof Float64Array) {
    const x = new BigUint64Array(a.buffer, a.byteOffset, n);
    const y = new BigUint64Array(b.buffer, b.byteOffset, n);
    for (let i = 0; i < n; i++) if (x[i] !== y[i]) return i;
    return -1;
  }
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length >= n && b.length >= n ? -1 : 0;
}

function emptyLike(values: Values, n: number): Values {
  return values instanceof Float64Array ? new Float64Array(n) : values instanceof Uint32Array ? new Uint32Array(n) : new Uint8Array(n);
}

const KINDS: PhysicalKind[] = ['f64', 'u32', 'u8'];

describe('every encoding round-trips what it accepts', () => {
  for (const kind of KINDS) {
    it(`${kind}: bit-exact decode, exact estimate, into out, from unaligned bytes, truncation rejected`, () => {
      const accepted = new Map<string, number>();
      fc.assert(
        fc.property(blockArb(kind), fc.integer({ min: 1, max: 7 }), ({ values, validity }, misalign) => {
          const n = values.length;
          for (const encoding of ENCODINGS.values()) {
            if (!encoding.kinds.includes(kind)) continue;
            const estimate = encoding.analyze(values, kind, validity);
            if (estimate === null) continue;
            accepted.set(encoding.name, (accepted.get(encoding.name) ?? 0) + 1);
            const bytes = encoding.encode(values, kind, validity);
            expect(bytes.length, `${encoding.name} estimate`).toBe(estimate);
            expect(firstDifference(encoding.decode(bytes, kind, n, undefined, validity), values, n), encoding.name).toBe(-1);

            // Into a larger, dirty `out`: the first n slots are overwritten, the rest untouched.
            const out = emptyLike(values, n + 3).fill(7);
            expect(encoding.decode(bytes, kind, n, out, validity)).toBe(out);
            expect(firstDifference(out, values, n), `${encoding.name} into out`).toBe(-1);
            expect(Array.from(out.subarray(n)), `${encoding.name} wrote past rowCount`).toEqual([7, 7, 7]);

            // From bytes at an odd offset, as a block sits behind a validity bitmap in a file.
            const shifted = new Uint8Array(bytes.length + misalign);
            shifted.set(bytes, misalign);
            const back = decodeBlock(encoding.id, shifted.subarray(misalign), kind, n, undefined, validity);
            expect(firstDifference(back, values, n), `${encoding.name} unaligned`).toBe(-1);

            if (bytes.length > 0) {
              const cut = bytes.length - 1 - ((misalign * 7919) % bytes.length);
              expect(() => encoding.decode(bytes.subarray(0, cut), kind, n, undefined, validity), `${encoding.name} truncated to ${cut}`).toThrow();
            }
          }
        }),
        { numRuns: RUNS },
      );
      // Every encoding for this kind was exercised, so the property above is not vacuous.
      for (const encoding of ENCODINGS.values()) {
        if (encoding.kinds.includes(kind)) expect(accepted.get(encoding.name) ?? 0, encoding.name).toBeGreaterThan(0);
      }
    });

    it(`${kind}: a sparse block encoded from its valid rows' list is the block encoded by finding them (encodeSparseValid)`, () => {
      const sparse = ENCODINGS.get(ENCODING_IDS.sparse)!;
      let compared = 0;
      fc.assert(
        fc.property(blockArb(kind), ({ values, validity }) => {
          // Blocks the sparse encoding takes: null rows holding the writer's filler, some of each.
          if (sparse.analyze(values, kind, validity) === null) return;
          const valid = Uint32Array.from({ length: values.length }, (_, i) => i).filter((i) => ((validity![i >> 3] >> (i & 7)) & 1) === 1);
          for (const inner of ENCODINGS.values()) {
            if (!inner.kinds.includes(kind) || inner.id === sparse.id) continue;
            let expected: Uint8Array;
            try {
              expected = encodeSparseWith(inner, values, kind, validity);
            } catch {
              expect(() => encodeSparseValid(inner, values, kind, valid)).toThrow(); // the inner encoding cannot hold the values
              continue;
            }
            expect(Buffer.compare(encodeSparseValid(inner, values, kind, valid), expected)).toBe(0);
            compared++;
          }
        }),
        { numRuns: RUNS },
      );
      expect(compared).toBeGreaterThan(0);
    });

    it(`${kind}: sparse takes exactly the blocks with null and valid rows whose null rows hold the writer's filler`, () => {
      const sparse = ENCODINGS.get(ENCODING_IDS.sparse)!;
      const seen = { taken: 0, refused: 0 };
      fc.assert(
        fc.property(blockArb(kind), ({ values, validity }) => {
          if (validity === null) return;
          // The reference: bit patterns compared byte by byte against the latest valid row's (the first valid row's before it).
          const n = values.length;
          const size = values.BYTES_PER_ELEMENT;
          const bytes = new Uint8Array(values.buffer, values.byteOffset, n * size);
          const isValid = (i: number): boolean => ((validity[i >> 3] >> (i & 7)) & 1) === 1;
          let from = -1;
          for (let i = 0; i < n && from < 0; i++) if (isValid(i)) from = i;
          let nulls = 0;
          let filled = true;
          for (let i = 0; i < n && from >= 0; i++) {
            if (isValid(i)) from = i;
            else {
              nulls++;
              for (let b = 0; b < size; b++) if (bytes[i * size + b] !== bytes[from * size + b]) filled = false;
            }
          }
          const takes = from >= 0 && nulls > 0 && filled;
          expect(sparse.analyze(values, kind, validity) !== null).toBe(takes);
          seen[takes ? 'taken' : 'refused']++;
        }),
        { numRuns: RUNS },
      );
      expect(seen.taken).toBeGreaterThan(0);
      expect(seen.refused).toBeGreaterThan(0);
    });

    it(`${kind}: decodeValidValues gives a sparse block's valid values in row order, and null for every other encoding`, () => {
      const sparse = ENCODINGS.get(ENCODING_IDS.sparse)!;
      let sparseBlocks = 0;
      fc.assert(
        fc.property(blockArb(kind), ({ values, validity }) => {
          const { encodingId, bytes } = encodeBest(values, kind, validity);
          const got = decodeValidValues(encodingId, bytes, kind, values.length, validity ?? new Uint8Array((values.length + 7) >> 3).fill(0xff));
          if (encodingId !== sparse.id) {
            expect(got).toBeNull();
            return;
          }
          sparseBlocks++;
          const want = Array.from(values).filter((_, i) => ((validity![i >> 3] >> (i & 7)) & 1) === 1);
          expect(Array.from(got!)).toEqual(want);
        }),
        { numRuns: RUNS },
      );
      expect(sparseBlocks).toBeGreaterThan(0);
    });

    it(`${kind}: encodeBest takes sparse where it applies, else the smallest written estimate, never above plain, and round-trips`, () => {
      const sparse = ENCODINGS.get(ENCODING_IDS.sparse)!;
      const plainSize = (values: Values): number => ENCODINGS.get(ENCODING_IDS.plain)!.analyze(values, kind)!;
      fc.assert(
        fc.property(blockArb(kind), ({ values, validity }) => {
          const n = values.length;
          const { encodingId, bytes } = encodeBest(values, kind, validity);
          const sparseSize = sparse.analyze(values, kind, validity);
          if (sparseSize !== null) {
            expect(encodingId).toBe(sparse.id);
            // Valid rows only: never more than a header and a few packing words above the best dense form.
            const denseBest = encodeBest(values, kind, null).bytes.length;
            expect(bytes.length).toBeLessThanOrEqual(denseBest + 24);
          } else {
            // dictionary-f64 is read but no longer written.
            const sizes = [...ENCODINGS.values()]
              .filter((e) => e.kinds.includes(kind) && e.id !== sparse.id && e.id !== ENCODING_IDS.dictionaryF64)
              .map((e) => e.analyze(values, kind, validity))
              .filter((s): s is number => s !== null);
            expect(bytes.length).toBe(Math.min(...sizes));
            expect(bytes.length).toBeLessThanOrEqual(plainSize(values));
          }
          expect(firstDifference(decodeBlock(encodingId, bytes, kind, n, undefined, validity), values, n)).toBe(-1);
        }),
        { numRuns: RUNS },
      );
    });
  }
});

describe('integer encodings refuse what they cannot hold exactly', () => {
  const forBitpack = ENCODINGS.get(ENCODING_IDS.forBitpack)!;
  const delta = ENCODINGS.get(ENCODING_IDS.deltaBitpack)!;

  it('accept f64 blocks only of integers with |v| ≤ 2^53, no -0, and a range below 2^53', () => {
    fc.assert(
      fc.property(blockArb('f64'), ({ values }) => {
        const list = Array.from(values);
        const allIntegers = list.every((v) => Number.isInteger(v) && Math.abs(v) <= 2 ** 53 && !Object.is(v, -0));
        const min = list.reduce((a, v) => Math.min(a, v), Infinity);
        const max = list.reduce((a, v) => Math.max(a, v), -Infinity);
        const fits = allIntegers && (values.length === 0 || max - min <= Number.MAX_SAFE_INTEGER);
        expect(forBitpack.analyze(values, 'f64') !== null).toBe(fits);
        if (!allIntegers) expect(delta.analyze(values, 'f64')).toBeNull();
      }),
      { numRuns: RUNS },
    );
  });
});
