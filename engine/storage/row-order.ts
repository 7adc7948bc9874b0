/**
 * Sort order for flushes and compactions: rows grouped by time partition, then sorted by
 * (actor id, time, arrival). Arrival order is the input row order, so the sorts are stable.
 *
 * Cost: two counting passes (actor ids are dense, partitions few) and a time sort inside each
 * (partition, actor) run — runs are short, so that is nearly linear.
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

/** Stable counting sort of `order` by small non-negative integer keys `key[row]`. */
function countingSort(order: Uint32Array, key: Uint32Array, keyCount: number): Uint32Array {
  const counts = new Uint32Array(keyCount + 1);
  for (let i = 0; i < order.length; i++) counts[key[order[i]] + 1]++;
  for (let k = 0; k < keyCount; k++) counts[k + 1] += counts[k];
  const out = new Uint32Array(order.length);
  for (let i = 0; i < order.length; i++) out[counts[key[order[i]]]++] = order[i];
  return out;
}

/** Sorts order[start, end) by (time, row) in place: insertion sort for short runs. */
function sortRunByTime(order: Uint32Array, times: Float64Array, start: number, end: number): void {
  if (end - start > 32) {
    const run = Array.from(order.subarray(start, end));
    run.sort((a, b) => times[a] - times[b] || a - b);
    order.set(run, start);
    return;
  }
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
}

/**
 * Returns the row order sorted by (partition, actor, time, row) and the row range of each
 * partition within it, in ascending partition order.
 */
export function sortRows(actorIds: Uint32Array, times: Float64Array): { order: Uint32Array; ranges: PartitionRange[] } {
  const n = times.length;
  let order: Uint32Array = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (n === 0) return { order, ranges: [] };

  let maxActor = 0;
  for (let i = 0; i < n; i++) if (actorIds[i] > maxActor) maxActor = actorIds[i];
  order = countingSort(order, actorIds, maxActor + 1);

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
        sortRunByTime(order, times, runStart, end);
        runStart = end;
      }
      end++;
    }
    sortRunByTime(order, times, runStart, end);
    ranges.push({ partition: p, start, end });
    start = end;
  }
  return { order, ranges };
}
