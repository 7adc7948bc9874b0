/**
 * The short-string table of the stream dictionaries (short-strings.ts) against a Map: every
 * string of at most SHORT_MAX bytes without NUL has a key of its own (so a lookup that compares
 * keys finds exactly the string's code) from which the string is read back, across the table's
 * growth and its clearing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keyText, SHORT_MAX, ShortTable, shortKey } from '../../ingest/short-strings.js';

/** Bytes 1–255, up to SHORT_MAX of them; few distinct ones, so strings repeat and share prefixes. */
const shortBytes = fc.array(fc.constantFrom(1, 0x20, 0x41, 0x42, 0x7f, 0x80, 0xff), { maxLength: SHORT_MAX }).map((b) => Uint8Array.from(b));
const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

describe('short-string keys', () => {
  it('differ for different strings (so no two strings share a code) and give the string back', () => {
    fc.assert(
      fc.property(fc.array(shortBytes, { minLength: 1, maxLength: 4 }), (seeds) => {
        // Each string with all its prefixes and suffixes: strings sharing words, shifted by a word or a byte.
        const strings = seeds.flatMap((b) => Array.from({ length: b.length + 1 }, (_, k) => [b.subarray(0, k), b.subarray(k)]).flat());
        const keys = strings.map((b) => {
          // at an offset, as in a scanner's input
          const buf = new Uint8Array(3 + b.length);
          buf.set(b, 3);
          const key = new Int32Array(3);
          shortKey(buf, 3, b.length, key, 0);
          // and the key gives the string back (new strings are decoded from it)
          expect(keyText(b.length, key[0], key[1], key[2])).toBe(text(b));
          return Array.from(key).join();
        });
        for (let i = 0; i < strings.length; i++) {
          for (let j = 0; j < i; j++) expect(keys[i] === keys[j]).toBe(text(strings[i]) === text(strings[j]));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('find the codes a Map holds, through growth and clearing', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(shortBytes, fc.constant(null)), { maxLength: 600 }), (items) => {
        const table = new ShortTable();
        const ref = new Map<string, number>();
        const key = new Int32Array(3);
        for (const b of items) {
          if (b === null) {
            table.clear();
            ref.clear();
            continue;
          }
          shortKey(b, 0, b.length, key, 0);
          const found = table.find(key[0], key[1], key[2]);
          expect(found).toBe(ref.get(text(b)) ?? -1);
          if (found < 0) {
            table.add(key[0], key[1], key[2], ref.size);
            ref.set(text(b), ref.size);
          }
          expect(table.used).toBe(ref.size);
        }
      }),
      { numRuns: 200 },
    );
  });
});
