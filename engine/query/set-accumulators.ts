/**
 * Accumulators that hold a structure per group: exact distinct values (hash sets) and distinct
 * actors (set or bitmap per group); quantile sketches are in sketch-acc.ts. Same contract as
 * accumulators.ts; each tracks the bytes it holds as it grows, for the query memory budget.
 */
import type { Scalar } from '../types.js';
import type { Accumulator, Batch } from './accumulators.js';
import { growF64, isValidRow } from './row-group.js';
import { SET_ENTRY_BYTES, type MeasureState } from './measure-state.js';
import type { MeasureNode } from './plan.js';

/** Exact distinct values per group (hash sets); uniq($actor) "foldable" uses global actor keys. */
export class SetAcc implements Accumulator {
  private sets: (Set<Scalar> | null)[] = [];
  private entries = 0;
  constructor(private readonly node: MeasureNode) {}
  grow(g: number): void {
    while (this.sets.length < g) this.sets.push(null);
  }
  private add(g: number, v: Scalar): void {
    let s = this.sets[g];
    if (s === null) this.sets[g] = s = new Set();
    const before = s.size;
    s.add(v);
    this.entries += s.size - before;
  }
  update({ r, rows, n, gids }: Batch): void {
    let prevG = -1;
    let prevKey = -1;
    if (this.node.op === 'actorKeys') {
      const ids = r.actorIds();
      // Actor ids are dense per shard; shard * 2^32 + id is unique in the table.
      const base = r.shard.shard * 4294967296;
      for (let i = 0; i < n; i++) {
        const g = gids === null ? 0 : gids[i];
        const id = ids[rows[i]];
        if (g === prevG && id === prevKey) continue;
        prevG = g;
        prevKey = id;
        this.add(g, base + id);
      }
      return;
    }
    const col = r.column(this.node.column!);
    if (col === null) return;
    const validity = col.validity;
    for (let i = 0; i < n; i++) {
      const row = rows[i];
      if (validity !== null && !isValidRow(validity, row)) continue;
      const g = gids === null ? 0 : gids[i];
      const key = col.type === 'string' ? col.codes[row] : col.values[row];
      if (g === prevG && key === prevKey) continue;
      prevG = g;
      prevKey = key;
      this.add(g, col.type === 'string' ? col.dict[key] : col.type === 'boolean' ? key === 1 : key);
    }
  }
  bytes(): number {
    return 8 * this.sets.length + SET_ENTRY_BYTES * this.entries;
  }
  state(g: number): MeasureState {
    return { kind: 'set', sets: this.sets.slice(0, g) };
  }
}

/**
 * uniq($actor): distinct dense actor ids per group within the shard. A group starts with a hash
 * set and switches to a bitmap (one bit per actor of the shard) once that is smaller; with no
 * groups it is a bitmap from the start. Counts add up over shards because actors never cross.
 */
export class ActorDistinctAcc implements Accumulator {
  private counts: Float64Array<ArrayBuffer> = new Float64Array(16);
  private sets: (Set<number> | null)[] = [];
  private bitmaps: (Uint8Array | null)[] = [];
  private heldBytes = 0;
  grow(g: number): void {
    this.counts = growF64(this.counts, g, 0);
    while (this.sets.length < g) {
      this.sets.push(null);
      this.bitmaps.push(null);
    }
  }
  update({ r, rows, n, gids }: Batch): void {
    const ids = r.actorIds();
    const bitmapBytes = (r.shard.actorCount + 7) >> 3;
    const maxSet = Math.max(16, bitmapBytes / SET_ENTRY_BYTES);
    let prevG = -1;
    let prevA = -1;
    for (let i = 0; i < n; i++) {
      const g = gids === null ? 0 : gids[i];
      const a = ids[rows[i]];
      if (g === prevG && a === prevA) continue;
      prevG = g;
      prevA = a;
      let bm = this.bitmaps[g];
      if (bm === null) {
        let s = this.sets[g];
        if (s === null && gids !== null) this.sets[g] = s = new Set();
        if (s !== null && s.size < maxSet) {
          const before = s.size;
          s.add(a);
          this.counts[g] += s.size - before;
          this.heldBytes += SET_ENTRY_BYTES * (s.size - before);
          continue;
        }
        bm = this.bitmaps[g] = new Uint8Array(bitmapBytes);
        this.heldBytes += bitmapBytes;
        if (s !== null) {
          for (const x of s) bm[x >> 3] |= 1 << (x & 7);
          this.heldBytes -= SET_ENTRY_BYTES * s.size;
          this.sets[g] = null;
        }
      }
      const bit = 1 << (a & 7);
      if ((bm[a >> 3] & bit) === 0) {
        bm[a >> 3] |= bit;
        this.counts[g]++;
      }
    }
  }
  bytes(): number {
    return this.counts.byteLength + 16 * this.sets.length + this.heldBytes;
  }
  state(g: number): MeasureState {
    return { kind: 'count', counts: this.counts.slice(0, g) };
  }
}
