/**
 * Groups of a behavioral operator within one shard: a tuple of small non-negative integer
 * keys (a bucket or cohort index, per-shard value ids of groupBy columns, path node ids) →
 * dense group id, with the key values recovered at the end. An open-addressing hash table
 * over the tuples, with a one-entry cache of the previous lookup (consecutive sessions or
 * actors often repeat a tuple); lookups allocate nothing.
 *
 * Threading: one table per shard run.
 */
import { ShoalError } from '../../errors.js';
import type { Value } from '../../types.js';
import type { KeyEncoder } from '../group-keys.js';

const DIRECT_KEYS = 1 << 16;

export class GroupTable {
  private readonly width: number;
  /** The tuple to look up: callers fill it, then call lookup(). */
  readonly tuple: Int32Array;
  private readonly prev: Int32Array;
  private prevGroup = -1;
  size = 0;
  /** stored[g * width + j]: key j of group g. */
  private stored = new Int32Array(64);
  /** Slots hold group id + 1 (0: empty). */
  private slots = new Int32Array(64);
  /** Width 1: direct[key] = group id + 1 (0: not seen), for keys below DIRECT_KEYS. */
  private direct = new Int32Array(0);

  /**
   * @param decoders one per tuple position: turns the stored integer back into the key value
   */
  constructor(private readonly decoders: ((id: number) => Value)[], private readonly maxGroups: number) {
    this.width = Math.max(1, decoders.length);
    this.tuple = new Int32Array(this.width);
    this.prev = new Int32Array(this.width);
  }

  private hash(keys: Int32Array, at: number): number {
    let h = 0x9e3779b9;
    for (let j = 0; j < this.width; j++) {
      h = Math.imul(h ^ keys[at + j], 0x85ebca6b);
      h ^= h >>> 15;
    }
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  }

  private grow(): void {
    const cap = this.slots.length * 2;
    const slots = new Int32Array(cap);
    for (let g = 0; g < this.size; g++) {
      let s = this.hash(this.stored, g * this.width) & (cap - 1);
      while (slots[s] !== 0) s = (s + 1) & (cap - 1);
      slots[s] = g + 1;
    }
    this.slots = slots;
  }

  /** The group of the tuple currently in `this.tuple`, added when new. */
  lookup(): number {
    const t = this.tuple;
    const w = this.width;
    // One small key (a groupBy value id, a cohort): an array lookup instead of hashing, since
    // streamed operators emit actor after actor and rarely repeat the previous tuple.
    if (w === 1 && t[0] >= 0 && t[0] < DIRECT_KEYS) {
      const k = t[0];
      if (k >= this.direct.length) {
        const next = new Int32Array(Math.min(DIRECT_KEYS, Math.max(k + 1, 2 * this.direct.length)));
        next.set(this.direct);
        this.direct = next;
      }
      const e = this.direct[k];
      if (e !== 0) return e - 1;
      return (this.direct[k] = this.insert() + 1) - 1;
    }
    const p = this.prev;
    let same = this.prevGroup >= 0;
    for (let j = 0; j < w && same; j++) same = t[j] === p[j];
    if (same) return this.prevGroup;
    p.set(t);
    const mask = this.slots.length - 1;
    for (let s = this.hash(t, 0) & mask; ; s = (s + 1) & mask) {
      const e = this.slots[s];
      if (e === 0) break;
      const base = (e - 1) * w;
      let hit = true;
      for (let j = 0; j < w && hit; j++) hit = this.stored[base + j] === t[j];
      if (hit) return (this.prevGroup = e - 1);
    }
    return (this.prevGroup = this.insert());
  }

  /** Adds the tuple in `this.tuple` (known to be new) as the next group. */
  private insert(): number {
    const t = this.tuple;
    const w = this.width;
    const mask = this.slots.length - 1;
    const g = this.size;
    if (g >= this.maxGroups) throw new ShoalError('TOO_MANY_GROUPS', [this.maxGroups]);
    if ((g + 1) * w > this.stored.length) {
      const next = new Int32Array(this.stored.length * 2);
      next.set(this.stored);
      this.stored = next;
    }
    this.stored.set(t, g * w);
    this.size = g + 1;
    if (this.size * 2 > this.slots.length) this.grow();
    else {
      let s = this.hash(t, 0) & mask;
      while (this.slots[s] !== 0) s = (s + 1) & mask;
      this.slots[s] = g + 1;
    }
    return g;
  }

  /** Key values column-wise: keys[j][g]. */
  keys(): Value[][] {
    const n = this.size;
    return this.decoders.map((dec, j) => Array.from({ length: n }, (_, g) => dec(this.stored[g * this.width + j])));
  }

  bytes(): number {
    return this.stored.byteLength + this.slots.byteLength + this.direct.byteLength;
  }
}

/** Decoders for the bucket boundaries (index → start ms) and then a list of key encoders. */
export function keyDecoders(boundaries: Float64Array | null, encoders: readonly KeyEncoder[]): ((id: number) => Value)[] {
  const out: ((id: number) => Value)[] = [];
  if (boundaries !== null) out.push((i) => boundaries[i]);
  for (const e of encoders) out.push((id) => e.value(id));
  return out;
}
