/**
 * Validity bitmaps (build, count, stored form) against a per-row reference, and the LZ4 layer:
 * compressed only where it saves 10%, and decompression checks the length it was promised.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildValidity, compressIfPays, countNulls, decodeValidity, decompress, encodeValidity } from '../../engine/encodings/index.js';
import { isValid } from '../../engine/types.js';

/** Random null patterns: none, all, sparse, dense, and runs. */
const nullPattern = fc
  .record({ rowCount: fc.oneof(fc.integer({ min: 0, max: 70 }), fc.integer({ min: 0, max: 70000 })), density: fc.constantFrom(0, 0.001, 0.3, 0.9, 1), seed: fc.integer() })
  .map(({ rowCount, density, seed }) => {
    let a = seed >>> 0;
    const nulls = new Uint8Array(rowCount);
    for (let i = 0; i < rowCount; i++) {
      a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
      nulls[i] = a / 4294967296 < density ? 1 : 0;
    }
    return nulls;
  });

describe('validity bitmaps', () => {
  it('build, count and store the null pattern row for row', () => {
    fc.assert(
      fc.property(nullPattern, (nulls) => {
        const rowCount = nulls.length;
        const expectedNulls = nulls.reduce((a, b) => a + b, 0);
        const validity = buildValidity(rowCount, (i) => nulls[i] === 1);
        if (expectedNulls === 0) {
          expect(validity).toBeNull();
        } else {
          expect(validity!.length).toBe((rowCount + 7) >> 3);
          for (let i = 0; i < rowCount; i++) if (isValid(validity, i) !== (nulls[i] === 0)) throw new Error(`row ${i} differs`);
          // Bits past rowCount are 0.
          if (rowCount % 8 !== 0) expect(validity![validity!.length - 1] >> rowCount % 8).toBe(0);
        }
        expect(countNulls(validity, rowCount)).toBe(expectedNulls);
        const stored = encodeValidity(validity, rowCount);
        expect(stored.length).toBe(expectedNulls === 0 ? 0 : (rowCount + 7) >> 3);
        expect(decodeValidity(stored, rowCount)).toEqual(validity);
      }),
    );
  });

  it('countNulls ignores bits past the row count; a full bitmap is stored as nothing', () => {
    expect(countNulls(new Uint8Array([0b0000_0101]), 3)).toBe(1);
    expect(countNulls(new Uint8Array([0xff, 0x00]), 9)).toBe(1);
    expect(countNulls(null, 100)).toBe(0);
    expect(encodeValidity(new Uint8Array([0xff, 0x01]), 9).length).toBe(0);
  });

  it('a stored bitmap of the wrong length throws', () => {
    expect(() => decodeValidity(new Uint8Array(3), 9)).toThrow(/9 rows/);
    expect(() => countNulls(new Uint8Array(1), 9)).toThrow(/9 rows/);
  });
});

describe('compressIfPays / decompress', () => {
  it('compresses repetitive bytes and restores them exactly', () => {
    const bytes = new Uint8Array(100_000).map((_, i) => (i % 37) * 3);
    const { compressed, bytes: stored } = compressIfPays(bytes);
    expect(compressed).toBe(true);
    expect(stored.length).toBeLessThanOrEqual(bytes.length * 0.9);
    expect(Buffer.compare(decompress(stored, bytes.length), bytes)).toBe(0);
  });

  it('keeps incompressible and tiny inputs as they are', () => {
    let a = 12345;
    const noise = new Uint8Array(50_000).map(() => (a = (Math.imul(a, 1103515245) + 12345) >>> 0) >>> 24);
    const result = compressIfPays(noise);
    expect(result.compressed).toBe(false);
    expect(result.bytes).toBe(noise);
    expect(compressIfPays(new Uint8Array(10)).compressed).toBe(false);
  });

  it('round-trips random byte strings whenever it compresses them', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4000 }), fc.integer({ min: 1, max: 50 }), (seed, repeat) => {
        const bytes = new Uint8Array(seed.length * repeat);
        for (let k = 0; k < repeat; k++) bytes.set(seed, k * seed.length);
        const { compressed, bytes: stored } = compressIfPays(bytes);
        if (!compressed) {
          expect(stored).toBe(bytes);
        } else {
          expect(stored.length).toBeLessThanOrEqual(bytes.length * 0.9);
          expect(Buffer.compare(decompress(stored, bytes.length), bytes)).toBe(0);
        }
      }),
    );
  });

  it('decompress throws when the block does not hold the promised length', () => {
    const bytes = new Uint8Array(10_000).fill(7);
    const { bytes: stored } = compressIfPays(bytes);
    expect(() => decompress(stored, 9_999)).toThrow(/expected 9999/);
    expect(() => decompress(new Uint8Array(2), 10)).toThrow();
  });
});
