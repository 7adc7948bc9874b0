/**
 * Core value and vector types shared by storage, ingest and execution.
 *
 * Logical column types follow PRODUCT.md: `string`, `number` (float64), `boolean`, and `time`
 * (epoch milliseconds, only for a table's time column). The actor column is stored as dense
 * per-shard actor ids; its original values live in the shard's actor dictionary.
 */

export type ColumnType = 'string' | 'number' | 'boolean' | 'time';
export type Scalar = string | number | boolean;
export type Value = Scalar | null;

/**
 * Validity bitmap: bit `i & 7` of byte `i >> 3` is 1 when row i holds a value.
 * `null` in a vector's `validity` slot means every row holds a value.
 */
export type Validity = Uint8Array | null;

/** A decoded column over a contiguous range of rows (one row group of one source). */
export type ColumnVector =
  | { type: 'number'; values: Float64Array; validity: Validity }
  | { type: 'time'; values: Float64Array; validity: Validity }
  | { type: 'boolean'; values: Uint8Array; validity: Validity }
  /**
   * `dict` is shared by every row group of the column in one source (same array object), so
   * executors may cache per-dictionary work (predicate results, group ids) by identity.
   */
  | { type: 'string'; codes: Uint32Array; dict: readonly string[]; validity: Validity };

export function isValid(validity: Validity, row: number): boolean {
  return validity === null || (validity[row >> 3] & (1 << (row & 7))) !== 0;
}

export function validityBytes(rowCount: number): number {
  return (rowCount + 7) >> 3;
}

/** Min/max/null statistics of one column in one row group (zone map). */
export interface ZoneMap {
  /** Numbers/time: numeric min and max; strings: lexicographic min and max; booleans: 0/1. */
  min: number | string | null;
  max: number | string | null;
  nullCount: number;
}
