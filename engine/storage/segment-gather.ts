/**
 * The segment writer's gathers: copying one column's rows into sorted order, block by block,
 * with the statistics a block needs (validity bitmap, null count, min, max). The sorted
 * per-segment string dictionaries built from the gathered codes are in segment-dict.ts. Pure
 * CPU; no file format lives here (see segment-format.ts).
 *
 * Gathered values live in scratch arrays owned by this module and reused for every column and
 * segment (a flush gathers millions of values; fresh arrays per block cost as much in allocation
 * and GC as the gathers themselves). A `Gathered` is valid until the next `gatherRange`; the
 * encodings copy what they keep. Threading: one thread per module instance (the flush workers
 * each load their own).
 */
import { countNulls } from '../encodings/validity.js';
import type { TypedColumn } from './typed-column.js';

export interface Gathered {
  values: Float64Array | Uint32Array | Uint8Array;
  validity: Uint8Array | null;
  nc: number;
  min: number | string | null;
  max: number | string | null;
  /**
   * When the block has both null and valid rows: its valid rows, ascending. Every other row
   * holds a copy of the latest valid row's value before it (the first one's before the first),
   * so a sparse encoding reads the valid values at these rows alone (`encodeSparseValid`)
   * rather than finding them and checking the filler over every row.
   */
  valid?: Uint32Array;
}

let f64Scratch = new Float64Array(0);
let u32Scratch = new Uint32Array(0);
let u8Scratch = new Uint8Array(0);
let validityScratch = new Uint8Array(0);
/** Valid rows of the blocks being gathered (block-relative, each block's from its first row). */
let validRowsScratch = new Uint32Array(0);

/** Room for `n` rows in the scratch arrays of `type` (grown by doubling, never shrunk). */
function reserve(type: TypedColumn['type'], n: number): void {
  const grow = (have: number): number => Math.max(n, have * 2, 1024);
  if (type === 'number' && f64Scratch.length < n) f64Scratch = new Float64Array(grow(f64Scratch.length));
  if (type === 'string' && u32Scratch.length < n) u32Scratch = new Uint32Array(grow(u32Scratch.length));
  if (type === 'boolean' && u8Scratch.length < n) u8Scratch = new Uint8Array(grow(u8Scratch.length));
  const bytes = (n >> 3) + 1;
  if (validityScratch.length < bytes) validityScratch = new Uint8Array(Math.max(bytes, validityScratch.length * 2, 128));
  if (validRowsScratch.length < n) validRowsScratch = new Uint32Array(grow(validRowsScratch.length));
}

/**
 * Gathers rows `order` of `col` into sorted order, cut into blocks of `blockRows`: one Gathered
 * per block, viewing scratch space. A null row takes the previous valid value and leading nulls
 * the block's first one (so frame-of-reference widths and runs stay small, and the sparse
 * encoding's filler rule holds); a block with no null has no bitmap; a block of nulls only has
 * min = max = null. For strings, min and max are codes (see `remapRange`).
 */
export function gatherRange(col: TypedColumn, order: Uint32Array, blockRows: number): Gathered[] {
  const n = order.length;
  reserve(col.type, n);
  const out: Gathered[] = [];
  for (let start = 0; start < n; start += blockRows) {
    const end = Math.min(n, start + blockRows);
    const rows = order.subarray(start, end);
    const validity = validityScratch.subarray(start >> 3, (end + 7) >> 3);
    validity.fill(0);
    const validRows = validRowsScratch.subarray(start, end);
    let g: RawGather;
    if (col.type === 'number') g = gatherF64(f64Scratch.subarray(start, end), col.values as Float64Array, col.validity, rows, validity, validRows);
    else if (col.type === 'boolean') g = gatherU8(u8Scratch.subarray(start, end), col.values as Uint8Array, col.validity, rows, validity, validRows);
    else g = gatherU32(u32Scratch.subarray(start, end), col.values as Uint32Array, col.validity, rows, validity, validRows);
    const gathered = finishGather(g, validity);
    if (gathered.validity !== null && gathered.min !== null) gathered.valid = validRows.subarray(0, g.values.length - g.nc);
    out.push(gathered);
  }
  return out;
}

interface RawGather {
  values: Float64Array | Uint32Array | Uint8Array;
  nc: number;
  min: number;
  max: number;
}

function finishGather(g: RawGather, validity: Uint8Array): Gathered {
  const n = g.values.length;
  if (g.nc === n) return { values: g.values, validity, nc: n, min: null, max: null };
  return { values: g.values, validity: g.nc === 0 ? null : validity, nc: g.nc, min: g.min, max: g.max };
}

/**
 * out[i] = src[rows[i]] with validity, null count, min and max; a null row takes the previous
 * valid row's value, leading nulls the first valid one. With a source bitmap, the valid rows'
 * indices go to validRows[0, n - nc). One copy per array type: a single
 * function over all three sees polymorphic element accesses and runs several times slower. The
 * loop without a source bitmap has no null handling at all.
 */
