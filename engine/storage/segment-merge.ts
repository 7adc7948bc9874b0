/**
 * Merging segments' rows: every row of a list of segments, oldest first, decoded into one row
 * set with the table's column types, strings re-coded into one dictionary per column. Used by
 * compaction's merges, which run on the flush worker threads (flush-worker.ts).
 */
import { outputFor } from '../encodings/block-io.js';
import type { DecodeTarget, SegmentReader } from './segment-reader.js';
import type { RowSet } from './tail.js';
import { setValid, setValidRange, type StoredType, type TypedColumn } from './typed-column.js';

interface MergeColumn {
  col: TypedColumn;
  index?: Map<string, number>;
  hasNull: boolean;
  /** The merged codes of the last source dictionary met (its row groups share it), and that dictionary. */
  remapOf: readonly string[] | null;
  remap: Uint32Array | null;
}

/** Arrays above this many bytes are not kept for the next merge, nor any past the total. */
const MAX_REUSED_BYTES = 32 * 2 ** 20;
const MAX_REUSED_TOTAL_BYTES = 256 * 2 ** 20;

/**
 * The merged row set's arrays, kept from one merge to the next on this thread (each up to 32 MiB,
 * 256 MiB in all, for the thread's lifetime; a merge needs as much while it runs): fresh ones cost
 * a zero fill and a page fault per 4 KiB, and their external memory set off garbage collections
 * (together ~7% of the CPU of a load whose flush merges 100M rows). Each kind's arrays are
 * handed out in order after `reset`; their contents are whatever the last merge left, which the
 * merge overwrites but for null rows' values, which nothing reads.
 */
class MergeArrays {
  private readonly lists = { f64: [] as Float64Array[], u32: [] as Uint32Array[], u8: [] as Uint8Array[] };
  private readonly used = { f64: 0, u32: 0, u8: 0 };
  /** Bytes of the arrays kept. */
  private kept = 0;

  reset(): void {
    this.used.f64 = this.used.u32 = this.used.u8 = 0;
  }

  f64(n: number): Float64Array {
    return this.take('f64', n, Float64Array);
  }

  u32(n: number): Uint32Array {
    return this.take('u32', n, Uint32Array);
  }

  u8(n: number): Uint8Array {
    return this.take('u8', n, Uint8Array);
  }

  private take<T extends Float64Array | Uint32Array | Uint8Array>(kind: 'f64' | 'u32' | 'u8', n: number, ctor: { new (n: number): T; BYTES_PER_ELEMENT: number }): T {
    const list = this.lists[kind] as T[];
    const at = this.used[kind]++;
    const have = list[at];
    if (have !== undefined && have.length >= n) return have.subarray(0, n) as T;
    // Room for a bit more than asked, as merges grow with the table (not past what is kept).
    const bytes = ctor.BYTES_PER_ELEMENT * Math.ceil(n * 1.25);
    const keep = bytes <= MAX_REUSED_BYTES && this.kept - (have?.byteLength ?? 0) + bytes <= MAX_REUSED_TOTAL_BYTES;
    const fresh = new ctor(keep ? Math.ceil(n * 1.25) : n);
    if (keep) {
      this.kept += fresh.byteLength - (have?.byteLength ?? 0);
      list[at] = fresh;
    }
    return fresh.subarray(0, n) as T;
  }
}

const arrays = new MergeArrays();

/**
 * Decodes every row of the readers, oldest first, into one row set; `runStarts` are the first
 * rows of each reader's, every one of them sorted as its segment was (see merge-order.ts).
 */
