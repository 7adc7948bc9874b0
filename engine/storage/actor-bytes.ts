/**
 * A shard's committed actors read as the bytes of their file, for the ingest path's index
 * (actor-dict.ts): where each value lies among the records' msgpack bytes, with no value made
 * into a JS string until it is asked for.
 *
 * Why: ingesting into a table of millions of actors used to decode all of them first, to build
 * the index of ids a new batch's actors are looked up in. On the billion-event table (10M
 * actors) that cost each `shoal ingest` about 3.5 s of main-thread CPU: the decoding, the hashing,
 * and the garbage collections of the 600 MB of strings and arrays it left on the heap. Here the
 * hashes come from the bytes (FNV-1a over UTF-16 code units is FNV-1a over the bytes when they
 * are ASCII), and a hash match is confirmed against the bytes too. The index is the hashes
 * sorted (two radix passes) with their ids, searched by bisection: built in a few sequential
 * passes, where putting 10M ids into hash tables at random took ~0.5 s of cache misses.
 *
 * Reads the scalar kinds msgpackr writes for actor values (strings, numbers, and bins for
 * strings that are not well-formed UTF-16); anything else makes `of` return null, and the
 * caller decodes the values instead.
 *
 * Threading: main thread (the ingest path), or any thread that owns it.
 */
import { Packr } from 'msgpackr';
import { hashAsciiBytes, hashKey } from './hash.js';

const packr = new Packr({ useRecords: false });

export class StoredActors {
  private constructor(
    /** The records' bytes. */
    private readonly bytes: Uint8Array,
    /** Value `id` is the msgpack element at bytes [starts[id], ends[id]). */
    private readonly starts: Float64Array,
    private readonly ends: Float64Array,
    readonly count: number,
  ) {}

  /** The hashes of the values' keys in ascending order (unsigned), and the id of each; built by `index`. */
  private sortedHashes: Uint32Array = new Uint32Array(0);
  private sortedIds: Uint32Array = new Uint32Array(0);

  /**
   * The first `count` values of `records` (each a msgpack array), or null when an element is of
   * a kind this does not read or the records end short of them.
   */
  static of(records: readonly Uint8Array[], count: number): StoredActors | null {
    const shared = records.length > 0 && records.every((r) => r.buffer === records[0].buffer);
    const bytes = shared ? new Uint8Array(records[0].buffer) : Buffer.concat(records);
    const starts = new Float64Array(count);
    const ends = new Float64Array(count);
    let id = 0;
    let base = 0;
    for (const record of records) {
      if (id === count) break;
      const from = shared ? record.byteOffset : base;
      base += record.length;
      const end = from + record.length;
      const head = arrayHeader(bytes, from, end);
      if (head === null) return null;
      let at = head.first;
      for (let k = 0; k < head.length && id < count; k++, id++) {
        starts[id] = at;
        at = elementEnd(bytes, at);
        if (at < 0 || at > end) return null;
        ends[id] = at;
      }
    }
    return id === count ? new StoredActors(bytes, starts, ends, count) : null;
  }

  /** The msgpack-decoded element of value `id`: a string, a number, or a bin (a Uint8Array). */
  decoded(id: number): unknown {
    return packr.unpack(this.bytes.subarray(this.starts[id], this.ends[id]));
  }

  /**
   * Where value `id`'s characters start when it is a string of ASCII only (they end at
   * ends[id]), else -1.
   */
  private asciiStart(id: number): number {
    const at = this.starts[id];
    const b = this.bytes;
    const t = b[at];
    const from = t >= 0xa0 && t <= 0xbf ? at + 1 : t === 0xd9 ? at + 2 : t === 0xda ? at + 3 : t === 0xdb ? at + 5 : -1;
    if (from < 0) return -1;
    for (let i = from; i < this.ends[id]; i++) if (b[i] >= 0x80) return -1;
    return from;
  }

