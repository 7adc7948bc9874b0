/**
 * The in-memory tail of one shard: rows acknowledged since the last flush, columnar and typed,
 * in arrival order. Strings are dictionary-coded on append, so scans of the tail run on codes
 * like scans of segments.
 *
 * Threading: owned by the main thread. Appends only ever write past `rowCount`, so a snapshot
 * (which fixes a row count and views the arrays) stays valid while appends go on.
 */
import type { ColumnType } from '../types.js';
import type { ShardPart } from './wal-record.js';
import {
  allocValues,
  growBytes,
  growValues,
  nextCapacity,
  setValid,
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
  index?: Map<string, number>;
}

/** A fixed-size view of the tail's rows, for flushing and for scans. */
export interface RowSet {
  rowCount: number;
  actorIds: Uint32Array;
  times: Float64Array;
  columns: TypedColumn[];
}

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
  /** Estimated heap bytes of the string dictionaries (characters plus per-entry overhead). */
  private dictBytes = 0;

  constructor(shard: number, generation: number) {
    this.shard = shard;
    this.generation = generation;
  }

  private ensureCapacity(needed: number): void {
    if (needed <= this.times.length) return;
    const cap = nextCapacity(this.times.length, needed);
    this.actorIds = growValues(this.actorIds, cap);
    this.times = growValues(this.times, cap);
    for (const col of this.columns.values()) {
      col.values = growValues(col.values, cap);
      col.validity = growBytes(col.validity, (cap + 7) >> 3);
    }
  }

  private column(name: string, type: StoredType): TailColumn {
    let col = this.columns.get(name);
    if (col === undefined) {
      const cap = this.times.length;
      col = { type, values: allocValues(type, cap), validity: new Uint8Array((cap + 7) >> 3), nullCount: this.rowCount };
      if (type === 'string') {
        col.dict = [];
        col.index = new Map();
      }
      this.columns.set(name, col);
    }
    return col;
  }

  /** Appends a shard part whose actors already have dense ids (`actorIds[code]`). */
  append(part: ShardPart, actorIdsByCode: Uint32Array): void {
    const base = this.rowCount;
    const n = part.rowCount;
    this.ensureCapacity(base + n);
    this.times.set(part.times, base);
    for (let j = 0; j < n; j++) this.actorIds[base + j] = actorIdsByCode[part.actorCodes[j]];
    const seen = new Set<string>();
    for (const src of part.columns) {
      seen.add(src.name);
      const col = this.column(src.name, src.type);
      if (col.type !== src.type) throw new Error(`column "${src.name}" changed type in the WAL`);
      this.dictBytes += appendColumn(col, src, base, n);
    }
    for (const [name, col] of this.columns) if (!seen.has(name)) col.nullCount += n;
    for (const [name, count] of part.typeErrors) this.typeErrors.set(name, (this.typeErrors.get(name) ?? 0) + count);
    this.rowCount = base + n;
    this.version++;
  }

  /**
   * Memory held by the tail: its typed arrays at their allocated capacity plus an estimate for
   * the dictionaries. What the table's memory budget counts.
   */
  sizeBytes(): number {
    let bytes = this.actorIds.byteLength + this.times.byteLength + this.dictBytes;
    for (const col of this.columns.values()) bytes += col.values.byteLength + col.validity.byteLength;
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

/** Sets the validity bits of rows [from, to): whole bytes at once in the middle. */
function setValidRange(validity: Uint8Array, from: number, to: number): void {
  let r = from;
  while (r < to && (r & 7) !== 0) setValid(validity, r++);
  const wholeEnd = to & ~7;
  if (r < wholeEnd) {
    validity.fill(0xff, r >> 3, wholeEnd >> 3);
    r = wholeEnd;
  }
  while (r < to) setValid(validity, r++);
}

/** Heap bytes a dictionary entry costs besides its characters (array slot, map entry, header). */
const DICT_ENTRY_OVERHEAD_BYTES = 64;

/** Copies one part column into the tail column at rows [base, base+n); returns dictionary bytes added. */
function appendColumn(col: TailColumn, src: TypedColumn, base: number, n: number): number {
  const out = col.values;
  let nulls = 0;
  let dictBytes = 0;
  if (col.type === 'string') {
    const remap = new Uint32Array(src.dict!.length);
    for (let k = 0; k < remap.length; k++) {
      const s = src.dict![k];
      let code = col.index!.get(s);
      if (code === undefined) {
        code = col.dict!.length;
        col.dict!.push(s);
        col.index!.set(s, code);
        dictBytes += 2 * s.length + DICT_ENTRY_OVERHEAD_BYTES;
      }
      remap[k] = code;
    }
    const codes = src.values as Uint32Array;
    for (let j = 0; j < n; j++) out[base + j] = remap[codes[j]];
  } else {
    out.set(src.values.subarray(0, n), base);
  }
  if (src.validity === null) {
    setValidRange(col.validity, base, base + n);
  } else {
    for (let j = 0; j < n; j++) {
      if ((src.validity[j >> 3] & (1 << (j & 7))) !== 0) setValid(col.validity, base + j);
      else nulls++;
    }
  }
  col.nullCount += nulls;
  return dictBytes;
}
