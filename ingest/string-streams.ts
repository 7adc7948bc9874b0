/**
 * Per-column string dictionaries that live as long as a parse thread ("stream dictionaries"):
 * a string gets its code once, and every later occurrence is coded without making a JS string
 * or hashing one. Parsers reach a code two ways:
 *  - from bytes (`codeOfBytes`, the NDJSON fast path): an ASCII string of at most SHORT_MAX
 *    bytes (most values) by its key of three words in a table of its own (short-strings.ts), which
 *    the scanner reads as it looks for the closing quote (`codeOfShort`); any other by an
 *    open-addressing table keyed by a hash the scanner computes meanwhile, confirmed by comparing
 *    the bytes with a copy kept in its table slot (short strings) or an arena; only a miss
 *    decodes the bytes;
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

import { keyText, SHORT_MAX, ShortTable, shortKey } from './short-strings.js';
import { latin1Slice, utf8Slice } from './string-intern.js';

export { SHORT_MAX };

/** A stream dictionary is started over past this many strings. */
export const MAX_STREAM_DICT_ENTRIES = 1 << 20;
/**
 * A dictionary whose byte table holds more strings than this at a batch's start defers its
 * lookups from bytes (`defer`): the table (32 bytes a slot, at most half full) has outgrown a
 * core's L2 cache.
 */
