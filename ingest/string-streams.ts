/**
 * Per-column string dictionaries that live as long as a parse thread ("stream dictionaries"):
 * a string gets its code once, and every later occurrence is coded without making a JS string
 * or hashing one. Parsers reach a code two ways:
 *  - from bytes (`codeOfBytes`, the NDJSON fast path): an ASCII string of at most SHORT_MAX
 *    bytes (most values) by its key of three words in a table of its own (short-strings.ts), which
 *    the scanner reads as it looks for the closing quote (`codeOfShort`); any other by a table
 *    keyed by a hash the scanner computes meanwhile, confirmed against a kept copy of the bytes
 *    (byte-strings.ts); only a miss decodes the bytes;
 *  - from a string (`codeOfString`, every other parser): a Map lookup.
 * Both land in the same `strings` array, so a value has one code whichever way it came. A table
 * too large for the cache is looked up from bytes later (`defer`): the scanner gets a
 * placeholder, and the batch's pending lookups are resolved together before it is finished,
 * giving the codes immediate lookups would have given.
 *
 * Codes handed out but not yet sent to the reading thread's mirror (batch-wire.ts) are
 * `strings[sent..]`; `takeAdded` hands them over in order. A dictionary is started over
 * (`begin`, at a batch's start, never inside one) past `maxEntries` strings, which bounds its
 * memory on both sides; a started-over dictionary gets a new `strings` array, so batches made
 * earlier keep theirs, and keeps its byte table, emptied.
 *
 * Threading: one DictStreams per parse thread; not thread-safe, not re-entrant.
 */

import { BYTES_MAX, ByteTable } from './byte-strings.js';
import { keyText, SHORT_MAX, ShortTable, shortKey } from './short-strings.js';
import { latin1Slice, utf8Slice } from './string-intern.js';

export { SHORT_MAX };

/** A stream dictionary is started over past this many strings. */
export const MAX_STREAM_DICT_ENTRIES = 1 << 20;
/**
 * A dictionary whose byte table holds more strings than this at a batch's start (its short
 * table, twice as many) defers its lookups from bytes (`defer`): the table (32 bytes a slot, 16
 * in the short table, at most half full) has outgrown a core's L2 cache.
 */
export const DEFER_PAST = 1 << 15;
/** Deferred lookups are resolved this many at a time: their slots are read first, together. */
const RESOLVE_BLOCK = 64;
/** `pendAscii` of a pending short string. */
const SHORT = 2;

export interface Added {
  dict: string[];
  base: number;
  reset: boolean;
}

/** One column's stream dictionary. */
export class StringStream {
  /** Strings by code; append-only until a restart replaces the array. */
  strings: string[] = [];
  /**
   * Codes by string, made on the first `codeOfString` (the byte table alone serves the fast
   * path: ASCII bytes and strings correspond one to one, so it needs no second lookup).
   */
  private index: Map<string, number> | null = null;
  /** Codes below this were sent to the mirror. */
  private sent = 0;
  private resetPending = false;
  /** Short ASCII strings, keyed by their words (short-strings.ts); the others by their bytes (byte-strings.ts). */
  private readonly short = new ShortTable();
  private readonly bytes = new ByteTable();
  /** A short string's key, when the caller has none. */
  private readonly key = new Int32Array(3);
  /**
   * Deferred lookups of this batch (see `defer`): the bytes of pending string p are
   * pendBuf[pendStart[p], + pendLen[p]), with the scanner's hash and ASCII flag; its code, once
   * resolved (p < resolved), is pendCode[p]. Placeholders −2 − p stand for them in the batch's
   * column until `settleCodes` replaces them.
   */
  private pendBuf: Uint8Array | null = null;
  private pendStart = new Int32Array(0);
  private pendLen = new Int32Array(0);
  private pendHash = new Int32Array(0);
  /** 1: ASCII, 0: not; SHORT: a short ASCII string, whose key is in pendKey (see short-strings.ts). */
  private pendAscii = new Uint8Array(0);
  /** The keys of pending short strings, three words each. */
  private pendKey = new Int32Array(0);
  private pendCode = new Int32Array(0);
  private pending = 0;
  private resolved = 0;
  /** Reading a slot of each pending string before resolving any, kept so the reads stay. */
  private touched = 0;
  /** Lookups from bytes may be deferred in this batch (set by `begin`). */
  deferring = false;

  /** @param deferPast defer lookups in batches that start with more strings than this (tests use −1: always) */
  constructor(
    readonly maxEntries: number,
    private readonly deferPast = DEFER_PAST,
  ) {}

  /** Forgets deferred lookups of a batch that was never finished (its input is gone). */
  dropPending(): void {
    this.pending = this.resolved = 0;
    this.pendBuf = null;
  }

