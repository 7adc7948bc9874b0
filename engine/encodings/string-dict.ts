/**
 * The stored form of a segment's string dictionary (sorted, distinct strings; see
 * segment-format.ts). Sorted neighbours share prefixes, so each entry is stored front-coded: the
 * length of the prefix it shares with the previous entry, then its own suffix. When every suffix
 * character comes from at most 16 distinct UTF-16 code units (hex ids like session "s5d94fe16",
 * digits) the suffixes are packed two characters a byte; otherwise they are stored as UTF-8 (or
 * as UTF-16 code units when a string holds a lone surrogate, which UTF-8 cannot carry). A session
 * dictionary of random 8-hex-digit ids drops from ~10 to ~5 bytes an entry.
 *
 * The prefix every entry shares (the "s" of session ids) is stored once, and when every entry has
 * the same length, suffix lengths are left out (they follow from the shared prefix lengths).
 *
 * Older segments store the dictionary as a msgpack array; `decodeDict` reads both. The compact
 * form starts with 0xc1, a byte msgpack never uses, so the two cannot be confused.
 *
 * Layout of the compact form (lengths in UTF-16 code units; entries below are after the common
 * prefix):
 *   0   u8   0xc1
 *   1   u8   suffix mode: 0 = UTF-8, 1 = nibbles, 2 = UTF-16LE code units
 *   2   u8   alphabet size a (mode 1, 1..16; else 0)
 *   3   u8   flags: bit 0 = every entry has length L (suffix lengths omitted)
 *   4   u32  entry count n
 *   8   u32  suffix byte length
 *   12  u32  common prefix length c
 *   16  u32  L (0 unless flag bit 0)
 *   20  c × u16 common prefix
 *   ..  a × u16 alphabet (mode 1)
 *   ..  n LEB128 shared-prefix lengths, then (unless flag bit 0) n LEB128 suffix lengths
 *   ..  suffix bytes: all suffixes back to back in the mode's form
 */
import { unpack } from 'msgpackr';

const TAG = 0xc1;
const UTF8 = 0;
const NIBBLES = 1;
const UTF16 = 2;
const FIXED_LENGTH = 1;
const HEADER_BYTES = 20;

/** Length of the prefix `a` and `b` share, in code units, never ending inside a surrogate pair. */
function sharedPrefix(a: string, b: string): number {
  const max = Math.min(a.length, b.length);
  let k = 0;
  while (k < max && a.charCodeAt(k) === b.charCodeAt(k)) k++;
  // A prefix ending in a high surrogate would leave its low half to start the suffix.
  if (k > 0) {
    const last = a.charCodeAt(k - 1);
    if (last >= 0xd800 && last <= 0xdbff) k--;
  }
  return k;
}

function varintBytes(v: number): number {
  let bytes = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    bytes++;
  }
  return bytes;
}

function writeVarint(out: Uint8Array, at: number, v: number): number {
  while (v >= 128) {
    out[at++] = (v & 127) | 128;
    v = Math.floor(v / 128);
  }
  out[at++] = v;
  return at;
}

/**
 * Scratch by UTF-16 code unit, all zero between calls: `alphabetOf` marks the units it has seen,
 * and `encodeDict` keeps each alphabet unit's nibble + 1 there while it packs.
 */
const byUnit = new Uint8Array(0x10000);

/** The code units of `suffixes` if there are at most 16 distinct ones (ascending), else null. */
function alphabetOf(suffixes: string[]): number[] | null {
  const seen: number[] = [];
  for (const s of suffixes) {
    for (let i = 0; i < s.length; i++) {
      const u = s.charCodeAt(i);
      if (byUnit[u] !== 0) continue;
      byUnit[u] = 1;
      seen.push(u);
      if (seen.length > 16) break;
    }
    if (seen.length > 16) break;
  }
  for (const u of seen) byUnit[u] = 0;
  return seen.length > 16 ? null : seen.sort((a, b) => a - b);
}

/** Length of the prefix every entry of `dict` shares (0 for fewer than two entries). */
function commonPrefix(dict: readonly string[]): number {
  if (dict.length < 2) return 0;
  let c = dict[0].length;
  for (let i = 1; i < dict.length && c > 0; i++) c = Math.min(c, sharedPrefix(dict[0].slice(0, c), dict[i]));
  return c;
}

