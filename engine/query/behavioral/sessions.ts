/**
 * The sessions operator over one shard: per actor, events in (time, arrival) order are cut
 * into sessions where the time since the previous event exceeds `gap`, or where the session
 * would grow longer than `maxDuration` (time since the session's first event). Each session
 * (duration = last − first event time, events = count) is added to the aggregate group of
 * its first event (bucket of its start, groupBy values of that event), producing an
 * ordinary AggregatePartial that merges and finalizes like an aggregate query's.
 *
 * Threading: `sessionsShard` runs on one thread and owns all its state.
 */
import { ShoalError } from '../../errors.js';
import { BucketIndexer } from '../buckets.js';
import type { GroupSet, ScanStats } from '../partial.js';
import type { ShardSnapshot } from '../source.js';
import { collectActorRows, releaseActorRows } from './actor-stream.js';
import { GroupTable, keyDecoders } from './group-table.js';
import type { SessionsPartial } from './partial.js';
import type { SessionsPlan } from './plan.js';
import { SessionStates } from './session-states.js';

/** Runs a sessions plan over one shard. */
export function sessionsShard(shard: ShardSnapshot, plan: SessionsPlan, signal?: AbortSignal): SessionsPartial {
  const stats: ScanStats = { rowsScanned: 0, segmentsScanned: 0, segmentsSkipped: 0 };
  const agg = plan.aggregate;
  const bounds = agg.group.bucket?.boundaries ?? null;
  const noBuckets = bounds !== null && bounds.length < 2;
  const rows = noBuckets ? null : collectActorRows(shard, plan.stream, stats, plan.limits.memoryBudgetBytes, signal);
  const encoders = rows?.encoders ?? [];
  const main = new GroupTable(keyDecoders(bounds, encoders), plan.limits.maxGroups);
  const actorBase = shard.shard * 4294967296;
  const states = new SessionStates(agg.measures, plan.fields, actorBase);
  // Per-series totals beside per-bucket groups (see AggregatePlan.totals).
  const totalsFields = agg.totalsOf.map((i) => plan.fields[i]);
  const series = agg.totals === null ? null : new GroupTable(keyDecoders(null, encoders), plan.limits.maxGroups);
  const seriesStates = agg.totals === null ? null : new SessionStates(agg.totals, totalsFields, actorBase);
  if (rows !== null) {
    const { actors, times, extras, ranges, rangeStart } = rows;
    const gap = plan.query.gapMs;
    const maxDur = plan.query.maxDurationMs ?? Infinity;
    const indexer = bounds === null ? null : new BucketIndexer(bounds);
    const offset = bounds === null ? 0 : 1;
    const emit = (actor: number, first: number, durationMs: number, count: number): void => {
      if (indexer !== null) main.tuple[0] = indexer.indexOf(times[first]);
      for (let j = 0; j < extras.length; j++) main.tuple[offset + j] = extras[j][first];
      const g = main.lookup();
      states.ensure(main.size);
      states.add(g, actor, durationMs, count);
      if (series !== null) {
        for (let j = 0; j < extras.length; j++) series.tuple[j] = extras[j][first];
        const s = series.lookup();
        seriesStates!.ensure(series.size);
        seriesStates!.add(s, actor, durationMs, count);
      }
    };
    for (let k = 0; k < rows.actorCount; k++) {
      if ((k & 1023) === 0) signal?.throwIfAborted(); // a shard may hold millions of actors
      const actor = actors[ranges[2 * rangeStart[k]]];
      let first = -1;
      let firstT = 0;
      let prevT = 0;
      let count = 0;
      for (let r = rangeStart[k]; r < rangeStart[k + 1]; r++) {
        for (let i = ranges[2 * r], hi = ranges[2 * r + 1]; i < hi; i++) {
          const t = times[i];
          // A session ends at a gap longer than `gap`, or when it would grow longer than maxDuration.
          if (count > 0 && (t - prevT > gap || t - firstT > maxDur)) {
            emit(actor, first, prevT - firstT, count);
            count = 0;
          }
          if (count === 0) {
            first = i;
            firstT = t;
          }
          count++;
          prevT = t;
        }
      }
      if (count > 0) emit(actor, first, prevT - firstT, count);
    }
  }
  if (rows !== null) releaseActorRows(rows);
  const memoryBytes = main.bytes() + states.bytes() + (series?.bytes() ?? 0) + (seriesStates?.bytes() ?? 0);
  if (memoryBytes > plan.limits.memoryBudgetBytes) throw new ShoalError('QUERY_MEMORY_EXCEEDED', [plan.limits.memoryBudgetBytes, `~${memoryBytes} bytes of session groups in shard ${shard.shard}`]);
  const mainSet: GroupSet = { groups: main.size, keys: main.keys(), states: states.result(main.size) };
  const totals: GroupSet | null = series === null ? null : { groups: series.size, keys: series.keys(), states: seriesStates!.result(series.size) };
  return {
    kind: 'sessions',
    shards: [shard.shard],
    stats,
    aggregate: {
      kind: 'aggregate', shards: [shard.shard], actorKeyed: agg.group.keys.some((k) => k.column.kind === 'actor'),
      memoryBytes, main: mainSet, totals, stats,
    },
  };
}
