/**
 * The codes of the strings in an array (`values[code]`), found by hash: open addressing over an
 * Int32Array, 2 ints a slot (the string's hash, and code + 1; 0: empty), load at most 1/2.
 *
 * Why not a Map from string to code: a generation's dictionaries hold every distinct value of
 * high-cardinality columns (millions of session ids under bulk ingest), and the main thread's
 * full garbage collections walk whatever they hold. A Map adds a heap object with three slots
 * an entry to every one of them (a full collection of 2M strings with a Map took 121–137 ms,
 * without one 96 ms); the typed slots here are not walked.
 *
 * Threading: owned by one thread; not thread-safe.
 */
export class StringIndex {
  private slots: Int32Array;
  private used = 0;

  constructor(capacity = 64) {
    let slots = 64;
    while (slots < 2 * capacity) slots *= 2;
    this.slots = new Int32Array(2 * slots);
  }

  /** Strings indexed. */
  get size(): number {
    return this.used;
  }

  /** The code of `s` (whose `hashString` is `hash`) among `values`, or -1 when it is not indexed. */
  find(values: readonly string[], s: string, hash: number): number {
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const code1 = slots[2 * i + 1];
      if (code1 === 0) return -1;
      if (slots[2 * i] === hash && values[code1 - 1] === s) return code1 - 1;
    }
  }

  /** Indexes `code`, whose string (not indexed yet) has `hashString` `hash`. */
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

function put(slots: Int32Array, hash: number, code: number): void {
  const mask = (slots.length >> 1) - 1;
  let i = hash & mask;
  while (slots[2 * i + 1] !== 0) i = (i + 1) & mask;
  slots[2 * i] = hash;
  slots[2 * i + 1] = code + 1;
}

/** FNV-1a over the string's UTF-16 code units, its bits then spread (low bits pick the slot). */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  return h ^ (h >>> 16);
}
