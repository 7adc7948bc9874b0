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
import type { Value } from '../types.js';
import { emptyState, finalValue, mergeGroup, type MeasureState } from './measure-state.js';
import { tupleKey, type AggregatePartial, type GroupSet } from './partial.js';
import { rankingKeys, type AggregatePlan } from './plan.js';
import { compareKey, compareTuples, groupColumnType, measureType, type QueryResult, type ResultColumn } from './result.js';

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

  /** Compares by the named keys; `get` yields the value of a key for a row. */
  comparator<T>(keys: { name: string; desc: boolean }[], get: (row: T, name: string) => Value, isOther: (row: T) => boolean): (a: T, b: T) => number {
    return (a, b) => {
      for (const k of keys) {
        if (k.name !== '$bucket' && isOther(a) !== isOther(b)) return isOther(a) ? 1 : -1;
        const c = compareKey(get(a, k.name), get(b, k.name), k.desc);
        if (c !== 0) return c;
      }
      return 0;
    };
  }
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

function finalizeGroups(p: AggregatePartial, plan: AggregatePlan, f: Finalizer): Value[][] {
  const q = plan.query;
  const main = p.main;
  if (q.groupBy.length === 0 && main.groups === 0) return [f.emptyRow()];
  const values = Array.from({ length: main.groups }, (_, g) => f.measureValues(main.states, g));
  const gv = (g: number): Value[] => main.keys.map((col) => col[g]);
  const col = new Map<string, (g: number) => Value>();
  q.groupBy.forEach((k, j) => col.set(k.name, (g) => main.keys[j][g]));
  q.measures.forEach((m, i) => col.has(m.name) || col.set(m.name, (g) => values[g][i]));
  const byOrder = f.comparator<number>(q.orderBy, (g, name) => col.get(name)!(g), () => false);
  const order = Array.from({ length: main.groups }, (_, g) => g).sort((a, b) => byOrder(a, b) || compareTuples(gv(a), gv(b)));
  const rows = order.slice(0, q.limit).map((g) => [...gv(g), ...values[g]]);
  const rest = order.slice(q.limit);
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
  const t = p.totals!;
  const totals = Array.from({ length: t.groups }, (_, s) => f.measureValues(t.states, s, plan.totalsOf));
  const sv = (s: number): Value[] => t.keys.map((c) => c[s]);
  const get = (s: number, name: string): Value => {
    const j = q.groupBy.findIndex((k) => k.name === name);
    if (j >= 0) return t.keys[j][s];
    return totals[s][plan.totalsOf.findIndex((m) => q.measures[m].name === name)];
  };
  const byRank = f.comparator<number>(rankingKeys(q), get, () => false);
  return Array.from({ length: t.groups }, (_, s) => s)
    .sort((a, b) => byRank(a, b) || compareTuples(sv(a), sv(b)))
    .map(sv);
}

function finalizeSeries(p: AggregatePartial, plan: AggregatePlan, f: Finalizer): Value[][] {
  const q = plan.query;
  const b = plan.group.bucket!.boundaries;
  const nb = b.length - 1;
  const ranked = rankSeries(p, plan, f);
  const kept = Math.min(ranked.length, q.limit);
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
  const get = (row: OutRow, name: string): Value => {
    if (name === '$bucket') return b[row.bucket];
    const j = q.groupBy.findIndex((k) => k.name === name);
    return j >= 0 ? row.groupValues[j] : row.measures[q.measures.findIndex((m) => m.name === name)];
  };
  const byOrder = f.comparator<OutRow>(q.orderBy, get, (row) => row.other);
  out.sort((x, y) => byOrder(x, y) || x.rank - y.rank || x.bucket - y.bucket);
  return out.map((row) => [b[row.bucket], ...row.groupValues, ...row.measures]);
}

/** The result of an aggregate query from its merged partial (stats.elapsedMs is set by the caller). */
export function finalizeAggregate(p: AggregatePartial, plan: AggregatePlan): QueryResult {
  const f = new Finalizer(plan);
  const rows = plan.group.bucket === null ? finalizeGroups(p, plan, f) : finalizeSeries(p, plan, f);
  return { columns: columns(plan, p.main), rows, stats: { ...p.stats, elapsedMs: 0 } };
}
