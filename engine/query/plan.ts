/**
 * Query plans as tagged plain objects (after Kysely's operation nodes): a plan is built once on
 * the coordinating thread from a validated query and the snapshot's metadata, then handed to
 * `runShardPartial` for each shard, possibly on other threads (it survives structured clone).
 *
 *   aggregate: scan → filter → group (bucket + groupBy keys) → measures [+ series totals]
 *   samples:   scan → filter → top-N newest rows → columns
 */
import type { TableSnapshot } from './source.js';
import { bucketBoundaries } from './buckets.js';
import type { StateKind } from './measure-state.js';
import type { AggregateQuery, BucketUnit, ColumnRef, FilterNode, GroupKey, MeasureSpec, Query, SamplesQuery } from './query-types.js';
import { andFilters } from './validate-filter.js';
import { createBehavioralPlan, type BehavioralPlan } from './behavioral/plan.js';

export interface QueryLimits {
  /** Most groups one partial (and the merged result) may hold. */
  maxGroups: number;
  /** Most bytes the query's group tables, sets and sketches may take, per partial. */
  memoryBudgetBytes: number;
  /** Most time buckets in the query's range. */
  maxBuckets: number;
}

export const DEFAULT_LIMITS: QueryLimits = { maxGroups: 1_000_000, memoryBudgetBytes: 1 << 30, maxBuckets: 100_000 };

/** Reads rows of a shard's sources in [fromMs, toMs) (null: unbounded). */
export interface ScanNode { kind: 'scan'; fromMs: number | null; toMs: number | null }
/** Keeps rows matching the predicate (the query's `where` and the time range). */
export interface FilterPlanNode { kind: 'filter'; predicate: FilterNode }
/** Buckets of the query's range; bucket i is [boundaries[i], boundaries[i+1]). */
export interface BucketNode { kind: 'bucket'; unit: BucketUnit; tz: string; boundaries: Float64Array }
/** Group keys: the bucket first (when present), then the groupBy columns. */
export interface GroupNode { kind: 'group'; bucket: BucketNode | null; keys: GroupKey[] }

/** How a measure accumulates rows, and the state it produces. */
export type MeasureOp = 'count' | 'countValues' | 'sum' | 'min' | 'max' | 'minText' | 'maxText' | 'uniqValues' | 'actorDistinct' | 'actorKeys' | 'sketch';

export interface MeasureNode {
  kind: 'measure';
  spec: MeasureSpec;
  op: MeasureOp;
  state: StateKind;
  /** The measured column (null for `count`). */
  column: ColumnRef | null;
}

export interface AggregatePlan {
  kind: 'aggregate';
  query: AggregateQuery;
  scan: ScanNode;
  filter: FilterPlanNode;
  group: GroupNode;
  measures: MeasureNode[];
  /**
   * With a bucket and groupBy, series are ranked (for `limit`) by measures over the whole
   * range, `totalsOf` (indexes into `measures`). Their per-bucket states fold into series
   * totals at finalize, except uniq($actor) counted per shard: then `totals` (parallel to
   * `totalsOf`) are accumulated per series beside the per-bucket groups.
   */
  totals: MeasureNode[] | null;
  totalsOf: number[];
  limits: QueryLimits;
}

export interface SamplesPlan {
  kind: 'samples';
  query: SamplesQuery;
  scan: ScanNode;
  filter: FilterPlanNode;
  limit: number;
  limits: QueryLimits;
}

export type Plan = AggregatePlan | SamplesPlan | BehavioralPlan;

export function isAggregatePlan(p: Plan): p is AggregatePlan {
  return p.kind === 'aggregate';
}

function measureNode(spec: MeasureSpec, foldable: boolean): MeasureNode {
  const col = spec.column;
  const node = (op: MeasureOp, state: StateKind): MeasureNode => ({ kind: 'measure', spec, op, state, column: col });
  const type = col === null ? null : col.kind === 'column' ? col.type : col.kind;
  switch (spec.fn) {
    case 'count':
      return col === null || col.kind !== 'column' ? node('count', 'count') : node('countValues', 'count');
    case 'sum':
    case 'avg':
      return node('sum', 'sum');
    case 'min':
      return type === 'string' ? node('minText', 'minText') : node('min', 'min');
    case 'max':
      return type === 'string' ? node('maxText', 'maxText') : node('max', 'max');
    case 'uniq':
      if (col?.kind === 'actor') return foldable ? node('actorKeys', 'set') : node('actorDistinct', 'count');
      return node('uniqValues', 'set');
    case 'quantile':
      return node('sketch', 'sketch');
  }
}

