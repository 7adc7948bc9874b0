/**
 * Group ids for tuples of key value ids (one small integer per group column, see
 * group-keys.ts). One key column maps value id → group id through a flat array. Several
 * columns pack their ids into one integer (mixed radix, each column's bit width grown as its
 * ids grow) and index a flat table while that fits in 2^22 slots, which is the common case
 * (a bucket index and a dictionary-coded column or two); beyond that they go through an
 * open-addressing hash table over the packed tuples, where rows repeating the previous
 * row's tuple (common: data is sorted by actor and time) skip the lookup.
 *
 * Threading: one index per shard scan.
 */
import { ShoalError } from '../errors.js';

const MAX_DIRECT_BITS = 22;

function bitsFor(n: number): number {
  return Math.max(1, 32 - Math.clz32(Math.max(0, n - 1)));
}

export class GroupIndex {
  readonly width: number;
  private readonly maxGroups: number;
  size = 0;
  /** keys[g * width + j]: value id of key j of group g. */
  private keys = new Int32Array(64);
  /** Width 1: value id → group id + 1. Direct mode: packed tuple → group id + 1 (0: none). */
  private table = new Int32Array(64);
  /** Direct mode: bits per column; null once the index has switched to hashing. */
  private bits: Int32Array | null;
  /** Hash mode: slots holding group id + 1 (0: empty). */
  private slots = new Int32Array(0);
  private readonly tuple: Int32Array;

  constructor(width: number, maxGroups: number) {
    this.width = width;
    this.maxGroups = maxGroups;
    this.tuple = new Int32Array(width);
    // Packed, a column takes at least one bit: past MAX_DIRECT_BITS columns the table would not
    // fit (and shifts past 32 bits would merge tuples), so those widths hash from the start.
    this.bits = width >= 2 && width <= MAX_DIRECT_BITS ? new Int32Array(width).fill(1) : null;
    if (this.bits !== null) this.table = new Int32Array(1 << width);
    else if (width >= 2) {
      this.table = new Int32Array(0);
      this.slots = new Int32Array(1024);
    }
  }

  /** Value id of key j of group g. */
  keyOf(g: number, j: number): number {
    return this.keys[g * this.width + j];
  }

  bytes(): number {
    return this.keys.byteLength + this.table.byteLength + this.slots.byteLength;
  }

  private hash(t: Int32Array): number {
    let h = 0x9e3779b9;
    for (let j = 0; j < t.length; j++) {
      h = Math.imul(h ^ t[j], 0x85ebca6b);
      h ^= h >>> 15;
    }
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  }

  private add(t: Int32Array): number {
    const g = this.size;
    if (g >= this.maxGroups) throw new ShoalError('TOO_MANY_GROUPS', [this.maxGroups]);
    const w = this.width;
    if ((g + 1) * w > this.keys.length) {
      const next = new Int32Array(Math.max(64, this.keys.length * 2, (g + 1) * w));
      next.set(this.keys);
      this.keys = next;
    }
    this.keys.set(t, g * w);
    this.size = g + 1;
    return g;
  }

  /** Packed key of group g's stored tuple (direct mode). */
  private packed(g: number): number {
    const bits = this.bits!;
    let key = 0;
    for (let j = 0; j < this.width; j++) key = key * (1 << bits[j]) + this.keys[g * this.width + j];
    return key;
  }

  /** Widens columns whose ids (below `bounds[j]`) do not fit; may switch to hashing. */
  private fit(bounds: ArrayLike<number>): void {
    const bits = this.bits!;
    let grew = false;
    for (let j = 0; j < this.width; j++) {
      if (bounds[j] > 1 << bits[j]) {
        bits[j] = bitsFor(bounds[j]);
        grew = true;
      }
    }
    if (!grew) return;
    const total = bits.reduce((a, b) => a + b, 0);
    if (total > MAX_DIRECT_BITS) {
      this.bits = null;
      this.table = new Int32Array(0);
      this.slots = new Int32Array(1024);
      this.rehash();
      return;
    }
    this.table = new Int32Array(1 << total);
    for (let g = 0; g < this.size; g++) this.table[this.packed(g)] = g + 1;
  }

  private rehash(): void {
    let cap = this.slots.length;
    while (this.size * 2 > cap) cap *= 2;
    const slots = new Int32Array(cap);
    const t = new Int32Array(this.width);
    for (let g = 0; g < this.size; g++) {
      for (let j = 0; j < this.width; j++) t[j] = this.keys[g * this.width + j];
      let s = this.hash(t) & (cap - 1);
      while (slots[s] !== 0) s = (s + 1) & (cap - 1);
      slots[s] = g + 1;
    }
    this.slots = slots;
  }

