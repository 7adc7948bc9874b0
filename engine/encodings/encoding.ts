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
 * Encoded bytes are self-describing given (encoding id, physical kind, row count), plus, for an
 * encoding that declares `usesValidity`, the block's validity bitmap (stored beside the values by
 * the segment writer, so such an encoding need not store which rows are null a second time).
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
   * True when the encoding needs the block's validity bitmap to encode and to decode; it then
   * refuses (analyze → null) a block without one.
   */
  readonly usesValidity?: boolean;
  /**
   * Estimated encoded size in bytes, or null when this encoding cannot represent the input
   * (e.g. frame-of-reference on non-integer floats).
   */
  analyze(values: Float64Array | Uint32Array | Uint8Array, kind: PhysicalKind, validity?: Uint8Array | null): number | null;
  /**
   * Encodes the block; throws when the encoding cannot represent it (where analyze would return
   * null), which the sticky choice of choice.ts relies on to skip analyze.
   */
  encode(values: Float64Array | Uint32Array | Uint8Array, kind: PhysicalKind, validity?: Uint8Array | null): Uint8Array;
  /**
   * Decodes `rowCount` values; writes into `out` when given (it has at least rowCount slots).
   * `validity` is the bitmap the block was encoded with (needed only when `usesValidity`).
   */
  decode(
    bytes: Uint8Array,
    kind: PhysicalKind,
    rowCount: number,
    out?: Float64Array | Uint32Array | Uint8Array,
    validity?: Uint8Array | null,
  ): Float64Array | Uint32Array | Uint8Array;
  /**
   * Only encodings that store the valid rows alone (sparse): the valid rows' values, in row
   * order, without the null rows' filler (a scratch view, valid until the next decode); the
   * caller places them by the block's bitmap and checks it marks as many rows.
   */
  decodeValid?(bytes: Uint8Array, kind: PhysicalKind, rowCount: number, validity: Uint8Array): Float64Array | Uint32Array | Uint8Array;
}