function timeRangeFilter(fromMs: number | null, toMs: number | null): FilterNode {
  const leaves: FilterNode[] = [];
  const time: ColumnRef = { kind: 'time' };
  if (fromMs !== null) leaves.push({ kind: 'leaf', id: -1, column: time, op: '>=', value: fromMs });
  if (toMs !== null) leaves.push({ kind: 'leaf', id: -2, column: time, op: '<', value: toMs });
  if (leaves.length === 0) return { kind: 'const', value: true };
  return leaves.length === 1 ? leaves[0] : { kind: 'and', children: leaves };
}

/** Inclusive time bounds of all rows of the snapshot; null when it has none. */
export function dataTimeRange(snapshot: TableSnapshot): { minMs: number; maxMs: number } | null {
  let minMs = Infinity;
  let maxMs = -Infinity;
  for (const shard of snapshot.shards) {
    for (const s of shard.sources) {
      if (s.rowCount === 0 || Number.isNaN(s.minTimeMs)) continue;
      if (s.minTimeMs < minMs) minMs = s.minTimeMs;
      if (s.maxTimeMs > maxMs) maxMs = s.maxTimeMs;
    }
  }
  return minMs <= maxMs ? { minMs, maxMs } : null;
}

function aggregatePlan(q: AggregateQuery, snapshot: TableSnapshot, limits: QueryLimits): AggregatePlan {
  let bucket: BucketNode | null = null;
  if (q.bucket !== null) {
    const data = dataTimeRange(snapshot);
    const lo = q.fromMs ?? data?.minMs ?? q.toMs ?? 0;
    const hi = q.toMs ?? (data === null ? lo : data.maxMs + 1);
    bucket = { kind: 'bucket', unit: q.bucket, tz: q.tz, boundaries: bucketBoundaries(q.bucket, q.tz, lo, hi, limits.maxBuckets) };
  }
  const measures = q.measures.map((m) => measureNode(m, q.other));
  let totals: MeasureNode[] | null = null;
  const totalsOf: number[] = [];
  if (bucket !== null && q.groupBy.length > 0) {
    for (const key of rankingKeys(q)) {
      const i = q.measures.findIndex((m) => m.name === key.name);
      if (i >= 0 && !totalsOf.includes(i)) totalsOf.push(i);
    }
    // Per-bucket states fold into series totals exactly, except per-shard distinct-actor
    // counts: only then is a separate per-series accumulation needed.
    if (totalsOf.some((i) => measures[i].op === 'actorDistinct')) totals = totalsOf.map((i) => measureNode(q.measures[i], false));
  }
  return {
    kind: 'aggregate',
    query: q,
    scan: { kind: 'scan', fromMs: q.fromMs, toMs: q.toMs },
    filter: { kind: 'filter', predicate: andFilters(q.where, timeRangeFilter(q.fromMs, q.toMs)) },
    group: { kind: 'group', bucket, keys: q.groupBy },
    measures,
    totals,
    totalsOf,
    limits,
  };
}

/**
 * The keys that rank groups (or, with a bucket, series) for `limit`: `orderBy` without
 * `$bucket`, then the first measure descending if no measure is among them.
 */
export function rankingKeys(q: AggregateQuery): { name: string; desc: boolean }[] {
  const keys = q.orderBy.filter((k) => k.name !== '$bucket');
  if (!keys.some((k) => q.measures.some((m) => m.name === k.name))) keys.push({ name: q.measures[0].name, desc: true });
  return keys;
}

/** Builds the plan of a validated query against a snapshot (its time range sizes the buckets). */
export function createPlan(query: Query, snapshot: TableSnapshot, limits: Partial<QueryLimits> = {}): Plan {
  const all: QueryLimits = { ...DEFAULT_LIMITS, ...limits };
  if (query.kind === 'aggregate') return aggregatePlan(query, snapshot, all);
  if (query.kind !== 'samples') return createBehavioralPlan(query, snapshot, all);
  return {
    kind: 'samples',
    query,
    scan: { kind: 'scan', fromMs: query.fromMs, toMs: query.toMs },
    filter: { kind: 'filter', predicate: andFilters(query.where, timeRangeFilter(query.fromMs, query.toMs)) },
    limit: query.limit,
    limits: all,
  };
}
