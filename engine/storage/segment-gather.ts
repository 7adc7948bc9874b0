/**
 * The segment writer's gathers: copying one column's rows into sorted order, block by block,
 * with the statistics a block needs (validity bitmap, null count, min, max), and the sorted
 * per-segment string dictionaries. Pure CPU; no file format lives here (see segment-format.ts).
 *
 * Gathered values live in scratch arrays owned by this module and reused for every column and
 * segment (a flush gathers millions of values; fresh arrays per block cost as much in allocation
 * and GC as the gathers themselves). A `Gathered` is valid until the next `gatherRange`; the
 * encodings copy what they keep. Threading: one thread per module instance (the flush workers
 * each load their own).
 */
import { sortCodesByString } from './string-order.js';
import type { TypedColumn } from './typed-column.js';

export interface Gathered {
  values: Float64Array | Uint32Array | Uint8Array;
  validity: Uint8Array | null;
  nc: number;
  min: number | string | null;
  max: number | string | null;
}

let f64Scratch = new Float64Array(0);
let u32Scratch = new Uint32Array(0);
let u8Scratch = new Uint8Array(0);
let validityScratch = new Uint8Array(0);

/** Room for `n` rows in the scratch arrays of `type` (grown by doubling, never shrunk). */
function reserve(type: TypedColumn['type'], n: number): void {
  const grow = (have: number): number => Math.max(n, have * 2, 1024);
  if (type === 'number' && f64Scratch.length < n) f64Scratch = new Float64Array(grow(f64Scratch.length));
  if (type === 'string' && u32Scratch.length < n) u32Scratch = new Uint32Array(grow(u32Scratch.length));
  if (type === 'boolean' && u8Scratch.length < n) u8Scratch = new Uint8Array(grow(u8Scratch.length));
  const bytes = (n >> 3) + 1;
  if (validityScratch.length < bytes) validityScratch = new Uint8Array(Math.max(bytes, validityScratch.length * 2, 128));
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
    let g: RawGather;
    if (col.type === 'number') g = gatherF64(f64Scratch.subarray(start, end), col.values as Float64Array, col.validity, rows, validity);
    else if (col.type === 'boolean') g = gatherU8(u8Scratch.subarray(start, end), col.values as Uint8Array, col.validity, rows, validity);
    else g = gatherU32(u32Scratch.subarray(start, end), col.values as Uint32Array, col.validity, rows, validity);
    out.push(finishGather(g, validity));
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
 * valid row's value, leading nulls the first valid one. One copy per array type: a single
 * function over all three sees polymorphic element accesses and runs several times slower. The
 * loop without a source bitmap has no null handling at all.
 */
function gatherF64(out: Float64Array, src: Float64Array, srcValidity: Uint8Array | null, rows: Uint32Array, validity: Uint8Array): RawGather {
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
    nc += 1 - valid;
    validity[i >> 3] |= valid << (i & 7);
    // Every value taken is a valid row's, so min and max need no validity test.
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { values: out, nc, min, max };
}

/** gatherF64 for u32 codes, typed apart so each stays monomorphic. */
function gatherU32(out: Uint32Array, src: Uint32Array, srcValidity: Uint8Array | null, rows: Uint32Array, validity: Uint8Array): RawGather {
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
    nc += 1 - valid;
    validity[i >> 3] |= valid << (i & 7);
    // Every value taken is a valid row's, so min and max need no validity test.
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { values: out, nc, min, max };
}

/** gatherF64 for u8 booleans, typed apart so each stays monomorphic. */
function gatherU8(out: Uint8Array, src: Uint8Array, srcValidity: Uint8Array | null, rows: Uint32Array, validity: Uint8Array): RawGather {
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
    nc += 1 - valid;
    validity[i >> 3] |= valid << (i & 7);
    // Every value taken is a valid row's, so min and max need no validity test.
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { values: out, nc, min, max };
}

/**
 * Scratch per source dictionary, reused across the segments of one flush (a generation's tails
 * share their dictionaries, and each tail is cut into one segment per partition):
 * `stamp[code] === epoch` marks a code used by the current segment, so finding the used codes
 * costs the segment's rows, not the dictionary's length. A small dictionary is ranked once
 * (`rank`), so each segment sorts integers rather than strings; a large one (session ids) is
 * not: ranking it costs ~2 µs a string, while each segment sorts only the strings it uses,
 * and most strings of a large dictionary are used by one segment or two.
 */
interface DictScratch {
  stamp: Int32Array;
  remap: Uint32Array;
  epoch: number;
  /** rank[code]: position of the string in sorted order; codeAt[rank] inverts it. Small dictionaries only. */
  rank: Uint32Array | null;
  codeAt: Uint32Array | null;
  /** The previous segment's sorted used codes and its stored dictionary blob (see `StoredDict`). */
  lastCodes: ArrayLike<number> | null;
  lastStored: StoredDict | null;
}

/** A segment dictionary as stored: its blob's bytes (LZ4 or not), raw length and crc32. */
export interface StoredDict {
  compressed: boolean;
  bytes: Uint8Array;
  rawLength: number;
  crc: number;
}
const dictScratch = new WeakMap<string[], DictScratch>();
/** Dictionaries longer than this are not ranked as a whole. */
const RANKED_MAX = 4096;

function scratchFor(source: string[]): DictScratch {
  const s = dictScratch.get(source);
  if (s !== undefined && s.stamp.length === source.length) return s;
  const fresh: DictScratch = {
    stamp: new Int32Array(source.length),
    remap: new Uint32Array(source.length),
    epoch: 0,
    rank: null,
    codeAt: null,
    lastCodes: null,
    lastStored: null,
  };
  if (source.length <= RANKED_MAX) {
    // The default sort orders strings by UTF-16 code units, as `<` does, natively and much faster
    // than a comparator over indices; the entries are distinct, so a map gives each its rank.
    const sorted = source.slice().sort();
    const rankOf = new Map<string, number>();
    for (let r = 0; r < sorted.length; r++) rankOf.set(sorted[r], r);
    fresh.rank = new Uint32Array(source.length);
    fresh.codeAt = new Uint32Array(source.length);
    for (let c = 0; c < source.length; c++) {
      const r = rankOf.get(source[c])!;
      fresh.rank[c] = r;
      fresh.codeAt[r] = c;
    }
  }
  dictScratch.set(source, fresh);
  return fresh;
}

/** A segment's dictionary, its code map, and its stored form when the previous segment's was the same. */
export interface SegmentDict {
  dict: string[];
  remap: Uint32Array;
  /** The stored blob of the same dictionary, from the previous segment of this source (or null). */
  stored: StoredDict | null;
  /** Keeps the stored blob of this dictionary, for the next segment. */
  remember(stored: StoredDict): void;
}

/**
 * Sorted segment dictionary for the codes used by already gathered blocks (sequential reads;
 * gathering did the random ones), and the old-code → new-code map. Consecutive segments often
 * use the same strings of a small dictionary (event names, countries), so the previous
 * segment's stored dictionary is offered for reuse when the codes are the same.
 */
export function segmentDict(source: string[], groups: Gathered[]): SegmentDict {
  const scratch = scratchFor(source);
  const epoch = ++scratch.epoch;
  const { stamp, remap, rank, codeAt } = scratch;
  const used: number[] = [];
  for (const g of groups) {
    if (g.min === null) continue; // every row null
    const values = g.values as Uint32Array;
    // Null rows hold a neighbour's code (see gatherRange), which is used, so no bitmap test.
    for (let i = 0; i < values.length; i++) {
      const c = values[i];
      if (stamp[c] !== epoch) {
        stamp[c] = epoch;
        used.push(c);
      }
    }
  }
  let codes: ArrayLike<number>;
  if (rank !== null && codeAt !== null) {
    const ranks = new Uint32Array(used.length);
    for (let k = 0; k < used.length; k++) ranks[k] = rank[used[k]];
    ranks.sort();
    for (let k = 0; k < ranks.length; k++) ranks[k] = codeAt[ranks[k]];
    codes = ranks;
  } else {
    // By UTF-16 code units, as the default sort and `<` order strings.
    codes = sortCodesByString(used, source);
  }
  const dict: string[] = new Array(codes.length);
  for (let k = 0; k < codes.length; k++) {
    dict[k] = source[codes[k]];
    remap[codes[k]] = k;
  }
  const last = scratch.lastCodes;
  let same = last !== null && last.length === codes.length;
  for (let k = 0; same && k < codes.length; k++) same = last![k] === codes[k];
  if (!same) {
    scratch.lastCodes = codes;
    scratch.lastStored = null;
  }
  const remember = (stored: StoredDict): void => {
    if (scratch.lastCodes === codes || same) scratch.lastStored = stored;
  };
  return { dict, remap, stored: same ? scratch.lastStored : null, remember };
}

/** Rewrites a gathered block's codes through `remap`; its zone map becomes the first and last strings. */
export function remapGathered(g: Gathered, remap: Uint32Array, dict: string[]): void {
  if (g.min === null) return; // every row null: nothing to map, no zone
  const values = g.values as Uint32Array;
  let min = Infinity;
  let max = -Infinity;
  // Null rows hold a valid row's code of the same block (see gatherRange), so they can be
  // included: min and max over every row are those over the valid rows.
  for (let i = 0; i < values.length; i++) {
    const v = remap[values[i]];
    values[i] = v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  g.min = dict[min];
  g.max = dict[max];
}
