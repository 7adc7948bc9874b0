/**
 * Codes sorted by their strings through numeric keys (string-order.ts) come out exactly as a
 * comparator sort orders them: strings sharing long prefixes, differing past the key's reach,
 * shorter ones that prefix longer ones, NUL and non-ASCII code units, lone surrogates, and
 * enough codes to take the keyed path.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sortCodesByString } from '../../engine/storage/string-order.js';

const reference = (codes: number[], source: string[]): number[] => codes.slice().sort((a, b) => (source[a] < source[b] ? -1 : 1));

const piece = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.string({ unit: 'binary', maxLength: 4 }),
  fc.constantFrom('', '\u0000', '~', '\u007f', 'é', '\ud800', 'session-', 's'),
  fc.stringMatching(/^[0-9a-f]{1,9}$/),
);

describe('sortCodesByString', () => {
  it('orders codes as a comparator sort does, in the keyed path and below it', () => {
    const words = (min: number, max: number) => fc.uniqueArray(fc.array(piece, { maxLength: 4 }).map((p) => p.join('')), { minLength: min, maxLength: max });
    fc.assert(
      fc.property(fc.oneof(words(0, 63), words(64, 400)), fc.constantFrom('', 's', 'https://example.com/'), (words, prefix) => {
        const source = words.map((w) => prefix + w);
        const codes = source.map((_, c) => c).reverse();
        expect(Array.from(sortCodesByString(codes.slice(), source))).toEqual(reference(codes, source));
      }),
      { numRuns: 200 },
    );
  });

  it('sorts thousands of hex ids that share a prefix, with long runs of equal keys too', () => {
    const ids = Array.from({ length: 5000 }, (_, i) => `s${((i * 2654435761) >>> 0).toString(16)}`);
    const same = Array.from({ length: 300 }, (_, i) => `samekeyprefix${i}`);
    for (const source of [ids, same, [...ids, ...same]]) {
      const codes = source.map((_, c) => c);
      expect(Array.from(sortCodesByString(codes.slice(), source))).toEqual(reference(codes, source));
    }
  });
});
