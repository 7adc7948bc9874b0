/**
 * The NDJSON fast path: a byte-level scanner for the common event shape — an object of strings
 * without escapes, numbers, booleans and null, with at most one level of nested objects. It emits
 * exactly what JSON.parse followed by flattening would, or declines (returns false) and the caller
 * falls back to JSON.parse, which also produces the error message for malformed lines.
 *
 * It declines whenever JSON.parse could differ from a left-to-right reading: escapes, control
 * characters, arrays, deeper nesting, keys starting with a digit (JSON.parse lists integer-like
 * keys first), and a key repeated within one object (JSON.parse keeps its first position but
 * last value). Numbers are read as JSON.parse reads them (json-number.ts); the time column's
 * ISO-8601 strings are parsed from the bytes without making a string.
 *
 * Speed comes from the key layout cache: the key layouts of earlier lines are kept as a tree of
 * key bytes with their flattened names and their builder columns, so a line with a known layout
 * compares bytes instead of decoding keys and looking them up (lines may alternate between
 * layouts). Values go to the builder without boxing: numbers as numbers, strings as codes of
 * their column's stream dictionary found from the bytes (string-streams.ts), so a value seen
 * before never becomes a JS string again. One scanner per thread and actor/time pair; it keeps
 * state between lines, so it is not re-entrant.
 */
import type { BatchBuilder } from './batch-builder.js';
import type { ColumnBuilder } from './column-builder.js';
import { numberEnd, numberPrefix } from './json-number.js';
import { parseIsoBytes, parseIsoMillisZ } from './parse-time.js';
import { latin1Slice, utf8Slice } from './string-intern.js';
import { SHORT_MAX, type StringStream } from './string-streams.js';

interface LayoutEntry {
  /** The key's raw bytes. */
  key: Uint8Array;
  /** The key's raw bytes followed by `":`, as compact JSON writes it. */
  lit: Uint8Array;
  /** `lit` as little-endian 32-bit words: the whole ones, then the last four bytes (null when shorter). */
  litWords: Int32Array | null;
  /** Flattened column name. */
  flat: string;
  /** The enclosing object's entry; null at the top level. */
  parent: LayoutEntry | null;
  /** 0: ordinary column, 1: actor, 2: time. */
  role: number;
  /** The previous key of the layout (the root for the first). */
  up: LayoutEntry | null;
  /** Keys seen after this one; `next` is the one seen last, tried first. */
  children: LayoutEntry[];
  next: LayoutEntry | null;
  /** No flattened name repeats on the path from the root to here. */
  ok: boolean;
  /** The column of `flat` in the builder with id `colOf` (the current one, usually). */
  col: ColumnBuilder | null;
  colOf: number;
}

const KEY_OR_CLOSE = 0;
const AFTER_VALUE = 1;
/** The layout tree starts over past this many keys, so odd inputs cannot grow it without bound. */
const MAX_LAYOUT_ENTRIES = 4096;

function rootEntry(): LayoutEntry {
  return { key: new Uint8Array(0), lit: new Uint8Array(0), litWords: null, flat: '', parent: null, role: 0, up: null, children: [], next: null, ok: true, col: null, colOf: 0 };
}

export class FastJsonScanner {
  /**
   * Key layouts seen so far, as a tree: a path from the root spells one line's keys in order, so
   * lines alternating between a few layouts (events of different kinds) all stay cached.
   */
  private root = rootEntry();
  private entries = 0;
  /** End position of the last scanned token (an out-parameter, to avoid allocating). */
  private pos = 0;
  /** After a successful `scan`: where the whitespace after the object ends (with `toNewline`, its line's newline or the chunk's end). */
  lineEnd = 0;
  private num = 0;
  /** Of the last scanned string: the hash of its bytes, and whether they are all ASCII. */
  private hash = 0;
  private ascii = true;
  /** Its key as a short string (its words, the last first: short-strings.ts), when at most SHORT_MAX bytes. */
  private w0 = 0;
  private w1 = 0;
  private w2 = 0;
  /** A view of the buffer being scanned, for reading 4 bytes at a time. */
  private view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  private viewOf: Buffer | null = null;

