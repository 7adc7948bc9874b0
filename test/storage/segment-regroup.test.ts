/**
 * Regrouping by segment against gathering straight from the shard's rows: for any permutation
 * cut into consecutive segments and any column (numbers with -0 and NaN, strings, booleans; with
 * and without nulls, bits past the last row set), gathering each segment from the regrouped
 * column in the regrouped order gives every block exactly what the direct gather gives. A
 * regrouping keeps each segment's rows in arrival order, and is declined where it cannot pay or
 * does not apply (ranges that are not consecutive from 0 to the order's end included).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../bench/generator/rng.js';
import { gatherRange } from '../../engine/storage/segment-gather.js';
import { REGROUP_MIN_ROWS, regroupColumn, regroupRows } from '../../engine/storage/segment-regroup.js';
import type { StoredType } from '../../engine/storage/typed-column.js';
import { below, plain, randomColumn, shuffled } from './gather-helpers.js';

describe('regroupRows and regroupColumn', () => {
  it('give every segment’s gather exactly what the direct gather gives', () => {
    const cases = fc.record({
      rows: fc.integer({ min: 0, max: 3000 }),
      type: fc.constantFrom<StoredType>('number', 'string', 'boolean'),
      density: fc.constantFrom(null, 0, 0.05, 0.5, 1),
      cuts: fc.integer({ min: 1, max: 5 }),
      blockRows: fc.constantFrom(8, 64, 1000, 65_536),
      seed: fc.integer(),
    });
    fc.assert(
      fc.property(cases, (c) => {
        const r = mulberry32(c.seed);
        const order = shuffled(r, c.rows);
        const bounds = [0, ...Array.from({ length: c.cuts }, () => below(r, c.rows + 1)).sort((a, b) => a - b), c.rows];
        const ranges = bounds.slice(1).map((end, k) => ({ start: bounds[k], end }));
        const g = regroupRows(order, ranges, c.rows, 0);
        expect(g).not.toBeNull();
        // Each segment's rows, in arrival order, are its stretch of the regrouped positions.
        for (const { start, end } of ranges) {
          const mine = Array.from(order.subarray(start, end)).sort((a, b) => a - b);
          expect(mine.map((row) => g!.at[row])).toEqual(Array.from({ length: end - start }, (_, k) => start + k));
        }
        const dict = Array.from({ length: 30 }, (_, k) => `v${k}`);
        const cols = [randomColumn(r, c.type, c.rows, c.density, dict), randomColumn(r, c.type, c.rows, c.density, dict)];
        for (const col of cols) {
          const regrouped = regroupColumn(col, g!);
          for (const { start, end } of ranges) {
            const direct = gatherRange(col, order.subarray(start, end), c.blockRows).map(plain);
            expect(gatherRange(regrouped, g!.order.subarray(start, end), c.blockRows).map(plain)).toEqual(direct);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('is declined for one segment, a small shard, ranges with gaps, or an order that is not the whole shard', () => {
    const order = shuffled(mulberry32(3), REGROUP_MIN_ROWS);
    const half = REGROUP_MIN_ROWS >> 1;
    expect(regroupRows(order, [{ start: 0, end: REGROUP_MIN_ROWS }], REGROUP_MIN_ROWS)).toBeNull();
    expect(regroupRows(order.subarray(0, half), [{ start: 0, end: 10 }, { start: 10, end: half }], half)).toBeNull();
    expect(regroupRows(order.subarray(0, half), [{ start: 0, end: 10 }, { start: 10, end: half }], REGROUP_MIN_ROWS, 0)).toBeNull();
    expect(regroupRows(order, [{ start: 0, end: 10 }, { start: 12, end: REGROUP_MIN_ROWS }], REGROUP_MIN_ROWS)).toBeNull();
    expect(regroupRows(order, [{ start: 0, end: 10 }, { start: 10, end: REGROUP_MIN_ROWS - 1 }], REGROUP_MIN_ROWS)).toBeNull();
    expect(regroupRows(order, [{ start: 0, end: 10 }, { start: 10, end: REGROUP_MIN_ROWS }], REGROUP_MIN_ROWS)).not.toBeNull();
  });
});
