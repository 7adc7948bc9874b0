/**
 * The form in which a query worker's block cache holds decoded blocks once they no longer fit
 * as decoded: integers narrowed to the fewest bytes their range needs. A decoded block is
 * wide — float64 times, 32-bit string codes and actor ids, 16 bytes a row for the columns of a
 * funnel — while its values rarely need that: a row group of a day partition spans less than 2^32 ms, an event column has a few
 * dozen codes, a sorted row group's actor ids span tens of thousands. Narrowed (offsets from
 * the block's minimum at 1, 2 or 4 bytes) the same columns take about 7 bytes a row, so the
 * cache holds more than twice the rows; at a billion events that is the difference between
 * decoding most blocks of a funnel again on every run and decoding almost none.
 *
 * A hit widens the block back — one pass of `base + offset`, a fraction of a decode — into
 * this thread's scratch buffer for the column: the vector it returns is valid until the next
 * widening of the same column. Scans read a row group's columns, use them and move on
 * (RowGroupReader drops its vectors at each reset), and copy what they keep; an urgent task
 * that runs nested in a scan (query-worker.ts) does so at the scan's yield point, between row
 * groups, where the scan holds no vectors.
 *
 * Exactness: only values that come back bit for bit are narrowed: integers (no −0, no NaN)
 * whose range from the minimum fits 32 bits, every row counted, null rows included (they hold
 * the decoder's fill value). Anything else is cached as decoded.
 *
 * Threading: per worker thread (widening targets are the thread's buffers, row-group.ts).
 */
import type { ColumnVector } from '../../types.js';
import { threadBuffer } from '../row-group.js';

type Narrow = Uint8Array | Uint16Array | Uint32Array;
type FloatVector = Extract<ColumnVector, { type: 'number' | 'time' }>;
type CodeVector = Extract<ColumnVector, { type: 'string' }>;

/** Integers as base + offset[i]. */
interface NarrowInts {
  base: number;
  offsets: Narrow;
}

/**
 * Actor ids as runs of equal ids: row groups are sorted by actor, so a block of 65,536 rows holds
 * a few thousand runs (an actor's events of one day partition), 6 bytes a run against 2 a row.
 */
interface IdRuns {
  /** Each run's id, and its first row (ascending from 0); the last run ends at `rows`. */
  ids: Uint32Array;
  starts: Uint16Array | Uint32Array;
  rows: number;
}

/** A cached block: a narrowed form, or the decoded one when narrowing would not save. */
export type CompactBlock =
  | { form: 'ids'; ints: NarrowInts; view: Uint32Array | null }
  | { form: 'runs'; runs: IdRuns; view: Uint32Array | null }
  | { form: 'floats'; type: 'number' | 'time'; ints: NarrowInts; validity: Uint8Array | null; view: FloatVector | null }
  | { form: 'codes'; codes: Uint8Array | Uint16Array; dict: readonly string[]; validity: Uint8Array | null; view: CodeVector | null }
  | { form: 'decoded'; block: ColumnVector | Uint32Array | null };

const TWO_32 = 2 ** 32;

/**
 * Offsets of `values` from `min` at the narrowest width for the span to `max`, or null when
 * one does not come back exactly (a fraction, NaN: min + stored offset is not the value;
 * −0 is the caller's). Checking in the writing pass saves a pass over the block.
 */
function offsetsFrom(values: Float64Array | Uint32Array, min: number, max: number): NarrowInts | null {
  const span = max - min;
  const n = values.length;
  const offsets = span < 256 ? offsetsU8(values, min, new Uint8Array(n)) : span < 65_536 ? offsetsU16(values, min, new Uint16Array(n)) : offsetsU32(values, min, new Uint32Array(n));
  return offsets === null ? null : { base: min, offsets };
}

