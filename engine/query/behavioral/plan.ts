/**
 * Plans of the behavioral kinds: plain tagged objects (they survive structured clone into
 * workers), built once on the coordinating thread. Each names the stream it reads (see
 * actor-stream.ts) and the parameters of its per-actor state machine.
 *
 *   funnel:    stream [from, to + window] → per actor deepest step, time to convert → groups
 *   sessions:  stream [from, to) → sessions per actor → aggregate groups (reuses AggregatePlan)
 *   retention: stream [cohort start, last cohort + periods) → per actor cohort and periods
 *   paths:     stream [from, to) → sessions → path from the start event → path and edge counts
 */
import { ShoalError } from '../../errors.js';
import type { TableSnapshot } from '../source.js';
import { bucketBoundaries } from '../buckets.js';
import { createPlan, dataTimeRange, type AggregatePlan, type BucketNode, type QueryLimits } from '../plan.js';
import type { AggregateQuery, ColumnRef, FilterNode } from '../query-types.js';
import { bad } from '../validate.js';
import { andFilters } from '../validate-filter.js';
import type { BehavioralQuery, FunnelQuery, PathsQuery, RetentionQuery, SessionField, SessionsQuery } from './query-types.js';

/** What a behavioral operator reads from each shard (see collectActorRows). */
export interface StreamNode {
  kind: 'stream';
  /** Rows outside [fromMs, toMs) are never read (null: unbounded). */
  fromMs: number | null;
  toMs: number | null;
  /** The query's `where` and the read range: rows failing it are not events at all. */
  where: FilterNode;
  /** Filter i sets bit i of a row's mask. */
  filters: FilterNode[];
  /** Keep rows matching no filter (strict funnels, sessions and paths see every event). */
  keepAll: boolean;
  /** Columns whose per-shard value ids are carried with each row (group keys, path nodes). */
  extras: ColumnRef[];
}

export interface FunnelPlan {
  kind: 'funnel';
  query: FunnelQuery;
  stream: StreamNode;
  /** Bits of the exclusion filters (after the step bits) and their 1-based step bounds. */
  exclusions: { bit: number; after: number; before: number }[];
  /** Entry (step-1 event) range. */
  entryFromMs: number;
  entryToMs: number;
  bucket: BucketNode | null;
  limits: QueryLimits;
}

export interface SessionsPlan {
  kind: 'sessions';
  query: SessionsQuery;
  stream: StreamNode;
  /** The aggregate that session rows feed: its groups, measures, ordering and limit. */
  aggregate: AggregatePlan;
  /** Per aggregate measure: the session field it reads (null: count / uniq($actor)). */
  fields: (SessionField | null)[];
  limits: QueryLimits;
}

export interface RetentionPlan {
  kind: 'retention';
  query: RetentionQuery;
  stream: StreamNode;
  /** Period boundaries: cohorts 0 … cohorts−1, then `periods` more periods after the last. */
  boundaries: Float64Array;
  cohorts: number;
  entryFromMs: number;
  entryToMs: number;
  limits: QueryLimits;
}

export interface PathsPlan {
  kind: 'paths';
  query: PathsQuery;
  stream: StreamNode;
  limits: QueryLimits;
}

export type BehavioralPlan = FunnelPlan | SessionsPlan | RetentionPlan | PathsPlan;

/** [fromMs, toMs) as a filter on the time column. */
export function timeRangeFilter(fromMs: number | null, toMs: number | null): FilterNode {
  const leaves: FilterNode[] = [];
  if (fromMs !== null) leaves.push({ kind: 'leaf', id: -1, column: { kind: 'time' }, op: '>=', value: fromMs });
  if (toMs !== null) leaves.push({ kind: 'leaf', id: -2, column: { kind: 'time' }, op: '<', value: toMs });
  return leaves.length === 0 ? { kind: 'const', value: true } : leaves.length === 1 ? leaves[0] : { kind: 'and', children: leaves };
}

function stream(where: FilterNode, fromMs: number | null, toMs: number | null, filters: FilterNode[], keepAll: boolean, extras: ColumnRef[]): StreamNode {
  return { kind: 'stream', fromMs, toMs, where: andFilters(where, timeRangeFilter(fromMs, toMs)), filters, keepAll, extras };
}

/** Bucket boundaries over [from, to), or the data's range where they are absent. */
function bucketsOver(unit: BucketNode['unit'], tz: string, q: { fromMs: number | null; toMs: number | null }, snapshot: TableSnapshot, limits: QueryLimits): BucketNode {
  const data = dataTimeRange(snapshot);
  const lo = q.fromMs ?? data?.minMs ?? q.toMs ?? 0;
  const hi = q.toMs ?? (data === null ? lo : data.maxMs + 1);
  return { kind: 'bucket', unit, tz, boundaries: bucketBoundaries(unit, tz, lo, hi, limits.maxBuckets) };
}

