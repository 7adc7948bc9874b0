/**
 * Result layout shared by funnels and retention: which merged groups make each result row.
 * Groups are (bucket?, groupBy values…). Series (distinct groupBy values) are ranked by a
 * score summed over their groups (descending; ties by values ascending, nulls last); `limit`
 * keeps the first series, and with `other` the rest fold into one `$other` series. With a
 * bucket, every kept series gets a row for every bucket (an empty list of groups where it has
 * no data), rows ordered by bucket, then series rank, `$other` last. Without groupBy there is
 * exactly one series, so a query always returns its row(s) even over no data. Those filled rows
 * are not bounded by the groups the scan met, so they are refused past the query's group limit
 * before any is built.
 */
import type { Value } from '../../types.js';
import { OTHER } from '../finalize.js';
import { tupleKey, type GroupSet } from '../partial.js';
import { compareTuples } from '../result.js';

export interface LayoutRow {
  /** Bucket start (ms) or null without a bucket. */
  bucket: number | null;
  values: Value[];
  /** Groups of the merged set whose states fold into this row. */
  groups: number[];
}

interface Series {
  values: Value[];
  score: number;
  byBucket: Map<number, number[]>;
  all: number[];
}

/** Most rows a layout may fill, and the error for more: given the series and buckets it would fill. */
export interface RowCap {
  maxRows: number;
  tooMany(series: number, buckets: number): Error;
}

/**
 * @param set merged groups; with a bucket, key column 0 is the bucket start
 * @param buckets bucket starts to fill (null: no bucket)
 * @param width number of groupBy columns
 * @param score per group, the ranking contribution
 */
export function layoutRows(set: GroupSet, buckets: ArrayLike<number> | null, width: number, score: (g: number) => number, limit: number, other: boolean, cap: RowCap): LayoutRow[] {
  const off = buckets === null ? 0 : 1;
  const series = new Map<string, Series>();
  if (width === 0) series.set('', { values: [], score: 0, byBucket: new Map(), all: [] });
  for (let g = 0; g < set.groups; g++) {
    const values = set.keys.slice(off, off + width).map((col) => col[g]);
    const key = tupleKey(values);
    let s = series.get(key);
    if (s === undefined) series.set(key, (s = { values, score: 0, byBucket: new Map(), all: [] }));
    s.score += score(g);
    s.all.push(g);
    if (buckets !== null) {
      const b = set.keys[0][g] as number;
      const list = s.byBucket.get(b);
      if (list === undefined) s.byBucket.set(b, [g]);
      else list.push(g);
    }
  }
  const ranked = [...series.values()].sort((a, b) => b.score - a.score || compareTuples(a.values, b.values));
  const kept = ranked.slice(0, limit);
  const rest = other ? ranked.slice(limit) : [];
  const otherValues = Array.from({ length: width }, () => OTHER as Value);
  const rows: LayoutRow[] = [];
  if (buckets === null) {
    for (const s of kept) rows.push({ bucket: null, values: s.values, groups: s.all });
    if (rest.length > 0) rows.push({ bucket: null, values: otherValues, groups: rest.flatMap((s) => s.all) });
    return rows;
  }
  const filled = kept.length + (rest.length > 0 ? 1 : 0);
  if (filled * buckets.length > cap.maxRows) throw cap.tooMany(filled, buckets.length);
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i];
    for (const s of kept) rows.push({ bucket: b, values: s.values, groups: s.byBucket.get(b) ?? [] });
    if (rest.length > 0) rows.push({ bucket: b, values: otherValues, groups: rest.flatMap((s) => s.byBucket.get(b) ?? []) });
  }
  return rows;
}