// One loop per width, so each stays monomorphic.
function offsetsU8(values: Float64Array | Uint32Array, min: number, out: Uint8Array): Uint8Array | null {
  let bad = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    out[i] = v - min;
    bad += +(min + out[i] !== v);
  }
  return bad === 0 ? out : null;
}
function offsetsU16(values: Float64Array | Uint32Array, min: number, out: Uint16Array): Uint16Array | null {
  let bad = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    out[i] = v - min;
    bad += +(min + out[i] !== v);
  }
  return bad === 0 ? out : null;
}
function offsetsU32(values: Float64Array | Uint32Array, min: number, out: Uint32Array): Uint32Array | null {
  let bad = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    out[i] = v - min;
    bad += +(min + out[i] !== v);
  }
  return bad === 0 ? out : null;
}

/** Float64 values as narrowed integers, or null when one is not an integer (or is −0) or their span needs more than 32 bits. */
function narrowFloats(values: Float64Array): NarrowInts | null {
  const n = values.length;
  if (n === 0) return null;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!(max - min < TWO_32) || !Number.isSafeInteger(min) || !Number.isSafeInteger(max)) return null;
  // −0 would come back as +0; it can only be there when 0 is in range.
  if (min <= 0 && max >= 0) for (let i = 0; i < n; i++) if (values[i] === 0 && 1 / values[i] < 0) return null;
  return offsetsFrom(values, min, max);
}

/** The narrowed form of a cached block (the block itself when it is narrowed already, or narrowing would not save). */
export function narrowBlock(b: CompactBlock): CompactBlock {
  if (b.form !== 'decoded' || b.block === null) return b;
  const narrow = b.block instanceof Uint32Array ? compactIds(b.block) : compactColumn(b.block);
  return narrow.form === 'decoded' ? b : narrow;
}

/** The cached form of a decoded column block. */
export function compactColumn(v: ColumnVector | null): CompactBlock {
  if (v !== null && (v.type === 'number' || v.type === 'time')) {
    const ints = narrowFloats(v.values);
    if (ints !== null) return { form: 'floats', type: v.type, ints, validity: v.validity, view: null };
  } else if (v !== null && v.type === 'string') {
    // Codes index the dictionary, except that a null row may hold any code: then by the largest present.
    let max = v.dict.length - 1;
    if (v.validity !== null) for (let i = 0; i < v.codes.length; i++) if (v.codes[i] > max) max = v.codes[i];
    if (max < 65_536) {
      const codes = max < 256 ? new Uint8Array(v.codes.length) : new Uint16Array(v.codes.length);
      codes.set(v.codes);
      return { form: 'codes', codes, dict: v.dict, validity: v.validity, view: null };
    }
  }
  return { form: 'decoded', block: v };
}

/** Blocks of up to this many rows keep their run starts in 16 bits (6 bytes a run), longer ones in 32 (8). */
const SHORT_RUNS_MAX_ROWS = 65_536;

function runsOf(ids: Uint32Array, count: number): IdRuns {
  const n = ids.length;
  const runIds = new Uint32Array(count);
  const starts = n <= SHORT_RUNS_MAX_ROWS ? new Uint16Array(count) : new Uint32Array(count);
  runIds[0] = ids[0];
  for (let i = 1, r = 0; i < n; i++) {
    if (ids[i] === ids[i - 1]) continue;
    r++;
    runIds[r] = ids[i];
    starts[r] = i;
  }
  return { ids: runIds, starts, rows: n };
}

function runsBytes(runs: IdRuns): number {
  return runs.ids.byteLength + runs.starts.byteLength;
}

/**
 * The cached form of a block of actor ids: runs, or offsets from the smallest when their span
 * fits 16 bits, whichever is smaller (as decoded when neither saves). One pass measures both.
 */
