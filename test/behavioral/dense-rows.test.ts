/**
 * dense-rows.ts: a streamed funnel's picked rows packed by position, and the memo a repeated
 * funnel restores them from. The funnel's answers from packed rows (fresh, and restored run
 * after run from cached blocks) are checked against runQuery in test/query/pick-memo.test.ts
 * and the behavioral property tests; here the packing itself, against plain indexing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { densePickBytes, denseRowsFor, gatherDense, packDense, restoreDense, type DenseRows } from '../../engine/query/behavioral/dense-rows.js';

/** Picked rows (ascending, below 2^16) of a row group of n rows, with each row's bits and actor id. */
const rowGroup = fc.integer({ min: 1, max: 300 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    picked: fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { maxLength: n }).map((rows) => rows.sort((a, b) => a - b)),
    bits: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: n, maxLength: n }),
    // Ids spanning less than 2^16 (a sorted row group's) or up to 2^32 − 1.
    ids: fc.oneof(
      fc.tuple(fc.integer({ min: 0, max: 2 ** 31 }), fc.array(fc.integer({ min: 0, max: 65_535 }), { minLength: n, maxLength: n })).map(([base, offsets]) => offsets.map((o) => base + o)),
      fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { minLength: n, maxLength: n }),
    ),
  }),
);

describe('dense rows', () => {
  it('pack picked rows by position, and a memo restores rows, bits and actor ids exactly', () => {
    fc.assert(
      fc.property(rowGroup, ({ n, picked, bits, ids }) => {
        const rows = Uint32Array.from(picked);
        const k = rows.length;
        const out: DenseRows = denseRowsFor({ bits: new Uint32Array(0), actors: new Uint32Array(0), units: null }, n);
        const base = gatherDense(rows, k, Uint32Array.from(bits), Uint32Array.from(ids), out);
        expect(Array.from(out.bits.subarray(0, k))).toEqual(picked.map((r) => bits[r]));
        expect(Array.from(out.actors.subarray(0, k))).toEqual(picked.map((r) => ids[r]));

        const memo = packDense(rows, out, k, base, null);
        const span = k === 0 ? 0 : Math.max(...picked.map((r) => ids[r])) - Math.min(...picked.map((r) => ids[r]));
        // Actor ids narrow to 16-bit offsets exactly when the picked ones span less than 2^16.
        expect(memo.actors.BYTES_PER_ELEMENT).toBe(span < 65_536 ? 2 : 4);
        expect(densePickBytes(k, base)).toBe(memo.rows.byteLength + memo.bits.byteLength + memo.actors.byteLength);

        // Restored into buffers holding other rows' leftovers.
        const back: DenseRows = { bits: new Uint32Array(n).fill(7), actors: new Uint32Array(n).fill(9), units: null };
        const backRows = new Uint32Array(n).fill(3);
        expect(restoreDense(memo, backRows, back)).toBe(k);
        expect(Array.from(backRows.subarray(0, k))).toEqual(picked);
        expect(Array.from(back.bits.subarray(0, k))).toEqual(picked.map((r) => bits[r]));
        expect(Array.from(back.actors.subarray(0, k))).toEqual(picked.map((r) => ids[r]));
      }),
      { numRuns: 300 },
    );
  });

  it('grow the buffers only when a row group needs more room', () => {
    const small = denseRowsFor({ bits: new Uint32Array(0), actors: new Uint32Array(0), units: null }, 10);
    expect(small.bits.length).toBe(10);
    expect(denseRowsFor(small, 8)).toBe(small);
    expect(denseRowsFor(small, 11).actors.length).toBe(11);
  });
});