function gatherF64(out: Float64Array, src: Float64Array, srcValidity: Uint8Array | null, rows: Uint32Array, validity: Uint8Array, validRows: Uint32Array): RawGather {
  const n = rows.length;
  let min = Infinity;
  let max = -Infinity;
  if (srcValidity === null) {
    for (let i = 0; i < n; i++) {
      const v = src[rows[i]];
      out[i] = v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    return { values: out, nc: 0, min, max };
  }
  let i = 0;
  while (i < n && (srcValidity[rows[i] >> 3] & (1 << (rows[i] & 7))) === 0) i++;
  if (i === n) {
    out.fill(0);
    return { values: out, nc: n, min, max };
  }
  // `last`: the source row whose value row i takes, i.e. the latest valid row, and before the
  // first valid row the first one. Branchless, since validity is unpredictable row to row:
  // if (valid) last = r; out[i] = src[last]
  // Rows are below 2^31 (tails hold far fewer), so int32 bit operations select without branches.
  let last = rows[i] | 0;
  let nc = 0;
  for (i = 0; i < n; i++) {
    const r = rows[i] | 0;
    const valid = (srcValidity[r >> 3] >> (r & 7)) & 1;
    const keep = valid - 1; // 0 when valid, -1 (all bits) when null
    last = (r & ~keep) | (last & keep);
    const v = src[last];
    out[i] = v;
    validRows[i - nc] = i; // kept when valid: the next row overwrites it otherwise
    nc += 1 - valid;
    validity[i >> 3] |= valid << (i & 7);
    // Every value taken is a valid row's, so min and max need no validity test.
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { values: out, nc, min, max };
}

/** gatherF64 for u32 codes, typed apart so each stays monomorphic. */
function gatherU32(out: Uint32Array, src: Uint32Array, srcValidity: Uint8Array | null, rows: Uint32Array, validity: Uint8Array, validRows: Uint32Array): RawGather {
  const n = rows.length;
  let min = Infinity;
  let max = -Infinity;
  if (srcValidity === null) {
    for (let i = 0; i < n; i++) {
      const v = src[rows[i]];
      out[i] = v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    return { values: out, nc: 0, min, max };
  }
  let i = 0;
  while (i < n && (srcValidity[rows[i] >> 3] & (1 << (rows[i] & 7))) === 0) i++;
  if (i === n) {
    out.fill(0);
    return { values: out, nc: n, min, max };
  }
  // `last`: the source row whose value row i takes, i.e. the latest valid row, and before the
  // first valid row the first one. Branchless, since validity is unpredictable row to row:
  // if (valid) last = r; out[i] = src[last]
  // Rows are below 2^31 (tails hold far fewer), so int32 bit operations select without branches.
  let last = rows[i] | 0;
  let nc = 0;
  for (i = 0; i < n; i++) {
    const r = rows[i] | 0;
    const valid = (srcValidity[r >> 3] >> (r & 7)) & 1;
    const keep = valid - 1; // 0 when valid, -1 (all bits) when null
    last = (r & ~keep) | (last & keep);
    const v = src[last];
    out[i] = v;
    validRows[i - nc] = i; // kept when valid: the next row overwrites it otherwise
    nc += 1 - valid;
    validity[i >> 3] |= valid << (i & 7);
    // Every value taken is a valid row's, so min and max need no validity test.
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { values: out, nc, min, max };
}

/** gatherF64 for u8 booleans, typed apart so each stays monomorphic. */
function gatherU8(out: Uint8Array, src: Uint8Array, srcValidity: Uint8Array | null, rows: Uint32Array, validity: Uint8Array, validRows: Uint32Array): RawGather {
  const n = rows.length;
  let min = Infinity;
  let max = -Infinity;
  if (srcValidity === null) {
    for (let i = 0; i < n; i++) {
      const v = src[rows[i]];
      out[i] = v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    return { values: out, nc: 0, min, max };
  }
  let i = 0;
  while (i < n && (srcValidity[rows[i] >> 3] & (1 << (rows[i] & 7))) === 0) i++;
  if (i === n) {
    out.fill(0);
    return { values: out, nc: n, min, max };
  }
  // `last`: the source row whose value row i takes, i.e. the latest valid row, and before the
  // first valid row the first one. Branchless, since validity is unpredictable row to row:
  // if (valid) last = r; out[i] = src[last]
  // Rows are below 2^31 (tails hold far fewer), so int32 bit operations select without branches.
  let last = rows[i] | 0;
  let nc = 0;
  for (i = 0; i < n; i++) {
    const r = rows[i] | 0;
    const valid = (srcValidity[r >> 3] >> (r & 7)) & 1;
    const keep = valid - 1; // 0 when valid, -1 (all bits) when null
    last = (r & ~keep) | (last & keep);
    const v = src[last];
    out[i] = v;
    validRows[i - nc] = i; // kept when valid: the next row overwrites it otherwise
    nc += 1 - valid;
    validity[i >> 3] |= valid << (i & 7);
    // Every value taken is a valid row's, so min and max need no validity test.
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { values: out, nc, min, max };
}

/**
 * A column sparse enough for `gatherSparse`: at most one row in SPARSE_RATIO valid. Its gather
 * then follows the valid rows, instead of reading the validity of every row at random.
 */
const SPARSE_RATIO = 8;

/**
 * Whether a gathered block's valid rows are few (at most one in SPARSE_RATIO), so that a pass
 * over them (`valid`) beats one over every row. Either is right for any block with `valid`:
 * its null rows hold valid rows' values.
 */
export function fewValid(g: Gathered): g is Gathered & { valid: Uint32Array } {
  return g.valid !== undefined && g.valid.length * SPARSE_RATIO <= g.values.length;
}

let rankScratch = new Int32Array(0);

/**
 * Each row's position in `order` (its inverse permutation), for `positionsOfValid`; valid until
 * the next call. `order` must hold every row of 0..rowCount-1 once.
 */
export function rankRows(order: Uint32Array): Int32Array {
  const n = order.length;
  if (rankScratch.length < n) rankScratch = new Int32Array(Math.max(n, rankScratch.length * 2));
  const rank = rankScratch;
  for (let p = 0; p < n; p++) rank[order[p]] = p;
  return rank;
}

/**
 * The positions in sorted order of a column's valid rows, ascending, when at most one row in
 * SPARSE_RATIO is valid; otherwise null (gather it row by row). `rank` is `rankRows(order)`,
 * made by the caller only once some column needs it (`rank()`).
 */
export function positionsOfValid(col: TypedColumn, rowCount: number, rank: () => Int32Array): Uint32Array | null {
  const validity = col.validity;
  if (validity === null || rowCount < SPARSE_RATIO) return null;
  const valid = rowCount - countNulls(validity, rowCount);
  if (valid * SPARSE_RATIO > rowCount) return null;
  const whole = rowCount >> 3;
  // Bits past rowCount in the last byte are not rows.
  const tail = (rowCount & 7) === 0 ? 0 : validity[whole] & ((1 << (rowCount & 7)) - 1);
  const ranks = rank();
  const positions = new Uint32Array(valid);
  let at = 0;
  for (let k = 0; k <= whole; k++) {
    let b = k < whole ? validity[k] : tail;
    while (b !== 0) {
      const low = b & -b;
      positions[at++] = ranks[(k << 3) + 31 - Math.clz32(low)];
      b ^= low;
    }
  }
  return positions.sort();
}

/** First index of ascending `a` whose value is at least `v`. */
function lowerBound(a: Uint32Array, v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Gives a block's null rows the filler of `gatherRange` — the value of the latest valid row
 * before them, leading rows the first valid row's — once its valid rows `valid` (ascending, at
 * least one) hold their values: one fill per run of null rows.
 */
export function fillNulls(values: Float64Array | Uint32Array | Uint8Array, valid: Uint32Array): void {
  let from = 0;
  let last = values[valid[0]];
  for (let j = 0; j < valid.length; j++) {
    const i = valid[j];
    if (i > from) values.fill(last, from, i);
    last = values[i];
    from = i + 1;
  }
  if (from < values.length) values.fill(last, from);
}

/**
 * `gatherRange(col, order.subarray(start, end), blockRows)`, value for value, for a sparse
 * column from `positions` (`positionsOfValid`): each valid row is read and placed, then the rows
 * between take the filler (`fillNulls`).
 */
export function gatherSparse(col: TypedColumn, order: Uint32Array, start: number, end: number, positions: Uint32Array, blockRows: number): Gathered[] {
  const n = end - start;
  reserve(col.type, n);
  const scratch = col.type === 'number' ? f64Scratch : col.type === 'boolean' ? u8Scratch : u32Scratch;
  const src = col.values;
  const out: Gathered[] = [];
  let k = lowerBound(positions, start);
  for (let bs = 0; bs < n; bs += blockRows) {
    const be = Math.min(n, bs + blockRows);
    const values = scratch.subarray(bs, be);
    const validity = validityScratch.subarray(bs >> 3, (be + 7) >> 3);
    validity.fill(0);
    const first = start + bs;
    const stop = lowerBound(positions, start + be);
    if (k === stop) {
      values.fill(0);
      out.push(finishGather({ values, nc: be - bs, min: Infinity, max: -Infinity }, validity));
      continue;
    }
    const valid = positions.slice(k, stop);
    let min = Infinity;
    let max = -Infinity;
    for (let j = 0; j < valid.length; j++, k++) {
      const i = (valid[j] -= first);
      const v = src[order[positions[k]]];
      values[i] = v;
      validity[i >> 3] |= 1 << (i & 7);
      if (v < min) min = v;
      if (v > max) max = v;
    }
    fillNulls(values, valid);
    const g = finishGather({ values, nc: be - bs - valid.length, min, max }, validity);
    g.valid = valid;
    out.push(g);
  }
  return out;
}
