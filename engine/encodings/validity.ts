/**
 * Validity bitmaps (see engine/types.ts: bit `i & 7` of byte `i >> 3` is 1 when row i holds a
 * value) as the segment writer stores them in front of a block's encoded values: the bitmap
 * bytes as-is, or nothing at all when the block has no nulls. Bits past rowCount are written 0
 * and ignored on read.
 */
import { validityBytes, type Validity } from '../types.js';

/** Bitmap of the rows for which `isNull(i)` is false, or null when no row is null. */
export function buildValidity(rowCount: number, isNull: (row: number) => boolean): Validity {
  let bitmap: Uint8Array | null = null;
  for (let i = 0; i < rowCount; i++) {
    if (!isNull(i)) continue;
    if (bitmap === null) {
      // First null: every row so far was valid.
      bitmap = new Uint8Array(validityBytes(rowCount)).fill(255);
      const tail = rowCount & 7;
      if (tail !== 0) bitmap[bitmap.length - 1] = (1 << tail) - 1;
    }
    bitmap[i >> 3] &= ~(1 << (i & 7));
  }
  return bitmap;
}

/** Bits set in each byte value. */
export const POPCOUNT = new Uint8Array(256);
for (let b = 1; b < 256; b++) POPCOUNT[b] = (b & 1) + POPCOUNT[b >> 1];

/** Null rows among the first `rowCount` rows (0 for a null bitmap). */
export function countNulls(validity: Validity, rowCount: number): number {
  if (validity === null || rowCount === 0) return 0;
  const full = rowCount >> 3;
  if (validity.length < validityBytes(rowCount)) throw new Error(`validity bitmap too short for ${rowCount} rows`);
  let valid = 0;
  // valid = number of set bits among the first rowCount bits
  for (let i = 0; i < full; i++) valid += POPCOUNT[validity[i]];
  const tail = rowCount & 7;
  if (tail !== 0) valid += POPCOUNT[validity[full] & ((1 << tail) - 1)];
  return rowCount - valid;
}

/** The stored form of a bitmap: its bytes, or an empty array when no row is null. */
export function encodeValidity(validity: Validity, rowCount: number): Uint8Array {
  if (validity === null || countNulls(validity, rowCount) === 0) return new Uint8Array(0);
  return validity.subarray(0, validityBytes(rowCount));
}

/** The bitmap from its stored form (null when empty); throws when the length does not fit. */
export function decodeValidity(bytes: Uint8Array, rowCount: number): Validity {
  if (bytes.length === 0) return null;
  if (bytes.length !== validityBytes(rowCount)) {
    throw new Error(`validity bitmap of ${bytes.length} bytes does not fit ${rowCount} rows`);
  }
  return bytes;
}
