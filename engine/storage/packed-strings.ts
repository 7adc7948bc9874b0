/**
 * A large string dictionary packed into one string and the end offset of each entry: how the
 * main thread hands a generation's big dictionaries (a bulk load's session ids: ~840k strings
 * for 10M events) to the flush workers (flush-pool.ts). Cloned into a worker as one string and
 * one typed array, it costs the worker no per-string allocation, and its garbage collections
 * no per-string marking; a segment materializes only the strings it uses (segment-dict.ts).
 * Pure; any thread.
 */

export interface PackedStrings {
  /** Every entry, in code order, one after the other. */
  text: string;
  /** Entry k is text[ends[k - 1], ends[k]) (from 0 for k = 0). */
  ends: Int32Array;
}

export function packStrings(values: readonly string[]): PackedStrings {
  const ends = new Int32Array(values.length);
  let at = 0;
  for (let k = 0; k < values.length; k++) {
    at += values[k].length;
    ends[k] = at;
  }
  return { text: values.join(''), ends };
}

/** Entry `code` of `p`. */
export function packedAt(p: PackedStrings, code: number): string {
  return p.text.slice(code === 0 ? 0 : p.ends[code - 1], p.ends[code]);
}

export function isPacked(d: readonly string[] | PackedStrings): d is PackedStrings {
  return !Array.isArray(d);
}