  constructor(
    private readonly actorColumn: string,
    private readonly timeColumn: string,
  ) {}

  /**
   * Scans the object in buf[start, end) into the builder's open row. Returns false, having
   * possibly emitted some fields, when the line needs JSON.parse (the caller restarts the row).
   * Long on purpose: one loop with a small state machine, no per-token calls in the common case.
   *
   * With `toNewline`, `end` is the end of the chunk rather than of the line: the object's line
   * is found by scanning it. A newline is then no whitespace (in NDJSON it ends the record), and
   * only spaces, tabs and carriage returns may follow the object before the newline or `end`;
   * `lineEnd` is where they stop. The scan reads the line's bytes as it would read them given
   * the line alone, so it accepts the same lines with the same fields, and the reader of an
   * NDJSON chunk need not look for each line's newline first.
   */
  scan(buf: Buffer, start: number, end: number, b: BatchBuilder, toNewline = false): boolean {
    // A byte skipWs takes for whitespace besides space, tab and carriage return (-1: none).
    const nl = toNewline ? -1 : 0x0a;
    let i = skipWs(buf, start, end, nl);
    if (i >= end || buf[i] !== 0x7b) return false;
    i++;
    if (this.viewOf !== buf) {
      this.viewOf = buf;
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    const view = this.view;
    if (this.entries > MAX_LAYOUT_ENTRIES) {
      this.root = rootEntry();
      this.entries = 0;
    }
    let node = this.root;
    let parent: LayoutEntry | null = null;
    let state = KEY_OR_CLOSE;
    for (;;) {
      if (buf[i] <= 0x20) i = skipWs(buf, i, end, nl);
      if (i >= end) return false;
      let c = buf[i];
      if (state === AFTER_VALUE || (state === KEY_OR_CLOSE && c === 0x7d)) {
        if (c === 0x2c && state === AFTER_VALUE) {
          // A comma: a key must follow, read in this same round.
          i++;
          if (buf[i] <= 0x20) i = skipWs(buf, i, end, nl);
          if (i >= end) return false;
          c = buf[i];
        } else {
          if (c !== 0x7d) return false;
          i++;
          if (parent === null) break;
          parent = null;
          state = AFTER_VALUE;
          continue;
        }
      }
      if (c !== 0x22) return false;
      const ks = i + 1;
      let k: number;
      let entry = node.next;
      if (entry !== null && entry.parent === parent && litAt(entry, view, buf, ks, end)) {
        // The key seen last after this one, written compactly: `key":` matched at once.
        node = entry;
        i = ks + entry.lit.length;
        if (buf[i] <= 0x20) i = skipWs(buf, i, end, nl);
      } else {
      entry = findChild(node, parent, buf, ks, end);
      if (entry !== null) {
        k = ks + entry.key.length; // a known key, already known to be plain
        node.next = entry;
      } else {
        // Key: bytes up to the closing quote, no escapes or control characters.
        k = ks;
        while (k < end && (c = buf[k]) !== 0x22) {
          if (c === 0x5c || c < 0x20) return false;
          k++;
        }
        if (k >= end) return false;
        if (k > ks && buf[ks] >= 0x30 && buf[ks] <= 0x39) return false;
        entry = this.newEntry(buf, ks, k, parent, node);
      }
      node = entry;
      i = skipWs(buf, k + 1, end, nl);
      if (buf[i] !== 0x3a) return false;
      i = skipWs(buf, i + 1, end, nl);
      }
      if (i >= end) return false;
      c = buf[i];
      let value: boolean | null;
      if (c === 0x22) {
        const role = entry.role;
        if (role === 2 && this.isoTime(buf, i + 1, end, b)) {
          i = this.pos; // the time column, read as ISO-8601 straight from the bytes
          state = AFTER_VALUE;
          continue;
        }
        if (!this.string(buf, i + 1, end)) return false;
        const len = this.pos - i - 2;
        // Strings become codes of their column's dictionary, straight from the bytes.
        if (role === 0) {
          const col = entry.colOf === b.id ? entry.col! : columnOf(entry, b);
          b.stageStr(col, this.code(col.stream, buf, i + 1, len));
        } else if (role === 1) {
          if (len === 0) b.setActorEmpty();
          else b.setActorCode(this.code(b.actorStream, buf, i + 1, len));
        } else {
          b.setTime(this.ascii ? latin1Slice(buf, i + 1, i + 1 + len) : utf8Slice(buf, i + 1, i + 1 + len));
        }
        i = this.pos;
        state = AFTER_VALUE;
        continue;
      } else if (c === 0x7b) {
        if (parent !== null || entry.role !== 0) return false;
        parent = entry;
        state = KEY_OR_CLOSE;
        i++;
        continue;
      } else if (c === 0x74) {
        if (i + 3 >= end || buf[i + 1] !== 0x72 || buf[i + 2] !== 0x75 || buf[i + 3] !== 0x65) return false;
        value = true;
        i += 4;
      } else if (c === 0x66) {
        if (i + 4 >= end || buf[i + 1] !== 0x61 || buf[i + 2] !== 0x6c || buf[i + 3] !== 0x73 || buf[i + 4] !== 0x65) return false;
        value = false;
        i += 5;
      } else if (c === 0x6e) {
        if (i + 3 >= end || buf[i + 1] !== 0x75 || buf[i + 2] !== 0x6c || buf[i + 3] !== 0x6c) return false;
        value = null;
        i += 4;
      } else {
        if (!this.number(buf, i, end)) return false;
        i = this.pos;
        if (entry.role === 0) b.stageNum(entry.colOf === b.id ? entry.col! : columnOf(entry, b), this.num);
        else if (entry.role === 1) b.setActorNum(this.num);
        else b.setTime(this.num);
        state = AFTER_VALUE;
        continue;
      }
      if (entry.role === 0) b.stageValue(entry.colOf === b.id ? entry.col! : columnOf(entry, b), value);
      else if (entry.role === 1) b.setActor(value);
      else b.setTime(value);
      state = AFTER_VALUE;
    }
    const rest = skipWs(buf, i, end, nl);
    if (rest !== end && (nl !== -1 || buf[rest] !== 0x0a)) return false;
    this.lineEnd = rest;
    return node.ok; // a repeated key: JSON.parse decides
  }

  /**
   * Finds the end of a string body from `s` (after the opening quote): this.pos after the closing
   * quote, this.hash (a hash of the bytes alone) and this.ascii of the bytes; false on escapes or
   * control characters.
   */
  private string(buf: Buffer, s: number, end: number): boolean {
    let k = s;
    let hash = 0;
    let high = 0;
    let c = 0;
    // The last three words, the last in r0 (the short-string key, short-strings.ts).
    let r0 = 0;
    let r1 = 0;
    let r2 = 0;
    // Four bytes at a time: a word of the string's bytes only is hashed whole; in the word that
    // holds the first quote, backslash or control character, the bytes before it are hashed as a
    // partial word (low bytes first), as the byte loop below hashes them near the end of the
    // input. So the hash depends on the string's bytes alone, wherever it sits.
    const view = this.view;
    for (const last = end - 4; k <= last; k += 4) {
      const w = view.getInt32(k, true);
      const q = w ^ 0x22222222;
      const bs = w ^ 0x5c5c5c5c;
      // some byte of q or bs is zero, or some byte of w is below 0x20; the lowest flagged byte is
      // the first such (a borrow only ever flags bytes above a real one)
      const special = (((q - 0x01010101) & ~q) | ((bs - 0x01010101) & ~bs) | ((w - 0x20202020) & ~w)) & 0x80808080;
      if (special === 0) {
        hash = Math.imul(hash ^ w, 0x9e3779b1);
        high |= w;
        r2 = r1;
        r1 = r0;
        r0 = w;
        continue;
      }
      const p = (31 - Math.clz32(special & -special)) >> 3;
      if (((w >>> (8 * p)) & 0xff) !== 0x22) return false; // a backslash or a control character first
      if (p > 0) {
        const part = w & ((1 << (8 * p)) - 1);
        hash = Math.imul(hash ^ part, 0x9e3779b1);
        high |= part;
        r2 = r1;
        r1 = r0;
        r0 = part;
      }
      return this.ended(k + p, hash, high, r0, r1, r2);
    }
    // Equivalent to the partial word above, byte by byte (fewer than four bytes are left).
    let part = 0;
    let p = 0;
    while (k < end && (c = buf[k]) !== 0x22) {
      if (c === 0x5c || c < 0x20) return false;
      part |= c << (8 * p);
      p++;
      k++;
    }
    if (k >= end) return false;
    if (p > 0) {
      hash = Math.imul(hash ^ part, 0x9e3779b1);
      high |= part;
      r2 = r1;
      r1 = r0;
      r0 = part;
    }
    return this.ended(k, hash, high, r0, r1, r2);
  }

  /** The code in `st` of the string just scanned, buf[start, start + len) (or its placeholder: see StringStream.defer). */
  private code(st: StringStream, buf: Buffer, start: number, len: number): number {
    if (this.ascii && len <= SHORT_MAX) {
      return st.deferring ? st.deferShort(len, this.w0, this.w1, this.w2) : st.codeOfShort(len, this.w0, this.w1, this.w2);
    }
    return st.deferring ? st.defer(buf, start, len, this.hash, this.ascii) : st.codeOfBytes(buf, start, len, this.hash, this.ascii);
  }

  /** Records a string whose closing quote is at `quote`. */
  private ended(quote: number, hash: number, high: number, r0: number, r1: number, r2: number): boolean {
    this.pos = quote + 1;
    this.hash = hash;
    this.w0 = r0;
    this.w1 = r1;
    this.w2 = r2;
    this.ascii = ((high | (high >>> 8) | (high >>> 16) | (high >>> 24)) & 0x80) === 0;
    return true;
  }

  /**
   * Reads a time string from `s` (after its opening quote) when it is plain ISO-8601, handing the
   * builder its milliseconds; false (nothing consumed) for anything else, which then goes the
   * string way and through parseTime, with the same result.
   */
  private isoTime(buf: Buffer, s: number, end: number, b: BatchBuilder): boolean {
    // Most times are `YYYY-MM-DDTHH:MM:SS.mmmZ` (toISOString's shape): read at fixed positions.
    if (s + 24 < end && buf[s + 24] === 0x22) {
      const fixed = parseIsoMillisZ(buf, s, this.view);
      if (fixed === fixed) {
        b.setTimeMs(fixed);
        this.pos = s + 25;
        return true;
      }
    }
    // Equivalent to: q = buf.indexOf('"', s), at most 40 bytes on (a native call costs more here).
    const limit = Math.min(end, s + 41);
    let q = s;
    while (q < limit && buf[q] !== 0x22) q++;
    if (q >= limit) return false;
    const ms = parseIsoBytes(buf, s, q);
    if (ms !== ms) return false; // NaN
    b.setTimeMs(Math.round(ms) + 0);
    this.pos = q + 1;
    return true;
  }

  /** Reads a JSON number at `s` into this.num; false when the grammar does not match. */
  private number(buf: Buffer, s: number, end: number): boolean {
    // One pass: the scanner then insists on a delimiter after the number, as the grammar does.
    const v = numberPrefix(buf, s, end);
    if (v !== v) return false; // NaN: not a JSON number
    this.num = v;
    this.pos = numberEnd.at;
    return true;
  }

  /** Adds the key in buf[ks, ke) as a new child of `node` (the previous key). */
  private newEntry(buf: Buffer, ks: number, ke: number, parent: LayoutEntry | null, node: LayoutEntry): LayoutEntry {
    const name = utf8Slice(buf, ks, ke);
    const flat = parent === null ? name : `${parent.flat}.${name}`;
    const role = flat === this.actorColumn ? 1 : flat === this.timeColumn ? 2 : 0;
    let ok = node.ok;
    for (let e: LayoutEntry | null = node; ok && e !== null && e.up !== null; e = e.up) if (e.flat === flat) ok = false;
    const key = Uint8Array.prototype.slice.call(buf, ks, ke);
    const lit = new Uint8Array(key.length + 2);
    lit.set(key);
    lit[key.length] = 0x22;
    lit[key.length + 1] = 0x3a;
    let litWords: Int32Array | null = null;
    if (lit.length >= 4) {
      const v = new DataView(lit.buffer);
      litWords = new Int32Array((lit.length >> 2) + 1);
      for (let j = 0; j + 4 <= lit.length; j += 4) litWords[j >> 2] = v.getInt32(j, true);
      litWords[litWords.length - 1] = v.getInt32(lit.length - 4, true);
    }
    const entry: LayoutEntry = { key, lit, litWords, flat, parent, role, up: node, children: [], next: null, ok, col: null, colOf: 0 };
    node.children.push(entry);
    node.next = entry;
    this.entries++;
    return entry;
  }
}

/** The builder's column for a layout entry, cached in the entry. */
function columnOf(entry: LayoutEntry, b: BatchBuilder): ColumnBuilder {
  entry.colOf = b.id;
  return (entry.col = b.column(entry.flat));
}

/** The child of `node` for the key at buf[ks] (with the closing quote after it) under `parent`, or null. */
function findChild(node: LayoutEntry, parent: LayoutEntry | null, buf: Buffer, ks: number, end: number): LayoutEntry | null {
  const children = node.children;
  for (let j = 0; j < children.length; j++) {
    const ch = children[j];
    if (ch.parent === parent && keyAt(ch.key, buf, ks, end)) return ch;
  }
  return null;
}

/** The first index from `i` that is not whitespace: space, tab, carriage return, or `nl` (0x0a, a newline; -1: none). */
function skipWs(buf: Buffer, i: number, end: number, nl: number): number {
  let c: number;
  while (i < end && ((c = buf[i]) === 0x20 || c === 0x09 || c === 0x0d || c === nl)) i++;
  return i;
}

/** True when buf (seen through `view`) holds the entry's `lit` at `start` (and more bytes after it). */
function litAt(entry: LayoutEntry, view: DataView<ArrayBufferLike>, buf: Buffer, start: number, end: number): boolean {
  const bytes = entry.lit;
  const len = bytes.length;
  if (start + len >= end) return false;
  const words = entry.litWords;
  if (words === null) {
    for (let j = 0; j < len; j++) if (bytes[j] !== buf[start + j]) return false;
    return true;
  }
  // Equivalent to comparing byte by byte: whole words, then the last four bytes (overlapping)
  let j = 0;
  for (; j + 4 <= len; j += 4) if (view.getInt32(start + j, true) !== words[j >> 2]) return false;
  return j === len || view.getInt32(start + len - 4, true) === words[words.length - 1];
}

/** True when buf holds exactly `key` at `start`, followed by the closing quote. */
function keyAt(key: Uint8Array, buf: Buffer, start: number, end: number): boolean {
  const len = key.length;
  if (start + len >= end || buf[start + len] !== 0x22) return false;
  for (let j = 0; j < len; j++) if (key[j] !== buf[start + j]) return false;
  return true;
}