/** The stored form of `dict` (any strings; sorted ones share the most). */
export function encodeDict(dict: readonly string[]): Uint8Array {
  const n = dict.length;
  const c = commonPrefix(dict);
  const rest = c === 0 ? dict : dict.map((e) => e.slice(c));
  const prefixes = new Uint32Array(n);
  const suffixes: string[] = new Array(n);
  let fixedLength = n > 0 ? rest[0].length : 0;
  for (let i = 0; i < n; i++) {
    const p = i === 0 ? 0 : sharedPrefix(rest[i - 1], rest[i]);
    prefixes[i] = p;
    suffixes[i] = rest[i].slice(p);
    if (rest[i].length !== fixedLength) fixedLength = -1;
  }
  const fixed = n > 0 && fixedLength >= 0;
  const alphabet = alphabetOf(suffixes);
  let mode = UTF8;
  let suffixBytes: Uint8Array;
  if (alphabet !== null && alphabet.length > 0) {
    mode = NIBBLES;
    // Equivalent to packing suffixes.join('') two units a byte, by each unit's index in the alphabet.
    let units = 0;
    for (const sfx of suffixes) units += sfx.length;
    suffixBytes = new Uint8Array((units + 1) >> 1);
    alphabet.forEach((u, k) => (byUnit[u] = k + 1));
    let i = 0;
    for (const sfx of suffixes) {
      for (let j = 0; j < sfx.length; j++, i++) suffixBytes[i >> 1] |= (byUnit[sfx.charCodeAt(j)] - 1) << ((i & 1) * 4);
    }
    for (const u of alphabet) byUnit[u] = 0;
  } else {
    const joined = suffixes.join('');
    suffixBytes = Buffer.from(joined, 'utf8');
    if (Buffer.from(suffixBytes).toString('utf8') !== joined) {
      mode = UTF16; // a lone surrogate: UTF-8 would replace it
      suffixBytes = Buffer.from(joined, 'utf16le');
    }
  }
  const a = mode === NIBBLES ? alphabet!.length : 0;
  let lengthBytes = 0;
  for (let i = 0; i < n; i++) lengthBytes += varintBytes(prefixes[i]) + (fixed ? 0 : varintBytes(suffixes[i].length));
  const out = new Uint8Array(HEADER_BYTES + 2 * c + 2 * a + lengthBytes + suffixBytes.length);
  const view = new DataView(out.buffer);
  out[0] = TAG;
  out[1] = mode;
  out[2] = a;
  out[3] = fixed ? FIXED_LENGTH : 0;
  view.setUint32(4, n, true);
  view.setUint32(8, suffixBytes.length, true);
  view.setUint32(12, c, true);
  view.setUint32(16, fixed ? fixedLength : 0, true);
  let at = HEADER_BYTES;
  for (let k = 0; k < c; k++, at += 2) view.setUint16(at, dict[0].charCodeAt(k), true);
  for (let k = 0; k < a; k++, at += 2) view.setUint16(at, alphabet![k], true);
  for (let i = 0; i < n; i++) at = writeVarint(out, at, prefixes[i]);
  if (!fixed) for (let i = 0; i < n; i++) at = writeVarint(out, at, suffixes[i].length);
  out.set(suffixBytes, at);
  return out;
}

/** Reads LEB128 varints from `bytes`, each below 2^31; throws past the end. */
class VarintReader {
  constructor(
    private readonly bytes: Uint8Array,
    public at: number,
  ) {}

  next(): number {
    let v = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.at >= this.bytes.length) throw new Error('dictionary truncated');
      const b = this.bytes[this.at++];
      v += (b & 127) * 2 ** shift;
      if (b < 128) return v;
    }
    throw new Error('dictionary length too long');
  }
}

/** The suffix code units of a compact dictionary, back to back. */
function suffixUnits(mode: number, bytes: Uint8Array, alphabet: Uint16Array, totalUnits: number): Uint16Array {
  const units = new Uint16Array(totalUnits);
  if (mode === NIBBLES) {
    if (bytes.length !== (totalUnits + 1) >> 1) throw new Error('dictionary suffixes truncated');
    for (let i = 0; i < totalUnits; i++) {
      const k = (bytes[i >> 1] >> ((i & 1) * 4)) & 15;
      if (k >= alphabet.length) throw new Error('dictionary character outside its alphabet');
      units[i] = alphabet[k];
    }
    return units;
  }
  if (mode === UTF16) {
    if (bytes.length !== 2 * totalUnits) throw new Error('dictionary suffixes truncated');
    new Uint8Array(units.buffer).set(bytes);
    return units;
  }
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8');
  if (text.length !== totalUnits) throw new Error('dictionary suffixes do not match their lengths');
  for (let i = 0; i < totalUnits; i++) units[i] = text.charCodeAt(i);
  return units;
}

/** Buffer's native decoders of a byte range (not in its typings). */
interface NativeSlices {
  latin1Slice(start: number, end: number): string;
  ucs2Slice(start: number, end: number): string;
}

