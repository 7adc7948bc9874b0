/**
 * The encoding family's registry and the entry points the segment writer and reader use.
 *
 * Writer: `encodeBest` asks every encoding that supports the block's physical kind for its
 * estimated size (one cheap pass each), encodes with the smallest, and `compressIfPays` adds LZ4
 * on top when that saves 10%. Reader: `decompress`, then `decodeBlock` with the stored id.
 * Validity bitmaps travel beside the values (validity.ts); the writer passes a block's bitmap to
 * `encodeBest` and the reader passes it back to `decodeBlock`, so the sparse encoding can store
 * only the valid rows.
 *
 * Adding an encoding: one file implementing `Encoding` plus one line in `DENSE` (or `ALL` for one
 * that is only read). Ids are written to disk: never change or reuse one. In use: 1 plain,
 * 2 constant, 3 for-bitpack, 4 delta-bitpack, 5 rle, 6 decimal, 7 dictionary-f64 (read only),
 * 8 delta-split, 9 sparse, 10 dictionary-sorted. On equal estimates the earlier encoding in
 * `DENSE` wins, so the list runs from cheapest to decode to dearest.
 *
 * String dictionaries of segments are stored by string-dict.ts (`encodeDict`, `decodeDict`).
 */
import type { Encoding, PhysicalKind } from './encoding.js';
import { constant } from './constant.js';
import { decimal } from './decimal.js';
import { deltaBitpack } from './delta-bitpack.js';
import { deltaSplit } from './delta-split.js';
import { dictionaryF64 } from './dictionary-f64.js';
import { dictionarySorted } from './dictionary-sorted.js';
import { forBitpack } from './for-bitpack.js';
import { plain } from './plain.js';
import { rle } from './rle.js';
import { sparseOver } from './sparse.js';

export type { Encoding, PhysicalArray, PhysicalKind } from './encoding.js';
export { buildValidity, countNulls, decodeValidity, encodeValidity } from './validity.js';
export { compressIfPays, decompress } from './compression.js';
export { decodeDict, encodeDict } from './string-dict.js';

/**
 * Encodings that need nothing but the values, in the order encodeBest tries them; sparse picks
 * among them for a block's valid rows. dictionary-f64 is no longer written (dictionary-sorted
 * holds every table it could, sorted and smaller when the values are short decimals) but stays
 * readable.
 */
const DENSE: readonly Encoding[] = [constant, plain, forBitpack, rle, deltaBitpack, decimal, deltaSplit, dictionarySorted];
const sparse = sparseOver(DENSE);
/** Every encoding that can be read. */
const ALL: readonly Encoding[] = [...DENSE, sparse, dictionaryF64];

/** Every encoding by id. */
export const ENCODINGS: ReadonlyMap<number, Encoding> = new Map(ALL.map((e) => [e.id, e]));

/** Ids by name, for tests, benchmarks and diagnostics. */
export const ENCODING_IDS = {
  plain: plain.id,
  constant: constant.id,
  forBitpack: forBitpack.id,
  deltaBitpack: deltaBitpack.id,
  rle: rle.id,
  decimal: decimal.id,
  dictionaryF64: dictionaryF64.id,
  deltaSplit: deltaSplit.id,
  dictionarySorted: dictionarySorted.id,
  sparse: sparse.id,
} as const;

/** The encoding with id `encodingId`; throws naming the id when there is none. */
export function encodingById(encodingId: number): Encoding {
  const encoding = ENCODINGS.get(encodingId);
  if (encoding === undefined) throw new Error(`unknown encoding id ${encodingId}`);
  return encoding;
}

/**
 * Encodes `values` with the encoding whose estimate is smallest (plain always qualifies).
 * `validity` is the block's bitmap when it has null rows (the writer stores it beside the
 * values); the decoder must then be given the same bitmap.
 *
 * A block that sparse accepts is stored sparse without trying the dense encodings: its valid
 * rows' best encoding is never larger than the same encoding over every row (the null rows only
 * repeat valid values, so ranges, runs, distinct values and deltas do not grow), and skipping
 * the second analysis halves the encode cost of nullable columns.
 */
export function encodeBest(
  values: Float64Array | Uint32Array | Uint8Array,
  kind: PhysicalKind,
  validity: Uint8Array | null = null,
): { encodingId: number; bytes: Uint8Array } {
  if (validity !== null && sparse.analyze(values, kind, validity) !== null) {
    return { encodingId: sparse.id, bytes: sparse.encode(values, kind, validity) };
  }
  let best: Encoding = plain;
  let bestSize = Infinity;
  for (const encoding of DENSE) {
    if (!encoding.kinds.includes(kind)) continue;
    const size = encoding.analyze(values, kind, validity);
    if (size !== null && size < bestSize) {
      best = encoding;
      bestSize = size;
    }
  }
  return { encodingId: best.id, bytes: best.encode(values, kind, validity) };
}

/**
 * Decodes a block of `rowCount` values written by encoding `encodingId`; into `out` when given
 * (a typed array of the kind with at least rowCount elements), else into a new array.
 * `validity` is the block's stored bitmap (null when it has none), which encodings that store
 * only the valid rows need.
 */
export function decodeBlock(
  encodingId: number,
  bytes: Uint8Array,
  kind: PhysicalKind,
  rowCount: number,
  out?: Float64Array | Uint32Array | Uint8Array,
  validity: Uint8Array | null = null,
): Float64Array | Uint32Array | Uint8Array {
  const encoding = encodingById(encodingId);
  if (!encoding.kinds.includes(kind)) throw new Error(`encoding ${encoding.name} (id ${encodingId}) cannot hold ${kind}`);
  return encoding.decode(bytes, kind, rowCount, out, validity);
}

/**
 * For a block of an encoding that stores its valid rows alone (sparse), their values in row
 * order (see Encoding.decodeValid); null for every other encoding, whose blocks `decodeBlock`
 * reads.
 */
export function decodeValidValues(
  encodingId: number,
  bytes: Uint8Array,
  kind: PhysicalKind,
  rowCount: number,
  validity: Uint8Array,
): Float64Array | Uint32Array | Uint8Array | null {
  const encoding = encodingById(encodingId);
  if (encoding.decodeValid === undefined) return null;
  if (!encoding.kinds.includes(kind)) throw new Error(`encoding ${encoding.name} (id ${encodingId}) cannot hold ${kind}`);
  return encoding.decodeValid(bytes, kind, rowCount, validity);
}
