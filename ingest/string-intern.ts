/**
 * Byte-level string helpers for the parsers: Buffer's native latin1/utf8 slicers (typed here,
 * since @types/node omits them) and a small interning table, so repeated short values (event
 * names, countries, paths) are decoded once per thread instead of once per line.
 *
 * The table is direct-mapped by a hash the caller computes while scanning; a slot holds the last
 * value that hashed there (its bytes and its string). Not thread-safe; one per scanner.
 */

interface NativeSlices {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

/** buf[start, end) decoded as Latin-1 (for bytes known to be ASCII). */
export function latin1Slice(buf: Buffer, start: number, end: number): string {
  return (buf as unknown as NativeSlices).latin1Slice(start, end);
}

/** buf[start, end) decoded as UTF-8 (invalid sequences become U+FFFD, as in toString). */
export function utf8Slice(buf: Buffer, start: number, end: number): string {
  return (buf as unknown as NativeSlices).utf8Slice(start, end);
}

/** Values longer than this are decoded directly, never interned. */
export const INTERN_MAX_BYTES = 32;
const SLOTS = 65536;

export class StringInterner {
  private readonly bytes = new Uint8Array(SLOTS * INTERN_MAX_BYTES);
  private readonly lens = new Int32Array(SLOTS).fill(-1);
  private readonly strs: string[] = new Array<string>(SLOTS).fill('');

  /**
   * The string of buf[start, start + len) (len ≤ INTERN_MAX_BYTES), reusing the cached one when
   * the bytes match. `hash` is any hash of the bytes; `ascii` says every byte is below 0x80.
   */
  get(buf: Buffer, start: number, len: number, hash: number, ascii: boolean): string {
    const slot = (hash ^ (hash >>> 13)) & (SLOTS - 1);
    const base = slot * INTERN_MAX_BYTES;
    const bytes = this.bytes;
    if (this.lens[slot] === len) {
      let j = 0;
      while (j < len && bytes[base + j] === buf[start + j]) j++;
      if (j === len) return this.strs[slot];
    }
    const str = ascii ? asciiString(buf, start, len) : utf8Slice(buf, start, start + len);
    for (let j = 0; j < len; j++) bytes[base + j] = buf[start + j];
    this.lens[slot] = len;
    this.strs[slot] = str;
    return str;
  }
}

/** Short ASCII bytes as a string; a char-code loop beats the native call for a few bytes. */
function asciiString(buf: Buffer, start: number, len: number): string {
  if (len > 16) return latin1Slice(buf, start, start + len);
  let s = '';
  for (let j = 0; j < len; j++) s += String.fromCharCode(buf[start + j]);
  return s;
}