export const DEFER_PAST = 1 << 15;
/** Deferred lookups are resolved this many at a time: their slots are read first, together. */
const RESOLVE_BLOCK = 64;
const NO_VIEW: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
/** Typed arrays use the platform's byte order; DataView reads must match it to compare words. */
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
/** `pendAscii` of a pending short string. */
const SHORT = 2;
/** Longer values are coded through their string only (their bytes are not kept). */
const BYTES_MAX = 64;
/** Ints per byte-table slot (a power of two), and the bytes a slot holds itself after its 4 header ints. */
const SLOT_SHIFT = 3;
const SLOT = 1 << SLOT_SHIFT;
const INLINE_BYTES = 4 * (SLOT - 4);

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
  /**
   * Byte table, open addressing, SLOT ints (32 bytes) per slot: hash, code + 1 (0: empty),
   * start of the bytes in the arena (−1: kept in the slot), their length, then the bytes
   * themselves when at most INLINE_BYTES (in `slotBytes`, a view of the same memory). A hit on a
   * short string (most values: ids, names, codes) reads one slot and nothing else, one cache
   * line in a table that outgrows the caches for columns like a user or session id.
   */
  private slots = new Int32Array(SLOT * 64);
  private slotBytes = new Uint8Array(this.slots.buffer);
  private slotView = new DataView(this.slots.buffer);
  private used = 0;
  /** Short ASCII strings have their own table, keyed by their words (short-strings.ts). */
  private readonly short = new ShortTable();
  /** A short string's key, when the caller has none. */
  private readonly key = new Int32Array(3);
  private arena = new Uint8Array(1024);
  private arenaLen = 0;
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
  /** A view of the buffer last looked up in, for comparing four bytes at a time. */
  private view: DataView<ArrayBufferLike> = NO_VIEW;
  private viewOf: Uint8Array | null = null;
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
      this.deferring = this.used > this.deferPast || this.short.used > 2 * this.deferPast;
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
    this.slots.fill(0);
    this.used = 0;
    this.arenaLen = 0;
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
    this.viewOf = null;
    this.view = NO_VIEW;
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
    const { pendStart, pendLen, pendHash, pendAscii, pendKey, pendCode, short } = this;
    for (let from = this.resolved; from < this.pending; from += RESOLVE_BLOCK) {
      const to = Math.min(this.pending, from + RESOLVE_BLOCK);
      const slots = this.slots;
      const mask = (slots.length >> SLOT_SHIFT) - 1;
      let t = 0;
      for (let p = from; p < to; p++) {
        if (pendAscii[p] === SHORT) t |= short.touch(pendKey[3 * p], pendKey[3 * p + 1], pendKey[3 * p + 2]);
        else t |= slots[(mix(pendHash[p]) & mask) << SLOT_SHIFT];
      }
      this.touched |= t;
      for (let p = from; p < to; p++) {
        if (pendAscii[p] === SHORT) pendCode[p] = this.lookupShort(pendLen[p], pendKey[3 * p], pendKey[3 * p + 1], pendKey[3 * p + 2]);
        else pendCode[p] = this.lookup(buf, pendStart[p], pendLen[p], pendHash[p], pendAscii[p] === 1);
      }
      this.resolved = to;
    }
  }

  private viewFor(buf: Uint8Array): DataView<ArrayBufferLike> {
    this.viewOf = buf;
    return (this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength));
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
    const slots = this.slots;
    const mask = (slots.length >> SLOT_SHIFT) - 1;
    let i = mix(hash) & mask;
    for (;;) {
      const at = i << SLOT_SHIFT;
      const code1 = slots[at + 1];
      if (code1 === 0) break;
      if (slots[at] === hash && slots[at + 3] === len) {
        // Equivalent to: the kept bytes (in the slot, or in the arena at slots[at + 2]) equal buf[start, start + len)
        let j = 0;
        if (len <= INLINE_BYTES) {
          // Four bytes at a time, then the last few one by one.
          const view = buf === this.viewOf ? this.view : this.viewFor(buf);
          const words = at + 4;
          while (j + 4 <= len && view.getInt32(start + j, LITTLE_ENDIAN) === slots[words + (j >> 2)]) j += 4;
          if (j < len && j + 4 > len) {
            const from = words << 2;
            if (len >= 4) {
              // The last four bytes, overlapping those compared: they decide the rest at once.
              if (view.getInt32(start + len - 4, LITTLE_ENDIAN) === this.slotView.getInt32(from + len - 4, LITTLE_ENDIAN)) j = len;
            } else {
              const kept = this.slotBytes;
              while (j < len && kept[from + j] === buf[start + j]) j++;
            }
          }
        } else {
          const arena = this.arena;
          const from = slots[at + 2];
          while (j < len && arena[from + j] === buf[start + j]) j++;
        }
        if (j === len) return code1 - 1;
      }
      i = (i + 1) & mask;
    }
    const s = decode(buf, start, len, ascii);
    let code: number;
    // Invalid UTF-8 decodes to U+FFFD, so other bytes may give a string already coded.
    if (this.index !== null || !ascii) code = this.codeOfStringNow(s);
    else code = this.strings.push(s) - 1;
    this.keepBytes(i, hash, code, buf, start, len);
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

  /** Puts the bytes of `code` in table slot `slot` (found empty by the caller). */
  private keepBytes(slot: number, hash: number, code: number, buf: Uint8Array, start: number, len: number): void {
    const at = slot << SLOT_SHIFT;
    let from = -1;
    if (len <= INLINE_BYTES) {
      const kept = this.slotBytes;
      const to = (at + 4) << 2;
      for (let j = 0; j < len; j++) kept[to + j] = buf[start + j];
    } else {
      if (this.arenaLen + len > this.arena.length) {
        const arena = new Uint8Array(Math.max(this.arena.length * 2, this.arenaLen + len));
        arena.set(this.arena.subarray(0, this.arenaLen));
        this.arena = arena;
      }
      from = this.arenaLen;
      for (let j = 0; j < len; j++) this.arena[from + j] = buf[start + j];
      this.arenaLen += len;
    }
    this.slots[at] = hash;
    this.slots[at + 1] = code + 1;
    this.slots[at + 2] = from;
    this.slots[at + 3] = len;
    if (++this.used * 2 > this.slots.length >> SLOT_SHIFT) this.rehash();
  }

  private rehash(): void {
    const old = this.slots;
    const slots = new Int32Array(old.length * 2);
    // Written before the probes below read it: a fresh page's first read maps the shared zero
    // page, and replacing that on the first write flushes the TLB of every thread of the process
    // (an inter-processor interrupt each time; ~9% of a parse thread's time on growing tables).
    slots.fill(0);
    const mask = (slots.length >> SLOT_SHIFT) - 1;
    for (let at = 0; at < old.length; at += SLOT) {
      if (old[at + 1] === 0) continue;
      let i = mix(old[at]) & mask;
      while (slots[(i << SLOT_SHIFT) + 1] !== 0) i = (i + 1) & mask;
      // A slot's eight ints one by one: `set` of a subarray made a view per slot, and cost more.
      const to = i << SLOT_SHIFT;
      for (let k = 0; k < SLOT; k++) slots[to + k] = old[at + k];
    }
    this.slots = slots;
    this.slotBytes = new Uint8Array(slots.buffer);
    this.slotView = new DataView(slots.buffer);
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

function mix(h: number): number {
  return Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) ^ (h >>> 13);
}

/** The bytes (of a Buffer) as a string (UTF-8; Latin-1 when known to be ASCII, which is the same and faster). */
function decode(buf: Uint8Array, start: number, len: number, ascii: boolean): string {
  return ascii ? latin1Slice(buf as Buffer, start, start + len) : utf8Slice(buf as Buffer, start, start + len);
}
