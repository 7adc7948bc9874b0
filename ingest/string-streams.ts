/**
 * Per-column string dictionaries that live as long as a parse thread ("stream dictionaries"):
 * a string gets its code once, and every later occurrence is coded without making a JS string
 * or hashing one. Parsers reach a code two ways:
 *  - from bytes (`codeOfBytes`, the NDJSON fast path): an open-addressing table keyed by a hash
 *    the scanner computes while it looks for the closing quote, confirmed by comparing the bytes
 *    with a copy kept in its table slot (short strings) or an arena; only a miss decodes the bytes;
 *  - from a string (`codeOfString`, every other parser): a Map lookup.
 * Both land in the same `strings` array, so a value has one code whichever way it came.
 *
 * Codes handed out but not yet sent to the reading thread's mirror (batch-wire.ts) are
 * `strings[sent..]`; `takeAdded` hands them over in order. A dictionary is started over
 * (`begin`, at a batch's start, never inside one) past `maxEntries` strings, which bounds its
 * memory on both sides; a started-over dictionary gets a new `strings` array, so batches made
 * earlier keep theirs, and keeps its byte table, emptied.
 *
 * Threading: one DictStreams per parse thread; not thread-safe, not re-entrant.
 */

/** A stream dictionary is started over past this many strings. */
export const MAX_STREAM_DICT_ENTRIES = 1 << 20;
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
  private used = 0;
  private arena = new Uint8Array(1024);
  private arenaLen = 0;

  constructor(readonly maxEntries: number) {}

  /** Called before a batch first uses this dictionary: starts it over when it is full. */
  begin(): void {
    if (this.strings.length < this.maxEntries) return;
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
  }

  /** The code of `s`, adding it when new. */
  codeOfString(s: string): number {
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
    if (len > BYTES_MAX) return this.codeOfString(decode(buf, start, len, ascii));
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
          const kept = this.slotBytes;
          const from = (at + 4) << 2;
          while (j < len && kept[from + j] === buf[start + j]) j++;
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
    if (this.index !== null || !ascii) code = this.codeOfString(s);
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
      slots.set(old.subarray(at, at + SLOT), i << SLOT_SHIFT);
    }
    this.slots = slots;
    this.slotBytes = new Uint8Array(slots.buffer);
  }
}

/** One parse thread's stream dictionaries, by column (`null`: the actor column). */
export class DictStreams {
  private readonly byColumn = new Map<string, StringStream>();
  private actor: StringStream | null = null;

  /** @param maxEntries start a dictionary over past this many strings (tests use small ones) */
  constructor(readonly maxEntries = MAX_STREAM_DICT_ENTRIES) {}

  /** The stream for a column (`null`: the actor column). */
  stream(column: string | null): StringStream {
    if (column === null) return (this.actor ??= new StringStream(this.maxEntries));
    let d = this.byColumn.get(column);
    if (d === undefined) this.byColumn.set(column, (d = new StringStream(this.maxEntries)));
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

interface NativeSlices {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

/** The bytes as a string (UTF-8; Latin-1 when known to be ASCII, which is the same and faster). */
function decode(buf: Uint8Array, start: number, len: number, ascii: boolean): string {
  const b = buf as unknown as NativeSlices;
  return ascii ? b.latin1Slice(start, start + len) : b.utf8Slice(start, start + len);
}