  /**
   * Builds the index of ids by `hashKey` of their key; `keyOf` makes the key of a value that is
   * not an ASCII string from its decoded form (rare).
   */
  index(keyOf: (id: number) => string): void {
    let hashes: Uint32Array = this.hashes(keyOf);
    let ids: Uint32Array = new Uint32Array(this.count);
    for (let id = 0; id < this.count; id++) ids[id] = id;
    // LSD radix sort by 16 bits at a time; stable, so equal hashes keep their ids in order.
    let nextHashes: Uint32Array = new Uint32Array(this.count);
    let nextIds: Uint32Array = new Uint32Array(this.count);
    const starts = new Int32Array(0x10001);
    for (const shift of [0, 16]) {
      starts.fill(0);
      for (let k = 0; k < this.count; k++) starts[((hashes[k] >>> shift) & 0xffff) + 1]++;
      for (let b = 1; b <= 0x10000; b++) starts[b] += starts[b - 1];
      for (let k = 0; k < this.count; k++) {
        const at = starts[(hashes[k] >>> shift) & 0xffff]++;
        nextHashes[at] = hashes[k];
        nextIds[at] = ids[k];
      }
      [hashes, nextHashes] = [nextHashes, hashes];
      [ids, nextIds] = [nextIds, ids];
    }
    this.sortedHashes = hashes;
    this.sortedIds = ids;
  }

  /**
   * Ids whose key has hash `hash` (unsigned), in increasing order: calls `isIt` on each until it
   * returns true, and returns that id, or -1.
   */
  find(hash: number, isIt: (id: number) => boolean): number {
    const hashes = this.sortedHashes;
    let lo = 0;
    let hi = hashes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (hashes[mid] < hash) lo = mid + 1;
      else hi = mid;
    }
    for (let k = lo; k < hashes.length && hashes[k] === hash; k++) if (isIt(this.sortedIds[k])) return this.sortedIds[k];
    return -1;
  }

  /** `hashKey` of each value's key (unsigned), by id. */
  private hashes(keyOf: (id: number) => string): Uint32Array {
    const out = new Uint32Array(this.count);
    for (let id = 0; id < this.count; id++) {
      const from = this.asciiStart(id);
      out[id] = from < 0 ? hashKey(keyOf(id)) : hashAsciiBytes(this.bytes, from, this.ends[id]);
    }
    return out;
  }

  /**
   * Whether value `id` is the string `key`, when it is a string of ASCII only; null when it is
   * not one (the caller compares its decoded form).
   */
  asciiEquals(id: number, key: string): boolean | null {
    const from = this.asciiStart(id);
    if (from < 0) return null;
    const b = this.bytes;
    if (this.ends[id] - from !== key.length) return false;
    for (let i = 0; i < key.length; i++) if (b[from + i] !== key.charCodeAt(i)) return false;
    return true;
  }
}

/** Element count and first element of the msgpack array at [at, end), or null. */
function arrayHeader(b: Uint8Array, at: number, end: number): { length: number; first: number } | null {
  const t = b[at];
  if (t >= 0x90 && t <= 0x9f) return { length: t & 0x0f, first: at + 1 };
  if (t === 0xdc && at + 3 <= end) return { length: (b[at + 1] << 8) | b[at + 2], first: at + 3 };
  if (t === 0xdd && at + 5 <= end) return { length: u32(b, at + 1), first: at + 5 };
  return null;
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

/** End of the scalar msgpack element at `at` (a string, bin or number), or -1 for any other kind. */
function elementEnd(b: Uint8Array, at: number): number {
  const t = b[at];
  if (t <= 0x7f || t >= 0xe0) return at + 1; // fixints
  if (t >= 0xa0 && t <= 0xbf) return at + 1 + (t & 0x1f); // fixstr
  switch (t) {
    case 0xcc:
    case 0xd0:
      return at + 2;
    case 0xcd:
    case 0xd1:
      return at + 3;
    case 0xce:
    case 0xd2:
    case 0xca:
      return at + 5;
    case 0xcf:
    case 0xd3:
    case 0xcb:
      return at + 9;
    case 0xd9:
    case 0xc4:
      return at + 2 + b[at + 1];
    case 0xda:
    case 0xc5:
      return at + 3 + ((b[at + 1] << 8) | b[at + 2]);
    case 0xdb:
    case 0xc6:
      return at + 5 + u32(b, at + 1);
    default:
      return -1;
  }
}