export function concatSegments(readers: SegmentReader[], schema: Map<string, StoredType>): RowSet & { runStarts: number[] } {
  let rowCount = 0;
  for (const r of readers) rowCount += r.rowCount;
  arrays.reset();
  const actorIds = arrays.u32(rowCount);
  const times = arrays.f64(rowCount);
  const merged = new Map<string, MergeColumn>();
  for (const r of readers) {
    for (const [name, type] of r.columns) {
      if (merged.has(name)) continue;
      const stored = schema.get(name) ?? (type as StoredType);
      const values = stored === 'number' ? arrays.f64(rowCount) : stored === 'boolean' ? arrays.u8(rowCount) : arrays.u32(rowCount);
      const col: TypedColumn = { name, type: stored, values, validity: arrays.u8((rowCount + 7) >> 3).fill(0) };
      const m: MergeColumn = { col, hasNull: false, remapOf: null, remap: null };
      if (stored === 'string') {
        col.dict = [];
        m.index = new Map();
      }
      merged.set(name, m);
    }
  }
  let base = 0;
  const runStarts: number[] = [];
  for (const r of readers) {
    runStarts.push(base);
    for (let g = 0; g < r.rowGroups.length; g++) {
      const n = r.rowGroups[g].rowCount;
      place(actorIds, r.readActorIds(g, slot(actorIds, base, n)), base, n);
      place(times, (r.readColumn('$time', g, slot(times, base, n)) as { values: Float64Array }).values, base, n);
      for (const [name, m] of merged) copyGroup(m, r, name, g, base, n);
      base += n;
    }
  }
  const columns = [...merged.values()].map((m) => ({ ...m.col, validity: m.hasNull ? m.col.validity : null }));
  return { rowCount, actorIds, times, columns, runStarts };
}

/**
 * A decode target of rows [base, base + n) of `out`, so a block is decoded in place; a block of
 * another physical kind (a segment whose type differs from the table's, which the caller then
 * reports) gets a new array.
 */
function slot(out: Float64Array | Uint32Array | Uint8Array, base: number, n: number): DecodeTarget {
  const kind = out instanceof Float64Array ? 'f64' : out instanceof Uint32Array ? 'u32' : 'u8';
  return (k, rowCount) => (k === kind ? out.subarray(base, base + n) : outputFor(k, rowCount, undefined));
}

/** A string block's codes, decoded to be re-coded at once (copyGroup): one array reused for every block. */
let codesScratch = new Uint32Array(0);
const codesTarget: DecodeTarget = (kind, rowCount) => {
  if (kind !== 'u32') return outputFor(kind, rowCount, undefined);
  if (codesScratch.length < rowCount) codesScratch = new Uint32Array(rowCount);
  return codesScratch.subarray(0, rowCount);
};

/** Copies decoded `values` to rows [base, base + n) of `out`, unless they were decoded there. */
function place(out: Float64Array | Uint32Array | Uint8Array, values: Float64Array | Uint32Array | Uint8Array, base: number, n: number): void {
  if (values.buffer === out.buffer && values.byteOffset === out.byteOffset + base * out.BYTES_PER_ELEMENT) return;
  out.set(values.subarray(0, n), base);
}

function copyGroup(m: MergeColumn, r: SegmentReader, name: string, g: number, base: number, n: number): void {
  const out = m.col;
  // A sparse block's valid values go straight to their rows; its null rows are not written.
  const sparse = out.type === 'boolean' ? null : r.readSparse(name, g);
  if (sparse !== null) {
    if (sparse.type !== out.type) throw new Error(`merge: column "${name}" is ${sparse.type} in a segment, ${out.type} in the table`);
    if (out.type === 'string') placeCodes(out.values as Uint32Array, sparse.values as Uint32Array, remapFor(m, sparse.dict!), sparse.validity, base, n);
    else placeF64(out.values as Float64Array, sparse.values as Float64Array, sparse.validity, base, n);
    copyValidity(out.validity!, sparse.validity, base, n);
    m.hasNull = true;
    return;
  }
  // Numbers and booleans are decoded straight into the merged column; string codes, re-coded
  // below, into scratch.
  const vec = r.readColumn(name, g, out.type === 'string' ? codesTarget : slot(out.values, base, n));
  if (vec === null) {
    m.hasNull = true;
    return;
  }
  if (vec.type === 'string' ? out.type !== 'string' : vec.type === 'boolean' ? out.type !== 'boolean' : out.type !== 'number') {
    throw new Error(`merge: column "${name}" is ${vec.type} in a segment, ${out.type} in the table`);
  }
  // Values are copied for null rows too: what a null row holds is never read (the segment
  // writer's gather takes the previous valid row's value), and a block then copies in one pass.
  if (vec.type === 'string') {
    const codes = vec.codes;
    const remap = remapFor(m, vec.dict);
    const values = out.values as Uint32Array;
    for (let i = 0; i < n; i++) values[base + i] = remap[codes[i]];
  } else {
    place(out.values, vec.values, base, n);
  }
  if (!copyValidity(out.validity!, vec.validity, base, n)) m.hasNull = true;
}

