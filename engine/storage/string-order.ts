/**
 * Sorting codes by their strings without calling a comparator per comparison: each string gets
 * a numeric key from its first few UTF-16 code units after the prefix all of them share, packed
 * with its position into one float64; a native typed-array sort orders the keys, and only runs
 * of equal keys are finished by comparing strings. For a segment's session ids (thousands of
 * distinct hex-like strings) nearly every key is unique, where `Array.prototype.sort` with a
 * comparator spent most of a flush's string-dictionary time calling it.
 *
 * A key is monotone in the string order (`<`, by UTF-16 code units), so s < t implies
 * key(s) ≤ key(t), and equal keys are ordered by the strings themselves: a missing unit (a
 * shorter string) counts 0, a unit u below 126 counts u + 1, and a larger one saturates: it and
 * every unit after it count 127 (two strings that saturate at the same place tie, whatever
 * follows). Pure; any thread.
 */

/** Bits of a float64's integers (2^53). */
const EXACT_BITS = 53;
/** Bits per code unit of a key. */
const UNIT_BITS = 7;
const UNIT_MAX = (1 << UNIT_BITS) - 1;
/** Fewer codes are sorted by comparing strings. */
const KEYED_MIN = 64;
/** The shared prefix is looked for this far at most. */
const PREFIX_MAX = 64;

const byString =
  (source: readonly string[]) =>
  (a: number, b: number): number =>
    source[a] < source[b] ? -1 : source[a] > source[b] ? 1 : 0;

/**
 * `codes` ordered by `source[code]` (by UTF-16 code units, as `<` and the default sort order
 * strings); `codes` may be reordered. Equal strings keep no particular order.
 */
export function sortCodesByString(codes: number[], source: readonly string[]): Uint32Array {
  const m = codes.length;
  if (m < KEYED_MIN) return Uint32Array.from(codes.sort(byString(source)));
  const indexBits = 32 - Math.clz32(m - 1);
  // At least three units: an array holds fewer than 2^32 codes.
  const units = Math.floor((EXACT_BITS - indexBits) / UNIT_BITS);
  const skip = sharedPrefix(codes, source);
  const indexScale = 2 ** indexBits;
  const keys = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    const s = source[codes[k]];
    let key = 0;
    let unit = 0;
    for (let j = skip; j < skip + units; j++) {
      if (unit !== UNIT_MAX) unit = j < s.length ? Math.min(s.charCodeAt(j) + 1, UNIT_MAX) : 0;
      key = key * (UNIT_MAX + 1) + unit;
    }
    keys[k] = key * indexScale + k;
  }
  keys.sort();
  const out = new Uint32Array(m);
  for (let k = 0; k < m; k++) out[k] = codes[keys[k] % indexScale];
  // Runs of equal keys: ordered by their strings.
  let start = 0;
  for (let k = 1; k <= m; k++) {
    if (k < m && Math.floor(keys[k] / indexScale) === Math.floor(keys[start] / indexScale)) continue;
    if (k - start > 1) sortRun(out, start, k, source);
    start = k;
  }
  return out;
}

/** Length of the prefix every string of `codes` starts with (at most PREFIX_MAX). */
function sharedPrefix(codes: number[], source: readonly string[]): number {
  const first = source[codes[0]];
  let len = Math.min(first.length, PREFIX_MAX);
  for (let k = 1; k < codes.length && len > 0; k++) {
    const s = source[codes[k]];
    let j = 0;
    while (j < len && j < s.length && s.charCodeAt(j) === first.charCodeAt(j)) j++;
    len = j;
  }
  return len;
}

/** Sorts out[start, end) by string: insertion sort for the short runs keys leave. */
function sortRun(out: Uint32Array, start: number, end: number, source: readonly string[]): void {
  if (end - start > 16) {
    const run = Array.from(out.subarray(start, end)).sort(byString(source));
    out.set(run, start);
    return;
  }
  for (let i = start + 1; i < end; i++) {
    const c = out[i];
    const s = source[c];
    let j = i - 1;
    while (j >= start && source[out[j]] > s) {
      out[j + 1] = out[j];
      j--;
    }
    out[j + 1] = c;
  }
}
