/**
 * Scan-side measure accumulators: per shard scan, each measure folds the selected rows of a
 * row group into per-group state, then hands out its plain-data `MeasureState`.
 *
 * Hot loops are split so that rows without nulls pay no validity test; each carries its
 * simple equivalent in a comment. `rows` holds the row indices of the selection (or 0…n−1),
 * and `gids` the group of each (null: everything is group 0).
 *
 * Threading: one set of accumulators per shard scan; `update` runs once per row group.
 */
import type { Scalar } from '../types.js';
import { SET_ENTRY_BYTES, type MeasureState } from './measure-state.js';
import type { MeasureNode } from './plan.js';
import type { RowGroupReader } from './row-group.js';
import { createSketch, sketchAdd, type SketchState } from './sketch.js';

export interface Batch {
  r: RowGroupReader;
  rows: Uint32Array;
  n: number;
  gids: Int32Array | null;
}

export interface Accumulator {
  /** Makes room for groups 0 … groups−1. */
  grow(groups: number): void;
  update(b: Batch): void;
  /** Approximate bytes held (for the memory budget). */
  bytes(): number;
  /** The state of groups 0 … groups−1. */
  state(groups: number): MeasureState;
}

function growF64(a: Float64Array<ArrayBuffer>, n: number, fill: number): Float64Array<ArrayBuffer> {
  if (n <= a.length) return a;
  const next = new Float64Array(Math.max(n, a.length * 2, 16));
  if (fill !== 0) next.fill(fill, a.length);
  next.set(a);
  return next;
}

function isValidRow(validity: Uint8Array, r: number): boolean {
  return ((validity[r >> 3] >> (r & 7)) & 1) === 1;
}

class CountAcc implements Accumulator {
  private counts: Float64Array<ArrayBuffer> = new Float64Array(16);
  /** With a column: count its non-null values (count(col)); without: count rows. */
  constructor(private readonly node: MeasureNode) {}
  grow(g: number): void {
    this.counts = growF64(this.counts, g, 0);
  }
  update({ r, rows, n, gids }: Batch): void {
    const c = this.counts;
    const col = this.node.op === 'countValues' ? r.column(this.node.column!) : undefined;
    if (col === null) return;
    const validity = col === undefined ? null : col.validity;
    if (validity === null) {
      if (gids === null) c[0] += n;
      else for (let i = 0; i < n; i++) c[gids[i]]++;
      return;
    }
    // counts[g] += isValid(row)
    for (let i = 0; i < n; i++) c[gids === null ? 0 : gids[i]] += (validity[rows[i] >> 3] >> (rows[i] & 7)) & 1;
  }
  bytes(): number {
    return this.counts.byteLength;
  }
  state(g: number): MeasureState {
    return { kind: 'count', counts: this.counts.slice(0, g) };
  }
}

class SumAcc implements Accumulator {
  private sums: Float64Array<ArrayBuffer> = new Float64Array(16);
  private counts: Float64Array<ArrayBuffer> = new Float64Array(16);
  constructor(private readonly node: MeasureNode) {}
  grow(g: number): void {
    this.sums = growF64(this.sums, g, 0);
    this.counts = growF64(this.counts, g, 0);
  }
  update({ r, rows, n, gids }: Batch): void {
    const col = r.column(this.node.column!);
    if (col === null || col.type === 'string') return;
    const v = col.values;
    const s = this.sums;
    const c = this.counts;
    const validity = col.validity;
    if (validity === null && gids === null) {
      let acc = 0;
      for (let i = 0; i < n; i++) acc += v[rows[i]];
      s[0] += acc;
      c[0] += n;
    } else if (validity === null) {
      // sums[g] += v[row]; counts[g]++
      for (let i = 0; i < n; i++) {
        const g = gids![i];
        s[g] += v[rows[i]];
        c[g]++;
      }
    } else {
      for (let i = 0; i < n; i++) {
        const row = rows[i];
        if (!isValidRow(validity, row)) continue;
        const g = gids === null ? 0 : gids[i];
        s[g] += v[row];
        c[g]++;
      }
    }
  }
  bytes(): number {
    return this.sums.byteLength * 2;
  }
  state(g: number): MeasureState {
    return { kind: 'sum', sums: this.sums.slice(0, g), counts: this.counts.slice(0, g) };
  }
}

