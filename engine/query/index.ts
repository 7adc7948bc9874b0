/**
 * The query engine's public surface for `aggregate` and `samples` queries.
 *
 *   validateQuery(json, schema)          → Query        (once, coordinator)
 *   createPlan(query, snapshot, limits)  → Plan         (once, coordinator; plain data)
 *   runShardPartial(shard, plan)         → Partial      (per shard, any thread)
 *   runShardPartials(shards, plan)       → Partial[]    (several shards, one scan when exact)
 *   mergePartials(partials)              → Partial      (associative, any thread)
 *   finalize(partial, plan)              → QueryResult  (once, coordinator)
 *
 * `runQuery` is the single-threaded driver over these; a worker pool calls the same functions,
 * sending the plan to workers and partials back (both survive structured clone).
 */
import { ShoalError } from '../errors.js';
import { finalizeAggregate } from './finalize.js';
import { emptyState } from './measure-state.js';
import { emptyStats, mergePartials, type Partial as PartialResult } from './partial.js';
import { createPlan, DEFAULT_LIMITS, type Plan, type QueryLimits } from './plan.js';
import type { QueryResult } from './result.js';
import { finalizeSamples, samplesShard } from './samples.js';
import { querySample, sampledShard, sampleShards, scaleSampled } from './sample.js';
import { aggregateShard, aggregateShards, scansAcrossShards, type ShardScanOptions } from './shard-scan.js';
import type { ShardSnapshot, TableSnapshot } from './source.js';
import { validateQuery } from './validate.js';
import { emptyBehavioralPartial, finalizeBehavioral, runBehavioralShard } from './behavioral/index.js';

export { validateQuery } from './validate.js';
export { createPlan, DEFAULT_LIMITS, dataTimeRange, type Plan, type AggregatePlan, type SamplesPlan, type QueryLimits } from './plan.js';
export { mergePartials, type Partial, type AggregatePartial, type SamplesPartial, type ScanStats } from './partial.js';
export type { QueryResult, ResultColumn, ResultType, QueryStats } from './result.js';
export type { Query, AggregateQuery, SamplesQuery, FilterNode, MeasureSpec, ColumnRef, SchemaInfo, BucketUnit } from './query-types.js';
export { bucketBoundaries, bucketStartMs } from './buckets.js';
export { OTHER } from './finalize.js';
export type { TableSnapshot, ShardSnapshot, ScanSource, RowGroupInfo } from './source.js';
export type { BehavioralPlan, BehavioralPartial, BehavioralQuery, PathsResult } from './behavioral/index.js';
export { sampleFraction, sampleShards, sampledShard, scaleSampled, querySample, actorPosition, type SampledResult } from './sample.js';

export interface RunOptions {
  maxGroups?: number;
  memoryBudgetBytes?: number;
  maxBuckets?: number;
  /** Aborts the query between shards and row groups (rejects with the signal's reason). */
  signal?: AbortSignal;
}

/** Runs a plan over one whole shard and returns its partial result. */
export function runShardPartial(shard: ShardSnapshot, plan: Plan, options: ShardScanOptions = {}): PartialResult {
  if (plan.kind === 'aggregate') return aggregateShard(shard, plan, options);
  if (plan.kind === 'samples') return samplesShard(shard, plan, options);
  return runBehavioralShard(shard, plan, options.signal);
}

/**
 * Runs a plan over several whole shards: one partial per shard, or a single partial covering
 * them all when the plan's states merge exactly in one scan (aggregates, see
 * `scansAcrossShards`). Either way, merging the result gives what merging per-shard partials gives.
 * `each` sees every partial as soon as it is made (e.g. to check a memory budget early).
 */
export function runShardPartials(shards: readonly ShardSnapshot[], plan: Plan, options: ShardScanOptions = {}, each: (p: PartialResult) => void = () => {}): PartialResult[] {
  if (plan.kind === 'aggregate' && shards.length > 1 && scansAcrossShards(plan)) {
    const p = aggregateShards(shards, plan, options);
    each(p);
    return [p];
  }
  return shards.map((shard) => {
    options.signal?.throwIfAborted();
    const p = runShardPartial(shard, plan, options);
    each(p);
    return p;
  });
}

