/**
 * The fast path of split-batch.ts: whole batch columns scattered into shard order at once.
 *
 * A batch's rows are routed by a stable counting sort on their shard (`RowLayout`). Gathering
 * each shard's rows column by column reads every column 16 times in scattered order; here each
 * column is read once, in row order, and each value is written to its row's place in a
 * batch-wide output laid out shard after shard (16 sequential write streams), so a shard part's
 * column is a view of that output. Validity bitmaps are laid out the same way, each shard's
 * starting on a byte of its own.
 *
 * Covers the common cases: number columns stored as numbers and dictionary-coded string
 * columns coded against the generation's dictionaries, times, and dictionary-coded actors with
 * their dense ids. Everything else goes through the per-shard builders of split-columns.ts.
 *
 * Threading: main thread (the ingest path).
 */
import { POPCOUNT } from '../encodings/validity.js';
import type { ActorDict } from './actor-dict.js';
import type { Remap, TailDicts } from './tail-dicts.js';
import type { ActorCacheEntry, ColumnPlan, PartArena } from './split-columns.js';

/** Where each row of a batch goes: its shard, and its place in shard order. */
export interface RowLayout {
  count: number;
  shardOfRow: Uint16Array;
  /** Shard s holds positions [starts[s], starts[s + 1]). */
  starts: Int32Array;
  /** Row at each position (the stable counting sort's order). */
  order: Int32Array;
  /** Position of each row. */
  rank: Int32Array;
  /** First byte of shard s's validity bitmap within a batch-wide bitmap; last entry: its length. */
  bitmapStarts: Int32Array;
  /** Bit of each row within a batch-wide validity bitmap. */
  bitOfRow: Int32Array | null;
  /** Where the layout's arrays come from. */
  arena: PartArena;
}

/** Stable counting sort of rows by shard. */
export function layoutRows(shardOfRow: Uint16Array, shardCount: number, arena: PartArena): RowLayout {
  const n = shardOfRow.length;
  const starts = new Int32Array(shardCount + 1);
  for (let i = 0; i < n; i++) starts[shardOfRow[i] + 1]++;
  for (let s = 0; s < shardCount; s++) starts[s + 1] += starts[s];
  const next = starts.slice(0, shardCount);
  const order = arena.i32(n);
  const rank = arena.i32(n);
  for (let i = 0; i < n; i++) {
    const at = next[shardOfRow[i]]++;
    order[at] = i;
    rank[i] = at;
  }
  const bitmapStarts = new Int32Array(shardCount + 1);
  for (let s = 0; s < shardCount; s++) bitmapStarts[s + 1] = bitmapStarts[s] + ((starts[s + 1] - starts[s] + 7) >> 3);
  return { count: n, shardOfRow, starts, order, rank, bitmapStarts, bitOfRow: null, arena };
}

/** Bit of each row in a batch-wide bitmap (computed once per batch, on first need). */
function bitsOf(layout: RowLayout): Int32Array {
  if (layout.bitOfRow !== null) return layout.bitOfRow;
  const { count, shardOfRow, starts, rank, bitmapStarts } = layout;
  const bits = layout.arena.i32(count);
  for (let i = 0; i < count; i++) {
    const s = shardOfRow[i];
    bits[i] = (bitmapStarts[s] << 3) + rank[i] - starts[s];
  }
  return (layout.bitOfRow = bits);
}

/** Valid rows of each shard: the set bits of its bitmap (bits past its rows are clear). */
function countValid(validity: Uint8Array, bitmapStarts: Int32Array, out: Int32Array): void {
  for (let s = 0; s < out.length; s++) {
    let valid = 0;
    for (let k = bitmapStarts[s]; k < bitmapStarts[s + 1]; k++) valid += POPCOUNT[validity[k]];
    out[s] = valid;
  }
}

/** A column in shard order: values, and (when some are null) validity with valid rows per shard. */
export interface Scattered {
  values: Float64Array | Uint32Array;
  validity: Uint8Array | null;
  validPerShard: Int32Array | null;
  dict?: string[];
}

