/**
 * Row counts per dictionary code of a whole decoded block of codes, and per pair of codes of
 * two string columns of one row group (a group key and a one-leaf filter's column). Derived
 * once per decoded array and cached beside it by identity (a block cache hands out the same
 * array query after query), so a repeated count by, or filtered on, a string column costs
 * O(dictionary) per row group instead of O(rows). Like the block cache, this relies on decoded
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

const singles = new WeakMap<Uint32Array, Int32Array>();
const pairs = new WeakMap<Uint32Array, WeakMap<Uint32Array, Int32Array>>();
const seen = new WeakSet<object>();

/** True from the second call on the same array (by identity): per-block data derived from it will be used again. */
export function reused(values: object): boolean {
  if (seen.has(values)) return true;
  seen.add(values);
  return false;
}

/** The cached per-code counts of `codes` when derived already, or, from its second use on, derived now; else null. */
export function codeCountsIfReused(codes: Uint32Array, dictLength: number): Int32Array | null {
  return singles.has(codes) || reused(codes) ? codeCounts(codes, dictLength) : null;
}

/** Most pair cells per row of the block (a pair table larger than this is not worth keeping). */
const MAX_PAIR_CELLS_PER_ROW = 1;

/** counts[c] = rows of `codes` holding code c (every row, nulls included: callers exclude blocks with nulls). */
export function codeCounts(codes: Uint32Array, dictLength: number): Int32Array {
  let counts = singles.get(codes);
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
    singles.set(codes, counts);
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
  let byB = pairs.get(aCodes);
  if (byB === undefined) pairs.set(aCodes, (byB = new WeakMap()));
  let counts = byB.get(bCodes);
  if (counts === undefined || counts.length < aLength * bLength) {
    counts = new Int32Array(aLength * bLength);
    // counts[aCodes[i] · bLength + bCodes[i]]++
    for (let i = 0; i < n; i++) counts[aCodes[i] * bLength + bCodes[i]]++;
    byB.set(bCodes, counts);
  }
  return counts;
}
