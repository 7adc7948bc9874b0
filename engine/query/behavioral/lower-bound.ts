/**
 * Binary search over a sorted run of a typed array: positions in a row group's unit lists
 * (funnel-stream.ts), actor ids of a merge's queue or a tiled lane's rows (overlap-merge.ts,
 * tiled-stream.ts).
 *
 * Threading: a pure function.
 */

/** The first i in [lo, hi) with a[i] ≥ v (a ascending there), else hi. */
export function lowerBound(a: Uint16Array | Uint32Array, lo: number, hi: number, v: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
