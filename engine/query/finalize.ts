/**
 * Finalizes a merged aggregate partial into the result: measure values from states, ranking
 * and `limit` (of groups, or with a bucket of series), folding the rest into `$other`, empty
 * buckets filled for every kept series, and the final row order.
 *
 * Decisions:
 * - Without a bucket, groups are ordered by `orderBy` and the first `limit` kept.
 * - With a bucket, `limit` counts series; series are ranked by `orderBy` without `$bucket`
 *   (measures taken over the whole range, not per bucket), then by the first measure
 *   descending; ties by group values ascending. Rows are then ordered by the full `orderBy`.
 * - `$other` folds partial states, so every measure (uniq and percentiles included) is exact
 *   or within its sketch error there too. `$other` rows come after the kept rows (within
 *   their bucket when `orderBy` starts with `$bucket`).
 * - Filled empty buckets: `count` and `uniq` are 0, other measures null.
 *
 * Threading: runs once, on the coordinating thread, after all partials are merged.
 */
import { ShoalError } from '../errors.js';
import type { Value } from '../types.js';
import { emptyState, finalValue, mergeGroup, type MeasureState } from './measure-state.js';
import { tupleKey, type AggregatePartial, type GroupSet } from './partial.js';
import { rankingKeys, type AggregatePlan } from './plan.js';
import { compareKey, groupColumnType, measureType, type QueryResult, type ResultColumn } from './result.js';

export const OTHER = '$other';

interface OutRow {
  rank: number;
  bucket: number;
  other: boolean;
  groupValues: Value[];
  measures: Value[];
}

class Finalizer {
  private readonly booleanMeasure: boolean[];
  private readonly empty: Value[];

  constructor(private readonly plan: AggregatePlan) {
    this.booleanMeasure = plan.query.measures.map((m) => measureType(m) === 'boolean');
    this.empty = this.measureValues(plan.measures.map((n) => emptyState(n.state, 1)), 0);
  }

  measureValues(states: MeasureState[], g: number, which: number[] | null = null): Value[] {
    const q = this.plan.query;
    const idx = which ?? q.measures.map((_, i) => i);
    return idx.map((m, k) => finalValue(states[k], g, q.measures[m], this.booleanMeasure[m]));
  }

  /** Folds groups `gs` of `set` into group `into` of `dst`. */
  fold(dst: MeasureState[], into: number, set: GroupSet, gs: number[]): void {
    for (let m = 0; m < dst.length; m++) for (const g of gs) mergeGroup(dst[m], into, set.states[m], g);
  }

  emptyRow(): Value[] {
    return this.empty.slice();
  }

  /**
   * Compares rows by order keys; `accessor(name)` resolves a key's value getter once.
   * `$other` rows come after the others on every key but `$bucket`.
   */
  comparator<T>(keys: { name: string; desc: boolean }[], accessor: (name: string) => (row: T) => Value, isOther: (row: T) => boolean): (a: T, b: T) => number {
    const resolved = keys.map((k) => ({ desc: k.desc, bucket: k.name === '$bucket', get: accessor(k.name) }));
    return (a, b) => {
      for (const k of resolved) {
        if (!k.bucket && isOther(a) !== isOther(b)) return isOther(a) ? 1 : -1;
        const c = compareKey(k.get(a), k.get(b), k.desc);
        if (c !== 0) return c;
      }
      return 0;
    };
  }

  /** Final values of measure m over all groups of `states` (which: the measure of each state). */
  measureColumn(states: MeasureState[], groups: number, m: number, which: number[] | null = null): Value[] {
    const q = this.plan.query;
    const k = which === null ? m : which.indexOf(m);
    return Array.from({ length: groups }, (_, g) => finalValue(states[k], g, q.measures[m], this.booleanMeasure[m]));
  }
}

/** Orders groups by their key values (the deterministic tie-break). */
function byGroupValues(keys: Value[][]): (a: number, b: number) => number {
  return (a, b) => {
    for (const col of keys) {
      const c = compareKey(col[a], col[b], false);
      if (c !== 0) return c;
    }
    return 0;
  };
}

function columns(plan: AggregatePlan, main: GroupSet): ResultColumn[] {
  const q = plan.query;
  const offset = plan.group.bucket === null ? 0 : 1;
  return [
    ...(offset === 1 ? [{ name: '$bucket', type: 'time' as const }] : []),
    ...q.groupBy.map((k, j) => ({ name: k.name, type: groupColumnType(k.column, main.keys[j + offset]) })),
    ...q.measures.map((m) => ({ name: m.name, type: measureType(m) })),
  ];
}

