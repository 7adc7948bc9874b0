/**
 * Group ids for tuples of key value ids (one small integer per group column, see
 * group-keys.ts). One key column maps value id → group id through a flat array; more columns
 * go through an open-addressing hash table over the packed tuples. Rows of the same tuple as
 * the previous row (common: data is sorted by actor and time) skip the lookup.
 *
 * Threading: one index per shard scan.
 */
import { ShoalError } from '../errors.js';

export class GroupIndex {
  readonly width: number;
  private readonly maxGroups: number;
  size = 0;
  /** keys[g * width + j]: value id of key j of group g. */
  private keys = new Int32Array(64);
  /** width 1: value id → group id + 1 (0: none). */
  private direct = new Int32Array(64);
  /** width ≥ 2: hash slots holding group id + 1 (0: empty). */
  private slots = new Int32Array(0);
  private readonly tuple: Int32Array;

  constructor(width: number, maxGroups: number) {
    this.width = width;
    this.maxGroups = maxGroups;
    this.tuple = new Int32Array(width);
    if (width >= 2) this.slots = new Int32Array(1024);
  }

  /** Value id of key j of group g. */
  keyOf(g: number, j: number): number {
    return this.keys[g * this.width + j];
  }

  bytes(): number {
    return this.keys.byteLength + this.direct.byteLength + this.slots.byteLength;
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

  private rehash(): void {
    const cap = this.slots.length * 2;
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

  /** The group id of tuple t, adding a group when it is new. */
  lookup(t: Int32Array): number {
    if (this.width === 1) {
      const v = t[0];
      if (v >= this.direct.length) {
        const next = new Int32Array(Math.max(v + 1, this.direct.length * 2));
        next.set(this.direct);
        this.direct = next;
      }
      const d = this.direct[v];
      if (d !== 0) return d - 1;
      const g = this.add(t);
      this.direct[v] = g + 1;
      return g;
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

  /**
   * Group id of each row: cols[j][i] is the value id of key j in row i (rows [0, n)).
   * Rows repeating the previous row's tuple reuse its group.
   */
  assign(cols: Int32Array[], n: number, gids: Int32Array): void {
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
