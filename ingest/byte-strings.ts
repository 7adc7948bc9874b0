/**
 * The stream dictionaries' table for the strings short-strings.ts does not key (longer than
 * SHORT_MAX bytes, or not ASCII), found from their bytes (string-streams.ts): open addressing
 * keyed by a hash the scanner computes as it reads them (any hash of the bytes alone), each hit
 * confirmed by comparing the bytes with a copy the table keeps. Strings longer than BYTES_MAX
 * are not kept here at all (the stream codes them through their string).
 *
 * Threading: one per stream dictionary; not thread-safe.
 */

/** Longer strings are coded through their string only (their bytes are not kept). */
export const BYTES_MAX = 64;
/** Ints per slot (a power of two), and the bytes a slot holds itself after its 4 header ints. */
const SLOT_SHIFT = 3;
const SLOT = 1 << SLOT_SHIFT;
const INLINE_BYTES = 4 * (SLOT - 4);
const NO_VIEW: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
/** Typed arrays use the platform's byte order; DataView reads must match it to compare words. */
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

export class ByteTable {
  /**
   * SLOT ints (32 bytes) per slot: hash, code + 1 (0: empty), start of the bytes in the arena
   * (−1: kept in the slot), their length, then the bytes themselves when at most INLINE_BYTES
   * (in `slotBytes`, a view of the same memory). A hit on a string kept in its slot reads one
   * cache line and nothing else.
   */
  private slots = new Int32Array(SLOT * 64);
  private slotBytes = new Uint8Array(this.slots.buffer);
  private slotView = new DataView(this.slots.buffer);
  private arena = new Uint8Array(1024);
  private arenaLen = 0;
  /** Strings held. */
  used = 0;
  /** After a `find` that missed: the empty slot the string goes to. */
  private hole = 0;
  /** A view of the buffer last looked up in, for comparing four bytes at a time. */
  private view: DataView<ArrayBufferLike> = NO_VIEW;
  private viewOf: Uint8Array | null = null;

  /** The code of buf[start, start + len) (len ≤ BYTES_MAX) with hash `hash`, or −1 (then `add` puts it where the probe ended). */
  find(buf: Uint8Array, start: number, len: number, hash: number): number {
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
    this.hole = i;
    return -1;
  }

  /** Keeps the bytes the last `find` missed, with `code`. */
  add(buf: Uint8Array, start: number, len: number, hash: number, code: number): void {
    const at = this.hole << SLOT_SHIFT;
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

  /** Reads the first slot of `hash` (and returns a word of it): a lookup soon after finds it cached. */
  touch(hash: number): number {
    const slots = this.slots;
    return slots[(mix(hash) & ((slots.length >> SLOT_SHIFT) - 1)) << SLOT_SHIFT];
  }

  /** Empties the table, keeping its size (see StringStream.begin). */
  clear(): void {
    this.slots.fill(0);
    this.used = 0;
    this.arenaLen = 0;
  }

  /** Lets go of the buffer last looked up in. */
  forgetInput(): void {
    this.viewOf = null;
    this.view = NO_VIEW;
  }

  private viewFor(buf: Uint8Array): DataView<ArrayBufferLike> {
    this.viewOf = buf;
    return (this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength));
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

function mix(h: number): number {
  return Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) ^ (h >>> 13);
}
