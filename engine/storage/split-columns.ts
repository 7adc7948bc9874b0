/**
 * Pieces of split-batch.ts: the per-batch output buffer (`PartArena`), column plans, and the
 * per-shard builders for what the scatter path (split-scatter.ts) leaves out: each gathers one
 * shard's rows (a range of the batch's shard-ordered row list) of one batch column into a typed
 * column, reporting values whose type conflicts with the column's schema type.
 *
 * Part arrays are carved from one `PartArena` per batch instead of allocated one by one: tens of
 * thousands of small typed arrays per million events cost more in allocation and garbage
 * collection than filling them.
 *
 * Threading: main thread (the ingest path); no state survives a call except the caches the
 * caller passes in.
 */
import type { BatchColumn } from '../../ingest/batch.js';
import type { Value } from '../types.js';
import { actorKey } from './hash.js';
import { allocValues, type StoredType, type TypedColumn } from './typed-column.js';
import type { Remap } from './tail-dicts.js';

/**
 * One buffer that a batch's part arrays are carved from, 8-byte aligned, up to `sizeBytes` (the
 * buffer may be larger, from a pool). It is not zeroed: a pooled one holds an earlier batch's
 * parts, so every array but `u8`'s (validity bitmaps, zeroed) must be written in full by its
 * taker, or read only where written (zeroing it all cost ~0.15 s of main-thread time per 10M
 * events). Sized by the caller's estimate; a request past the end gets its own array, so an
 * estimate that falls short costs speed, never correctness.
 */
export class PartArena {
  private at = 0;

  constructor(
    readonly buffer: ArrayBuffer,
    private readonly sizeBytes: number,
  ) {}

  private take(bytes: number): number {
    const at = this.at;
    const end = at + ((bytes + 7) & ~7);
    if (end > this.sizeBytes) return -1;
    this.at = end;
    return at;
  }

  f64(n: number): Float64Array {
    const at = this.take(8 * n);
    return at < 0 ? new Float64Array(n) : new Float64Array(this.buffer, at, n);
  }

  u32(n: number): Uint32Array {
    const at = this.take(4 * n);
    return at < 0 ? new Uint32Array(n) : new Uint32Array(this.buffer, at, n);
  }

  i32(n: number): Int32Array {
    const at = this.take(4 * n);
    return at < 0 ? new Int32Array(n) : new Int32Array(this.buffer, at, n);
  }

  u16(n: number): Uint16Array {
    const at = this.take(2 * n);
    return at < 0 ? new Uint16Array(n) : new Uint16Array(this.buffer, at, n);
  }

  /** Zero-filled. */
  u8(n: number): Uint8Array {
    const at = this.take(n);
    return at < 0 ? new Uint8Array(n) : new Uint8Array(this.buffer, at, n).fill(0);
  }
}

/** Bytes per row of a part column's values. */
export function valueWidth(type: StoredType): number {
  return type === 'number' ? 8 : type === 'string' ? 4 : 1;
}

/** Per source dictionary of actor values: each entry's shard, dense id once assigned, and scratch. */
export interface ActorCacheEntry {
  shard: Uint16Array;
  /**
   * Two ints per source code, side by side so a row's lookups share a cache line: its code in
   * the part being built (-1: not in this batch yet; scratch for split-scatter.ts
   * `scatterActors`, left all -1 after use), and its dense id (-1: not yet assigned).
   */
  slots: Int32Array;
  mapped: number;
}

/**
 * Per-shard re-coding of a dictionary-coded batch column: `local[batchCode]` is the code in the
 * shard part being built (-1: not yet seen); `touched` lists the codes to reset afterwards.
 */
export class Recoder {
  readonly local: Int32Array;
  private touched: number[] = [];

  constructor(dictLength: number) {
    this.local = new Int32Array(dictLength).fill(-1);
  }

  /** Codes for rows order[start, end) (batch codes ≥ 0 only), writing the part dictionary into `dict`. */
  recode(codes: Int32Array, order: Int32Array, start: number, end: number, batchDict: string[], out: Uint32Array, dict: string[]): void {
    const local = this.local;
    for (let j = start; j < end; j++) {
      const c = codes[order[j]];
      if (c < 0) continue;
      let l = local[c];
      if (l < 0) {
        l = local[c] = dict.length;
        dict.push(batchDict[c]);
        this.touched.push(c);
      }
      out[j - start] = l;
    }
  }

  reset(): void {
    for (const c of this.touched) this.local[c] = -1;
    this.touched = [];
  }
}

export interface ColumnPlan {
  name: string;
  type: StoredType;
  col: BatchColumn;
  /** Whether the batch column has any null (then parts get validity bitmaps). */
  hasNulls: boolean;
  recoder: Recoder | null;
  /** With a split context: generation codes by batch code (filled in by the scatter) and the generation dictionary. */
  remap: Remap | null;
}

