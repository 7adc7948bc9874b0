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
import { twoSumError, type MeasureState } from './measure-state.js';
import type { MeasureNode } from './plan.js';
import { growF64, isValidRow, type RowGroupReader } from './row-group.js';
import { ActorDistinctAcc, SetAcc } from './set-accumulators.js';
import { SketchAcc } from './sketch-acc.js';

export interface Batch {
  r: RowGroupReader;
  rows: Uint32Array;
  n: number;
  gids: Int32Array | null;
  /**
   * Optional, beside `gids`: the batch as runs of one group (rows sorted by the key, e.g. by
   * actor within a segment). Run k covers positions [ends[k−1], ends[k]) (from 0 for k = 0)
   * and belongs to group runGids[k]. Accumulators may fold a run at once instead of row by row.
   * `contiguous`: rows[i] is i (the whole row group). When every accumulator `foldsRuns`,
   * `gids` is not filled.
   */
  runs?: { count: number; ends: Int32Array; gids: Int32Array; contiguous: boolean };
}

/**
 * Whether every value of `v` is finite, so that v[i] · 0 is 0 and a null row can be added as
 * v[i] · validity bit without a branch (null rows may hold any value). Cached per decoded
 * array: row groups come back from the block cache as the same array query after query.
 */
const finiteArrays = new WeakMap<Float64Array | Uint8Array, boolean>();
export function allFinite(v: Float64Array | Uint8Array): boolean {
  let known = finiteArrays.get(v);
  if (known === undefined) {
    let bad = 0;
    // bad += !isFinite(v[i]): x − x is 0 for finite x, NaN otherwise
    for (let i = 0; i < v.length; i++) bad += +(v[i] - v[i] !== 0);
    finiteArrays.set(v, (known = bad === 0));
  }
  return known;
}

export interface Accumulator {
  /** Reads `runs` and never `gids` when a batch has runs. */
  readonly foldsRuns?: boolean;
  /** Makes room for groups 0 … groups−1. */
  grow(groups: number): void;
  update(b: Batch): void;
  /** Approximate bytes held (for the memory budget). */
  bytes(): number;
  /** The state of groups 0 … groups−1. */
  state(groups: number): MeasureState;
}

export class CountAcc implements Accumulator {
  readonly foldsRuns = true;
  private counts: Float64Array<ArrayBuffer> = new Float64Array(16);
  /** With a column: count its non-null values (count(col)); without: count rows. */
  constructor(private readonly node: MeasureNode) {}
  grow(g: number): void {
    this.counts = growF64(this.counts, g, 0);
  }
  update({ r, rows, n, gids, runs }: Batch): void {
    const c = this.counts;
    const col = this.node.op === 'countValues' ? r.column(this.node.column!) : undefined;
    if (col === null) return;
    const validity = col === undefined ? null : col.validity;
    if (validity === null) {
      if (gids === null) c[0] += n;
      else if (runs !== undefined) {
        // counts[g] += length of each run of g
        const { count, ends, gids: rg } = runs;
        for (let k = 0, at = 0; k < count; k++) {
          c[rg[k]] += ends[k] - at;
          at = ends[k];
        }
      } else for (let i = 0; i < n; i++) c[gids[i]]++;
      return;
    }
    if (runs !== undefined) {
      // counts[g] += non-null rows of each run of g
      const { count, ends, gids: rg } = runs;
      for (let k = 0, at = 0; k < count; k++) {
        let valid = 0;
        for (let i = at; i < ends[k]; i++) valid += (validity[rows[i] >> 3] >> (rows[i] & 7)) & 1;
        c[rg[k]] += valid;
        at = ends[k];
      }
      return;
    }
    // counts[g] += isValid(row)
    for (let i = 0; i < n; i++) c[gids === null ? 0 : gids[i]] += (validity[rows[i] >> 3] >> (rows[i] & 7)) & 1;
  }
  /** Whether it counts rows (not a column's values): then `add` may stand in for `update`. */
  get countsRows(): boolean {
    return this.node.op === 'count';
  }
  /** counts[g] += k (row counts computed elsewhere, e.g. from codes or zone maps). */
  add(g: number, k: number): void {
    if (g >= this.counts.length) this.counts = growF64(this.counts, g + 1, 0);
    this.counts[g] += k;
  }
  bytes(): number {
    return this.counts.byteLength;
  }
  state(g: number): MeasureState {
    return { kind: 'count', counts: this.counts.slice(0, g) };
  }
}

/**
 * sum and avg: per group the sum, the rounding error its additions lost (Neumaier: each
 * addition's error, twoSumError, is carried in `comps`) and the count of values. Without the
 * errors the answer depended on the order rows were added in (arrival order in the tail, actor
 * order in a segment): 1e16 + 1 − 1e16 summed to 0 or 1.
 */
