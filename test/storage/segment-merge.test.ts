/**
 * A merge's validity bitmaps: blocks' bitmaps placed one after another at any row offset give
 * the bits a row-by-row copy gives, and each block reports whether all its rows are valid.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { copyValidity } from '../../engine/storage/segment-merge.js';

const bit = (bits: Uint8Array, i: number): boolean => (bits[i >> 3] & (1 << (i & 7))) !== 0;

describe('copyValidity', () => {
  it('places blocks of any length at any offset as a row-by-row copy does (property)', () => {
    // A block: its valid rows, or null (every row valid); bits past its rows are set at random,
    // as a bitmap's padding may be.
    const blockArb = fc.integer({ min: 0, max: 70 }).chain((n) =>
      fc.tuple(fc.constant(n), fc.option(fc.array(fc.boolean(), { minLength: n, maxLength: n }), { freq: 4 }), fc.integer({ min: 0, max: 255 })),
    );
    fc.assert(
      fc.property(fc.array(blockArb, { maxLength: 8 }), (blocks) => {
        const rows = blocks.reduce((s, [n]) => s + n, 0);
        const out = new Uint8Array((rows + 7) >> 3);
        const want: boolean[] = [];
        let base = 0;
        for (const [n, valid, padding] of blocks) {
          let bits: Uint8Array | null = null;
          if (valid !== null) {
            bits = new Uint8Array((n + 7) >> 3);
            valid.forEach((v, i) => v && (bits![i >> 3] |= 1 << (i & 7)));
            if ((n & 7) !== 0) bits[n >> 3] |= padding & ~((1 << (n & 7)) - 1) & 0xff;
          }
          expect(copyValidity(out, bits, base, n)).toBe(valid === null || valid.every((v) => v));
          want.push(...(valid ?? Array.from({ length: n }, () => true)));
          base += n;
        }
        expect(Array.from({ length: rows }, (_, i) => bit(out, i))).toEqual(want);
        // Nothing past the last row.
        for (let i = rows; i < out.length * 8; i++) expect(bit(out, i)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});