/** Without a bucket: the first `limit` groups in result order (orderBy, then group values), and the rest. */
function rankGroups(main: GroupSet, plan: AggregatePlan, f: Finalizer): { kept: number[]; rest: number[] } {
  const q = plan.query;
  const accessor = (name: string): ((g: number) => Value) => {
    const j = q.groupBy.findIndex((k) => k.name === name);
    if (j >= 0) return (g) => main.keys[j][g];
    const values = f.measureColumn(main.states, main.groups, q.measures.findIndex((m) => m.name === name));
    return (g) => values[g];
  };
  const byOrder = f.comparator<number>(q.orderBy, accessor, () => false);
  const ties = byGroupValues(main.keys);
  return topK(main.groups, q.limit, (a, b) => byOrder(a, b) || ties(a, b));
}

/**
 * Whether a partial's groups may be cut to the plan's top `limit` before merging: groups keyed
 * by the actor live in one shard only, so each is complete in its shard's partial and the
 * overall top `limit` lies within the union of every shard's top `limit`. Not with a bucket
 * (series rank over buckets) or `other` (the rest is folded).
 */
export function trimmableToTopGroups(plan: AggregatePlan): boolean {
  return plan.group.bucket === null && !plan.query.other && plan.group.keys.some((k) => k.column.kind === 'actor');
}

/** The groups of `set` a `trimmableToTopGroups` plan can still return: its first `limit` in result order. */
export function keepTopGroups(set: GroupSet, plan: AggregatePlan): GroupSet {
  if (set.groups <= plan.query.limit) return set;
  const { kept } = rankGroups(set, plan, new Finalizer(plan));
  const keys = set.keys.map((col) => kept.map((g) => col[g]));
  const states = set.states.map((st) => {
    const dst = emptyState(st.kind, kept.length);
    kept.forEach((g, i) => mergeGroup(dst, i, st, g));
    return dst;
  });
  return { groups: kept.length, keys, states };
}

function finalizeGroups(p: AggregatePartial, plan: AggregatePlan, f: Finalizer): Value[][] {
  const q = plan.query;
  const main = p.main;
  if (q.groupBy.length === 0 && main.groups === 0) return [f.emptyRow()];
  const gv = (g: number): Value[] => main.keys.map((col) => col[g]);
  const { kept, rest } = rankGroups(main, plan, f);
  const rows = kept.map((g) => [...gv(g), ...f.measureValues(main.states, g)]);
  if (q.other && rest.length > 0) {
    const folded = plan.measures.map((n) => emptyState(n.state, 1));
    f.fold(folded, 0, main, rest);
    rows.push([...q.groupBy.map(() => OTHER), ...f.measureValues(folded, 0)]);
  }
  return rows;
}

/** Series (distinct groupBy values) ranked for `limit`, with their values. */
function rankSeries(p: AggregatePartial, plan: AggregatePlan, f: Finalizer): Value[][] {
  const q = plan.query;
  if (q.groupBy.length === 0) return [[]];
  const t = p.totals ?? seriesTotals(p.main, plan);
  const sv = (s: number): Value[] => t.keys.map((c) => c[s]);
  const accessor = (name: string): ((s: number) => Value) => {
    const j = q.groupBy.findIndex((k) => k.name === name);
    if (j >= 0) return (s) => t.keys[j][s];
    const values = f.measureColumn(t.states, t.groups, q.measures.findIndex((m) => m.name === name), plan.totalsOf);
    return (s) => values[s];
  };
  const byRank = f.comparator<number>(rankingKeys(q), accessor, () => false);
  const ties = byGroupValues(t.keys);
  const { kept, rest } = topK(t.groups, q.limit, (a, b) => byRank(a, b) || ties(a, b));
  return [...kept, ...rest].map(sv);
}

/**
 * The first `k` of 0 … n−1 under `cmp`, sorted, and the rest (unordered). A bounded heap
 * keeps this O(n log k), so top-10 of a million groups does not sort a million.
 */
export function topK(n: number, k: number, cmp: (a: number, b: number) => number): { kept: number[]; rest: number[] } {
  if (n <= k) return { kept: Array.from({ length: n }, (_, i) => i).sort(cmp), rest: [] };
  // Max-heap under cmp: the root is the worst of the kept.
  const heap: number[] = [];
  const rest: number[] = [];
  const down = (i: number): void => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && cmp(heap[l], heap[m]) > 0) m = l;
      if (r < heap.length && cmp(heap[r], heap[m]) > 0) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  };
  for (let x = 0; x < n; x++) {
    if (heap.length < k) {
      heap.push(x);
      for (let i = heap.length - 1; i > 0; ) {
        const p = (i - 1) >> 1;
        if (cmp(heap[i], heap[p]) <= 0) break;
        [heap[i], heap[p]] = [heap[p], heap[i]];
        i = p;
      }
    } else if (cmp(x, heap[0]) < 0) {
      rest.push(heap[0]);
      heap[0] = x;
      down(0);
    } else {
      rest.push(x);
    }
  }
  return { kept: heap.sort(cmp), rest };
}