class SumAcc implements Accumulator {
  readonly foldsRuns = true;
  private sums: Float64Array<ArrayBuffer> = new Float64Array(16);
  private comps: Float64Array<ArrayBuffer> = new Float64Array(16);
  private counts: Float64Array<ArrayBuffer> = new Float64Array(16);
  constructor(private readonly node: MeasureNode) {}
  private groups = 0;
  grow(g: number): void {
    this.groups = Math.max(this.groups, g);
    // one slot past the groups: the trash group of null rows (see update)
    this.sums = growF64(this.sums, g + 1, 0);
    this.comps = growF64(this.comps, g + 1, 0);
    this.counts = growF64(this.counts, g + 1, 0);
  }
  update({ r, rows, n, gids, runs }: Batch): void {
    const col = r.column(this.node.column!);
    if (col === null || col.type === 'string') return;
    const v = col.values;
    const s = this.sums;
    const e = this.comps;
    const c = this.counts;
    const validity = col.validity;
    if (runs !== undefined) return sumRuns(v, validity, rows, runs, s, e, c);
    if (validity !== null && gids !== null && allFinite(v)) {
      // Null rows go to the trash group without a branch (their bits are random, a branch
      // would mispredict); the trash is emptied after. g = isValid(row) ? gids[i] : trash
      const trash = this.groups;
      for (let i = 0; i < n; i++) {
        const row = rows[i];
        const bit = (validity[row >> 3] >> (row & 7)) & 1;
        const g0 = gids[i];
        const g = g0 + ((bit - 1) & (trash - g0));
        e[g] += twoSumError(s[g], v[row]);
        s[g] += v[row];
        c[g]++;
      }
      s[trash] = 0;
      e[trash] = 0;
      c[trash] = 0;
      return;
    }
    if (validity === null && gids === null) {
      let acc = 0;
      let err = 0;
      // acc += v[row], its rounding errors in err
      for (let i = 0; i < n; i++) {
        const x = v[rows[i]];
        err += twoSumError(acc, x);
        acc += x;
      }
      e[0] += err + twoSumError(s[0], acc);
      s[0] += acc;
      c[0] += n;
    } else if (validity === null) {
      // sums[g] += v[row]; counts[g]++
      for (let i = 0; i < n; i++) {
        const g = gids![i];
        const x = v[rows[i]];
        e[g] += twoSumError(s[g], x);
        s[g] += x;
        c[g]++;
      }
    } else {
      for (let i = 0; i < n; i++) {
        const row = rows[i];
        if (!isValidRow(validity, row)) continue;
        const g = gids === null ? 0 : gids[i];
        e[g] += twoSumError(s[g], v[row]);
        s[g] += v[row];
        c[g]++;
      }
    }
  }
  bytes(): number {
    return this.sums.byteLength * 3;
  }
  state(g: number): MeasureState {
    return { kind: 'sum', sums: this.sums.slice(0, g), counts: this.counts.slice(0, g), comps: this.comps.slice(0, g) };
  }
}

/**
 * sums[g] += values (errors into comps[g]), counts[g] += non-null rows, one run of group g at a
 * time: the run adds up in registers, and when the values are all finite a null row adds v · 0
 * instead of taking a branch. A contiguous batch reads row i directly.
 */
function sumRuns(v: Float64Array | Uint8Array, validity: Uint8Array | null, rows: Uint32Array, runs: NonNullable<Batch['runs']>, s: Float64Array, e: Float64Array, c: Float64Array): void {
  const { count, ends, gids, contiguous } = runs;
  const masked = validity !== null && allFinite(v);
  let at = 0;
  for (let k = 0; k < count; k++) {
    const end = ends[k];
    let acc = 0;
    let err = 0;
    let valid = end - at;
    if (validity === null) {
      // acc += x, its rounding errors in err
      for (let i = at; i < end; i++) {
        const x = contiguous ? v[i] : v[rows[i]];
        err += twoSumError(acc, x);
        acc += x;
      }
    } else if (masked) {
      valid = 0;
      // acc += isValid(row) ? v[row] : 0
      for (let i = at; i < end; i++) {
        const row = contiguous ? i : rows[i];
        const bit = (validity[row >> 3] >> (row & 7)) & 1;
        const x = v[row] * bit;
        err += twoSumError(acc, x);
        acc += x;
        valid += bit;
      }
    } else {
      valid = 0;
      for (let i = at; i < end; i++) {
        const row = rows[i];
        if (!isValidRow(validity, row)) continue;
        err += twoSumError(acc, v[row]);
        acc += v[row];
        valid++;
      }
    }
    const g = gids[k];
    e[g] += err + twoSumError(s[g], acc);
    s[g] += acc;
    c[g] += valid;
    at = end;
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
