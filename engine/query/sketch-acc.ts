/**
 * The percentile accumulator (median, pNN): one quantile sketch per group (sketch.ts), filled
 * in two passes per row group so the per-row work is a few typed-array operations and no
 * object access: first the bin of every selected value (one tight loop around Math.log), then
 * one increment per row into a dense matrix of positive bins, groups × a bin range shared by
 * all groups (grown on both sides as values need). Zeros, negatives and NaN, rare in latency
 * columns, go through `sketchAdd` into a per-group side sketch, merged in at `state`. When the
 * matrix would pass MAX_CELLS (many groups, e.g. by $actor, times a wide value range) the
 * accumulator moves every group to its own sketch and continues row by row.
 *
 * Threading: one accumulator per shard scan; `update` runs once per row group.
 */
import type { Accumulator, Batch } from './accumulators.js';
import type { MeasureState } from './measure-state.js';
import type { MeasureNode } from './plan.js';
import { derivedOf, keepDerived, mayKeepDerived } from './block-derived.js';
import { reused } from './code-histograms.js';
import { growF64, isValidRow } from './row-group.js';
import { createSketch, mergeSketch, sketchAdd, sketchBin, type SketchState } from './sketch.js';

/** Most matrix cells (8 bytes each) before falling back to one sketch object per group. */
const MAX_CELLS = 1 << 21;
const binRange = new Int32Array(2);
/** pick[ok]: the row's value when the matrix holds it (ok = 1), else a stand-in (ok = 0). */
const pick = new Float64Array(2);

/**
 * bins[i] = bin of v[rows[i]] and keep[i] = 1 where the matrix holds the value (positive and
 * finite); elsewhere (zero, negative, NaN, infinite: rare in latencies, but also whatever a
 * null row holds) keep[i] = 0, bins[i] is some bin in range, and i is listed in `sideAt`.
 * Branch-free per row, since null rows come in random places. Returns the number of side rows;
 * the range of bins seen is left in binRange [lo, hi] (lo > hi: none).
 */
function binPass(v: Float64Array | Uint8Array, rows: Uint32Array, n: number, bins: Int32Array, keep: Uint8Array, sideAt: Int32Array): number {
  let lo = 2147483647;
  let hi = -2147483647;
  let first = -1;
  for (let i = 0; i < n && first < 0; i++) {
    const x = v[rows[i]];
    if (x > 0 && x < Infinity) first = i;
  }
  binRange[0] = lo;
  binRange[1] = hi;
  if (first < 0) {
    for (let i = 0; i < n; i++) sideAt[i] = i;
    keep.fill(0, 0, n);
    return n;
  }
  pick[0] = v[rows[first]];
  let sides = 0;
  for (let i = 0; i < n; i++) {
    const x = v[rows[i]];
    const ok = +(x > 0) & +(x < Infinity);
    pick[1] = x;
    const k = sketchBin(pick[ok]);
    bins[i] = k;
    keep[i] = ok;
    sideAt[sides] = i;
    sides += 1 - ok;
    if (k < lo) lo = k;
    if (k > hi) hi = k;
  }
  binRange[0] = lo;
  binRange[1] = hi;
  return sides;
}

/** The bins of a whole decoded block (binPass over all its rows), kept while the block lives. */
interface BlockBins {
  bins: Int32Array;
  keep: Uint8Array;
  sideAt: Int32Array;
  sides: number;
  lo: number;
  hi: number;
}

/**
 * Bins of a whole decoded value array, derived to be kept (the caller looks for kept ones
 * first): a block cache hands out the same array query after query, so the bin of each value
 * (the costly part of a percentile, ~a third of it) is computed once, from the block's second
 * use (the first bins only the rows it selects). Costs 5 bytes per row beside the block's 8,
 * kept as the cached block's memo (counted in the cache's budget, block-derived.ts); null when
 * the cache has no room for it (then only the selected rows are binned, as on first use). Like
 * the block cache, this relies on decoded arrays never being rewritten (a column vector is an
 * immutable snapshot).
 */
function binsOfBlock(v: Float64Array | Uint8Array): BlockBins | null {
  const n = v.length;
  // Room for the most it can take (every row a side row): else it could be derived and declined at every call.
  if (!mayKeepDerived(v, blockBinsBytes(n, n))) return null;
  const bins = new Int32Array(n);
  const keep = new Uint8Array(n);
  const all = new Int32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  const sideAt = new Int32Array(n);
  const sides = binPass(v, all as unknown as Uint32Array, n, bins, keep, sideAt);
  const b = { bins, keep, sideAt: sideAt.slice(0, sides), sides, lo: binRange[0], hi: binRange[1] };
  keepDerived(v, 'bins', blockBinsBytes(n, sides), b);
  return b;
}

function blockBinsBytes(rows: number, sides: number): number {
  return 5 * rows + 4 * sides + 64;
}

/**
 * Bins of the selected rows from their block's cached bins: bins/keep gathered, side positions
 * listed; binRange is the block's (a superset of the selection's). Returns the side rows.
 */
