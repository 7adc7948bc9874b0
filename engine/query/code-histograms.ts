/**
 * Row counts per dictionary code of a whole decoded block of codes, and per pair of codes of
 * two string columns of one row group (a group key and a one-leaf filter's column). Derived
 * once per decoded array and kept beside it by identity (block-derived.ts: a block cache hands
 * out the same array query after query, and counts these in its budget), so a repeated count
 * by, or filtered on, a string column costs O(dictionary) per row group instead of O(rows). Like the block cache, this relies on decoded
 * arrays never being rewritten (a column vector is an immutable snapshot); an array that is not
 * seen again (no block cache, the in-memory tail) costs one counting pass, as counting would.
 *
 * `reused` tells a caller whose own pass is cheaper than deriving such per-block data (counting
 * one code against histogramming every code; binning only the selected rows) to derive it only
 * from an array's second use: the first query over cold blocks, and every query when nothing
 * caches blocks, then pays only for what it reads.
 *
 * Threading: per thread (module state); the caches hold no more than their arrays' lifetimes.
 */
import { derivedHeld, derivedName, derivedOf, keepDerived, mayKeepDerived } from './block-derived.js';

const seen = new WeakSet<object>();

/** True from the second call on the same array (by identity): per-block data derived from it will be used again. */
export function reused(values: object): boolean {
  if (seen.has(values)) return true;
  seen.add(values);
  return false;
}

/** The cached per-code counts of `codes` when derived already, or, from its second use on, derived now; else null. */
export function codeCountsIfReused(codes: Uint32Array, dictLength: number): Int32Array | null {
  const known = derivedOf<Int32Array>(codes, 'counts');
  if (known !== undefined && known.length >= dictLength) return known;
  // Only when the counts will be kept: a cache with no room would have them derived again and again.
  return reused(codes) && mayKeepDerived(codes, countsBytes(dictLength)) ? codeCounts(codes, dictLength) : null;
}

function countsBytes(dictLength: number): number {
  return 4 * dictLength + 64;
}

/** Most pair cells per row of the block (a pair table larger than this is not worth keeping). */
const MAX_PAIR_CELLS_PER_ROW = 1;

/** counts[c] = rows of `codes` holding code c (every row, nulls included: callers exclude blocks with nulls). */
export function codeCounts(codes: Uint32Array, dictLength: number): Int32Array {
  let counts = derivedOf<Int32Array>(codes, 'counts');
  if (counts === undefined || counts.length < dictLength) {
    counts = new Int32Array(dictLength);
    // counts[codes[i]]++, in four stripes so runs of one code do not wait on one counter
    const striped = new Int32Array(4 * dictLength);
    const n = codes.length;
    let i = 0;
    for (; i + 3 < n; i += 4) {
      striped[codes[i] << 2]++;
      striped[(codes[i + 1] << 2) | 1]++;
      striped[(codes[i + 2] << 2) | 2]++;
      striped[(codes[i + 3] << 2) | 3]++;
    }
    for (; i < n; i++) striped[codes[i] << 2]++;
    for (let c = 0; c < dictLength; c++) counts[c] = striped[c << 2] + striped[(c << 2) | 1] + striped[(c << 2) | 2] + striped[(c << 2) | 3];
    keepDerived(codes, 'counts', countsBytes(dictLength), counts);
  }
  return counts;
}

/**
 * counts[a · bLength + b] = rows holding code a in `aCodes` and code b in `bCodes` (two columns
 * of the same rows), or null when the table would be larger than the block.
 */
export function pairCounts(aCodes: Uint32Array, aLength: number, bCodes: Uint32Array, bLength: number): Int32Array | null {
  const n = aCodes.length;
  if (bCodes.length !== n || aLength * bLength > MAX_PAIR_CELLS_PER_ROW * n + 256) return null;
  // Kept with a's block only under a name b keeps while it lives: not when a cache holds a's block
  // but not b's (b's array is new at every read, and a's block would collect tables never hit).
  const keep = derivedHeld(aCodes) === derivedHeld(bCodes);
  const name = `pairs:${derivedName(bCodes)}`;
  let counts = keep ? derivedOf<Int32Array>(aCodes, name) : undefined;
  if (counts === undefined || counts.length < aLength * bLength) {
    counts = new Int32Array(aLength * bLength);
    // counts[aCodes[i] · bLength + bCodes[i]]++
    for (let i = 0; i < n; i++) counts[aCodes[i] * bLength + bCodes[i]]++;
    if (keep) keepDerived(aCodes, name, 4 * aLength * bLength + 64, counts);
  }
  return counts;
}
