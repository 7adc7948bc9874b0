/**
 * The sparse gather against the row-by-row one: for a column with few valid rows,
 * `gatherSparse` from `positionsOfValid` gives every block exactly what `gatherRange` gives
 * (values with the filler rule, bitmap, null count, min and max, -0 and NaN included), and the
 * segment dictionary and remapped codes built from its valid rows are those built from every row.
 * `positionsOfValid` declines a column with more than one valid row in eight. The row-by-row
 * gather lists the valid rows of a block with nulls, from which a sparse block is encoded.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../bench/generator/rng.js';
import { ENCODING_IDS, encodingById } from '../../engine/encodings/index.js';
import { encodeSparseValid, encodeSparseWith } from '../../engine/encodings/sparse.js';
import { remapGathered, segmentDict } from '../../engine/storage/segment-dict.js';
import { gatherRange, gatherSparse, positionsOfValid, rankRows } from '../../engine/storage/segment-gather.js';
import type { StoredType } from '../../engine/storage/typed-column.js';
import { below, plain, randomColumn, shuffled } from './gather-helpers.js';

describe('gatherSparse', () => {
  it('gives every block what gatherRange gives, and the same segment dictionaries', () => {
    const cases = fc.record({
      rows: fc.integer({ min: 0, max: 2500 }),
      type: fc.constantFrom<StoredType>('number', 'string', 'boolean'),
      density: fc.constantFrom(0, 0.003, 0.03, 0.11, 0.2, 0.6),
      cuts: fc.integer({ min: 0, max: 4 }),
      blockRows: fc.constantFrom(8, 64, 1000, 65_536),
      seed: fc.integer(),
    });
    fc.assert(
      fc.property(cases, (c) => {
        const r = mulberry32(c.seed);
        // Code order is not string order, as in a tail's dictionary.
        const dict = Array.from({ length: 30 }, (_, k) => `v${(k * 11) % 30}`);
        const col = randomColumn(r, c.type, c.rows, c.density, dict);
        const order = shuffled(r, c.rows);
        let valid = 0;
        for (let i = 0; i < c.rows; i++) if ((col.validity![i >> 3] >> (i & 7)) & 1) valid++;
        let ranked = 0;
        const positions = positionsOfValid(col, c.rows, () => (ranked++, rankRows(order)));
        if (c.rows < 8 || valid * 8 > c.rows) {
          expect(positions).toBeNull();
          return;
        }
        expect(positions).not.toBeNull();
        expect(ranked).toBe(1);
        expect(positions!.length).toBe(valid);
        const bounds = [0, ...Array.from({ length: c.cuts }, () => below(r, c.rows + 1)).sort((a, b) => a - b), c.rows];
        for (let k = 0; k + 1 < bounds.length; k++) {
          const [start, end] = [bounds[k], bounds[k + 1]];
          const dense = gatherRange(col, order.subarray(start, end), c.blockRows);
          const densePlain = dense.map(plain);
          const denseDict = col.type === 'string' ? segmentDict(dict, dense) : null;
          if (denseDict !== null) for (const g of dense) remapGathered(g, denseDict.remap, denseDict.dict);
          const denseMapped = dense.map(plain);
          const sparse = gatherSparse(col, order, start, end, positions!, c.blockRows);
          expect(sparse.map(plain)).toEqual(densePlain);
          for (const g of sparse) if (g.min !== null) expect(Array.from(g.valid!, (i) => (g.validity === null ? 1 : (g.validity[i >> 3] >> (i & 7)) & 1))).toEqual(Array(g.valid!.length).fill(1));
          if (denseDict === null) continue;
          const sparseDict = segmentDict(dict, sparse);
          expect(sparseDict.dict).toEqual(denseDict.dict);
          for (const g of sparse) remapGathered(g, sparseDict.remap, sparseDict.dict);
          expect(sparse.map(plain)).toEqual(denseMapped);
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe('gatherRange valid rows', () => {
  it('lists the valid rows of each block with nulls, and a sparse block encoded from them is the one found from its bitmap', () => {
    const cases = fc.record({
      rows: fc.integer({ min: 0, max: 2500 }),
      type: fc.constantFrom<StoredType>('number', 'string', 'boolean'),
      density: fc.constantFrom(null, 0, 0.03, 0.2, 0.6, 0.97, 1),
      blockRows: fc.constantFrom(8, 64, 1000, 65_536),
      seed: fc.integer(),
    });
    fc.assert(
      fc.property(cases, (c) => {
        const r = mulberry32(c.seed);
        const dict = Array.from({ length: 30 }, (_, k) => `v${k}`);
        const col = randomColumn(r, c.type, c.rows, c.density, dict);
        const kind = c.type === 'number' ? 'f64' : c.type === 'boolean' ? 'u8' : 'u32';
        for (const g of gatherRange(col, shuffled(r, c.rows), c.blockRows)) {
          const n = g.values.length;
          const setBits: number[] = [];
          if (g.validity !== null) for (let i = 0; i < n; i++) if ((g.validity[i >> 3] >> (i & 7)) & 1) setBits.push(i);
          if (g.nc === 0 || g.nc === n) {
            expect(g.valid).toBeUndefined();
            continue;
          }
          expect(Array.from(g.valid!)).toEqual(setBits);
          const inner = encodingById(ENCODING_IDS.plain);
          expect(encodeSparseValid(inner, g.values, kind, g.valid!)).toEqual(encodeSparseWith(inner, g.values, kind, g.validity));
        }
      }),
      { numRuns: 300 },
    );
  });
});