/** Whether a typed batch column holds any null. */
export function hasNulls(col: BatchColumn): boolean {
  if (col.t === 'n') return col.nulls !== null && col.nulls.indexOf(1) >= 0;
  if (col.t === 's') return col.codes.indexOf(-1) >= 0;
  return true; // mixed columns take the per-value path, which checks every value anyway
}

export function isNull(col: BatchColumn, i: number): boolean {
  if (col.t === 'n') return col.nulls !== null && col.nulls[i] === 1;
  if (col.t === 's') return col.codes[i] < 0;
  return col.values[i] === null || col.values[i] === undefined;
}

export type OnConflict = (row: number, got: string) => void;

/**
 * Builds one shard's typed column from rows order[start, end), or null if all of them are null,
 * for the cases split-scatter.ts leaves out: a string column without a split context, a whole
 * column of the other type, mixed values (and booleans).
 */
export function buildColumn(plan: ColumnPlan, order: Int32Array, start: number, end: number, onConflict: OnConflict): TypedColumn | null {
  const { name, type, col } = plan;
  const n = end - start;
  const validity = new Uint8Array((n + 7) >> 3);
  let valid = 0;
  let out: Float64Array | Uint8Array | Uint32Array;
  let dict: string[] | undefined;
  if (col.t === 's' && type === 'string') {
    const codes = col.codes;
    const u = new Uint32Array(n);
    dict = [];
    plan.recoder!.recode(codes, order, start, end, col.dict, u, dict);
    plan.recoder!.reset();
    for (let j = 0; j < n; j++) {
      if (codes[order[start + j]] < 0) continue;
      validity[j >> 3] |= 1 << (j & 7);
      valid++;
    }
    out = u;
  } else if (col.t !== 'v') {
    // The whole column has the other type: every value is a conflict.
    out = allocValues(type, n);
    const got = col.t === 'n' ? 'number' : 'string';
    for (let j = 0; j < n; j++) {
      const row = order[start + j];
      if (!isNull(col, row)) onConflict(row, got);
    }
  } else {
    ({ out, dict, valid } = buildMixed(type, col.values, order, start, end, validity, onConflict));
  }
  if (valid === 0) return null;
  const result: TypedColumn = { name, type, values: out, validity: valid === n ? null : validity };
  if (dict !== undefined) result.dict = dict;
  return result;
}

/** The per-value path for columns of mixed types (and booleans). */
function buildMixed(
  type: StoredType,
  values: Value[],
  order: Int32Array,
  start: number,
  end: number,
  validity: Uint8Array,
  onConflict: OnConflict,
): { out: Float64Array | Uint8Array | Uint32Array; dict: string[] | undefined; valid: number } {
  const n = end - start;
  const out = allocValues(type, n);
  const dict: string[] = [];
  const codes = type === 'string' ? new Map<string, number>() : null;
  let valid = 0;
  for (let j = 0; j < n; j++) {
    const row = order[start + j];
    const v = values[row];
    if (v === null || v === undefined) continue;
    if (typeof v !== type) {
      onConflict(row, typeof v);
      continue;
    }
    if (codes !== null) {
      let code = codes.get(v as string);
      if (code === undefined) {
        code = dict.length;
        dict.push(v as string);
        codes.set(v as string, code);
      }
      out[j] = code;
    } else {
      out[j] = type === 'boolean' ? (v ? 1 : 0) : (v as number);
    }
    validity[j >> 3] |= 1 << (j & 7);
    valid++;
  }
  return { out, dict: codes !== null ? dict : undefined, valid };
}

export function actorAt(actors: BatchColumn, i: number): string | number {
  if (actors.t === 'n') return actors.values[i];
  if (actors.t === 's') return actors.dict[actors.codes[i]];
  return actors.values[i] as string | number;
}

/**
 * One shard's actor values (distinct, first-seen order) and each row's index into them, for
 * batches the scatter path does not cover (no split context, or actors not dictionary-coded).
 */
export function shardActors(
  actors: BatchColumn,
  recoder: Recoder | null,
  order: Int32Array,
  start: number,
  end: number,
  arena: PartArena,
): { values: (string | number)[]; codes: Uint32Array; ids?: Uint32Array } {
  const n = end - start;
  const codes = arena.u32(n);
  if (actors.t === 's') {
    const values: string[] = [];
    recoder!.recode(actors.codes, order, start, end, actors.dict, codes, values);
    recoder!.reset();
    return { values, codes };
  }
  const values: (string | number)[] = [];
  const index = new Map<string, number>();
  for (let j = 0; j < n; j++) {
    const value = actorAt(actors, order[start + j]);
    const key = actorKey(value);
    let code = index.get(key);
    if (code === undefined) {
      code = values.length;
      values.push(value);
      index.set(key, code);
    }
    codes[j] = code;
  }
  return { values, codes };
}