  /** Called before a batch first uses this dictionary: starts it over when it is full. */
  begin(): void {
    if (this.strings.length < this.maxEntries) {
      // The short table's slots are half the byte table's.
      this.deferring = this.bytes.used > this.deferPast || this.short.used > 2 * this.deferPast;
      return;
    }
    this.deferring = false; // the emptied table fits the cache again
    this.strings = [];
    this.index = null;
    this.sent = 0;
    this.resetPending = true;
    // The table keeps its size: it grows back to it within a few batches anyway, and fresh
    // memory for the growth costs a page fault per 4 KiB (its first read maps the zero page,
    // whose replacement on the first write flushes every thread's TLB).
    this.bytes.clear();
    this.short.clear();
  }

  /** The code of `s`, adding it when new. */
  codeOfString(s: string): number {
    if (this.resolved < this.pending) this.resolvePending();
    return this.codeOfStringNow(s);
  }

  private codeOfStringNow(s: string): number {
    const index = (this.index ??= new Map(this.strings.map((x, code) => [x, code])));
    let code = index.get(s);
    if (code === undefined) {
      code = this.strings.length;
      this.strings.push(s);
      index.set(s, code);
    }
    return code;
  }

  /**
   * The code of the string in buf[start, start + len) (no escapes), adding it when new. `hash`
   * is any hash of the bytes alone (the scanner's, json-fast.ts); `ascii` says every byte is below 0x80.
   */
  codeOfBytes(buf: Uint8Array, start: number, len: number, hash: number, ascii: boolean): number {
    if (ascii && len <= SHORT_MAX) {
      const key = this.key;
      shortKey(buf, start, len, key, 0);
      return this.codeOfShort(len, key[0], key[1], key[2]);
    }
    if (this.resolved < this.pending) this.resolvePending();
    return this.lookup(buf, start, len, hash, ascii);
  }

  /**
   * `codeOfBytes` for an ASCII string of `len` bytes, at most SHORT_MAX, whose key
   * (short-strings.ts) the caller has: (w0, w1, w2). The key holds the bytes, so they are not
   * read again (a new string is decoded from its key).
   */
  codeOfShort(len: number, w0: number, w1: number, w2: number): number {
    if (this.resolved < this.pending) this.resolvePending();
    return this.lookupShort(len, w0, w1, w2);
  }

  /**
   * `codeOfBytes` deferred: a placeholder (−2 − p) for the string in buf[start, start + len),
   * which must stay unchanged until the batch's column is finished (`settleCodes`). Strings get
   * the same codes, in the same order, as if looked up at once: any other lookup resolves the
   * pending ones first. Resolving many together lets the CPU wait for their table slots' cache
   * misses at the same time (a large table misses on nearly every probe) instead of one by one
   * inside the scanner's loop.
   */
  defer(buf: Uint8Array, start: number, len: number, hash: number, ascii: boolean): number {
    if (ascii && len <= SHORT_MAX) {
      const key = this.key;
      shortKey(buf, start, len, key, 0);
      return this.deferShort(len, key[0], key[1], key[2]);
    }
    const p = this.pend(buf, start, len);
    this.pendHash[p] = hash;
    this.pendAscii[p] = ascii ? 1 : 0;
    return -2 - p;
  }

  /** `defer` for a short ASCII string by its key, as `codeOfShort` takes it (its input may change meanwhile). */
  deferShort(len: number, w0: number, w1: number, w2: number): number {
    const p = this.pending++;
    if (p >= this.pendStart.length) this.growPending();
    this.pendLen[p] = len;
    this.pendAscii[p] = SHORT;
    const key = this.pendKey;
    key[3 * p] = w0;
    key[3 * p + 1] = w1;
    key[3 * p + 2] = w2;
    return -2 - p;
  }

  /** A new pending lookup of buf[start, start + len): its number. */
  private pend(buf: Uint8Array, start: number, len: number): number {
    if (buf !== this.pendBuf) {
      if (this.resolved < this.pending) this.resolvePending();
      this.pendBuf = buf;
    }
    const p = this.pending++;
    if (p >= this.pendStart.length) this.growPending();
    this.pendStart[p] = start;
    this.pendLen[p] = len;
    return p;
  }

  /** The code a column value stands for: itself, or the code of the pending string it is the placeholder of. */
  settle(code: number): number {
    if (code > -2) return code;
    if (this.resolved < this.pending) this.resolvePending();
    return this.pendCode[-2 - code];
  }

  /**
   * Gives every deferred lookup its code (the input they are in must still be intact), then lets
   * go of that input: called when a batch is finished.
   */
  endInput(): void {
    if (this.resolved < this.pending) this.resolvePending();
    this.pendBuf = null;
    this.bytes.forgetInput();
  }

  /** Replaces the placeholders in codes[0, count) by their codes; the batch's pending strings are then done. */
  settleCodes(codes: Int32Array, count: number): void {
    if (this.pending === 0) return;
    if (this.resolved < this.pending) this.resolvePending();
    const pendCode = this.pendCode;
    for (let r = 0; r < count; r++) {
      const c = codes[r];
      if (c < -1) codes[r] = pendCode[-2 - c];
    }
    this.pending = this.resolved = 0;
  }