/** Whether `scatterColumn` handles the plan's column. */
export function scatters(plan: ColumnPlan): boolean {
  return (plan.col.t === 'n' && plan.type === 'number') || (plan.col.t === 's' && plan.type === 'string' && plan.remap !== null);
}

/**
 * `Remap.codes` of a source code met by the current scatter and queued for `settle`: each is
 * looked up once, after the pass, together with the others (`TailDicts.mapCodes`).
 */
const QUEUED = -2;
/** Positions of the output holding a queued source code (`queued` of them), to rewrite by `settle`. */
let queuedAt = new Int32Array(0);
let queued = 0;
/** The distinct queued source codes (`distinct` of them), in the order met. */
let queuedCodes = new Int32Array(0);
let distinct = 0;

/** Room to queue `n` positions. */
function reserveQueue(n: number): void {
  if (queuedAt.length >= n) return;
  queuedAt = new Int32Array(Math.max(n, 2 * queuedAt.length));
  queuedCodes = new Int32Array(queuedAt.length);
}

/** Writes source code `c` at position `p` of `out` and queues both for `settle`. */
function enqueue(out: Uint32Array, p: number, gen: Int32Array, c: number): void {
  if (gen[c] !== QUEUED) {
    gen[c] = QUEUED;
    queuedCodes[distinct++] = c;
  }
  out[p] = c;
  queuedAt[queued++] = p;
}

/**
 * Maps the queued source codes, in the order met (so new strings get the codes the row-by-row
 * lookups gave them), rewrites the queued positions of `out` from source codes to generation
 * codes, and empties the queue.
 */
function settle(out: Uint32Array, remap: Remap, dicts: TailDicts): void {
  const gen = remap.codes;
  const count = distinct;
  try {
    if (count > 0) dicts.mapCodes(remap, queuedCodes, count);
    for (let k = 0; k < queued; k++) {
      const p = queuedAt[k];
      out[p] = gen[out[p]];
    }
  } finally {
    // Should the lookups fail, the queue is empty and no code stays marked queued for the next
    // scatter (whose positions would otherwise follow this one's and be rewritten with them).
    for (let k = 0; k < count; k++) if (gen[queuedCodes[k]] === QUEUED) gen[queuedCodes[k]] = -1;
    distinct = 0;
    queued = 0;
  }
}

/**
 * Scatters a column `scatters` accepts into shard order. String codes become generation codes
 * on the way: a source code not mapped yet is written as is and queued, and the queued codes are
 * mapped together once the pass is done (`settle`).
 */
export function scatterColumn(plan: ColumnPlan, layout: RowLayout, arena: PartArena, shardCount: number, dicts: TailDicts | null): Scattered {
  const { count, rank } = layout;
  const col = plan.col;
  const validity = plan.hasNulls ? arena.u8(layout.bitmapStarts[shardCount]) : null;
  const validPerShard = plan.hasNulls ? new Int32Array(shardCount) : null;
  if (col.t === 'n') {
    const values = col.values;
    const out = arena.f64(count);
    if (validity === null) {
      // Equivalent to: out[rank[i]] = values[i].
      for (let i = 0; i < count; i++) out[rank[i]] = values[i];
      return { values: out, validity, validPerShard };
    }
    const nulls = col.nulls!;
    const bits = bitsOf(layout);
    for (let i = 0; i < count; i++) {
      if (nulls[i] === 1) {
        out[rank[i]] = 0; // a null row's slot: zero, as in a fresh buffer (the arena is not zeroed)
        continue;
      }
      out[rank[i]] = values[i];
      const b = bits[i];
      validity[b >> 3] |= 1 << (b & 7);
    }
    countValid(validity, layout.bitmapStarts, validPerShard!);
    return { values: out, validity, validPerShard };
  }
  if (col.t !== 's') throw new Error('scatterColumn: unsupported column');
  const codes = col.codes;
  const remap = plan.remap!;
  const gen = remap.codes;
  const out = arena.u32(count);
  reserveQueue(count);
  if (validity === null) {
    // Equivalent to: out[rank[i]] = generation code of dict[codes[i]].
    for (let i = 0; i < count; i++) {
      const c = codes[i];
      const g = gen[c];
      if (g >= 0) out[rank[i]] = g;
      else enqueue(out, rank[i], gen, c);
    }
    settle(out, remap, dicts!);
    return { values: out, validity, validPerShard, dict: remap.dict.values };
  }
  const bits = bitsOf(layout);
  for (let i = 0; i < count; i++) {
    const c = codes[i];
    if (c < 0) {
      out[rank[i]] = 0; // as for numbers
      continue;
    }
    const g = gen[c];
    if (g >= 0) out[rank[i]] = g;
    else enqueue(out, rank[i], gen, c);
    const b = bits[i];
    validity[b >> 3] |= 1 << (b & 7);
  }
  settle(out, remap, dicts!);
  countValid(validity, layout.bitmapStarts, validPerShard!);
  return { values: out, validity, validPerShard, dict: remap.dict.values };
}