/**
 * Writes `vals`, the valid rows' values of a block in row order, to those rows of [base, base +
 * n) of `out` by the block's bitmap (which marks exactly vals.length rows: the reader checked);
 * null rows keep what they hold. A bitmap byte at a time: none valid, all valid, or bit by bit.
 */
function placeF64(out: Float64Array, vals: Float64Array, validity: Uint8Array, base: number, n: number): void {
  let j = 0;
  const whole = n >> 3;
  for (let b = 0; b < whole; b++) {
    let v = validity[b];
    if (v === 0) continue;
    const row = base + (b << 3);
    if (v === 0xff) {
      for (let i = row; i < row + 8; i++) out[i] = vals[j++];
      continue;
    }
    for (; v !== 0; v &= v - 1) out[row + 31 - Math.clz32(v & -v)] = vals[j++];
  }
  for (let i = whole << 3; i < n; i++) if (((validity[i >> 3] >> (i & 7)) & 1) !== 0) out[base + i] = vals[j++];
}

/**
 * `placeF64` for string codes, each written as its merged code `remap[code]`. A copy rather than
 * one function for both: fed both array types, its element accesses would turn polymorphic.
 */
function placeCodes(out: Uint32Array, vals: Uint32Array, remap: Uint32Array, validity: Uint8Array, base: number, n: number): void {
  let j = 0;
  const whole = n >> 3;
  for (let b = 0; b < whole; b++) {
    let v = validity[b];
    if (v === 0) continue;
    const row = base + (b << 3);
    if (v === 0xff) {
      for (let i = row; i < row + 8; i++) out[i] = remap[vals[j++]];
      continue;
    }
    for (; v !== 0; v &= v - 1) out[row + 31 - Math.clz32(v & -v)] = remap[vals[j++]];
  }
  for (let i = whole << 3; i < n; i++) if (((validity[i >> 3] >> (i & 7)) & 1) !== 0) out[base + i] = remap[vals[j++]];
}

/** Sets the validity bits of rows [base, base + n) from a block's bitmap (null: all valid); returns whether every row is valid. */
export function copyValidity(out: Uint8Array, validity: Uint8Array | null, base: number, n: number): boolean {
  if (validity === null) {
    setValidRange(out, base, base + n);
    return true;
  }
  // Whole bytes of the block's bitmap, shifted into place (the merged bitmap is all zeros where
  // they go, so OR sets their bits); then the rows of its last, partial byte one by one.
  let all = true;
  const whole = n >> 3;
  const at = base >> 3;
  const shift = base & 7;
  for (let b = 0; b < whole; b++) {
    const v = validity[b];
    if (v !== 0xff) all = false;
    if (shift === 0) {
      out[at + b] = v;
    } else {
      out[at + b] |= (v << shift) & 0xff;
      out[at + b + 1] |= v >> (8 - shift);
    }
  }
  for (let i = whole << 3; i < n; i++) {
    if ((validity[i >> 3] & (1 << (i & 7))) !== 0) setValid(out, base + i);
    else all = false;
  }
  return all;
}

/**
 * Merged codes of a source dictionary's codes, adding its strings to the merged dictionary:
 * computed once per source dictionary, which every row group of one segment's column shares
 * (a large segment's session ids would otherwise be looked up again for each of its row groups).
 */
function remapFor(m: MergeColumn, dict: readonly string[]): Uint32Array {
  if (m.remapOf === dict) return m.remap!;
  const out = m.col;
  const remap = new Uint32Array(dict.length);
  for (let k = 0; k < dict.length; k++) {
    const s = dict[k];
    let code = m.index!.get(s);
    if (code === undefined) {
      code = out.dict!.length;
      out.dict!.push(s);
      m.index!.set(s, code);
    }
    remap[k] = code;
  }
  m.remapOf = dict;
  m.remap = remap;
  return remap;
}