/** A dictionary from its stored form, compact or msgpack; throws when the bytes are malformed. */
export function decodeDict(bytes: Uint8Array): string[] {
  if (bytes.length === 0 || bytes[0] !== TAG) {
    const dict: unknown = unpack(bytes);
    if (!Array.isArray(dict) || dict.some((e) => typeof e !== 'string')) throw new Error('dictionary is not a list of strings');
    return dict as string[];
  }
  if (bytes.length < HEADER_BYTES) throw new Error('dictionary truncated');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const mode = bytes[1];
  const a = bytes[2];
  const fixed = (bytes[3] & FIXED_LENGTH) !== 0;
  const n = view.getUint32(4, true);
  const suffixLength = view.getUint32(8, true);
  const c = view.getUint32(12, true);
  const fixedLength = view.getUint32(16, true);
  if (mode > UTF16 || (mode === NIBBLES) !== (a > 0) || a > 16 || n > bytes.length || bytes[3] > FIXED_LENGTH) throw new Error('dictionary header damaged');
  if (HEADER_BYTES + 2 * (c + a) > bytes.length) throw new Error('dictionary truncated');
  const alphabet = new Uint16Array(a);
  for (let k = 0; k < a; k++) alphabet[k] = view.getUint16(HEADER_BYTES + 2 * (c + k), true);
  const reader = new VarintReader(bytes, HEADER_BYTES + 2 * (c + a));
  const prefixes = new Uint32Array(n);
  const lengths = new Uint32Array(n);
  for (let i = 0; i < n; i++) prefixes[i] = reader.next();
  let totalUnits = 0;
  for (let i = 0; i < n; i++) {
    const length = fixed ? fixedLength - prefixes[i] : reader.next();
    if (length < 0) throw new Error('dictionary prefix longer than its entry');
    totalUnits += lengths[i] = length;
  }
  if (reader.at + suffixLength !== bytes.length) throw new Error('dictionary length mismatch');
  const units = suffixUnits(mode, bytes.subarray(reader.at), alphabet, totalUnits);
  let totalEntryUnits = 0;
  for (let i = 0, previous = 0; i < n; i++) {
    if (prefixes[i] > previous) throw new Error('dictionary prefix longer than the previous entry');
    previous = prefixes[i] + lengths[i];
    totalEntryUnits += c + previous;
  }
  const common = new Uint16Array(c);
  let wide = false;
  for (let k = 0; k < c; k++) {
    const unit = view.getUint16(HEADER_BYTES + 2 * k, true);
    common[k] = unit;
    if (unit > 0xff) wide = true;
  }
  for (let k = 0; k < units.length && !wide; k++) wide = units[k] > 0xff;
  // Every entry's code units back to back (the common prefix, the part shared with the previous
  // entry, its suffix).
  const all = wide ? new Uint16Array(totalEntryUnits) : new Uint8Array(totalEntryUnits);
  const starts = new Uint32Array(n + 1);
  for (let i = 0, at = 0, from = 0, previousStart = 0; i < n; i++) {
    const start = at;
    starts[i] = start;
    for (let k = 0; k < c; k++) all[at++] = common[k];
    // The shared part is the previous entry's, after its common prefix.
    for (let k = 0; k < prefixes[i]; k++) all[at++] = all[previousStart + c + k];
    for (let k = 0; k < lengths[i]; k++) all[at++] = units[from++];
    previousStart = start;
  }
  starts[n] = totalEntryUnits;
  return entriesOf(all, starts, wide);
}

/** Code units decoded as one string at a time, at most (far below the engine's longest string). */
const WINDOW_UNITS = 2 ** 20;
/**
 * Entries shorter than this are sliced from a window's string, which copies them (V8 shares
 * the characters of a slice only from 13 code units on, SlicedString::kMinLength); longer ones
 * are decoded on their own, so that no entry keeps a window's whole string alive.
 */
const SLICED_MIN = 13;

/**
 * The strings of entries [starts[i], starts[i + 1]) of `all` (Latin-1 bytes, or UTF-16 code
 * units when `wide`): a window of entries is decoded natively in one call and short entries
 * sliced from it, a cost per entry well below a String.fromCharCode call each.
 */
function entriesOf(all: Uint8Array | Uint16Array, starts: Uint32Array, wide: boolean): string[] {
  const n = starts.length - 1;
  const buf = Buffer.from(all.buffer, all.byteOffset, all.byteLength) as unknown as NativeSlices;
  const decode = (from: number, to: number): string => (wide ? buf.ucs2Slice(2 * from, 2 * to) : buf.latin1Slice(from, to));
  const dict: string[] = new Array(n);
  for (let i = 0; i < n; ) {
    // A window: entries from i while their units fit WINDOW_UNITS (at least one entry).
    const base = starts[i];
    let end = i + 1;
    while (end < n && starts[end + 1] - base <= WINDOW_UNITS) end++;
    let text: string | null = null; // decoded once a short entry needs it
    for (; i < end; i++) {
      const from = starts[i];
      const to = starts[i + 1];
      dict[i] = to - from >= SLICED_MIN ? decode(from, to) : (text ??= decode(base, starts[end])).slice(from - base, to - base);
    }
  }
  return dict;
}
