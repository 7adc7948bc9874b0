/**
 * Hash indexes of codes into an array of values, for dictionaries that grow to millions of
 * entries on the main thread: open addressing over an Int32Array, 2 ints a slot (the value's
 * hash, and code + 1; 0: empty), load at most 1/2. `CodeSlots` holds the slots; each index
 * finds with its own equality (`StringIndex` here, the actor dictionary's in actor-dict.ts).
 *
 * Why not a Map from value to code: a generation's string dictionaries hold every distinct value
 * of high-cardinality columns (millions of session ids under bulk ingest), and the main thread's
 * full garbage collections walk whatever they hold. A Map adds a heap object with three slots
 * an entry to every one of them (a full collection of 2M strings with a Map took 121–137 ms,
 * without one 96 ms); typed slots are not walked.
 *
 * Threading: owned by one thread; not thread-safe.
 */
import { hashKey } from './hash.js';

export class CodeSlots {
  /** 2 ints a slot: hash, code + 1 (0: empty). */
  protected slots: Int32Array;
  private used = 0;

  /** Room for `capacity` codes before the first growth. */
  constructor(capacity = 32) {
    let slots = 64;
    while (slots < 2 * capacity) slots *= 2;
    this.slots = new Int32Array(2 * slots);
  }

  /** Codes indexed. */
  get size(): number {
    return this.used;
  }

  /** Indexes `code`, whose value (not indexed yet) has hash `hash`. */
  add(hash: number, code: number): void {
    if (2 * (this.used + 1) > this.slots.length >> 1) this.grow();
    put(this.slots, hash, code);
    this.used++;
  }

  private grow(): void {
    const old = this.slots;
    const slots = new Int32Array(2 * old.length);
    // Written before `put` probes it: a fresh page read first maps the shared zero page, and
    // replacing that on the first write costs a TLB flush on every thread (string-streams.ts).
    slots.fill(0);
    for (let s = 0; s < old.length; s += 2) if (old[s + 1] !== 0) put(slots, old[s], old[s + 1] - 1);
    this.slots = slots;
  }
}

/** Codes of the strings in `values` (`values[code]`), by `hashString`. */
export class StringIndex extends CodeSlots {
  /** The code of `s` (whose `hashString` is `hash`) among `values`, or -1 when it is not indexed. */
  find(values: readonly string[], s: string, hash: number): number {
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    for (let i = slotOf(hash) & mask; ; i = (i + 1) & mask) {
      const code1 = slots[2 * i + 1];
      if (code1 === 0) return -1;
      if (slots[2 * i] === hash && values[code1 - 1] === s) return code1 - 1;
    }
  }

  /**
   * Reads, for each of `hashes[0, count)`, its first probe slot, then the value a slot holding
   * the same hash names: a batch of lookups' cache misses issued together before `find` runs
   * them one by one (see TailDicts.mapCodes). Returns a sum of what it read, for the caller to keep.
   */
  touch(values: readonly string[], hashes: Int32Array, count: number): number {
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    let sum = 0;
    for (let k = 0; k < count; k++) sum += slots[2 * (slotOf(hashes[k]) & mask) + 1];
    for (let k = 0; k < count; k++) {
      const i = slotOf(hashes[k]) & mask;
      const code1 = slots[2 * i + 1];
      if (code1 !== 0 && slots[2 * i] === hashes[k]) sum += values[code1 - 1].length;
    }
    return sum;
  }
}

function put(slots: Int32Array, hash: number, code: number): void {
  const mask = (slots.length >> 1) - 1;
  let i = slotOf(hash) & mask;
  while (slots[2 * i + 1] !== 0) i = (i + 1) & mask;
  slots[2 * i] = hash;
  slots[2 * i + 1] = code + 1;
}

/**
 * Where a hash's probe starts (before masking): its bits spread, since FNV's low bits are alike
 * within a shard (the shard choice, hash % shards, already used them).
 */
export function slotOf(hash: number): number {
  const h = Math.imul(hash ^ (hash >>> 16), 0x45d9f3b);
  return h ^ (h >>> 16);
}

/** `hashKey` (hash.ts: FNV-1a over UTF-16 code units) as the signed int a slot stores. */
export function hashString(s: string): number {
  return hashKey(s) | 0;
}
