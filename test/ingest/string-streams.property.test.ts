/**
 * A stream dictionary coded from bytes (the NDJSON fast path) gives every distinct string one
 * code and returns it for every later occurrence, whichever way the string arrives (bytes or
 * string): for short strings kept in the hash slot, longer ones kept in the arena, ones too
 * long to keep, non-ASCII ones, across table growth, and when every hash collides.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DictStreams, StringStream } from '../../ingest/string-streams.js';

/** A hash of a string's bytes (any function of the bytes alone will do; the scanner has its own). */
function hashOf(bytes: Uint8Array): number {
  let h = 0;
  for (const c of bytes) h = (Math.imul(h, 31) + c) | 0;
  return h;
}

const word = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ minLength: 14, maxLength: 80 }),
  fc.constantFrom('', 'a', 'é', 'exactly16bytes!!', 'seventeen bytes!!', 'x'.repeat(64), 'x'.repeat(65)),
  // the same length and first bytes, apart in the last ones (the last partial word of a slot's bytes)
  fc.constantFrom('abcde', 'abcdf', 'abcdefg', 'abcdefh', 'abcdxfg', 'abcdefghi', 'abcdefghj', 'abcdefgxi', 'abcdefghijklmno', 'abcdefghijklmnp', 'abcdefghijklmxo'),
);

describe('stream dictionary coded from bytes', () => {
  it('one code per distinct string, the same for every occurrence, as bytes or as a string', () => {
    fc.assert(
      fc.property(fc.array(word, { maxLength: 400 }), fc.boolean(), fc.integer({ min: 0, max: 3 }), (words, collide, pad) => {
        const stream = new StringStream(1 << 20);
        const seen = new Map<string, number>();
        for (const [i, w] of words.entries()) {
          const raw = Buffer.from(w, 'utf8');
          // the string sits at an offset inside a larger buffer, as in a chunk of input
          const buf = Buffer.concat([Buffer.alloc(pad, 0x20), raw, Buffer.from('",')]);
          const ascii = raw.every((c) => c < 0x80);
          const code = i % 5 === 4 ? stream.codeOfString(w) : stream.codeOfBytes(buf, pad, raw.length, collide ? 7 : hashOf(raw), ascii);
          const before = seen.get(w);
          if (before === undefined) {
            expect([...seen.values()]).not.toContain(code);
            seen.set(w, code);
          } else expect(code, JSON.stringify(w)).toBe(before);
          expect(stream.strings[code]).toBe(w);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps codes through growth of the table with thousands of id-like strings', () => {
    const stream = new StringStream(1 << 20);
    const ids = Array.from({ length: 5000 }, (_, i) => (i % 3 === 0 ? `user-${i}-with-a-longer-name` : `u${i}`));
    const first = ids.map((s) => {
      const b = Buffer.from(s);
      return stream.codeOfBytes(b, 0, b.length, hashOf(b), true);
    });
    expect(new Set(first).size).toBe(ids.length);
    ids.forEach((s, i) => {
      const b = Buffer.from(s);
      expect(stream.codeOfBytes(b, 0, b.length, hashOf(b), true)).toBe(first[i]);
    });
  });

  it('defers lookups: placeholders settle to the codes immediate lookups give, in the same order', () => {
    fc.assert(
      fc.property(fc.array(word, { maxLength: 200 }), (words) => {
        const deferred = new DictStreams(1 << 20, -1).stream('c');
        const atOnce = new StringStream(1 << 20);
        deferred.begin();
        expect(deferred.deferring).toBe(true);
        const buf = Buffer.from(words.join(''), 'utf8');
        const codes = new Int32Array(words.length);
        const want = new Int32Array(words.length);
        let at = 0;
        for (const [i, w] of words.entries()) {
          const len = Buffer.byteLength(w);
          const ascii = buf.subarray(at, at + len).every((c) => c < 0x80);
          const h = hashOf(buf.subarray(at, at + len));
          // every seventh string arrives as a string: the pending ones are looked up first
          codes[i] = i % 7 === 6 ? deferred.codeOfString(w) : deferred.defer(buf, at, len, h, ascii);
          want[i] = i % 7 === 6 ? atOnce.codeOfString(w) : atOnce.codeOfBytes(buf, at, len, h, ascii);
          at += len;
        }
        deferred.settleCodes(codes, codes.length);
        expect(codes).toEqual(want);
        expect(deferred.strings).toEqual(atOnce.strings);
      }),
      { numRuns: 200 },
    );
  });

  it('resolves long runs of deferred lookups in blocks, through table growth and colliding hashes', () => {
    for (const collide of [false, true]) {
      const deferred = new DictStreams(1 << 20, -1).stream('c');
      const atOnce = new StringStream(1 << 20);
      deferred.begin();
      // 3,000 lookups, over 2,000 of them pending at once: many resolve blocks, and the pending arrays grow
      const words = Array.from({ length: 3000 }, (_, i) => (i % 3 === 0 ? `id-${i % 1700}` : `w${(i * 7919) % 2300}`));
      const buf = Buffer.from(words.join(''));
      const codes = new Int32Array(words.length);
      const want = new Int32Array(words.length);
      let at = 0;
      for (const [i, w] of words.entries()) {
        const h = collide ? 7 : hashOf(buf.subarray(at, at + w.length));
        codes[i] = i === 2100 ? deferred.codeOfString(w) : deferred.defer(buf, at, w.length, h, true);
        want[i] = i === 2100 ? atOnce.codeOfString(w) : atOnce.codeOfBytes(buf, at, w.length, h, true);
        at += w.length;
      }
      deferred.settleCodes(codes, codes.length);
      expect(codes).toEqual(want);
      expect(deferred.strings).toEqual(atOnce.strings);
    }
  });

  it('drops the deferred lookups of a batch that was never finished', () => {
    const streams = new DictStreams(1 << 20, -1);
    const stream = streams.stream('c');
    stream.begin();
    const input = Buffer.from('abandoned');
    expect(stream.defer(input, 0, input.length, hashOf(input), true)).toBe(-2);
    input.fill(0x21); // the abandoned chunk's memory is reused
    streams.beginBatch();
    stream.begin();
    expect(stream.codeOfString('next')).toBe(0);
    expect(stream.strings).toEqual(['next']);
  });
});