export function compactIds(ids: Uint32Array): CompactBlock {
  const n = ids.length;
  if (n === 0) return { form: 'decoded', block: ids };
  let runs = 1;
  let min = ids[0];
  let max = ids[0];
  for (let i = 1; i < n; i++) {
    const v = ids[i];
    runs += +(v !== ids[i - 1]);
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const span = max - min;
  const offsetBytes = span < 256 ? n : span < 65_536 ? 2 * n : 4 * n;
  if (runs * (n <= SHORT_RUNS_MAX_ROWS ? 6 : 8) < offsetBytes) return { form: 'runs', runs: runsOf(ids, runs), view: null };
  const ints = span < 65_536 ? offsetsFrom(ids, min, max) : null;
  return ints !== null ? { form: 'ids', ints, view: null } : { form: 'decoded', block: ids };
}

/** A lower bound of a block's narrowed size: a byte a row (and its validity); for actor ids, one run or a byte a row. */
export function minNarrowBytes(b: CompactBlock): number {
  if (b.form !== 'decoded' || b.block === null) return compactBytes(b);
  const d = b.block;
  if (d instanceof Uint32Array) return Math.min(d.length, 6);
  return (d.type === 'string' ? d.codes : d.values).length + (d.validity?.byteLength ?? 0);
}

/** Bytes a cached block holds (values and validity; a dictionary is shared with the reader and not counted). */
export function compactBytes(b: CompactBlock): number {
  switch (b.form) {
    case 'ids':
      return b.ints.offsets.byteLength;
    case 'runs':
      return runsBytes(b.runs);
    case 'floats':
      return b.ints.offsets.byteLength + (b.validity?.byteLength ?? 0);
    case 'codes':
      return b.codes.byteLength + (b.validity?.byteLength ?? 0);
    case 'decoded': {
      const d = b.block;
      if (d === null) return 16;
      if (d instanceof Uint32Array) return d.byteLength;
      return (d.type === 'string' ? d.codes : d.values).byteLength + (d.validity?.byteLength ?? 0);
    }
  }
}

/**
 * Widening targets: this thread's buffer per column key (row-group.ts). A narrowed block
 * widens into its key's buffer through a view of its own, made once per block (and again when
 * the buffer grows): so a hit hands out the same array object for the same block, query after
 * query, and the executors' per-block caches keyed by array identity (sketch bins, actor runs,
 * code histograms, finiteness) keep working — their contents are that block's whenever it is
 * used, because it was just widened — while no two blocks share an identity.
 */
const bufferFor = (key: string, bytes: number): ArrayBuffer => threadBuffer(`widen:${key}`, bytes);

// One loop per offset width and target type, so each stays monomorphic.
function f64From8(base: number, o: Uint8Array, out: Float64Array): void {
  for (let i = 0; i < o.length; i++) out[i] = base + o[i];
}
function f64From16(base: number, o: Uint16Array, out: Float64Array): void {
  for (let i = 0; i < o.length; i++) out[i] = base + o[i];
}
function f64From32(base: number, o: Uint32Array, out: Float64Array): void {
  for (let i = 0; i < o.length; i++) out[i] = base + o[i];
}
function u32From8(base: number, o: Uint8Array, out: Uint32Array): void {
  for (let i = 0; i < o.length; i++) out[i] = base + o[i];
}
function u32From16(base: number, o: Uint16Array, out: Uint32Array): void {
  for (let i = 0; i < o.length; i++) out[i] = base + o[i];
}

function widenF64(ints: NarrowInts, out: Float64Array): void {
  const o = ints.offsets;
  if (o instanceof Uint8Array) f64From8(ints.base, o, out);
  else if (o instanceof Uint16Array) f64From16(ints.base, o, out);
  else f64From32(ints.base, o, out);
}

/** Ids (and codes: base 0) narrowed to 8 or 16 bits, widened to 32. */
function widenU32(base: number, o: Uint8Array | Uint16Array, out: Uint32Array): void {
  if (base === 0) out.set(o); // native conversion, ~20× a JS loop
  else if (o instanceof Uint8Array) u32From8(base, o, out);
  else u32From16(base, o, out);
}

/**
 * The values of a narrowed float block (form 'floats', no nulls) at rows[0 … k) only, by
 * position (row rows[j]'s at j), widened into scratch `key` (valid until its next use): for a
 * scan that reads only those rows, such as a streamed funnel its picked ones, at about half
 * the cost of widening them all. Null for a block of another form (use expandColumn).
 */
export function expandFloatsAt(b: CompactBlock, rows: Uint32Array, k: number, key: string): Float64Array | null {
  if (b.form !== 'floats' || b.validity !== null) return null;
  const out = new Float64Array(bufferFor(key, 8 * k), 0, k);
  widenFloatsAt(b.ints, rows, k, out);
  return out;
}

function widenFloatsAt(ints: NarrowInts, rows: Uint32Array, k: number, out: Float64Array): void {
  const o = ints.offsets;
  if (o instanceof Uint8Array) f64At8(ints.base, o, rows, k, out);
  else if (o instanceof Uint16Array) f64At16(ints.base, o, rows, k, out);
  else f64At32(ints.base, o, rows, k, out);
}
function f64At8(base: number, o: Uint8Array, rows: Uint32Array, k: number, out: Float64Array): void {
  for (let j = 0; j < k; j++) out[j] = base + o[rows[j]];
}
function f64At16(base: number, o: Uint16Array, rows: Uint32Array, k: number, out: Float64Array): void {
  for (let j = 0; j < k; j++) out[j] = base + o[rows[j]];
}
function f64At32(base: number, o: Uint32Array, rows: Uint32Array, k: number, out: Float64Array): void {
  for (let j = 0; j < k; j++) out[j] = base + o[rows[j]];
}

/** The decoded column of a cached block; a narrowed one widens into scratch `key` (valid until its next use). */
export function expandColumn(b: CompactBlock, key: string): ColumnVector | null {
  if (b.form === 'floats') {
    const n = b.ints.offsets.length;
    const buffer = bufferFor(key, 8 * n);
    let view = b.view;
    if (view === null || view.values.buffer !== buffer) b.view = view = { type: b.type, values: new Float64Array(buffer, 0, n), validity: b.validity } as FloatVector;
    widenF64(b.ints, view.values);
    return view;
  }
  if (b.form === 'codes') {
    const n = b.codes.length;
    const buffer = bufferFor(key, 4 * n);
    let view = b.view;
    if (view === null || view.codes.buffer !== buffer) b.view = view = { type: 'string', codes: new Uint32Array(buffer, 0, n), dict: b.dict, validity: b.validity };
    widenU32(0, b.codes, view.codes);
    return view;
  }
  if (b.form === 'decoded' && !(b.block instanceof Uint32Array)) return b.block;
  throw new Error(`a cached ${b.form} block read as a column`);
}

function fillRuns(runs: IdRuns, out: Uint32Array): void {
  const { ids, starts } = runs;
  const last = ids.length - 1;
  for (let r = 0; r < last; r++) {
    const id = ids[r];
    for (let i = starts[r], end = starts[r + 1]; i < end; i++) out[i] = id;
  }
  const id = ids[last];
  for (let i = starts[last]; i < runs.rows; i++) out[i] = id;
}

/** The actor ids of a cached block; narrowed ids widen into scratch `key` (valid until its next use). */
export function expandIds(b: CompactBlock, key: string): Uint32Array {
  if (b.form === 'runs') {
    const n = b.runs.rows;
    const buffer = bufferFor(key, 4 * n);
    let view = b.view;
    if (view === null || view.buffer !== buffer) b.view = view = new Uint32Array(buffer, 0, n);
    fillRuns(b.runs, view);
    return view;
  }
  if (b.form === 'ids') {
    const n = b.ints.offsets.length;
    const buffer = bufferFor(key, 4 * n);
    let view = b.view;
    if (view === null || view.buffer !== buffer) b.view = view = new Uint32Array(buffer, 0, n);
    widenU32(b.ints.base, b.ints.offsets as Uint8Array | Uint16Array, view);
    return view;
  }
  if (b.form === 'decoded' && b.block instanceof Uint32Array) return b.block;
  throw new Error(`a cached ${b.form} block read as actor ids`);
}
