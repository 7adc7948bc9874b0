/**
 * The encoding family contract (after DuckDB's compression functions): every encoding offers
 * analyze → estimated size, encode, decode. The segment writer asks each applicable encoding to
 * analyze a block and keeps the smallest; LZ4 is applied on top by the writer only where it pays.
 *
 * Physical inputs:
 *  - `f64`: Float64Array (number and time columns; null rows already replaced by a filler value)
 *  - `u32`: Uint32Array  (dictionary codes of string columns, dense actor ids)
 *  - `u8`:  Uint8Array   (booleans as 0/1)
 *
 * Encoded bytes are self-describing given (encoding id, physical kind, row count).
 */

export type PhysicalKind = 'f64' | 'u32' | 'u8';

export type PhysicalArray<K extends PhysicalKind> = K extends 'f64'
  ? Float64Array
  : K extends 'u32'
    ? Uint32Array
    : Uint8Array;

export interface Encoding {
  /** Stable numeric id written to disk; never reuse a retired id. */
  readonly id: number;
  readonly name: string;
  readonly kinds: readonly PhysicalKind[];
  /**
   * Estimated encoded size in bytes, or null when this encoding cannot represent the input
   * (e.g. frame-of-reference on non-integer floats).
   */
  analyze(values: Float64Array | Uint32Array | Uint8Array, kind: PhysicalKind): number | null;
  encode(values: Float64Array | Uint32Array | Uint8Array, kind: PhysicalKind): Uint8Array;
  /** Decodes `rowCount` values; writes into `out` when given (it has at least rowCount slots). */
  decode(
    bytes: Uint8Array,
    kind: PhysicalKind,
    rowCount: number,
    out?: Float64Array | Uint32Array | Uint8Array,
  ): Float64Array | Uint32Array | Uint8Array;
}
