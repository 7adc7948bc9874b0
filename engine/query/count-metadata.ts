/**
 * Row counts from metadata: an aggregate whose every measure counts rows, grouped by nothing
 * but possibly the time bucket, answered from row counts and zone maps alone when they decide
 * every row group — no column decoded, so any thread (the query pool's main thread included)
 * can run it without a round trip to a worker.
 */
import type { Value } from '../types.js';
import { BucketIndexer } from './buckets.js';
import { ALL, NONE, zoneVerdict } from './filter-zone.js';
import { emptyStats, type AggregatePartial } from './partial.js';
import type { AggregatePlan } from './plan.js';
import { sourceInRange, type ShardSnapshot } from './source.js';

/** Whether every measure counts rows and nothing is grouped but possibly the time bucket. */
export function countsOnly(plan: AggregatePlan): boolean {
  return plan.group.keys.length === 0 && plan.totals === null && plan.measures.every((m) => m.op === 'count');
}

/**
 * The shard's partial from metadata alone, or null when the zone maps do not decide it: every
 * measure is a row count, nothing is grouped except possibly the time bucket, and the zone maps
 * decide every row group in range (the filter passes all its rows or none, and with a bucket its
 * rows lie in one bucket). It decodes no column, so callers may run it on any thread without a
 * round trip to a worker; it gives exactly the partial (groups, order, stats) of a scan.
 * Sampled shards (wrapped sources) are never answerable.
 */
export function countFromMetadata(shard: ShardSnapshot, plan: AggregatePlan): AggregatePartial | null {
  if (!countsOnly(plan)) return null;
  const { fromMs, toMs } = plan.scan;
  const b = plan.group.bucket;
  const noBuckets = b !== null && b.boundaries.length < 2;
  const ix = b === null || noBuckets ? null : new BucketIndexer(b.boundaries);
  const stats = emptyStats();
  // groups in order of first sight, as a scan's group index hands them out
  const counts: number[] = [];
  const bucketOf = new Map<number, number>();
  const bucketKeys: Value[] = [];
  for (const source of shard.sources) {
    if (noBuckets || !sourceInRange(source, fromMs, toMs)) {
      stats.segmentsSkipped++;
      continue;
    }
    const before = stats.rowsScanned;
    for (const g of source.rowGroups) {
      const v = zoneVerdict(plan.filter.predicate, g.zones, g.rowCount, source.columns);
      if (v === NONE) continue;
      if (v !== ALL) return null;
      stats.rowsScanned += g.rowCount;
      if (ix === null) {
        if (counts.length === 0) counts.push(0);
        counts[0] += g.rowCount;
        continue;
      }
      const zone = g.zones.get('$time');
      if (zone === undefined || typeof zone.min !== 'number' || typeof zone.max !== 'number') return null;
      const lo = ix.indexOf(Math.max(zone.min, ix.start(0)));
      if (!(zone.min >= ix.start(lo) && zone.max < ix.start(lo + 1))) return null;
      let id = bucketOf.get(lo);
      if (id === undefined) {
        bucketOf.set(lo, (id = counts.length));
        counts.push(0);
        bucketKeys.push(ix.start(lo));
      }
      counts[id] += g.rowCount;
    }
    if (stats.rowsScanned > before) stats.segmentsScanned++;
    else stats.segmentsSkipped++;
  }
  const groups = counts.length;
  return {
    kind: 'aggregate',
    shards: [shard.shard],
    actorKeyed: false,
    memoryBytes: 8 * groups,
    main: { groups, keys: ix === null ? [] : [bucketKeys], states: plan.measures.map(() => ({ kind: 'count' as const, counts: Float64Array.from(counts) })) },
    totals: null,
    stats,
  };
}