function funnelPlan(q: FunnelQuery, snapshot: TableSnapshot, limits: QueryLimits): FunnelPlan {
  const n = q.steps.length;
  // Later steps may lie up to `window` after an entry before `to` (the bound is inclusive).
  const readTo = q.toMs === null ? null : q.toMs + q.windowMs + 1;
  return {
    kind: 'funnel',
    query: q,
    stream: stream(q.where, q.fromMs, readTo, [...q.steps, ...q.exclude.map((e) => e.filter)], q.mode === 'strict', q.groupBy.map((g) => g.column)),
    exclusions: q.exclude.map((e, i) => ({ bit: n + i, after: e.after, before: e.before })),
    entryFromMs: q.fromMs ?? -Infinity,
    entryToMs: q.toMs ?? Infinity,
    bucket: q.bucket === null ? null : bucketsOver(q.bucket, q.tz, q, snapshot, limits),
    limits,
  };
}

function sessionsPlan(q: SessionsQuery, snapshot: TableSnapshot, limits: QueryLimits): SessionsPlan {
  const agg: AggregateQuery = {
    kind: 'aggregate', table: q.table, fromMs: q.fromMs, toMs: q.toMs, where: q.where, groupBy: q.groupBy, bucket: q.bucket,
    tz: q.tz, measures: q.measures, orderBy: q.orderBy, limit: q.limit, other: q.other,
  };
  const aggregate = createPlan(agg, snapshot, limits) as AggregatePlan;
  return {
    kind: 'sessions',
    query: q,
    stream: stream(q.where, q.fromMs, q.toMs, [], true, q.groupBy.map((g) => g.column)),
    aggregate,
    fields: aggregate.measures.map((m) => (m.column?.kind === 'column' ? (m.column.name as SessionField) : null)),
    limits,
  };
}

const LONGEST_PERIOD_MS = { '1d': 25 * 3_600_000, '1w': 7 * 86_400_000 + 3_600_000, '1mo': 31 * 86_400_000 + 3_600_000 };

/** Cohort period starts over [lo, hi); too many is an error about `period` (a retention query has no `bucket`). */
function cohortBoundaries(q: RetentionQuery, lo: number, hi: number, maxBuckets: number): Float64Array {
  try {
    return bucketBoundaries(q.period, q.tz, lo, hi, maxBuckets);
  } catch (e) {
    if (!(e instanceof ShoalError) || e.code !== 'BAD_BUCKET') throw e;
    throw bad(`"period" ${q.period} over this time range makes more than ${maxBuckets} cohort periods; use a longer period or a narrower range`, 'period');
  }
}

function retentionPlan(q: RetentionQuery, snapshot: TableSnapshot, limits: QueryLimits): RetentionPlan {
  const data = dataTimeRange(snapshot);
  const lo = q.fromMs ?? data?.minMs ?? q.toMs ?? 0;
  const hi = q.toMs ?? (data === null ? lo : data.maxMs + 1);
  const cohortBounds = cohortBoundaries(q, lo, hi, limits.maxBuckets);
  const cohorts = Math.max(0, cohortBounds.length - 1);
  let boundaries = cohortBounds;
  if (cohorts > 0) {
    // the periods after the last cohort: from its end, so no bound moves before `from`
    const end = cohortBounds[cohorts];
    const later = bucketBoundaries(q.period, q.tz, end, end + q.periods * LONGEST_PERIOD_MS[q.period], 2 * q.periods + 4);
    boundaries = Float64Array.from([...cohortBounds, ...later.subarray(1, q.periods + 1)]);
  }
  const readFrom = cohorts > 0 ? boundaries[0] : lo;
  const readTo = cohorts > 0 ? boundaries[boundaries.length - 1] : lo;
  return {
    kind: 'retention',
    query: q,
    stream: stream(q.where, readFrom, readTo, [q.start, q.return], false, q.groupBy.map((g) => g.column)),
    boundaries,
    cohorts,
    entryFromMs: q.fromMs ?? -Infinity,
    entryToMs: q.toMs ?? Infinity,
    limits,
  };
}

function pathsPlan(q: PathsQuery, limits: QueryLimits): PathsPlan {
  return { kind: 'paths', query: q, stream: stream(q.where, q.fromMs, q.toMs, q.start === null ? [] : [q.start], true, [q.node.column]), limits };
}

/** Builds the plan of a validated behavioral query against a snapshot. */
export function createBehavioralPlan(q: BehavioralQuery, snapshot: TableSnapshot, limits: QueryLimits): BehavioralPlan {
  switch (q.kind) {
    case 'funnel': return funnelPlan(q, snapshot, limits);
    case 'sessions': return sessionsPlan(q, snapshot, limits);
    case 'retention': return retentionPlan(q, snapshot, limits);
    case 'paths': return pathsPlan(q, limits);
  }
}
