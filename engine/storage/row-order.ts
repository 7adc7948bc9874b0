/**
 * Sort order for flushes and compactions: rows grouped by time partition, then sorted by
 * (actor id, time, arrival). Arrival order is the input row order, so the sorts are stable.
 *
 * Cost: one counting pass over the combined key (actor ids are dense, partitions few), and
 * before it a radix sort of the rows by their time's offset in its day, so that the counting
 * pass leaves every (partition, actor) run in time order (`sortByOneKey`); or else a time sort
 * inside each run — runs are short, so that is nearly linear too.
 */

export const PARTITION_MS = 86_400_000;

export function partitionOf(timeMs: number): number {
  return Math.floor(timeMs / PARTITION_MS);
}

export interface PartitionRange {
  partition: number;
  start: number;
  end: number;
}

/** Stable counting sort of `order` by integer keys `key[row]` in [from, from + keyCount). */
function countingSort(order: Uint32Array, key: Uint32Array, keyCount: number, from = 0): Uint32Array {
  const counts = new Uint32Array(keyCount + 1);
  for (let i = 0; i < order.length; i++) counts[key[order[i]] - from + 1]++;
  for (let k = 0; k < keyCount; k++) counts[k + 1] += counts[k];
  const out = new Uint32Array(order.length);
  for (let i = 0; i < order.length; i++) out[counts[key[order[i]] - from]++] = order[i];
  return out;
}

/** Row counts at or below which a run is insertion-sorted. */
const INSERTION_MAX = 24;
/** Rows per sort for which (time in day, row) fits a float64 integer: 2^26 × 2^27 = 2^53. */
const PACKED_ROWS_MAX = 2 ** 26;
let packedScratch = new Float64Array(0);

/**
 * Sorts order[start, end) by (time, row) in place: insertion sort for short runs; longer runs of
 * integer times within `partStartMs`'s day sort one float64 key per row, (time - day start) ×
 * 2^26 + row, natively; others by a comparator.
 */
function sortRunByTime(order: Uint32Array, times: Float64Array, start: number, end: number, partStartMs: number): void {
  if (end - start <= INSERTION_MAX) {
    for (let i = start + 1; i < end; i++) {
      const row = order[i];
      const t = times[row];
      let j = i - 1;
      while (j >= start && (times[order[j]] > t || (times[order[j]] === t && order[j] > row))) {
        order[j + 1] = order[j];
        j--;
      }
      order[j + 1] = row;
    }
    return;
  }
  const len = end - start;
  if (packedScratch.length < len) packedScratch = new Float64Array(Math.max(len, packedScratch.length * 2));
  const keys = packedScratch.subarray(0, len);
  let packable = true;
  for (let k = 0; k < len; k++) {
    const row = order[start + k];
    const dt = times[row] - partStartMs;
    // Within the day and an integer (a fractional or out-of-day time takes the comparator).
    if (!(dt >= 0 && dt < PARTITION_MS && dt === Math.floor(dt)) || row >= PACKED_ROWS_MAX) {
      packable = false;
      break;
    }
    keys[k] = dt * PACKED_ROWS_MAX + row;
  }
  if (packable) {
    keys.sort();
    for (let k = 0; k < len; k++) order[start + k] = keys[k] % PACKED_ROWS_MAX;
    return;
  }
  const run = Array.from(order.subarray(start, end));
  run.sort((a, b) => times[a] - times[b] || a - b);
  order.set(run, start);
}

/** Partition buckets × actors at most for the one-pass sort (its count array). */
function oneKeyLimit(n: number): number {
  return Math.max(1 << 16, 2 * n);
}

/**
 * Returns the row order sorted by (partition, actor, time, row) and the row range of each
 * partition within it, in ascending partition order.
 *
 * One stable counting sort by the combined key (partition, actor) when partitions × actors is
 * small next to the row count (the usual case: a flush spans a few days); else a counting sort
 * by actor and then a stable one by partition. Runs of equal key are then sorted by time.
 * Actors count from the smallest id present: a table's new actors have ids past all its old
 * ones (a flush of a load of new users into a table of 10M actors sorted over ~6k actors a shard,
 * not ~630k).
 */