/** A partial with no shards and no rows (for a table with no shards). */
export function emptyPartial(plan: Plan): PartialResult {
  if (plan.kind === 'samples') return { kind: 'samples', shards: [], limit: plan.limit, rows: [], stats: emptyStats() };
  if (plan.kind !== 'aggregate') return emptyBehavioralPartial(plan);
  const width = (plan.group.bucket === null ? 0 : 1) + plan.group.keys.length;
  return {
    kind: 'aggregate',
    shards: [],
    actorKeyed: plan.group.keys.some((k) => k.column.kind === 'actor'),
    memoryBytes: 0,
    main: { groups: 0, keys: Array.from({ length: width }, () => []), states: plan.measures.map((n) => emptyState(n.state, 0)) },
    totals: plan.totals === null ? null : { groups: 0, keys: plan.group.keys.map(() => []), states: plan.totals.map((n) => emptyState(n.state, 0)) },
    stats: emptyStats(),
  };
}

/** Turns the merged partial of all shards into the query result. */
export function finalize(partial: PartialResult, plan: Plan): QueryResult {
  if (partial.kind !== plan.kind) throw new ShoalError('INTERNAL', [`a ${partial.kind} partial cannot finalize a ${plan.kind} plan`]);
  if (plan.kind === 'samples') return finalizeSamples(partial as never, plan);
  return positiveZeros(plan.kind === 'aggregate' ? finalizeAggregate(partial as never, plan) : finalizeBehavioral(partial as never, plan));
}

/**
 * -0 reported as 0: 0 and -0 are one group value and tie in min and max, so which of them an
 * aggregate met first (which depends on how shards were merged) must not show in its answer.
 */
function positiveZeros(result: QueryResult): QueryResult {
  for (const row of result.rows) for (let j = 0; j < row.length; j++) if (row[j] === 0) row[j] = 0;
  return result;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Validates and runs an `aggregate` or `samples` query over a snapshot on the calling thread,
 * one shard at a time (yielding to the event loop between shards so timeouts can fire).
 */
export async function runQuery(snapshot: TableSnapshot, json: unknown, options: RunOptions = {}): Promise<QueryResult> {
  const started = performance.now();
  const { signal, ...limits } = options;
  signal?.throwIfAborted();
  const query = validateQuery(json, snapshot);
  const plan = createPlan(query, snapshot, { ...DEFAULT_LIMITS, ...limits });
  const sample = querySample(query);
  const sampled = sampleShards(snapshot.shards.length, sample);
  const partials: PartialResult[] = [];
  let heldBytes = 0;
  for (const shard of snapshot.shards) {
    signal?.throwIfAborted();
    const threshold = sampled.get(shard.shard);
    if (threshold === undefined) continue;
    const partial = runShardPartial(sampledShard(shard, threshold), plan, { signal });
    partials.push(partial);
    // The budget is per query: partials waiting to be merged count together.
    heldBytes += partial.kind === 'aggregate' ? partial.memoryBytes : 0;
    const budget = plan.limits.memoryBudgetBytes;
    if (heldBytes > budget) throw new ShoalError('QUERY_MEMORY_EXCEEDED', [budget, `~${heldBytes} bytes over ${partials.length} shards`]);
    await yieldToEventLoop();
  }
  signal?.throwIfAborted();
  const merged = partials.length === 0 ? emptyPartial(plan) : mergePartials(partials, { maxGroups: plan.limits.maxGroups });
  const result = finalize(merged, plan);
  if (sample !== null) scaleSampled(result, sample, plan, snapshot.actorColumn);
  result.stats.elapsedMs = Math.round((performance.now() - started) * 1000) / 1000;
  return result;
}