function gatherBins(block: BlockBins, rows: Uint32Array, n: number, bins: Int32Array, keep: Uint8Array, sideAt: Int32Array): number {
  const bb = block.bins;
  const bk = block.keep;
  let sides = 0;
  for (let i = 0; i < n; i++) {
    const row = rows[i];
    const ok = bk[row];
    bins[i] = bb[row];
    keep[i] = ok;
    sideAt[sides] = i;
    sides += 1 - ok;
  }
  binRange[0] = block.lo;
  binRange[1] = block.hi;
  return sides;
}

/**
 * cells[g][bin]++ and count, min, max of group g for every row; rows the matrix does not take
 * (null, or keep[i] = 0) go to the trash group (row `trash` of the matrix) without a branch:
 * validity bits are random in the columns that have them, so a branch would mispredict.
 */
function cellPass(v: Float64Array | Uint8Array, rows: Uint32Array, n: number, bins: Int32Array, keep: Uint8Array, gids: Int32Array | null, validity: Uint8Array | null, trash: number, cells: Float64Array, span: number, base: number, counts: Float64Array, mins: Float64Array, maxs: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const row = rows[i];
    const valid = (validity === null ? 1 : (validity[row >> 3] >> (row & 7)) & 1) & keep[i];
    const g0 = gids === null ? 0 : gids[i];
    // g = valid ? g0 : trash
    const g = g0 + ((valid - 1) & (trash - g0));
    cells[g * span + bins[i] - base]++;
    const x = v[row];
    counts[g]++;
    if (x < mins[g]) mins[g] = x;
    if (x > maxs[g]) maxs[g] = x;
  }
}

export class SketchAcc implements Accumulator {
  /** Groups with room in the matrix (rows of `cells`). */
  private capacity = 0;
  /** Dense mode: cells[g * span + (k − base)] counts positive values of group g in bin k. */
  private cells = new Float64Array(0);
  private base = 0;
  private span = 0;
  private counts: Float64Array<ArrayBuffer> = new Float64Array(16);
  private mins: Float64Array<ArrayBuffer> = new Float64Array(16).fill(Infinity);
  private maxs: Float64Array<ArrayBuffer> = new Float64Array(16).fill(-Infinity);
  /** Per group: values outside the matrix (dense mode: zeros, negatives; object mode: all). */
  private side: (SketchState | null)[] = [];
  private sideBins = 0;
  private dense = true;
  private bins = new Int32Array(0);
  /** Positions (into the batch) of the rows the last binPass left to the side sketches. */
  private sideAt = new Int32Array(0);
  /** Per row of the batch: 1 where the matrix holds the value (see binPass). */
  private keep = new Uint8Array(0);
  private groups = 0;

  /** @param maxCells matrix size past which groups move to sketch objects (tests lower it) */
  constructor(private readonly node: MeasureNode, private readonly maxCells = MAX_CELLS) {}

  grow(g: number): void {
    this.groups = Math.max(this.groups, g);
    while (this.side.length < g) this.side.push(null);
    this.counts = growF64(this.counts, g, 0);
    this.mins = growF64(this.mins, g, Infinity);
    this.maxs = growF64(this.maxs, g, -Infinity);
  }

  update(b: Batch): void {
    const col = b.r.column(this.node.column!);
    if (col === null || col.type === 'string') return;
    const v = col.values;
    const validity = col.validity;
    if (!this.dense) return this.updateObjects(b, v, validity);
    const { rows, n, gids } = b;
    if (this.bins.length < n) {
      this.bins = new Int32Array(Math.max(n, 2 * this.bins.length));
      this.sideAt = new Int32Array(this.bins.length);
      this.keep = new Uint8Array(this.bins.length);
    }
    let bins: Int32Array = this.bins;
    let keep: Uint8Array = this.keep;
    let sideAt: Int32Array = this.sideAt;
    let sides: number;
    // A block's bins are cached from its second use (the first bins only the rows it reads);
    // for the whole block (rows ascending from 0 to its end) they are used as they are.
    const whole = n > 0 && v.length >= 1024 && n >= v.length >> 3;
    const block = whole ? (derivedOf<BlockBins>(v, 'bins') ?? (reused(v) ? binsOfBlock(v) : null)) : null;
    if (block !== null) {
      if (n === v.length && rows[0] === 0 && rows[n - 1] === n - 1) {
        ({ bins, keep, sideAt, sides } = block);
        binRange[0] = block.lo;
        binRange[1] = block.hi;
      } else sides = gatherBins(block, rows, n, bins, keep, sideAt);
    } else sides = binPass(v, rows, n, bins, keep, sideAt);
    if (!this.reserve(binRange[0], binRange[1])) {
      this.toObjects();
      return this.updateObjects(b, v, validity);
    }
    if (this.span > 0 && sides < n) {
      const trash = this.capacity;
      cellPass(v, rows, n, bins, keep, gids, validity, trash, this.cells, this.span, this.base, this.counts, this.mins, this.maxs);
      // The trash group took the null and side rows: empty it again.
      this.cells.fill(0, trash * this.span, (trash + 1) * this.span);
      this.counts[trash] = 0;
      this.mins[trash] = Infinity;
      this.maxs[trash] = -Infinity;
    }
    // only the side rows: zeros, negatives, NaN, infinities, and null rows (skipped here)
    for (let s = 0; s < sides; s++) {
      const i = sideAt[s];
      if (validity !== null && !isValidRow(validity, rows[i])) continue;
      this.addSide(gids === null ? 0 : gids[i], v[rows[i]]);
    }
  }

