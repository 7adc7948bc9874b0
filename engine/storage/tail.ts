/**
 * The in-memory tail of one shard: rows acknowledged since the last flush, columnar and typed,
 * in arrival order. Strings are dictionary-coded, so scans of the tail run on codes like scans of
 * segments; the dictionaries belong to the generation and are shared by its tails
 * (tail-dicts.ts), so a part coded by the ingest path is appended without any lookup.
 *
 * Growth: the arrays double from 1,024 rows; past JUMP_ROWS they jump straight to the rows the
 * tail is expected to hold when the table flushes (`FlushPoint`), so a big tail is copied once,
 * not five more times (the copies were ~8% of the main thread's time under bulk ingest), and
 * the doubled arrays left behind are few and small (each is fresh memory whose pages fault on
 * first write: jumping at 4,096 rows rather than 65,536 spared a 10M-event load ~6% of its page
 * faults; capacity reserved ahead in fresh memory is only address space until written, and a
 * pooled buffer is resident already). Memory is counted by the rows held, not the capacity
 * reserved ahead (see `sizeBytes`).
 *
 * Threading: owned by the main thread. Appends only ever write past `rowCount`, so a snapshot
 * (which fixes a row count and views the arrays) stays valid while appends go on. The arrays are
 * SharedArrayBuffer-backed, so a flush worker reads a frozen tail's rows in place (flush-pool.ts)
 * rather than a copy of them.
 *
 * Recycling: once a tail's rows are in committed segments (`retire`) and no snapshot holds it
 * (`pin`/`unpin`), its final arrays go back to the shared-buffer pool for the next generation's
 * tails (typed-column.ts `sharedBuffers`), sparing fresh memory's page faults. Arrays replaced
 * when the tail grew are left to the garbage collector: a snapshot taken before may still view them.
 */
import { POPCOUNT } from '../encodings/validity.js';
import type { ColumnType } from '../types.js';
import type { StringIndex } from './string-index.js';
import { TailDicts } from './tail-dicts.js';
import type { ShardPart } from './wal-record.js';
import {
  allocShared,
  allocSharedValues,
  growShared,
  isSparse,
  nextCapacity,
  recycleShared,
  setValidRange,
  type SparseColumn,
  type StoredType,
  type TypedColumn,
  type TypedValues,
} from './typed-column.js';

export interface TailColumn {
  type: StoredType;
  values: TypedValues;
  /** Bit set = row holds a value; rows before the column appeared are null. */
  validity: Uint8Array;
  nullCount: number;
  dict?: string[];
  index?: StringIndex;
}

/** A fixed-size view of the tail's rows, for flushing and for scans. */
export interface RowSet {
  rowCount: number;
  actorIds: Uint32Array;
  times: Float64Array;
  columns: TypedColumn[];
}

/** Where the table will flush, per shard: the tail's share of its row and byte thresholds. */
export interface FlushPoint {
  rows: number;
  bytes: number;
}

/** Below this many rows a tail grows by doubling; past it, to its expected flush size. */
export const JUMP_ROWS = 4_096;
/** Room over a shard's even share of the flush point, for shards that get more rows than others. */
const SHARE_SLACK = 1.25;

export class Tail {
  readonly shard: number;
  /** Flush generation the rows belong to. */
  readonly generation: number;
  rowCount = 0;
  actorIds = new Uint32Array(0);
  times = new Float64Array(0);
  readonly columns = new Map<string, TailColumn>();
  readonly typeErrors = new Map<string, number>();
  /** Bumped on every append, so snapshots can cache derived state. */
  version = 0;
  /** Holds rows of unlogged calls (a bulk load): rows no WAL has, durable only once flushed. */
  unlogged = false;
  /** The generation's string dictionaries, shared with the other shards' tails. */
  readonly dicts: TailDicts;

  /** Where the table flushes, as this tail's share (null: grow by doubling only). */
  private readonly flushPoint: FlushPoint | null;
  /** Snapshots holding this tail, whether its rows are in committed segments, and whether its arrays went back to the pool. */
  private pins = 0;
  private retired = false;
  private recycled = false;

  constructor(shard: number, generation: number, dicts: TailDicts = new TailDicts(), flushPoint: FlushPoint | null = null) {
    this.shard = shard;
    this.generation = generation;
    this.dicts = dicts;
    this.flushPoint = flushPoint;
  }

  /** A snapshot views this tail's arrays until the matching `unpin`. */
  pin(): void {
    this.pins++;
  }

  unpin(): void {
    this.pins--;
    this.recycleIfFree();
  }