class MinMaxAcc implements Accumulator {
  private values: Float64Array<ArrayBuffer>;
  private counts: Float64Array<ArrayBuffer> = new Float64Array(16);
  private readonly isMax: boolean;
  constructor(private readonly node: MeasureNode) {
    this.isMax = node.op === 'max';
    this.values = new Float64Array(16).fill(this.isMax ? -Infinity : Infinity);
  }
  grow(g: number): void {
    this.values = growF64(this.values, g, this.isMax ? -Infinity : Infinity);
    this.counts = growF64(this.counts, g, 0);
  }
  update({ r, rows, n, gids }: Batch): void {
    const col = r.column(this.node.column!);
    if (col === null || col.type === 'string') return;
    const v = col.values;
    const m = this.values;
    const c = this.counts;
    const validity = col.validity;
    const sign = this.isMax ? -1 : 1;
    // values[g] = min(values[g], v[row]) (max: with the signs flipped); counts[g]++
    for (let i = 0; i < n; i++) {
      const row = rows[i];
      if (validity !== null && !isValidRow(validity, row)) continue;
      const g = gids === null ? 0 : gids[i];
      const x = v[row];
      if (sign * x < sign * m[g]) m[g] = x;
      c[g]++;
    }
  }
  bytes(): number {
    return this.values.byteLength * 2;
  }
  state(g: number): MeasureState {
    return { kind: this.isMax ? 'max' : 'min', values: this.values.slice(0, g), counts: this.counts.slice(0, g) };
  }
}

class MinMaxTextAcc implements Accumulator {
  private values: (string | null)[] = [];
  private readonly isMax: boolean;
  constructor(private readonly node: MeasureNode) {
    this.isMax = node.op === 'maxText';
  }
  grow(g: number): void {
    while (this.values.length < g) this.values.push(null);
  }
  update({ r, rows, n, gids }: Batch): void {
    const col = r.column(this.node.column!);
    if (col === null || col.type !== 'string') return;
    const { codes, dict, validity } = col;
    const m = this.values;
    for (let i = 0; i < n; i++) {
      const row = rows[i];
      if (validity !== null && !isValidRow(validity, row)) continue;
      const g = gids === null ? 0 : gids[i];
      const s = dict[codes[row]];
      const cur = m[g];
      if (cur === null || (this.isMax ? s > cur : s < cur)) m[g] = s;
    }
  }
  bytes(): number {
    return 8 * this.values.length;
  }
  state(g: number): MeasureState {
    return { kind: this.isMax ? 'maxText' : 'minText', values: this.values.slice(0, g) };
  }
}

/** Exact distinct values per group (hash sets); uniq($actor) "foldable" uses global actor keys. */
class SetAcc implements Accumulator {
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
class ActorDistinctAcc implements Accumulator {
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

class SketchAcc implements Accumulator {
  private sketches: (SketchState | null)[] = [];
  /** Bins allocated over all sketches (tracked as they grow, for the memory budget). */
  private bins = 0;
  constructor(private readonly node: MeasureNode) {}
  grow(g: number): void {
    while (this.sketches.length < g) this.sketches.push(null);
  }
  update({ r, rows, n, gids }: Batch): void {
    const col = r.column(this.node.column!);
    if (col === null || col.type === 'string') return;
    const v = col.values;
    const validity = col.validity;
    const sketches = this.sketches;
    // sketches[g].add(v[row]) for valid rows
    for (let i = 0; i < n; i++) {
      const row = rows[i];
      if (validity !== null && !isValidRow(validity, row)) continue;
      const g = gids === null ? 0 : gids[i];
      const sk = sketches[g] ?? (sketches[g] = createSketch());
      const before = sk.pos.counts.length + sk.neg.counts.length;
      sketchAdd(sk, v[row]);
      this.bins += sk.pos.counts.length + sk.neg.counts.length - before;
    }
  }
  bytes(): number {
    return 104 * this.sketches.length + 8 * this.bins;
  }
  state(g: number): MeasureState {
    return { kind: 'sketch', sketches: this.sketches.slice(0, g) };
  }
}

/** The accumulator of a measure node. */
export function accumulator(node: MeasureNode): Accumulator {
  switch (node.op) {
    case 'count':
    case 'countValues': return new CountAcc(node);
    case 'sum': return new SumAcc(node);
    case 'min':
    case 'max': return new MinMaxAcc(node);
    case 'minText':
    case 'maxText': return new MinMaxTextAcc(node);
    case 'uniqValues':
    case 'actorKeys': return new SetAcc(node);
    case 'actorDistinct': return new ActorDistinctAcc();
    case 'sketch': return new SketchAcc(node);
  }
}