  private resolvePending(): void {
    const buf = this.pendBuf!;
    const { pendStart, pendLen, pendHash, pendAscii, pendKey, pendCode, short, bytes } = this;
    for (let from = this.resolved; from < this.pending; from += RESOLVE_BLOCK) {
      const to = Math.min(this.pending, from + RESOLVE_BLOCK);
      let t = 0;
      for (let p = from; p < to; p++) {
        if (pendAscii[p] === SHORT) t |= short.touch(pendKey[3 * p], pendKey[3 * p + 1], pendKey[3 * p + 2]);
        else t |= bytes.touch(pendHash[p]);
      }
      this.touched |= t;
      for (let p = from; p < to; p++) {
        if (pendAscii[p] === SHORT) pendCode[p] = this.lookupShort(pendLen[p], pendKey[3 * p], pendKey[3 * p + 1], pendKey[3 * p + 2]);
        else pendCode[p] = this.lookup(buf, pendStart[p], pendLen[p], pendHash[p], pendAscii[p] === 1);
      }
      this.resolved = to;
    }
  }

  private growPending(): void {
    const size = Math.max(1024, 2 * this.pendStart.length);
    const grow = <T extends Int32Array | Uint8Array>(a: T, fresh: T): T => {
      fresh.set(a);
      return fresh;
    };
    this.pendStart = grow(this.pendStart, new Int32Array(size));
    this.pendLen = grow(this.pendLen, new Int32Array(size));
    this.pendHash = grow(this.pendHash, new Int32Array(size));
    this.pendAscii = grow(this.pendAscii, new Uint8Array(size));
    this.pendKey = grow(this.pendKey, new Int32Array(3 * size));
    this.pendCode = grow(this.pendCode, new Int32Array(size));
  }

  /** `codeOfShort` without resolving pending lookups first. */
  private lookupShort(len: number, w0: number, w1: number, w2: number): number {
    const found = this.short.find(w0, w1, w2);
    if (found >= 0) return found;
    // From the key rather than the input, whose bytes are out of the cache by the time deferred
    // lookups are resolved.
    const s = keyText(len, w0, w1, w2);
    // A string coded from a string earlier (`codeOfString`) is in the index, not in this table.
    const code = this.index !== null ? this.codeOfStringNow(s) : this.strings.push(s) - 1;
    this.short.add(w0, w1, w2, code);
    return code;
  }

  private lookup(buf: Uint8Array, start: number, len: number, hash: number, ascii: boolean): number {
    if (len > BYTES_MAX) return this.codeOfStringNow(decode(buf, start, len, ascii));
    const found = this.bytes.find(buf, start, len, hash);
    if (found >= 0) return found;
    const s = decode(buf, start, len, ascii);
    let code: number;
    // Invalid UTF-8 decodes to U+FFFD, so other bytes may give a string already coded.
    if (this.index !== null || !ascii) code = this.codeOfStringNow(s);
    else code = this.strings.push(s) - 1;
    this.bytes.add(buf, start, len, hash, code);
    return code;
  }

  /** The strings not yet sent, with the code of the first; marks them sent. */
  takeAdded(): Added {
    const size = this.strings.length;
    const added: Added = { dict: this.strings.slice(this.sent), base: this.sent, reset: this.resetPending };
    this.sent = size;
    this.resetPending = false;
    return added;
  }
}

/** One parse thread's stream dictionaries, by column (`null`: the actor column). */
export class DictStreams {
  private readonly byColumn = new Map<string, StringStream>();
  private actor: StringStream | null = null;

  /**
   * @param maxEntries start a dictionary over past this many strings (tests use small ones)
   * @param deferPast defer lookups from bytes in dictionaries past this many strings (see StringStream.defer)
   */
  constructor(
    readonly maxEntries = MAX_STREAM_DICT_ENTRIES,
    readonly deferPast = DEFER_PAST,
  ) {}

  /**
   * Called when a batch starts: deferred lookups left by one that was abandoned (a parse that
   * threw) are dropped, so no later lookup resolves them against input that is gone.
   */
  beginBatch(): void {
    this.actor?.dropPending();
    for (const stream of this.byColumn.values()) stream.dropPending();
  }

  /** The stream for a column (`null`: the actor column). */
  stream(column: string | null): StringStream {
    if (column === null) return (this.actor ??= new StringStream(this.maxEntries, this.deferPast));
    let d = this.byColumn.get(column);
    if (d === undefined) this.byColumn.set(column, (d = new StringStream(this.maxEntries, this.deferPast)));
    return d;
  }
}

/**
 * The stream dictionaries a batch's string codes refer to, for batches built by BatchBuilder
 * (batch-wire.ts sends such a batch without re-coding it when it goes out with the same ones).
 */
export const codedWith = new WeakMap<object, DictStreams>();

/** The bytes (of a Buffer) as a string (UTF-8; Latin-1 when known to be ASCII, which is the same and faster). */
function decode(buf: Uint8Array, start: number, len: number, ascii: boolean): string {
  return ascii ? latin1Slice(buf as Buffer, start, start + len) : utf8Slice(buf as Buffer, start, start + len);
}