/** Series totals of the ranking measures, folded from the per-bucket groups. */
function seriesTotals(main: GroupSet, plan: AggregatePlan): GroupSet {
  const width = plan.group.keys.length;
  const ids = new Map<string, number>();
  const keys: Value[][] = Array.from({ length: width }, () => []);
  const of = new Int32Array(main.groups);
  const tuple: Value[] = new Array<Value>(width);
  for (let g = 0; g < main.groups; g++) {
    for (let j = 0; j < width; j++) tuple[j] = main.keys[j + 1][g];
    const k = tupleKey(tuple);
    let s = ids.get(k);
    if (s === undefined) {
      ids.set(k, (s = ids.size));
      for (let j = 0; j < width; j++) keys[j].push(tuple[j]);
    }
    of[g] = s;
  }
  const states = plan.totalsOf.map((m) => {
    const dst = emptyState(plan.measures[m].state, ids.size);
    for (let g = 0; g < main.groups; g++) mergeGroup(dst, of[g], main.states[m], g);
    return dst;
  });
  return { groups: ids.size, keys, states };
}

/**
 * Every bucket of every kept series becomes a row, empty or not, so the rows are not bounded by
 * the groups the scan met: refused past the query's group limit before any is built (1,000
 * series of 1m buckets over 60 days are 86.4M rows, which ran the heap out).
 */
function checkFilledRows(plan: AggregatePlan, series: number, buckets: number): void {
  if (series * buckets > plan.limits.maxGroups) throw tooManyFilledRows(plan.query.bucket!, series, buckets, plan.limits.maxGroups);
}

/** BAD_BUCKET for a bucketed result (aggregate or funnel) whose filled rows would pass the group limit `max`. */
export function tooManyFilledRows(bucket: string, series: number, buckets: number, max: number): ShoalError {
  return new ShoalError('BAD_BUCKET', [
    `bucket ${bucket} makes ${buckets} buckets for each of ${series} series, ${series * buckets} rows, more than the ${max} a query may return; ` +
      'use a larger bucket, a narrower range or a smaller limit',
  ], 'bucket');
}

function finalizeSeries(p: AggregatePartial, plan: AggregatePlan, f: Finalizer): Value[][] {
  const q = plan.query;
  const b = plan.group.bucket!.boundaries;
  const nb = Math.max(0, b.length - 1);
  const ranked = rankSeries(p, plan, f);
  const kept = Math.min(ranked.length, q.limit);
  checkFilledRows(plan, kept + (q.other && ranked.length > kept ? 1 : 0), nb);
  const rankOf = new Map(ranked.map((s, r) => [tupleKey(s), r]));
  const bucketOf = new Map(Array.from(b.subarray(0, nb), (start, i) => [start, i]));
  const main = p.main;
  const cells = new Int32Array(kept * nb).fill(-1);
  const otherGroups: number[][] = Array.from({ length: nb }, () => []);
  const tuple: Value[] = new Array<Value>(q.groupBy.length);
  for (let g = 0; g < main.groups; g++) {
    for (let j = 0; j < tuple.length; j++) tuple[j] = main.keys[j + 1][g];
    const r = rankOf.get(tupleKey(tuple)) ?? ranked.length;
    const bucket = bucketOf.get(main.keys[0][g] as number)!;
    if (r < kept) cells[r * nb + bucket] = g;
    else otherGroups[bucket].push(g);
  }
  const out: OutRow[] = [];
  for (let r = 0; r < kept; r++) {
    for (let i = 0; i < nb; i++) {
      const g = cells[r * nb + i];
      out.push({ rank: r, bucket: i, other: false, groupValues: ranked[r], measures: g < 0 ? f.emptyRow() : f.measureValues(main.states, g) });
    }
  }
  if (q.other && ranked.length > kept) {
    const folded = plan.measures.map((n) => emptyState(n.state, nb));
    otherGroups.forEach((gs, i) => f.fold(folded, i, main, gs));
    for (let i = 0; i < nb; i++) out.push({ rank: kept, bucket: i, other: true, groupValues: q.groupBy.map(() => OTHER), measures: f.measureValues(folded, i) });
  }
  const accessor = (name: string): ((row: OutRow) => Value) => {
    if (name === '$bucket') return (row) => b[row.bucket];
    const j = q.groupBy.findIndex((k) => k.name === name);
    const m = q.measures.findIndex((x) => x.name === name);
    return j >= 0 ? (row) => row.groupValues[j] : (row) => row.measures[m];
  };
  const byOrder = f.comparator<OutRow>(q.orderBy, accessor, (row) => row.other);
  out.sort((x, y) => byOrder(x, y) || x.rank - y.rank || x.bucket - y.bucket);
  return out.map((row) => [b[row.bucket], ...row.groupValues, ...row.measures]);
}

/** The result of an aggregate query from its merged partial (stats.elapsedMs is set by the caller). */
export function finalizeAggregate(p: AggregatePartial, plan: AggregatePlan): QueryResult {
  const f = new Finalizer(plan);
  const rows = plan.group.bucket === null ? finalizeGroups(p, plan, f) : finalizeSeries(p, plan, f);
  return { columns: columns(plan, p.main), rows, stats: { ...p.stats, elapsedMs: 0 } };
}