/**
 * A sparse column in shard order (see `scatterSparse`): shard s's valid rows are entries
 * [starts[s], starts[s + 1]) of `rows` (each one's row within its part, ascending) and `values`.
 */
export interface SparseScattered {
  rows: Uint32Array;
  values: Float64Array | Uint32Array;
  starts: Int32Array;
  dict?: string[];
}

/**
 * Columns with at most one row in SPARSE_RATIO valid go into parts in sparse form: optional
 * fields present on few events (a nested `props.*` field of some event types) then cost the
 * scatter, the WAL record and the tail append their valid rows, not every row.
 */
const SPARSE_RATIO = 8;

/** Valid rows of the column being scattered sparsely (grown as needed, never shrunk). */
let validScratch = new Int32Array(0);

/**
 * Scatters a column `scatters` accepts that has nulls into sparse shard parts
 * (typed-column.ts `SparseColumn`), strings mapped to generation codes as `scatterColumn` maps
 * them; or returns null, having read no more than its first count / SPARSE_RATIO + 1 valid rows,
 * when it is denser than that.
 */
export function scatterSparse(plan: ColumnPlan, layout: RowLayout, arena: PartArena, shardCount: number, dicts: TailDicts | null): SparseScattered | null {
  const { count, rank, shardOfRow } = layout;
  const col = plan.col;
  const limit = Math.floor(count / SPARSE_RATIO);
  if (validScratch.length < limit) validScratch = new Int32Array(Math.max(limit, 2 * validScratch.length));
  const valid = validScratch;
  let k = 0;
  if (col.t === 'n') {
    const nulls = col.nulls;
    if (nulls === null) return null;
    for (let i = 0; i < count; i++) {
      if (nulls[i] === 1) continue;
      if (k === limit) return null;
      valid[k++] = i;
    }
  } else if (col.t === 's') {
    const codes = col.codes;
    for (let i = 0; i < count; i++) {
      if (codes[i] < 0) continue;
      if (k === limit) return null;
      valid[k++] = i;
    }
  } else {
    return null;
  }
  const starts = new Int32Array(shardCount + 1);
  for (let j = 0; j < k; j++) starts[shardOfRow[valid[j]] + 1]++;
  for (let s = 0; s < shardCount; s++) starts[s + 1] += starts[s];
  const next = starts.slice(0, shardCount);
  const partStarts = layout.starts;
  const rows = arena.u32(k);
  // Rows are read in batch order, so each shard's rows come out ascending.
  if (col.t === 'n') {
    const values = arena.f64(k);
    const src = col.values;
    for (let j = 0; j < k; j++) {
      const i = valid[j];
      const s = shardOfRow[i];
      const at = next[s]++;
      rows[at] = rank[i] - partStarts[s];
      values[at] = src[i];
    }
    return { rows, values, starts };
  }
  const codes = col.codes;
  const remap = plan.remap!;
  const gen = remap.codes;
  const values = arena.u32(k);
  reserveQueue(k);
  for (let j = 0; j < k; j++) {
    const i = valid[j];
    const s = shardOfRow[i];
    const at = next[s]++;
    rows[at] = rank[i] - partStarts[s];
    const c = codes[i];
    const g = gen[c];
    if (g >= 0) values[at] = g;
    else enqueue(values, at, gen, c);
  }
  settle(values, remap, dicts!);
  return { rows, values, starts, dict: remap.dict.values };
}

