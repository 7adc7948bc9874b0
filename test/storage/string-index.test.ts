/**
 * The typed string index behind a generation's dictionaries (engine/storage/string-index.ts)
 * finds exactly what a Map from string to code finds: every indexed string's code, -1 for any
 * other, across growth, with colliding hashes, and for strings equal in content but made apart.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashString, StringIndex } from '../../engine/storage/string-index.js';

/** Adds `s` unless indexed; returns its code (the dictionary's `codeOf`, over `hash`). */
function codeOf(index: StringIndex, values: string[], s: string, hash: (s: string) => number): number {
  const h = hash(s);
  let code = index.find(values, s, h);
  if (code < 0) {
    code = values.length;
    values.push(s);
    index.add(h, code);
  }
  return code;
}

describe('string index', () => {
  it('codes strings as a Map does, with real and with colliding hashes', () => {
    const word = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ maxLength: 6, unit: 'binary' }), fc.constantFrom('', 'a', 'A', '\u0000', 'é', 'e\u0301'));
    fc.assert(
      fc.property(fc.array(word, { maxLength: 600 }), fc.array(word, { maxLength: 50 }), fc.integer({ min: 0, max: 3 }), (words, probes, bits) => {
        // bits 0: the real hash; otherwise only `bits` low bits of it, so most strings collide
        const hash = bits === 0 ? hashString : (s: string) => hashString(s) & ((1 << bits) - 1);
        const index = new StringIndex(bits === 3 ? 1 : 64);
        const values: string[] = [];
        const reference = new Map<string, number>();
        for (const w of words) {
          // the same content as a distinct string object, as strings from another thread arrive
          const copy = Buffer.from(w, 'utf16le').toString('utf16le');
          const code = codeOf(index, values, copy, hash);
          if (!reference.has(w)) reference.set(w, reference.size);
          expect(code).toBe(reference.get(w));
          expect(values[code]).toBe(w);
        }
        expect(index.size).toBe(reference.size);
        for (const p of probes) expect(index.find(values, p, hash(p))).toBe(reference.get(p) ?? -1);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps every code through growth to tens of thousands of id-like strings', () => {
    const index = new StringIndex();
    const values: string[] = [];
    const ids = Array.from({ length: 50_000 }, (_, i) => `s${(i * 2654435761) >>> 0}`);
    ids.forEach((s, i) => expect(codeOf(index, values, s, hashString)).toBe(i));
    ids.forEach((s, i) => expect(index.find(values, `${s}`, hashString(s))).toBe(i));
    expect(index.find(values, 'absent', hashString('absent'))).toBe(-1);
    expect(index.size).toBe(ids.length);
  });
});