  /** Makes the matrix hold bins lo … hi (none when lo > hi) for every group; false when it would be too large. */
  private reserve(lo: number, hi: number): boolean {
    const groups = Math.max(1, this.groups);
    const widen = lo <= hi && (this.span === 0 || lo < this.base || hi >= this.base + this.span);
    if (!widen && (groups <= this.capacity || this.span === 0)) return true;
    let base = this.base;
    let span = this.span;
    if (widen) {
      const newLo = this.span === 0 ? lo : Math.min(lo, base);
      const newHi = this.span === 0 ? hi : Math.max(hi, base + span - 1);
      // Slack on both sides: a value range tends to widen slowly as rows arrive.
      const slack = Math.max(16, (newHi - newLo + 1) >> 2);
      base = newLo - slack;
      span = newHi - newLo + 1 + 2 * slack;
    }
    const capacity = groups <= this.capacity ? this.capacity : Math.max(groups, 2 * this.capacity, 4);
    // Row `capacity` is the trash group of null rows (see cellPass).
    if ((capacity + 1) * span > this.maxCells) return false;
    const cells = new Float64Array((capacity + 1) * span);
    for (let g = 0; g < this.capacity && this.span > 0; g++) {
      cells.set(this.cells.subarray(g * this.span, (g + 1) * this.span), g * span + (this.base - base));
    }
    this.cells = cells;
    this.counts = growF64(this.counts, capacity + 1, 0);
    this.mins = growF64(this.mins, capacity + 1, Infinity);
    this.maxs = growF64(this.maxs, capacity + 1, -Infinity);
    this.capacity = capacity;
    this.base = base;
    this.span = span;
    return true;
  }

  private addSide(g: number, x: number): void {
    const sk = this.side[g] ?? (this.side[g] = createSketch());
    const before = sk.pos.counts.length + sk.neg.counts.length;
    sketchAdd(sk, x);
    this.sideBins += sk.pos.counts.length + sk.neg.counts.length - before;
  }

  /** Row by row into one sketch per group (object mode). */
  private updateObjects({ rows, n, gids }: Batch, v: Float64Array | Uint8Array, validity: Uint8Array | null): void {
    for (let i = 0; i < n; i++) {
      const row = rows[i];
      if (validity !== null && !isValidRow(validity, row)) continue;
      this.addSide(gids === null ? 0 : gids[i], v[row]);
    }
  }

  /** Moves the matrix into the per-group sketches and leaves dense mode. */
  private toObjects(): void {
    for (let g = 0; g < this.groups; g++) {
      const sk = this.matrixSketch(g);
      if (sk === null) continue;
      const side = this.side[g];
      if (side !== null) mergeSketch(sk, side);
      this.side[g] = sk;
      this.sideBins += sk.pos.counts.length + sk.neg.counts.length - (side === null ? 0 : side.pos.counts.length + side.neg.counts.length);
    }
    this.dense = false;
    this.cells = new Float64Array(0);
    this.capacity = 0;
    this.span = 0;
  }

  /** Group g's matrix row as a sketch (trimmed to its nonzero bins), or null when empty. */
  private matrixSketch(g: number): SketchState | null {
    if (g >= this.capacity || this.counts[g] === 0) return null;
    const row = this.cells.subarray(g * this.span, (g + 1) * this.span);
    let lo = 0;
    while (row[lo] === 0) lo++;
    let hi = row.length - 1;
    while (row[hi] === 0) hi--;
    const sk = createSketch();
    sk.pos = { offset: this.base + lo, counts: row.slice(lo, hi + 1) };
    sk.count = this.counts[g];
    sk.min = this.mins[g];
    sk.max = this.maxs[g];
    return sk;
  }

  bytes(): number {
    return this.cells.byteLength + 24 * this.groups + 104 * this.side.length + 8 * this.sideBins;
  }

  state(g: number): MeasureState {
    const sketches: (SketchState | null)[] = [];
    for (let i = 0; i < g; i++) {
      const side = this.side[i] ?? null;
      const sk = this.dense ? this.matrixSketch(i) : null;
      if (sk === null) sketches.push(side);
      else {
        if (side !== null) mergeSketch(sk, side);
        sketches.push(sk);
      }
    }
    return { kind: 'sketch', sketches };
  }
}
