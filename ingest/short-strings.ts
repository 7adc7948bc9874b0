/**
 * The stream dictionaries' table for short ASCII strings (string-streams.ts): a string of at
 * most SHORT_MAX bytes is its own key, as three 32-bit words, so a lookup compares three
 * integers and never the bytes. Most event values are that short (names, countries, versions,
 * user and session ids), and this table's slots are half the byte table's.
 *
 * The key: the string's little-endian words (the last one zero-padded) in reverse order, the
 * last word first, zero past the first, as a scanner reading word by word gets them by shifting
 * each word in (json-fast.ts). It is one to one for strings without NUL bytes, which are the only
 * ones the callers bring (the scanner declines control characters): every word of such a string
 * has a non-zero byte, so the zero words count how many words it has, and the zero bytes of its
 * last word how long that is.
 *
 * Threading: one per stream dictionary; not thread-safe.
 */
import { latin1Slice } from './string-intern.js';

/** Longest string the table keys (three words). */
export const SHORT_MAX = 12;
/** Ints per slot: the three key words, then code + 1 (0: empty). */
const SLOT = 4;

export class ShortTable {
  private slots = new Int32Array(SLOT * 64);
  /** Strings held. */
  used = 0;
  /** After a `find` that missed: the empty slot the key goes to. */
  private hole = 0;

  /** The code of the key, or −1 (then `add` puts it where the probe ended). */
  find(w0: number, w1: number, w2: number): number {
    const slots = this.slots;
    const mask = (slots.length >> 2) - 1;
    let i = mixWords(w0, w1, w2) & mask;
    for (;;) {
      const at = i << 2;
      const code1 = slots[at + 3];
      if (code1 === 0) break;
      if (slots[at] === w0 && slots[at + 1] === w1 && slots[at + 2] === w2) return code1 - 1;
      i = (i + 1) & mask;
    }
    this.hole = i;
    return -1;
  }

  /** Adds the key the last `find` missed, with `code`. */
  add(w0: number, w1: number, w2: number, code: number): void {
    const at = this.hole << 2;
    this.slots[at] = w0;
    this.slots[at + 1] = w1;
    this.slots[at + 2] = w2;
    this.slots[at + 3] = code + 1;
    if (++this.used * 2 > this.slots.length >> 2) this.grow();
  }

  /** Reads the key's first slot (and returns a word of it): a lookup soon after finds it cached. */
  touch(w0: number, w1: number, w2: number): number {
    const slots = this.slots;
    return slots[((mixWords(w0, w1, w2) & ((slots.length >> 2) - 1)) << 2) + 3];
  }

  /** Empties the table, keeping its size (see StringStream.begin). */
  clear(): void {
    this.slots.fill(0);
    this.used = 0;
  }

  private grow(): void {
    const old = this.slots;
    const slots = new Int32Array(old.length * 2);
    slots.fill(0); // written before it is read: see StringStream.rehash
    const mask = (slots.length >> 2) - 1;
    for (let at = 0; at < old.length; at += SLOT) {
      if (old[at + 3] === 0) continue;
      let i = mixWords(old[at], old[at + 1], old[at + 2]) & mask;
      while (slots[(i << 2) + 3] !== 0) i = (i + 1) & mask;
      const to = i << 2;
      for (let k = 0; k < SLOT; k++) slots[to + k] = old[at + k];
    }
    this.slots = slots;
  }
}

/** The key of buf[start, start + len) (len ≤ SHORT_MAX), in out[at, at + 3). */
export function shortKey(buf: Uint8Array, start: number, len: number, out: Int32Array, at: number): void {
  let r0 = 0;
  let r1 = 0;
  let r2 = 0;
  for (let j = 0; j < len; j += 4) {
    let w = 0;
    for (let b = 0; b < 4 && j + b < len; b++) w |= buf[start + j + b] << (8 * b);
    r2 = r1;
    r1 = r0;
    r0 = w;
  }
  out[at] = r0;
  out[at + 1] = r1;
  out[at + 2] = r2;
}

/** Scratch for `keyText`: a key's bytes in order. */
const textBytes = Buffer.alloc(4 * 3);
const textView = new DataView(textBytes.buffer, textBytes.byteOffset, textBytes.byteLength);

/** The string of `len` ASCII bytes whose key is (w0, w1, w2). */
export function keyText(len: number, w0: number, w1: number, w2: number): string {
  const words = (len + 3) >> 2;
  // The key holds the last word first.
  if (words > 0) textView.setInt32(4 * (words - 1), w0, true);
  if (words > 1) textView.setInt32(4 * (words - 2), w1, true);
  if (words > 2) textView.setInt32(0, w2, true);
  return latin1Slice(textBytes, 0, len);
}

function mixWords(w0: number, w1: number, w2: number): number {
  const h = Math.imul(w0 ^ Math.imul(w1 ^ Math.imul(w2, 0x9e3779b1), 0x85ebca6b), 0xc2b2ae35);
  return h ^ (h >>> 15);
}