/** Times in shard order. */
export function scatterTimes(timeMs: Float64Array, layout: RowLayout, arena: PartArena): Float64Array {
  const { count, rank } = layout;
  const out = arena.f64(count);
  for (let i = 0; i < count; i++) out[rank[i]] = timeMs[i];
  return out;
}

/** Per shard: the part's actor values in first-seen order, and their dense ids. */
export interface ScatteredActors {
  /** Each row's index into its shard's `values`, in shard order. */
  codes: Uint32Array;
  values: string[][];
  /** Shard s's ids are entries [layout.starts[s], layout.starts[s] + values[s].length). */
  ids: Uint32Array;
}

/**
 * Dictionary-coded actors in shard order, with part-local codes and dense ids. An actor value
 * belongs to exactly one shard, so one scratch array over source codes serves every shard, and
 * reading rows in order sees each shard's actors in that shard's first-seen order. A shard's
 * first-seen source codes and ids go to typed arrays, in the shard's range of rows (it cannot
 * have more actors than rows); its values are read from them in a second pass, whose reads of
 * the source dictionary do not wait on each other.
 */
export function scatterActors(
  source: string[],
  batchCodes: Int32Array,
  layout: RowLayout,
  cache: ActorCacheEntry,
  dicts: ActorDict[],
  arena: PartArena,
  shardCount: number,
): ScatteredActors {
  const { count, rank, shardOfRow, starts } = layout;
  const codes = arena.u32(count);
  const firsts = arena.i32(count);
  const ids = arena.u32(count);
  const next = starts.slice(0, shardCount);
  // slots[2c]: part-local code of source code c (-1: not in this batch yet); slots[2c + 1]: its id (-1: none yet).
  const slots = cache.slots;
  try {
    for (let i = 0; i < count; i++) {
      const c = batchCodes[i];
      let l = slots[2 * c];
      if (l < 0) {
        const s = shardOfRow[i];
        const at = next[s]++;
        l = slots[2 * c] = at - starts[s];
        firsts[at] = c;
        let id = slots[2 * c + 1];
        if (id < 0) id = slots[2 * c + 1] = dicts[s].idOf(source[c]);
        ids[at] = id;
      }
      codes[rank[i]] = l;
    }
  } catch (err) {
    // An id lookup failed (a damaged actor file): the part-local codes met so far must not
    // outlive this batch, or the next batch of the same source would take them as its own.
    for (let s = 0; s < shardCount; s++) for (let at = starts[s]; at < next[s]; at++) slots[2 * firsts[at]] = -1;
    throw err;
  }
  const values: string[][] = [];
  for (let s = 0; s < shardCount; s++) {
    const from = starts[s];
    const shardValues = new Array<string>(next[s] - from);
    for (let at = from; at < next[s]; at++) {
      const c = firsts[at];
      shardValues[at - from] = source[c];
      slots[2 * c] = -1;
    }
    values.push(shardValues);
  }
  return { codes, values, ids };
}

/**
 * `scatterActors` for parts that need no actor values (an unlogged call's, which no WAL record
 * holds): each row's dense id, in shard order. Ids are assigned in row order, as
 * `scatterActors` assigns them.
 */
export function scatterActorIds(source: string[], batchCodes: Int32Array, layout: RowLayout, cache: ActorCacheEntry, dicts: ActorDict[], arena: PartArena): Uint32Array {
  const { count, rank, shardOfRow } = layout;
  const ids = arena.u32(count);
  // slots[2c + 1]: the id of source code c (-1: none yet).
  const slots = cache.slots;
  for (let i = 0; i < count; i++) {
    const c = batchCodes[i];
    let id = slots[2 * c + 1];
    if (id < 0) id = slots[2 * c + 1] = dicts[shardOfRow[i]].idOf(source[c]);
    ids[rank[i]] = id;
  }
  return ids;
}
