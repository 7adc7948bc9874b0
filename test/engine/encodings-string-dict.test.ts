/**
 * String dictionaries as segments store them (engine/encodings/string-dict.ts): any list of
 * strings round-trips exactly through the compact form (sorted or not, empty strings, long shared
 * prefixes, non-ASCII, surrogate pairs and lone surrogates, hex ids that take the nibble form),
 * the older msgpack form still reads, damaged bytes throw instead of returning wrong strings, and
 * a dictionary of random session ids takes about half its msgpack size. fast-check prints the
 * seed of a failing case.
 */
import fc from 'fast-check';
import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decodeDict, encodeDict } from '../../engine/encodings/index.js';
import { mulberry32 } from '../../bench/generator/rng.js';

const RUNS = Number(process.env.ENCODING_PROPERTY_RUNS ?? 120);

/** Strings from several alphabets: hex ids, paths with shared prefixes, unicode, surrogates. */
const str = fc.oneof(
  fc.stringMatching(/^s[0-9a-f]{8}$/),
  fc.stringMatching(/^\/(item|blog|category)\/[0-9]{0,4}$/),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({ unit: fc.constantFrom('\ud83d', '\ude00', 'a', 'é', '\u0000'), maxLength: 8 }),
  fc.constant(''),
);

describe('string dictionaries', () => {
  it('round-trip exactly, sorted or not', () => {
    fc.assert(
      fc.property(fc.array(str, { maxLength: 300 }), fc.boolean(), (list, sorted) => {
        const dict = sorted ? [...new Set(list)].sort() : list;
        const bytes = encodeDict(dict);
        expect(bytes[0]).toBe(0xc1);
        expect(decodeDict(bytes)).toEqual(dict);
      }),
      { numRuns: RUNS * 3 },
    );
  });

  it('round-trip behind a common prefix of any characters (wide, surrogates, latin-1)', () => {
    fc.assert(
      fc.property(fc.constantFrom('€é', '\ud83d\ude00a', 'Āé', 'éé', '\ud83d', 'ab'), fc.array(str, { minLength: 1, maxLength: 60 }), fc.boolean(), (prefix, list, sorted) => {
        const withPrefix = list.map((s) => prefix + s);
        const dict = sorted ? [...new Set(withPrefix)].sort() : withPrefix;
        expect(decodeDict(encodeDict(dict))).toEqual(dict);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('read the msgpack form older segments hold', () => {
    const dict = ['', 'a', 'héllo', '\ud83d\ude00', 's0000beef'];
    expect(decodeDict(pack(dict))).toEqual(dict);
    expect(() => decodeDict(pack({ not: 'a list' }))).toThrow();
  });

  it('a large dictionary of random hex session ids round-trips at about half its msgpack size', () => {
    const r = mulberry32(41);
    const ids = [...new Set(Array.from({ length: 20_000 }, () => `s${Math.floor(r() * 2 ** 32).toString(16).padStart(8, '0')}`))].sort();
    const bytes = encodeDict(ids);
    expect(decodeDict(bytes)).toEqual(ids);
    expect(bytes.length).toBeLessThan(0.6 * pack(ids).length);
  });

  it('a dictionary past one decode window (2^20 code units) round-trips, entries short and long, narrow and wide', () => {
    const r = mulberry32(7);
    for (const wide of [false, true]) {
      const ids = new Set<string>();
      // ~90k entries of 4–40 units: entries below and above the 13 units from which V8 shares a slice's characters.
      while (ids.size < 90_000) {
        const length = 4 + Math.floor(r() * 37);
        let s = wide ? '€' : '';
        while (s.length < length) s += Math.floor(r() * 36).toString(36);
        ids.add(s);
      }
      const dict = [...ids].sort();
      expect(dict.reduce((n, s) => n + s.length, 0)).toBeGreaterThan(2 ** 20);
      expect(decodeDict(encodeDict(dict))).toEqual(dict);
    }
  });

  it('damaged bytes throw rather than decode to other strings', () => {
    fc.assert(
      fc.property(fc.array(str, { minLength: 1, maxLength: 50 }), fc.nat(), (list, cutSeed) => {
        const dict = [...new Set(list)].sort();
        const bytes = encodeDict(dict);
        const cut = cutSeed % bytes.length;
        expect(() => decodeDict(bytes.subarray(0, cut))).toThrow();
      }),
      { numRuns: RUNS },
    );
  });
});
