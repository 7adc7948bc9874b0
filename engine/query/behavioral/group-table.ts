/**
 * Groups of a behavioral operator within one shard: a tuple of small integer keys (a bucket
 * or cohort index, then per-shard value ids of the groupBy columns) → dense group id, with
 * the key values recovered at the end. Wraps the aggregate engine's GroupIndex.
 *
 * Threading: one table per shard run.
 */
import type { Value } from '../../types.js';
import { GroupIndex } from '../group-index.js';
import type { KeyEncoder } from '../group-keys.js';

export class GroupTable {
  private readonly index: GroupIndex;
  readonly tuple: Int32Array;
  /** The previous lookup's tuple and group: consecutive lookups often repeat a tuple. */
  private readonly prev: Int32Array;
  private prevGroup = -1;

  /**
   * @param decoders one per tuple position: turns the stored integer back into the key value
   */
  constructor(private readonly decoders: ((id: number) => Value)[], maxGroups: number) {
    this.index = new GroupIndex(Math.max(1, decoders.length), maxGroups);
    this.tuple = new Int32Array(Math.max(1, decoders.length));
    this.prev = new Int32Array(this.tuple.length);
  }

  get size(): number {
    return this.index.size;
  }

  /** The group of the tuple currently in `this.tuple` (all entries ≥ 0), added when new. */
  lookup(): number {
    const t = this.tuple;
    const p = this.prev;
    let same = this.prevGroup >= 0;
    for (let j = 0; j < t.length && same; j++) same = t[j] === p[j];
    if (same) return this.prevGroup;
    p.set(t);
    return (this.prevGroup = this.index.lookup(t));
  }

  /** Key values column-wise: keys[j][g]. */
  keys(): Value[][] {
    const n = this.index.size;
    return this.decoders.map((dec, j) => Array.from({ length: n }, (_, g) => dec(this.index.keyOf(g, j))));
  }

  bytes(): number {
    return this.index.bytes();
  }
}

/** Decoders for the bucket boundaries (index → start ms) and then a list of key encoders. */
export function keyDecoders(boundaries: Float64Array | null, encoders: readonly KeyEncoder[]): ((id: number) => Value)[] {
  const out: ((id: number) => Value)[] = [];
  if (boundaries !== null) out.push((i) => boundaries[i]);
  for (const e of encoders) out.push((id) => e.value(id));
  return out;
}