  /** The tail's rows are in committed segments: nothing but pinned snapshots reads it any more. */
  retire(): void {
    this.retired = true;
    this.recycleIfFree();
  }

  private recycleIfFree(): void {
    if (!this.retired || this.pins > 0 || this.recycled) return;
    this.recycled = true;
    recycleShared(this.actorIds);
    recycleShared(this.times);
    for (const col of this.columns.values()) {
      recycleShared(col.values);
      recycleShared(col.validity);
    }
    // The buffers are another tail's now: a stale reader of this one finds no rows rather than those.
    this.actorIds = new Uint32Array(0);
    this.times = new Float64Array(0);
    for (const col of this.columns.values()) {
      col.values = new (col.values.constructor as new (n: number) => TypedValues)(0);
      col.validity = new Uint8Array(0);
    }
  }

  private ensureCapacity(needed: number): void {
    if (needed <= this.times.length) return;
    let cap = nextCapacity(this.times.length, needed);
    if (this.flushPoint !== null && needed > JUMP_ROWS && this.rowCount > 0) {
      const expected = Math.min(this.flushPoint.rows, this.flushPoint.bytes / (this.sizeBytes() / this.rowCount));
      cap = Math.max(cap, Math.ceil(expected * SHARE_SLACK));
    }
    this.actorIds = growShared(this.actorIds, cap);
    this.times = growShared(this.times, cap);
    for (const col of this.columns.values()) {
      col.values = growShared(col.values, cap);
      col.validity = growShared(col.validity, (cap + 7) >> 3);
    }
  }

  private column(name: string, type: StoredType): TailColumn {
    let col = this.columns.get(name);
    if (col === undefined) {
      const cap = this.times.length;
      col = { type, values: allocSharedValues(type, cap), validity: allocShared(Uint8Array, (cap + 7) >> 3), nullCount: this.rowCount };
      if (type === 'string') {
        const dict = this.dicts.get(name);
        col.dict = dict.values;
        col.index = dict.index;
      }
      this.columns.set(name, col);
    }
    return col;
  }

  /**
   * Appends a shard part whose actors already have dense ids: each row's (`part.actorRowIds`),
   * or by part-local code (`actorIdsByCode[code]`).
   */
  append(part: ShardPart, actorIdsByCode: Uint32Array | null): void {
    const base = this.rowCount;
    const n = part.rowCount;
    this.ensureCapacity(base + n);
    this.times.set(part.times, base);
    if (part.actorRowIds !== undefined) this.actorIds.set(part.actorRowIds, base);
    else for (let j = 0; j < n; j++) this.actorIds[base + j] = actorIdsByCode![part.actorCodes[j]];
    const seen = new Set<string>();
    for (const src of part.columns) {
      seen.add(src.name);
      const col = this.column(src.name, src.type);
      if (col.type !== src.type) throw new Error(`column "${src.name}" changed type in the WAL`);
      if (isSparse(src)) appendSparse(col, src, base, n, this.dicts);
      else appendColumn(col, src, base, n, this.dicts);
    }
    for (const [name, col] of this.columns) if (!seen.has(name)) col.nullCount += n;
    for (const [name, count] of part.typeErrors) this.typeErrors.set(name, (this.typeErrors.get(name) ?? 0) + count);
    this.rowCount = base + n;
    this.version++;
  }

  /**
   * Bytes of the rows the tail holds (the shared dictionaries are counted once per generation,
   * `dicts.sizeBytes`): what the table's flush point and memory budget count. Capacity reserved
   * ahead is not counted: it is at most 25% over the flush point's share, or as much again as
   * the rows held while the tail is small and doubling.
   */
  sizeBytes(): number {
    const n = this.rowCount;
    const validityBytes = (n + 7) >> 3;
    let bytes = n * (this.actorIds.BYTES_PER_ELEMENT + this.times.BYTES_PER_ELEMENT);
    for (const col of this.columns.values()) bytes += n * col.values.BYTES_PER_ELEMENT + validityBytes;
    return bytes;
  }

  /** Views of the first `rowCount` rows (no copy). */
  rowSet(): RowSet {
    const n = this.rowCount;
    const columns: TypedColumn[] = [];
    for (const [name, col] of this.columns) {
      const c: TypedColumn = {
        name,
        type: col.type,
        values: col.values.subarray(0, n),
        validity: col.nullCount === 0 ? null : col.validity.subarray(0, (n + 7) >> 3),
      };
      if (col.dict) c.dict = col.dict;
      columns.push(c);
    }
    return { rowCount: n, actorIds: this.actorIds.subarray(0, n), times: this.times.subarray(0, n), columns };
  }

