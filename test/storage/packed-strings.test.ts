/**
 * Large dictionaries go to the flush workers packed (packed-strings.ts), and a segment then
 * materializes only the strings it uses (segment-dict.ts): the packing gives every string back,
 * and a segment dictionary built from the packed form is the one built from the strings
 * (same strings in the same order, same code map, same remapped blocks).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../bench/generator/rng.js';
import { isPacked, packedAt, packStrings } from '../../engine/storage/packed-strings.js';
import { remapGathered, segmentDict } from '../../engine/storage/segment-dict.js';
import { gatherRange } from '../../engine/storage/segment-gather.js';
import { below, plain, randomColumn, shuffled } from './gather-helpers.js';

/** Strings with shared prefixes, empty ones, and characters outside the BMP and Latin-1. */
const someString = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
  fc.constantFrom('', 's', 'sess', 'session-0001', 'session-0002', 'é', '\u{1F600}', '\uffff', 'a\u0000b'),
);

describe('packed strings', () => {
  it('gives every string back by its code', () => {
    fc.assert(
      fc.property(fc.array(someString, { maxLength: 300 }), (values) => {
        const p = packStrings(values);
        expect(isPacked(p)).toBe(true);
        expect(isPacked(values)).toBe(false);
        expect(Array.from({ length: values.length }, (_, k) => packedAt(p, k))).toEqual(values);
      }),
      { numRuns: 300 },
    );
  });

  it('makes the same segment dictionaries, code maps and remapped blocks as the strings', () => {
    const cases = fc.record({
      dict: fc.uniqueArray(someString, { minLength: 1, maxLength: 400 }),
      rows: fc.integer({ min: 0, max: 3000 }),
      density: fc.constantFrom(null, 0.01, 0.3, 0.9),
      segments: fc.integer({ min: 1, max: 4 }),
      seed: fc.integer(),
    });
    fc.assert(
      fc.property(cases, (c) => {
        const r = mulberry32(c.seed);
        const packed = packStrings(c.dict);
        const col = randomColumn(r, 'string', c.rows, c.density, c.dict);
        const order = shuffled(r, c.rows);
        // Several segments in a row over the same dictionaries, as a flush cuts a shard.
        const cuts = Array.from({ length: c.segments - 1 }, () => below(r, c.rows + 1)).sort((a, b) => a - b);
        const bounds = [0, ...cuts, c.rows];
        for (let k = 0; k + 1 < bounds.length; k++) {
          const rows = order.subarray(bounds[k], bounds[k + 1]);
          const fromStrings = gatherRange(col, rows, 256);
          const fromPacked = gatherRange(col, rows, 256).map((g) => ({ ...g, values: g.values.slice() }));
          const a = segmentDict(c.dict, fromStrings);
          const b = segmentDict(packed, fromPacked);
          expect(b.dict).toEqual(a.dict);
          expect(a.dict).toEqual([...a.dict].sort());
          for (const g of fromStrings) remapGathered(g, a.remap, a.dict);
          for (const g of fromPacked) remapGathered(g, b.remap, b.dict);
          expect(fromPacked.map(plain)).toEqual(fromStrings.map(plain));
        }
      }),
      { numRuns: 200 },
    );
  });
});
