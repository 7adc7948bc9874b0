/**
 * The sparse gather against the row-by-row one: for a column with few valid rows,
 * `gatherSparse` from `positionsOfValid` gives every block exactly what `gatherRange` gives
 * (values with the filler rule, bitmap, null count, min and max, -0 and NaN included), and the
 * segment dictionary and remapped codes built from its valid rows are those built from every row.
 * `positionsOfValid` declines a column with more than one valid row in eight.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../bench/generator/rng.js';
import { remapGathered, segmentDict } from '../../engine/storage/segment-dict.js';
import { gatherRange, gatherSparse, positionsOfValid, rankRows, type Gathered } from '../../engine/storage/segment-gather.js';
import type { StoredType, TypedColumn } from '../../engine/storage/typed-column.js';

type Rand = () => number;
const below = (r: Rand, n: number): number => Math.floor(r() * n);

/** A plain copy of a gathered block (the gathers reuse their scratch). */
function plain(g: Gathered): { values: number[]; validity: number[] | null; nc: number; min: unknown; max: unknown } {
  return { values: Array.from(g.values), validity: g.validity === null ? null : Array.from(g.validity), nc: g.nc, min: g.min, max: g.max };
}

function columnOf(r: Rand, type: StoredType, n: number, density: number, dict: string[]): TypedColumn {
  const validity = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) if (r() < density) validity[i >> 3] |= 1 << (i & 7);
  // Bits past the last row are set too: they are not rows and must be ignored.
  if ((n & 7) !== 0) validity[n >> 3] |= 0xff << (n & 7);
  const specials = [0, -0, NaN, -1.5, 1e300];
  const values =
    type === 'number' ? Float64Array.from({ length: n }, () => (r() < 0.2 ? specials[below(r, specials.length)] : below(r, 100)))
    : type === 'boolean' ? Uint8Array.from({ length: n }, () => below(r, 2))
    : Uint32Array.from({ length: n }, () => below(r, dict.length));
  return { name: 'c', type, values, validity, ...(type === 'string' ? { dict } : {}) };
}

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
        const col = columnOf(r, c.type, c.rows, c.density, dict);
        const order = Uint32Array.from({ length: c.rows }, (_, i) => i);
        for (let i = c.rows - 1; i > 0; i--) {
          const j = below(r, i + 1);
          [order[i], order[j]] = [order[j], order[i]];
        }
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