  columnTypes(): Map<string, ColumnType> {
    const types = new Map<string, ColumnType>();
    for (const [name, col] of this.columns) if (col.nullCount < this.rowCount) types.set(name, col.type);
    return types;
  }
}

/**
 * Writes a sparse part column's valid rows into the tail column at rows [base, base+n); the
 * value slots of its null rows are left as they are (a null row's slot is unspecified).
 */
function appendSparse(col: TailColumn, src: SparseColumn, base: number, n: number, dicts: TailDicts): void {
  const out = col.values;
  const validity = col.validity;
  const { rows, values } = src;
  const k = rows.length;
  if (col.type === 'string' && src.dict !== col.dict) {
    // As in appendColumn: coded against another dictionary, looked up code by code.
    const source = src.dict!;
    const remap = dicts.lazyRemapFor(source);
    const dict = { values: col.dict!, index: col.index! };
    for (let j = 0; j < k; j++) {
      const c = values[j];
      let code = remap[c];
      if (code < 0) code = remap[c] = dicts.codeOf(dict, source[c]);
      const r = base + rows[j];
      out[r] = code;
      validity[r >> 3] |= 1 << (r & 7);
    }
  } else {
    for (let j = 0; j < k; j++) {
      const r = base + rows[j];
      out[r] = values[j];
      validity[r >> 3] |= 1 << (r & 7);
    }
  }
  col.nullCount += n - k;
}

/** Copies one part column into the tail column at rows [base, base+n). */
function appendColumn(col: TailColumn, src: TypedColumn, base: number, n: number, dicts: TailDicts): void {
  const out = col.values;
  let nulls = 0;
  if (col.type === 'string' && src.dict === col.dict) {
    // Coded against this generation's dictionary already (the ingest path): copy the codes.
    out.set(src.values.subarray(0, n), base);
  } else if (col.type === 'string') {
    // Coded against another dictionary: a part read back from the WAL (its own small one), or
    // one split against the previous generation's and applied after a flush started this one.
    // The latter is as big as a generation's: only the codes the part uses are looked up.
    const source = src.dict!;
    const remap = dicts.lazyRemapFor(source);
    const dict = { values: col.dict!, index: col.index! };
    const codes = src.values as Uint32Array;
    for (let j = 0; j < n; j++) {
      const c = codes[j];
      let code = remap[c];
      if (code < 0) code = remap[c] = dicts.codeOf(dict, source[c]);
      out[base + j] = code;
    }
  } else {
    out.set(src.values.subarray(0, n), base);
  }
  if (src.validity === null) {
    setValidRange(col.validity, base, base + n);
  } else if ((base & 7) === 0) {
    // Byte-aligned: copy the bitmap and count. Bits past n in its last byte are not the part's
    // (later appends OR theirs in there): cleared, as the unaligned path masks them.
    const bytes = (n + 7) >> 3;
    const at = base >> 3;
    col.validity.set(src.validity.subarray(0, bytes), at);
    if ((n & 7) !== 0) col.validity[at + bytes - 1] &= (1 << (n & 7)) - 1;
    let valid = 0;
    for (let k = 0; k < bytes; k++) valid += POPCOUNT[col.validity[at + k]];
    nulls = n - valid;
  } else {
    // Unaligned: each source byte straddles two tail bytes. The tail's bits from `base` on are
    // clear (appends only write past rowCount), so OR-ing shifted bytes in is enough.
    // Equivalent to: for each row j valid in src, setValid(col.validity, base + j).
    const bytes = (n + 7) >> 3;
    const shift = base & 7;
    const at = base >> 3;
    const dst = col.validity;
    const srcBits = src.validity;
    let valid = 0;
    for (let k = 0; k < bytes; k++) {
      // Bits past n in the last byte are not the part's: mask them off.
      const b = k === bytes - 1 && (n & 7) !== 0 ? srcBits[k] & ((1 << (n & 7)) - 1) : srcBits[k];
      if (b === 0) continue;
      valid += POPCOUNT[b];
      dst[at + k] |= (b << shift) & 0xff;
      const high = b >> (8 - shift);
      if (high !== 0) dst[at + k + 1] |= high;
    }
    nulls = n - valid;
  }
  col.nullCount += nulls;
}

/** Bytes of one generation's tails plus their shared dictionaries (counted once). */
export function tailSetBytes(tails: readonly Tail[]): number {
  let bytes = 0;
  const dicts = new Set<TailDicts>();
  for (const t of tails) {
    bytes += t.sizeBytes();
    dicts.add(t.dicts);
  }
  for (const d of dicts) bytes += d.sizeBytes;
  return bytes;
}