export function sortRows(actorIds: Uint32Array, times: Float64Array): { order: Uint32Array; ranges: PartitionRange[] } {
  const n = times.length;
  if (n === 0) return { order: new Uint32Array(0), ranges: [] };
  let minActor = actorIds[0];
  let maxActor = actorIds[0];
  for (let i = 1; i < n; i++) {
    const a = actorIds[i];
    if (a > maxActor) maxActor = a;
    if (a < minActor) minActor = a;
  }
  let minPart = Infinity;
  let maxPart = -Infinity;
  for (let i = 0; i < n; i++) {
    const p = Math.floor(times[i] / PARTITION_MS);
    if (p < minPart) minPart = p;
    if (p > maxPart) maxPart = p;
  }
  const actors = maxActor - minActor + 1;
  const partCount = maxPart - minPart + 1;
  if (partCount * actors <= oneKeyLimit(n)) return sortByOneKey(actorIds, times, minActor, actors, minPart, partCount);
  return sortInTwoPasses(actorIds, times, minActor, actors);
}

/**
 * sortRows by one counting sort over (partition - minPart) × actors + (actor - minActor), the
 * runs of equal key then sorted by time: by a radix sort beforehand when every time is a whole
 * millisecond (`radixOrder`), else run by run afterwards.
 */
function sortByOneKey(
  actorIds: Uint32Array,
  times: Float64Array,
  minActor: number,
  actors: number,
  minPart: number,
  partCount: number,
): { order: Uint32Array; ranges: PartitionRange[] } {
  const n = times.length;
  const buckets = partCount * actors;
  const starts = new Uint32Array(buckets + 1);
  const order = new Uint32Array(n);
  const timed = n >= RADIX_MIN_ROWS && radixOrder(actorIds, times, minActor, actors, minPart, starts, order);
  if (!timed) {
    starts.fill(0);
    const keys = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const key = (Math.floor(times[i] / PARTITION_MS) - minPart) * actors + actorIds[i] - minActor;
      keys[i] = key;
      starts[key + 1]++;
    }
    for (let b = 0; b < buckets; b++) starts[b + 1] += starts[b];
    const next = starts.slice(0, buckets);
    for (let i = 0; i < n; i++) order[next[keys[i]]++] = i;
  }
  const ranges: PartitionRange[] = [];
  for (let p = 0; p < partCount; p++) {
    const from = starts[p * actors];
    const to = starts[(p + 1) * actors];
    if (from === to) continue;
    const partStartMs = (minPart + p) * PARTITION_MS;
    if (!timed) {
      for (let b = p * actors; b < (p + 1) * actors; b++) {
        if (starts[b + 1] - starts[b] > 1) sortRunByTime(order, times, starts[b], starts[b + 1], partStartMs);
      }
    }
    ranges.push({ partition: minPart + p, start: from, end: to });
  }
  return { order, ranges };
}

/**
 * Rows from which the radix sort pays: its fixed cost, clearing and summing 24,576 digit counts,
 * is about what the run sorts cost ~750 rows.
 */
const RADIX_MIN_ROWS = 1024;
/** The radix sort's digits: the low and the high bits of a time's offset in its day (< 2^27 ms). */
const LOW_BITS = 14;
const LOW_MASK = (1 << LOW_BITS) - 1;
const HIGH_DIGITS = 1 << (27 - LOW_BITS);
/**
 * The radix sort's arrays, five entries a row (see radixOrder), kept for the thread's lifetime
 * up to RADIX_SCRATCH_MAX entries (a flush's shard of up to ~1.6M rows); a larger sort (a merge's
 * fallback) allocates its own.
 */
let radixScratch = new Uint32Array(0);
const RADIX_SCRATCH_MAX = 2 ** 23;

function radixArrays(n: number): Uint32Array {
  if (5 * n > RADIX_SCRATCH_MAX) return new Uint32Array(5 * n);
  if (radixScratch.length < 5 * n) radixScratch = new Uint32Array(Math.min(RADIX_SCRATCH_MAX, Math.max(5 * n, 2 * radixScratch.length)));
  return radixScratch;
}

