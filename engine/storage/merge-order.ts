/**
 * Sort order for compaction's merges, from what the inputs already are: each input segment's
 * rows lie sorted by (actor, time, arrival) within one time partition, and the inputs come
 * oldest first. The merged order — the stable sort of their concatenation by (actor, time), as
 * `sortRows` (row-order.ts) would give it — is then a k-way merge of the inputs' runs, which
 * costs a few comparisons a row instead of a counting sort whose counts span every actor id of
 * the shard (625k at a billion events: megabytes zeroed and summed for each merge, however
 * small) and a time sort of each actor's rows.
 *
 * Threading: pure; runs on the flush workers.
 */
import { PARTITION_MS, partitionOf, sortRows, type PartitionRange } from './row-order.js';

/** Inputs merged by comparing heads; more (a full compaction's) take the counting sort. */
const MAX_MERGE_RUNS = 16;

/**
 * The order of rows [0, n) sorted by (partition, actor, time, row) — exactly `sortRows`'s —
 * where run r is rows [runStarts[r], runStarts[r + 1]) (the last ending at n), each already
 * sorted. Falls back to `sortRows` for many runs, several partitions, a run out of order, or a
 * row whose (actor, time) does not pack into one number (an actor id from 2^26, i.e. a shard of
 * 67M actors, or a fractional time, which ingest's rounding to whole milliseconds never stores).
 * Each stretch of rows from one run costs O(log k) comparisons of heads, so inputs that
 * interleave row by row (the same actors in every input) cost little more than a few.
 */
export function mergeOrder(actorIds: Uint32Array, times: Float64Array, runStarts: readonly number[]): { order: Uint32Array; ranges: PartitionRange[] } {
  const n = times.length;
  if (n === 0 || runStarts.length > MAX_MERGE_RUNS) return sortRows(actorIds, times);
  const partition = partitionOf(times[0]);
  const keys = packedKeys(actorIds, times, runStarts, partition * PARTITION_MS);
  if (keys === null) return sortRows(actorIds, times);
  const order = new Uint32Array(n);
  mergeByKey(keys, runStarts, order);
  return { order, ranges: [{ partition, start: 0, end: n }] };
}

/** Actor ids below this fit a packed key beside the time within the day (2^26 × 2^27 = 2^53). */
const PACKED_ACTORS_MAX = 2 ** 26;
const DAY_SLOTS = 2 ** 27;
/** Rows of packed keys kept from one merge to the next on a thread (32 MiB); a larger merge's are its own. */
const KEPT_KEY_ROWS = 4 * 2 ** 20;
let keysScratch = new Float64Array(0);

/** An array for `n` packed keys: the kept one, grown up to KEPT_KEY_ROWS, or a fresh one past it. */
function keysArray(n: number): Float64Array {
  if (n > KEPT_KEY_ROWS) return new Float64Array(n);
  if (keysScratch.length < n) keysScratch = new Float64Array(Math.min(KEPT_KEY_ROWS, Math.max(n, Math.ceil(keysScratch.length * 1.5))));
  return keysScratch;
}

/**
 * Each row's (actor, time) as one float64, actor × 2^27 + (time − day start), ordered as the
 * pair is; null when a run is out of order, a row lies outside the day or does not pack (an
 * actor id from 2^26, a fractional time). One sequential pass, after which the merge compares
 * one number a row.
 */
function packedKeys(actorIds: Uint32Array, times: Float64Array, runStarts: readonly number[], dayStartMs: number): Float64Array | null {
  const n = times.length;
  const keys = keysArray(n);
  for (let r = 0; r < runStarts.length; r++) {
    const start = runStarts[r];
    const end = r + 1 < runStarts.length ? runStarts[r + 1] : n;
    if (start > end || end > n) return null;
    let prev = -1;
    for (let i = start; i < end; i++) {
      const a = actorIds[i];
      const dt = times[i] - dayStartMs;
      if (!(dt >= 0 && dt < PARTITION_MS) || a >= PACKED_ACTORS_MAX || dt !== Math.floor(dt)) return null;
      const key = a * DAY_SLOTS + dt;
      if (key < prev) return null;
      keys[i] = prev = key;
    }
  }
  return keys;
}

/**
 * The k-way merge over packed keys: runs with rows left sit in a binary min-heap by (head key,
 * run), the head keys cached beside it, so a comparison reads two numbers of a small array.
 * The best run's rows are taken while they come before the next run's head (or tie with it from
 * an earlier run): long stretches of one input go in one loop, and inputs that interleave row by
 * row cost O(log k) comparisons a row.
 */
function mergeByKey(keys: Float64Array, runStarts: readonly number[], order: Uint32Array): void {
  const n = order.length;
  const k = runStarts.length;
  const heads = new Int32Array(k);
  const ends = new Int32Array(k);
  const headKey = new Float64Array(k);
  const heap = new Int32Array(k);
  let size = 0;
  for (let r = 0; r < k; r++) {
    heads[r] = runStarts[r];
    ends[r] = r + 1 < k ? runStarts[r + 1] : n;
    if (heads[r] < ends[r]) {
      headKey[r] = keys[heads[r]];
      heap[size++] = r;
    }
  }
  const less = (a: number, b: number): boolean => headKey[a] < headKey[b] || (headKey[a] === headKey[b] && a < b);
  const siftDown = (at: number): void => {
    const r = heap[at];
    for (;;) {
      let child = 2 * at + 1;
      if (child >= size) break;
      if (child + 1 < size && less(heap[child + 1], heap[child])) child++;
      if (!less(heap[child], r)) break;
      heap[at] = heap[child];
      at = child;
    }
    heap[at] = r;
  };
  for (let at = (size >> 1) - 1; at >= 0; at--) siftDown(at);
  let out = 0;
  while (size > 0) {
    const best = heap[0];
    const end = ends[best];
    let at = heads[best];
    if (size === 1) {
      while (at < end) order[out++] = at++;
      break;
    }
    const second = size === 2 || less(heap[1], heap[2]) ? heap[1] : heap[2];
    const limit = headKey[second];
    if (best < second) {
      do order[out++] = at++;
      while (at < end && keys[at] <= limit);
    } else {
      do order[out++] = at++;
      while (at < end && keys[at] < limit);
    }
    heads[best] = at;
    if (at >= end) heap[0] = heap[--size];
    else headKey[best] = keys[at];
    siftDown(0);
  }
}