  /** Width 1: the group id of value id v, adding a group when it is new. */
  lookupValue(v: number): number {
    if (v < this.table.length) {
      const d = this.table[v];
      if (d !== 0) return d - 1;
    }
    this.tuple[0] = v;
    return this.lookup(this.tuple);
  }

  /** The group id of tuple t, adding a group when it is new (width 1 or hash mode). */
  lookup(t: Int32Array): number {
    if (this.width === 1) {
      const v = t[0];
      if (v >= this.table.length) {
        const next = new Int32Array(Math.max(v + 1, this.table.length * 2));
        next.set(this.table);
        this.table = next;
      }
      const d = this.table[v];
      if (d !== 0) return d - 1;
      const g = this.add(t);
      this.table[v] = g + 1;
      return g;
    }
    if (this.bits !== null) {
      this.fit(Array.from(t, (v) => v + 1));
      if (this.bits !== null) {
        let key = 0;
        for (let j = 0; j < this.width; j++) key = key * (1 << this.bits[j]) + t[j];
        const d = this.table[key];
        if (d !== 0) return d - 1;
        const g = this.add(t);
        this.table[key] = g + 1;
        return g;
      }
    }
    const mask = this.slots.length - 1;
    const w = this.width;
    for (let s = this.hash(t) & mask; ; s = (s + 1) & mask) {
      const e = this.slots[s];
      if (e === 0) break;
      const base = (e - 1) * w;
      let same = true;
      for (let j = 0; j < w && same; j++) same = this.keys[base + j] === t[j];
      if (same) return e - 1;
    }
    const g = this.add(t);
    if (this.size * 2 > this.slots.length) this.rehash();
    else {
      let s = this.hash(t) & mask;
      while (this.slots[s] !== 0) s = (s + 1) & mask;
      this.slots[s] = g + 1;
    }
    return g;
  }

  /** Direct mode over a batch: gids[i] = table[packed tuple of row i]. */
  private assignDirect(cols: Int32Array[], n: number, gids: Int32Array): void {
    const bits = this.bits!;
    const t = this.tuple;
    if (this.width === 2) {
      const c0 = cols[0];
      const c1 = cols[1];
      const b1 = bits[1];
      // gids[i] = group of (c0[i], c1[i])
      for (let i = 0; i < n; i++) {
        const key = (c0[i] << b1) | c1[i];
        const d = this.table[key];
        if (d !== 0) {
          gids[i] = d - 1;
          continue;
        }
        t[0] = c0[i];
        t[1] = c1[i];
        const g = this.add(t);
        this.table[key] = g + 1;
        gids[i] = g;
      }
      return;
    }
    for (let i = 0; i < n; i++) {
      let key = 0;
      for (let j = 0; j < this.width; j++) key = (key << bits[j]) | cols[j][i];
      const d = this.table[key];
      if (d !== 0) {
        gids[i] = d - 1;
        continue;
      }
      for (let j = 0; j < this.width; j++) t[j] = cols[j][i];
      const g = this.add(t);
      this.table[key] = g + 1;
      gids[i] = g;
    }
  }

  /**
   * Group id of each row: cols[j][i] is the value id of key j in row i (rows [0, n)), and
   * every id of column j is below bounds[j].
   */
  assign(cols: Int32Array[], n: number, gids: Int32Array, bounds: ArrayLike<number>): void {
    const w = this.width;
    const t = this.tuple;
    if (w === 1) {
      const c = cols[0];
      let prev = -1;
      let prevG = -1;
      for (let i = 0; i < n; i++) {
        const v = c[i];
        if (v !== prev) {
          t[0] = v;
          prevG = this.lookup(t);
          prev = v;
        }
        gids[i] = prevG;
      }
      return;
    }
    if (this.bits !== null) this.fit(bounds);
    if (this.bits !== null) return this.assignDirect(cols, n, gids);
    let prevG = -1;
    for (let i = 0; i < n; i++) {
      let same = prevG >= 0;
      for (let j = 0; j < w; j++) {
        const v = cols[j][i];
        if (v !== t[j]) {
          same = false;
          t[j] = v;
        }
      }
      if (!same) prevG = this.lookup(t);
      gids[i] = prevG;
    }
  }
}