/**
 * sortByOneKey's order when every time is a whole millisecond: an LSD radix sort of the rows by
 * their time's offset in its day (two stable passes, low bits then high, each carrying the rows'
 * keys along so it reads sequentially), then a stable counting sort by (partition, actor) key,
 * which leaves each run ordered by (time, row). Fills `starts` with the key's bucket starts
 * (counts from 0) and `order`; returns false, having filled neither in full, when a time is not
 * a whole millisecond. Branch-free where sorting runs one by one is not: a run's comparisons
 * mispredict, and on a 10M-event load the run sorts were ~70% of sortRows.
 */
function radixOrder(actorIds: Uint32Array, times: Float64Array, minActor: number, actors: number, minPart: number, starts: Uint32Array, order: Uint32Array): boolean {
  const n = times.length;
  const scratch = radixArrays(n);
  const offsets = scratch.subarray(0, n);
  const keys = scratch.subarray(n, 2 * n);
  const lowOffsets = scratch.subarray(2 * n, 3 * n);
  const lowRows = scratch.subarray(3 * n, 4 * n);
  const lowKeys = scratch.subarray(4 * n, 5 * n);
  // Both digits are counted in the first pass; the last pass writes over the first's arrays.
  const lowAt = new Int32Array(LOW_MASK + 1);
  const highAt = new Int32Array(HIGH_DIGITS);
  for (let i = 0; i < n; i++) {
    const t = times[i];
    const p = Math.floor(t / PARTITION_MS);
    const offset = t - p * PARTITION_MS;
    if (offset !== Math.floor(offset)) return false; // fractional
    const key = (p - minPart) * actors + actorIds[i] - minActor;
    offsets[i] = offset;
    keys[i] = key;
    starts[key + 1]++;
    lowAt[offset & LOW_MASK]++;
    highAt[offset >>> LOW_BITS]++;
  }
  exclusiveSums(lowAt);
  exclusiveSums(highAt);
  for (let i = 0; i < n; i++) {
    const offset = offsets[i];
    const to = lowAt[offset & LOW_MASK]++;
    lowOffsets[to] = offset;
    lowRows[to] = i;
    lowKeys[to] = keys[i];
  }
  const rows = offsets;
  for (let j = 0; j < n; j++) {
    const to = highAt[lowOffsets[j] >>> LOW_BITS]++;
    rows[to] = lowRows[j];
    keys[to] = lowKeys[j];
  }
  const buckets = starts.length - 1;
  for (let b = 0; b < buckets; b++) starts[b + 1] += starts[b];
  const next = starts.slice(0, buckets);
  for (let j = 0; j < n; j++) order[next[keys[j]]++] = rows[j];
  return true;
}

/** Replaces counts by the sums of the counts before them. */
function exclusiveSums(counts: Int32Array): void {
  let at = 0;
  for (let d = 0; d < counts.length; d++) {
    const c = counts[d];
    counts[d] = at;
    at += c;
  }
}

/** sortRows for many partitions × actors: by actor, then stably by partition, then runs by time. */
function sortInTwoPasses(actorIds: Uint32Array, times: Float64Array, minActor: number, actors: number): { order: Uint32Array; ranges: PartitionRange[] } {
  const n = times.length;
  let order: Uint32Array = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order = countingSort(order, actorIds, actors, minActor);

  let minPart = Infinity;
  let maxPart = -Infinity;
  const parts = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const p = partitionOf(times[i]);
    parts[i] = p;
    if (p < minPart) minPart = p;
    if (p > maxPart) maxPart = p;
  }
  if (maxPart > minPart) {
    const partKey = new Uint32Array(n);
    for (let i = 0; i < n; i++) partKey[i] = parts[i] - minPart;
    order = countingSort(order, partKey, maxPart - minPart + 1);
  }

  const ranges: PartitionRange[] = [];
  let start = 0;
  while (start < n) {
    const p = parts[order[start]];
    let end = start;
    let runStart = start;
    while (end < n && parts[order[end]] === p) {
      if (actorIds[order[end]] !== actorIds[order[runStart]]) {
        sortRunByTime(order, times, runStart, end, p * PARTITION_MS);
        runStart = end;
      }
      end++;
    }
    sortRunByTime(order, times, runStart, end, p * PARTITION_MS);
    ranges.push({ partition: p, start, end });
    start = end;
  }
  return { order, ranges };
}
