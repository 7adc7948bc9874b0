/**
 * Typed columnar pieces: the shape in which rows move between the ingest path, the WAL,
 * the in-memory tail and the segment writer.
 *
 *  - number/time: Float64Array values
 *  - boolean:     Uint8Array 0/1
 *  - string:      Uint32Array codes into `dict`
 * A null row has its validity bit clear and an unspecified value slot.
 */
import type { ColumnType } from '../types.js';
import { BufferPool } from './buffer-pool.js';
import type { PackedStrings } from './packed-strings.js';

export type StoredType = Exclude<ColumnType, 'time'>;
export type TypedValues = Float64Array | Uint8Array | Uint32Array;

export interface TypedColumn {
  name: string;
  type: StoredType;
  values: TypedValues;
  /** String columns only: the dictionary the codes point into. */
  dict?: string[];
  /**
   * A flush worker's string column only, in place of `dict`: the generation's dictionary when it
   * is large and came packed (flush-pool.ts); `dict` is then empty.
   */
  packedDict?: PackedStrings;
  /** Validity bitmap, or null when every row holds a value. */
  validity: Uint8Array | null;
}

/**
 * A shard part's column with few valid rows (see split-scatter.ts `scatterSparse`): row
 * `rows[k]` (ascending) holds `values[k]`, every other row is null. Only shard parts (the WAL
 * record and the tail's append) carry this form; it has no validity, so code written for
 * `TypedColumn` cannot take it by mistake.
 */
export interface SparseColumn {
  name: string;
  type: StoredType;
  rows: Uint32Array;
  values: TypedValues;
  /** String columns only: the dictionary the codes point into. */
  dict?: string[];
}

/** A shard part's column: dense, or sparse. */
export type PartColumn = TypedColumn | SparseColumn;

export function isSparse(c: PartColumn): c is SparseColumn {
  return 'rows' in c;
}

/** A part column of `rowCount` rows in dense form (a sparse one's null rows hold 0). */
export function densePart(c: PartColumn, rowCount: number): TypedColumn {
  if (!isSparse(c)) return c;
  const values = allocValues(c.type, rowCount);
  const validity = new Uint8Array((rowCount + 7) >> 3);
  for (let k = 0; k < c.rows.length; k++) {
    values[c.rows[k]] = c.values[k];
    setValid(validity, c.rows[k]);
  }
  const out: TypedColumn = { name: c.name, type: c.type, values, validity };
  if (c.dict !== undefined) out.dict = c.dict;
  return out;
}

export function allocValues(type: StoredType, length: number): TypedValues {
  if (type === 'number') return new Float64Array(length);
  if (type === 'boolean') return new Uint8Array(length);
  return new Uint32Array(length);
}

type TypedCtor<T extends TypedValues> = { new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): T; BYTES_PER_ELEMENT: number };

/** Smallest SharedArrayBuffer worth pooling: below it, first-touch faults are few. */
const SHARED_POOL_MIN_BYTES = 256 * 2 ** 10;

/**
 * Retired tails' SharedArrayBuffers (Tail.unpin, see buffer-pool.ts), handed to the next ones:
 * up to 512 MiB idle (about half a generation of tails at the default ingest budget), dropped
 * after 10 s without use.
 */
export const sharedBuffers = BufferPool.shared(4096, 512 * 2 ** 20, 1.5);

/** A zero-filled typed array of `length` entries over a SharedArrayBuffer (a pooled one when big). */
export function allocShared<T extends TypedValues>(ctor: TypedCtor<T>, length: number): T {
  const bytes = length * ctor.BYTES_PER_ELEMENT;
  if (bytes < SHARED_POOL_MIN_BYTES) return new ctor(new SharedArrayBuffer(bytes));
  return new ctor(sharedBuffers.acquire(bytes), 0, length);
}

/**
 * Gives the buffer under `array` (made by allocShared) to the pool: only once nothing reads or
 * writes any view of it any more.
 */
export function recycleShared(array: TypedValues): void {
  if (array.buffer instanceof SharedArrayBuffer && array.buffer.byteLength >= SHARED_POOL_MIN_BYTES) sharedBuffers.release(array.buffer);
}

/** `allocValues` over a SharedArrayBuffer. */
export function allocSharedValues(type: StoredType, length: number): TypedValues {
  if (type === 'number') return allocShared(Float64Array, length);
  if (type === 'boolean') return allocShared(Uint8Array, length);
  return allocShared(Uint32Array, length);
}

/** Copies `src` into a new typed array of the same kind over a SharedArrayBuffer, with room for `length` entries. */
export function growShared<T extends TypedValues>(src: T, length: number): T {
  const out = allocShared(src.constructor as TypedCtor<T>, length);
  out.set(src);
  return out;
}

/** Copies `src` into a new typed array of the same kind with room for `length` entries. */
export function growValues<T extends TypedValues>(src: T, length: number): T {
  const out = new (src.constructor as new (n: number) => T)(length);
  out.set(src);
  return out;
}

export function setValid(validity: Uint8Array, row: number): void {
  validity[row >> 3] |= 1 << (row & 7);
}

/** Sets the validity bits of rows [from, to): whole bytes at once in the middle. */
export function setValidRange(validity: Uint8Array, from: number, to: number): void {
  let r = from;
  while (r < to && (r & 7) !== 0) setValid(validity, r++);
  const wholeEnd = to & ~7;
  if (r < wholeEnd) {
    validity.fill(0xff, r >> 3, wholeEnd >> 3);
    r = wholeEnd;
  }
  while (r < to) setValid(validity, r++);
}

export function isSet(validity: Uint8Array | null, row: number): boolean {
  return validity === null || (validity[row >> 3] & (1 << (row & 7))) !== 0;
}

/** Grows a byte buffer (e.g. a bitmap) to at least `bytes`, zero-filling the new part. */
export function growBytes(src: Uint8Array, bytes: number): Uint8Array {
  if (src.length >= bytes) return src;
  const out = new Uint8Array(Math.max(bytes, src.length * 2));
  out.set(src);
  return out;
}

/** Next capacity for a growing column: doubling, starting at 1024. */
export function nextCapacity(current: number, needed: number): number {
  let cap = Math.max(1024, current);
  while (cap < needed) cap *= 2;
  return cap;
}
